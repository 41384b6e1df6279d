"""The rule base class and the per-file context every rule shares.

A rule is a libcst transformer in its own module. It declares its ``code``, ``name``,
``summary``, ``safety``, a ``description`` (printed by ``explain``; it should contain a
"Fix safety" paragraph) and ``examples`` (run as tests, printed by ``explain``).

Safety works like ruff's fix applicability:

* ``safety = "safe"``: the rule's fixes keep the program's behaviour under modern torch.
* ``safety = "unsafe"``: every fix changes behaviour (usually restoring what the code did under
  PyTorch 0.3); such fixes are only applied with ``unsafe=True`` (``--unsafe``).

A safe rule may still have risky sub-cases: it calls ``self.fix(node, message, unsafe=True)``
for those. When a fix is not allowed, ``fix`` records a note saying what ``--unsafe`` would do
and returns False, and the rule leaves the code as it is.
"""
from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Optional, Set, Tuple, Type

import libcst as cst

from .cstutil import PruningTransformer, code_of, start_lines
from .imports import ImportTable
from .model import Edit, Example, Note


class FileContext:
    """Everything shared by the rules while one file is migrated: computed once per file."""

    def __init__(self, path: str, text: str, module: cst.Module, imports: ImportTable, unsafe: bool, tree=None):
        self.path = path
        self.text = text
        self.module = module  # the original module (before any rule ran)
        self.tree = tree  # Python's ast of the original text (cheap, for analyses)
        self.imports = imports
        self.unsafe = unsafe
        self.edits: List[Edit] = []
        self.notes: List[Note] = []
        # (kind, rule code, node, message): line numbers are resolved once, at the end
        self._reports: List[Tuple[str, str, cst.CSTNode, str]] = []
        self.pending_imports: List[str] = []
        # local name -> qualified names whose ``from ... import`` may be dropped once unused
        self.cleanup: Dict[str, Set[str]] = {}
        self._analyses: Dict[type, Any] = {}
        self._statement_code: Dict[int, Tuple[cst.CSTNode, str]] = {}

    def report(self, kind: str, code: str, node: cst.CSTNode, message: str) -> None:
        self._reports.append((kind, code, node, message))

    def has_edits(self, code: str) -> bool:
        return any(kind == "edit" and c == code for kind, c, _, _ in self._reports) or any(e.rule == code for e in self.edits)

    def resolve_reports(self) -> None:
        """Turn pending reports into Edits and Notes with original line numbers (one codegen)."""
        if not self._reports:
            return
        lines = start_lines(self.module, [node for _, _, node, _ in self._reports])
        for (kind, code, _, message), line in zip(self._reports, lines):
            (self.edits if kind == "edit" else self.notes).append((Edit if kind == "edit" else Note)(code, line, message))
        self._reports = []

    def statement_code(self, stmt: cst.CSTNode) -> str:
        """Source code of a statement node, cached by identity for the whole file (statements
        that earlier rules left alone keep their identity, so each is generated once)."""
        entry = self._statement_code.get(id(stmt))
        if entry is None or entry[0] is not stmt:
            entry = (stmt, code_of(stmt))
            self._statement_code[id(stmt)] = entry
        return entry[1]

    def analysis(self, cls: Type) -> Any:
        """A shared analysis (e.g. tensor inference), computed at most once per file."""
        if cls not in self._analyses:
            self._analyses[cls] = cls(self)
        return self._analyses[cls]

    def module_name(self, module: str = "torch") -> Optional[str]:
        """The local name to use for ``module`` (``torch`` or an alias such as ``th``).

        Schedules ``import module`` when the file does not import it; returns None when the name
        is taken by something else, in which case the caller must not rewrite.
        """
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
        for local in self.imports.local_names_for(qualified):
            self.cleanup.setdefault(local, set()).add(qualified)


class Rule(PruningTransformer):
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    safety: ClassVar[str] = "safe"
    description: ClassVar[str] = ""
    examples: ClassVar[Tuple[Example, ...]] = ()
    # The rule is skipped for a file whose text contains none of these strings.
    needles: ClassVar[Tuple[str, ...]] = ()
    # Opt-in, for speed: top-level statements and class members whose code contains none of
    # these strings are not traversed by the rule at all. Only for rules that rewrite nothing
    # without one of them in the statement's own text and gather nothing across statements.
    statement_needles: ClassVar[Optional[Tuple[str, ...]]] = None

    @classmethod
    def statement_filter(cls, ctx: "FileContext") -> Optional[Tuple[str, ...]]:
        """The statement needles for this file (a rule may add the file's local aliases)."""
        return cls.statement_needles

    # Rules needing libcst metadata declare it; the engine then wraps the module. Line numbers
    # for edits and notes do not need it (see FileContext.resolve_reports).
    METADATA_DEPENDENCIES = ()

    def __init__(self, ctx: FileContext):
        super().__init__()
        self.ctx = ctx
        self.imports = ctx.imports

    @classmethod
    def applies_to(cls, text: str) -> bool:
        return not cls.needles or any(n in text for n in cls.needles)

    # -- reporting -----------------------------------------------------------------------------
    def line(self, node: cst.CSTNode) -> int:
        """The original line of ``node``, now (costs one codegen pass: for the text of a note
        only; edits and notes get their lines without it)."""
        return start_lines(self.ctx.module, [node])[0]

    def edit(self, node: cst.CSTNode, message: str) -> None:
        """Record an edit at ``node`` (preferably the original node; its line is resolved later)."""
        self.ctx.report("edit", self.code, node, message)

    def note(self, node: cst.CSTNode, message: str) -> None:
        """Record a note for a person at ``node``."""
        self.ctx.report("note", self.code, node, message)

    def fix(self, node: cst.CSTNode, message: str, unsafe: bool = False) -> bool:
        """Record an edit and return True if this fix may be applied; else note it, return False.

        Pass the original node (for its line number)."""
        if (unsafe or self.safety == "unsafe") and not self.ctx.unsafe:
            self.note(node, f"unsafe fix not applied (use --unsafe): {message}")
            return False
        self.edit(node, message)
        return True

    def module_name(self, module: str = "torch") -> Optional[str]:
        return self.ctx.module_name(module)


def skippable_statements(module: cst.Module, ctx: FileContext, needles: Tuple[str, ...]) -> Set[int]:
    """ids of top-level statements and class members whose code contains none of ``needles``."""
    skip: Set[int] = set()

    def check(stmts) -> None:
        for stmt in stmts:
            code = ctx.statement_code(stmt)
            if not any(n in code for n in needles):
                skip.add(id(stmt))
            elif isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
                check(stmt.body.body)

    check(module.body)
    return skip


_SKIPPING: Dict[type, type] = {}


def with_statement_skipping(rule_cls: type) -> type:
    """A subclass of ``rule_cls`` that does not traverse statements listed in ``self._skip``.

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
