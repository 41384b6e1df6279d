"""The rule contract and the per-file context every rule shares.

A rule is one module in ``rules/`` declaring (see ``Rule``): ``code``, ``name``, ``summary``,
``kind`` (fix or advisory), ``fix_class`` (the class of its fixes unless a fix says otherwise),
``description`` (printed by ``explain``; sections checked by a test), ``examples`` (run as tests,
printed by ``explain``, each stating the notes it must produce), ``messages`` (every note the
rule can emit, by key), ``needles`` (strings without which the file is not given to the rule),
``owns`` (the legacy patterns it handles) and ``after`` (rules it must run after).

Three stages, one base:

* ``TextRule`` repairs the text before anything parses it (``async=`` makes a file unparseable);
  it reports by line.
* ``TreeRule`` is a set of libcst visit/leave hooks. The engine runs every active tree rule in
  **one traversal** of the original module (Fixit-style batching): for each node the rules'
  ``visit_<Node>`` hooks run in registry order, and on the way up each rule's
  ``leave_<Node>(original_node, updated_node)`` receives what the rules before it returned for
  that node. ``original_node`` is always a node of the original module, so rules query the
  per-file semantic model (``self.ctx.analysis``) with it. A leave hook is not called once an
  earlier rule has replaced the node by a node of another type (or removed it), and a
  ``visit_*`` hook that returns False stops only that rule from descending.
* ``LegacyTreeRule`` is a plain libcst transformer run over the previous pass's output (kept for
  rules not yet moved to the batched form).

Fix classes work like ruff's fix applicability, judged against the program the author ran on
torch <= 0.3 (see ``FixClass``): exact and restoring fixes are applied by default; ``fix(...,
FixClass.UNPROVEN)`` applies only with ``unsafe=True`` and otherwise records a note saying what
``--unsafe`` would do (and returns False so the rule leaves the code alone).
"""
from __future__ import annotations

import ast
import enum
import io
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Sequence, Set, Tuple, Union

import libcst as cst

from .cstutil import PruningTransformer, code_of, node_positions
from .imports import ImportTable
from .model import Edit, Example, Failure, FixClass, Note, RuleKind
from .semantic.model import SemanticModel

Where = Union[cst.CSTNode, int]  # a node of the original module, or a 1-based line (text rules)


class Stage(str, enum.Enum):
    TEXT = "text"
    TREE = "tree"


class FileContext:
    """Everything shared by the rules while one file is migrated: computed once per file."""

    def __init__(
        self,
        path: str,
        text: str,
        module: Optional[cst.Module],
        imports: Optional[ImportTable],
        unsafe: bool,
        tree=None,
        project=None,
    ):
        self.path = path
        self.text = text
        self.module = module  # the original module (before any rule ran)
        self.tree = tree  # Python's ast of the original text (cheap, for analyses)
        self.imports = imports
        self.unsafe = unsafe
        self.project = project  # the project index (or None: the file is analysed alone)
        self.edits: List[Edit] = []
        self.notes: List[Note] = []
        # (kind, rule code, where, message, key, fix class): positions resolved once, at the end
        self._reports: List[Tuple[str, str, Where, str, str, Optional[FixClass]]] = []
        self.pending_imports: List[str] = []
        # local name -> qualified names whose ``from ... import`` may be dropped once unused
        self.cleanup: Dict[str, Set[str]] = {}
        self._analyses: Dict[type, Any] = {}
        self._statement_code: Dict[int, Tuple[cst.CSTNode, str]] = {}
        self._lines: Optional[List[str]] = None
        # statements rules asked to delete (the batched traversal prunes them from their block)
        self.removed: Dict[int, cst.CSTNode] = {}
        # indices (into the semantic model's ordered scopes) of the scopes the batched traversal
        # is in, innermost last
        self.scope_path: List[int] = []
        # the original ancestors of the node whose hooks run (innermost last), during the
        # batched traversal
        self.parents: List[cst.CSTNode] = []

    # -- reports ---------------------------------------------------------------------------------
    def report(self, kind: str, code: str, where: Where, message: str, key: str = "", fix_class: Optional[FixClass] = None) -> None:
        self._reports.append((kind, code, where, message, key, fix_class))

    def has_edits(self, code: str) -> bool:
        return any(r[0] == "edit" and r[1] == code for r in self._reports) or any(e.rule == code for e in self.edits)

    def resolve_reports(self) -> None:
        """Turn pending reports into Edits and Notes with original positions (one codegen pass)."""
        if not self._reports:
            return
        nodes = [r[2] for r in self._reports if not isinstance(r[2], int)]
        positions = iter(node_positions(self.module, nodes) if nodes and self.module is not None else [])
        for kind, code, where, message, key, fix_class in self._reports:
            if isinstance(where, int):
                line, col, end_line, end_col = where, 0, where, 0
            else:
                line, col, end_line, end_col = next(positions, (0, 0, 0, 0))
            if kind == "edit":
                self.edits.append(Edit(code, line, message, fix_class or FixClass.EXACT, col, end_line, end_col))
            else:
                self.notes.append(Note(code, line, message, key, col, end_line, end_col, fix_class))
        self._reports = []

    # -- shared per-file data ----------------------------------------------------------------------
    def source_lines(self) -> Optional[List[str]]:
        """The text's lines as the ``ast`` numbers them (``\n``, ``\r\n`` or ``\r``), ends kept."""
        if self._lines is None and self.text is not None:
            self._lines = io.StringIO(self.text, newline="").readlines()
        return self._lines

    def statement_code(self, stmt: cst.CSTNode) -> str:
        """Source code of a statement node, cached by identity for the whole file."""
        entry = self._statement_code.get(id(stmt))
        if entry is None or entry[0] is not stmt:
            entry = (stmt, code_of(stmt))
            self._statement_code[id(stmt)] = entry
        return entry[1]

    def shared(self, cls: type) -> Any:
        """A shared per-file analysis object ``cls(ctx)``, computed at most once per file."""
        if cls not in self._analyses:
            self._analyses[cls] = cls(self)
        return self._analyses[cls]

    @property
    def analysis(self) -> SemanticModel:
        """The file's semantic model (scopes, bindings, kinds; see ``semantic.model``), built on
        first use."""
        model = self._analyses.get(SemanticModel)
        if model is None:
            model = self._analyses[SemanticModel] = SemanticModel(self)
        return model

    def module_name(self, module: str = "torch") -> Optional[str]:
        """The local name to use for ``module`` (``torch`` or an alias such as ``th``).

        Schedules ``import module`` when the file does not import it; returns None when the name
        is taken by something else, in which case the caller must not rewrite.
        """
        assert self.imports is not None
        alias = self.imports.module_alias(module)
        if alias:
            return alias
        if module in self.pending_imports:
            return module
        if self.imports.can_import(module):
            self.pending_imports.append(module)
            return module
        return None

    def drop_import_when_unused(self, qualified: str) -> None:
        assert self.imports is not None
        for local in self.imports.local_names_for(qualified):
            self.cleanup.setdefault(local, set()).add(qualified)


class Rule:
    """What every rule declares, and the reporting API (see the module docstring)."""

    stage: ClassVar[Stage] = Stage.TREE
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    kind: ClassVar[RuleKind] = RuleKind.FIX
    # the class of the rule's fixes unless a fix names another (``fix(node, msg, FixClass.X)``)
    fix_class: ClassVar[FixClass] = FixClass.EXACT
    # all the classes its fixes can have, when there are several (checked against the examples)
    fix_classes: ClassVar[Tuple[FixClass, ...]] = ()
    description: ClassVar[str] = ""
    examples: ClassVar[Tuple[Example, ...]] = ()
    # every note the rule can emit: key -> message template (``str.format`` fields)
    messages: ClassVar[Mapping[str, str]] = {}
    # The rule is skipped for a file whose text contains none of these strings.
    needles: ClassVar[Tuple[str, ...]] = ()
    # Opt-in, for speed: top-level statements and class members whose code contains none of
    # these strings are not traversed by the rule at all. Only for rules that rewrite nothing
    # without one of them in the statement's own text and gather nothing across statements.
    statement_needles: ClassVar[Optional[Tuple[str, ...]]] = None
    # Legacy patterns the rule handles ("call:torch.autograd.Variable", "attr:data", ...) and the
    # rules it must run after; the registry checks that two rules owning one pattern are ordered.
    owns: ClassVar[Tuple[str, ...]] = ()
    after: ClassVar[Tuple[str, ...]] = ()
    # the rule queries ``ctx.analysis`` (the engine then builds it before the traversal)
    uses_analysis: ClassVar[bool] = False

    def __init__(self, ctx: FileContext):
        self.ctx = ctx
        self.imports = ctx.imports

    @classmethod
    def applies_to(cls, text: str) -> bool:
        return not cls.needles or any(n in text for n in cls.needles)

    @classmethod
    def applies_in_project(cls, project, path: str) -> bool:
        """The rule has work in this file that its needles cannot see (a class of another
        module used here), as the project index tells: the file is given to it anyway."""
        return False

    @classmethod
    def statement_filter(cls, ctx: FileContext) -> Optional[Tuple[str, ...]]:
        """The statement needles for this file (a rule may add the file's local aliases)."""
        return cls.statement_needles

    @classmethod
    def classes(cls) -> Tuple[FixClass, ...]:
        """Every fix class this rule's fixes can have (``fix_classes``, default ``fix_class``)."""
        return cls.fix_classes or (cls.fix_class,)

    @classmethod
    def label(cls) -> str:
        """``advisory``, or the rule's fix classes (``exact``, ``exact/unproven``...)."""
        if cls.kind is RuleKind.ADVISORY:
            return "advisory"
        return "/".join(c.value for c in cls.classes())

    # -- reporting -------------------------------------------------------------------------------
    def edit(self, where: Where, message: str, fix_class: Optional[FixClass] = None) -> None:
        """Record an edit at ``where`` (an original node: its position is resolved later)."""
        self.ctx.report("edit", self.code, where, message, fix_class=fix_class or self.fix_class)

    def note(self, where: Where, key: str, **fields: Any) -> None:
        """Record a note for a person. ``key`` names one of ``messages`` (formatted with
        ``fields``); a text that is not a key is recorded as it is (its key is then empty)."""
        template = self.messages.get(key)
        if template is None:
            self.ctx.report("note", self.code, where, key)
        else:
            self.ctx.report("note", self.code, where, template.format(**fields), key=key)

    def allowed(self, fix_class: Optional[FixClass] = None) -> bool:
        return (fix_class or self.fix_class) is not FixClass.UNPROVEN or self.ctx.unsafe

    def fix(self, where: Where, message: str, fix_class: Optional[FixClass] = None) -> bool:
        """Record an edit and return True if a fix of this class may be applied; else record a
        note saying what ``--unsafe`` would do and return False."""
        fc = fix_class or self.fix_class
        if not self.allowed(fc):
            self.ctx.report("note", self.code, where, f"unproven fix not applied (use --unsafe): {message}", key="unproven", fix_class=fc)
            return False
        self.edit(where, message, fc)
        return True

    def module_name(self, module: str = "torch") -> Optional[str]:
        return self.ctx.module_name(module)

    def line(self, node: cst.CSTNode) -> int:
        """The original line of ``node``, now (costs one codegen pass: for the text of a note only;
        edits and notes get their positions without it)."""
        assert self.ctx.module is not None, "a text rule reports by line"
        return node_positions(self.ctx.module, [node])[0][0]


class TextRule(Rule):
    """A token-level repair that runs before the parse: ``transform(text) -> text``.

    It must edit the string by position only, so that everything it does not rewrite stays
    byte-identical. A ``Failure`` in ``self.failure`` means the file is reported and left alone."""

    stage: ClassVar[Stage] = Stage.TEXT

    def __init__(self, ctx: FileContext):
        super().__init__(ctx)
        self.failure: Optional[Failure] = None

    def transform(self, text: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError


class TreeRule(Rule):
    """Visit/leave hooks run in the engine's single batched traversal (see the module docstring).

    ``remove(stmt)`` deletes a statement (its comments move to the next one; an emptied block gets
    ``pass``). Return its result from the statement's leave hook."""

    imports: ImportTable  # tree rules run after the parse, which builds the import table

    def __init__(self, ctx: FileContext):
        super().__init__(ctx)
        assert ctx.imports is not None, "a tree rule needs the parsed file's import table"

    @property
    def parent(self) -> Optional[cst.CSTNode]:
        """The original parent of the node whose hook runs."""
        parents = self.ctx.parents
        return parents[-1] if parents else None

    def remove(self, stmt: cst.CSTNode) -> cst.CSTNode:
        self.ctx.removed[id(stmt)] = stmt
        return stmt


class LegacyTreeRule(Rule, PruningTransformer):
    """A rule written as a whole-module libcst transformer: run in its own pass, over the module
    the previous pass produced (its ``original_node``s are that module's nodes)."""

    METADATA_DEPENDENCIES: ClassVar[Sequence] = ()

    def __init__(self, ctx: FileContext):
        PruningTransformer.__init__(self)
        Rule.__init__(self, ctx)


def skippable_statements(module: cst.Module, ctx: FileContext, needles: Tuple[str, ...]) -> Set[int]:
    """ids of top-level statements and class members whose code contains none of ``needles``."""
    skip: Set[int] = set()
    lines = ctx.source_lines()

    def check(stmts, ast_stmts) -> None:
        spans = _line_spans(stmts, ast_stmts) if lines is not None else None
        for i, stmt in enumerate(stmts):
            if spans is not None and lines is not None:
                first, last, _ = spans[i]
                code = "".join(lines[first - 1:last])  # whole lines: a superset of its code
            else:
                code = ctx.statement_code(stmt)
            if not any(n in code for n in needles):
                skip.add(id(stmt))
            elif isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
                node = spans[i][2] if spans is not None else None
                check(stmt.body.body, node.body if isinstance(node, ast.ClassDef) else None)

    check(module.body, ctx.tree.body if isinstance(ctx.tree, ast.Module) else None)
    return skip


def _line_spans(stmts: Sequence[cst.CSTNode], ast_stmts) -> Optional[List[Tuple[int, int, ast.stmt]]]:
    """(first line, last line, first ``ast`` statement) of each libcst statement, from the
    ``ast`` statements of the same block (a simple-statement line holds several
    ``;``-separated ones); None if they do not correspond one to one."""
    if ast_stmts is None:
        return None
    out: List[Tuple[int, int, ast.stmt]] = []
    k = 0
    for stmt in stmts:
        n = len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
        group = ast_stmts[k:k + n]
        k += n
        if len(group) != n or (not isinstance(stmt, cst.SimpleStatementLine) and not _same_kind(stmt, group[0])):
            return None
        first = min([g.lineno for g in group] + [d.lineno for g in group for d in getattr(g, "decorator_list", ())])
        last = max(g.end_lineno or g.lineno for g in group)
        out.append((first, last, group[0]))
    return out if k == len(ast_stmts) else None


def _same_kind(stmt: cst.CSTNode, node: ast.stmt) -> bool:
    if isinstance(stmt, cst.ClassDef):
        return isinstance(node, ast.ClassDef) and node.name == stmt.name.value
    if isinstance(stmt, cst.FunctionDef):
        return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == stmt.name.value
    return not isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))


_SKIPPING: Dict[type, type] = {}


def with_statement_skipping(rule_cls: type) -> type:
    """A subclass of a legacy rule that does not traverse statements listed in ``self._skip``.

    It is the most derived class, so the rule's own on_visit/on_leave (scope stacks and the
    like) never see a skipped statement: neither its visit nor its leave runs."""
    cached = _SKIPPING.get(rule_cls)
    if cached is None:

        def on_visit(self, node):
            if id(node) in self._skip:
                return False
            return super(cached, self).on_visit(node)

        def on_leave(self, original_node, updated_node):
            if id(original_node) in self._skip:
                return updated_node
            return super(cached, self).on_leave(original_node, updated_node)

        cached = type(rule_cls.__name__, (rule_cls,), {"on_visit": on_visit, "on_leave": on_leave, "__module__": rule_cls.__module__})
        _SKIPPING[rule_cls] = cached
    return cached
