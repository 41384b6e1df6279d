"""The migration engine: one file's source in, new source plus edits and notes out.

Pipeline for one file (see ``migrate``):

1. decode bytes like the interpreter (BOM, PEP 263 cookie); binary or undecodable -> Failure;
2. skip the file at once if its text contains none of the active rules' needles (or asks to be
   skipped with ``# torchupgrade: skip-file``);
3. text rules (token-level repairs that make a file parseable, e.g. ``async=``);
4. validate with Python's ``ast`` (fast; gives the reason for Python 2 files) and build the
   import table from that tree;
5. one libcst parse; the tree rules run in registry order: consecutive batched rules
   (``TreeRule``) share one traversal of the module, legacy transformers get a pass each;
   statements under a suppression comment are not shown to the rules it names;
6. add imports rules asked for, drop imports that became unused;
7. the new text must parse, else the file is reported as an internal error and left untouched.
"""
from __future__ import annotations

import ast
import contextlib
import gc
import io
import re
import tokenize
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple, Type, cast

import libcst as cst

from .cstutil import cst_visit, node_positions, printed, prune_block, transform
from .imports import ImportTable, add_module_imports, remove_imported_names
from .model import Failure, Result, Source, Suppression
from .rule import FileContext, LegacyTreeRule, Rule, Stage, TreeRule, skippable_statements, with_statement_skipping
from .semantic.model import SCOPE_NODES, SemanticModel
from .source import decode, deepest_line, parse_python
from .source import walk as ast_walk
from .splice import finish, merge3

RuleType = Type[Rule]


def all_rules() -> List[RuleType]:
    from .rules import RULES

    return list(RULES)


def _matches(rule: RuleType, pattern: str) -> bool:
    return rule.code.upper().startswith(pattern.upper()) or rule.name == pattern


def matching_rules(pattern: str) -> List[RuleType]:
    """Rules whose code starts with ``pattern`` (``TU03`` -> TU030...TU038) or whose name it is."""
    return [r for r in all_rules() if _matches(r, pattern)]


def get_rule(code: str) -> RuleType:
    """The rule with exactly this code or name (KeyError otherwise)."""
    for rule in all_rules():
        if rule.code.upper() == code.upper() or rule.name == code:
            return rule
    raise KeyError(code)


def select_rules(select: Optional[Iterable[str]] = None, ignore: Optional[Iterable[str]] = None) -> List[RuleType]:
    """Rules in registry order filtered by code prefixes or names (``TU0`` selects TU001...).

    Raises ValueError for a pattern that matches no rule."""
    rules = all_rules()
    select = list(select) if select is not None else None
    ignore = list(ignore) if ignore is not None else None
    for patterns in (select, ignore):
        for p in patterns or ():
            if not p or not any(_matches(r, p) for r in rules):
                raise ValueError(f"unknown rule code or name: {p!r}" if p else "empty rule code")
    if select:
        rules = [r for r in rules if any(_matches(r, p) for p in select)]
    if ignore:
        rules = [r for r in rules if not any(_matches(r, p) for p in ignore)]
    return rules


# -- suppression comments ---------------------------------------------------------------------------
_SUPPRESS = re.compile(r"#\s*(?:torchupgrade\s*:\s*(?P<kw>ignore|skip-file)\b(?P<tail>[^#]*)|noqa\s*:\s*(?P<noqa>[A-Za-z0-9_,\s-]+))", re.IGNORECASE)
_CODES = re.compile(r"^\s*\[\s*([A-Za-z0-9_,\s-]*)\]")
_CODE = re.compile(r"TU\d{3}$", re.IGNORECASE)


class SuppressionError(ValueError):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


def find_suppressions(text: str) -> Tuple[bool, List[Suppression]]:
    """(skip the file?, suppressions) from the file's comments.

    ``# torchupgrade: ignore`` (every rule) or ``# torchupgrade: ignore[TU020, TU021]`` on a line,
    ``# noqa: TU020`` (only codes of this tool count; a bare ``# noqa`` is another tool's), and
    ``# torchupgrade: skip-file`` anywhere. Raises SuppressionError for a malformed comment."""
    if "torchupgrade" not in text and "noqa" not in text.lower():
        return False, []
    skip = False
    found: List[Suppression] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return False, []
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        for m in _SUPPRESS.finditer(tok.string):
            line = tok.start[0]
            if m.group("kw"):
                if m.group("kw").lower() == "skip-file":
                    skip = True
                    continue
                tail = m.group("tail") or ""
                if not tail.strip():
                    found.append(Suppression(line, None))
                    continue
                codes_m = _CODES.match(tail)
                if not codes_m:
                    raise SuppressionError(line, f"malformed suppression comment {tok.string.strip()!r}: write `# torchupgrade: ignore` or `# torchupgrade: ignore[TU020,TU021]`")
                codes = tuple(c.strip().upper() for c in codes_m.group(1).split(",") if c.strip())
                bad = [c for c in codes if not _CODE.match(c)]
                if bad or not codes:
                    raise SuppressionError(line, f"malformed suppression comment {tok.string.strip()!r}: {', '.join(bad) or 'no codes'} is not a rule code (TU001...)")
                found.append(Suppression(line, codes))
            else:
                codes = tuple(c.strip().upper() for c in re.split(r"[,\s]+", m.group("noqa")) if c.strip())
                ours = tuple(c for c in codes if c.startswith("TU") and _CODE.match(c))
                if ours:
                    found.append(Suppression(line, ours))
    return skip, found


# -- the engine ---------------------------------------------------------------------------------------
def run_example(rule: RuleType, example, source: Optional[str] = None) -> Result:
    """Run one of ``rule``'s examples (or ``source`` under the same settings: its second run) as
    the tests and ``explain`` do: the rule and the example's ``also`` rules, with the example's
    other project modules indexed but not migrated."""
    import textwrap

    source = example.before_code if source is None else source
    project = None
    if example.modules:
        from .project import ProjectIndex

        root = "/torchupgrade-example"
        files = [(f"{root}/example.py", source)] + [(f"{root}/{name}.py", textwrap.dedent(text).lstrip("\n")) for name, text in example.modules]
        project = ProjectIndex.build(files, targets=[f"{root}/example.py"])
    return migrate(source, path="/torchupgrade-example/example.py" if project is not None else "<string>",
                   select=[rule.code, *example.also], unsafe=example.unsafe, project=project)


def migrate(
    source: Source,
    *,
    path: str = "<string>",
    select: Optional[Iterable[str]] = None,
    ignore: Optional[Iterable[str]] = None,
    unsafe: bool = False,
    rules: Optional[Sequence[RuleType]] = None,
    project=None,
    suppress: Optional[Mapping[int, Optional[Iterable[str]]]] = None,
    honor_suppressions: bool = True,
) -> Result:
    """Migrate one file's source. ``source`` may be ``bytes`` (read from disk: encoding, BOM and
    line endings are preserved exactly) or ``str``; the result's ``new_source`` has the same type.
    The input is never modified when ``result.failure`` is set.

    ``project``: a ``ProjectIndex`` of the files migrated together (helpers and classes defined in
    other modules are then understood). ``suppress``: extra suppressions, line -> rule codes (None:
    every rule), as if the line carried ``# torchupgrade: ignore[...]`` (used by ``review``).
    ``honor_suppressions=False`` ignores the file's suppression comments."""
    active = list(rules) if rules is not None else select_rules(select, ignore)
    result = Result(path=path, source=source, new_source=source)
    if isinstance(source, bytes):
        text, encoding, failure = decode(source)
        if failure:
            result.failure = failure
            return result
    else:
        text, encoding = source, None
    assert text is not None
    if not any(_applies(r, text, project, path) for r in active):
        return result
    try:
        skip, suppressions = find_suppressions(text)
    except SuppressionError as exc:
        result.failure = Failure("suppression", exc.line, str(exc))
        return result
    if not honor_suppressions:
        skip, suppressions = False, []
    if skip:
        result.skipped = True
        return result
    for line, codes in (suppress or {}).items():
        suppressions.append(Suppression(line, tuple(c.upper() for c in codes) if codes is not None else None))
    result.suppressions = suppressions
    try:
        with _gc_paused():
            new_text, ctx = _migrate_text(text, path, active, unsafe, result, project)
    except RecursionError:
        result.failure = Failure("internal", deepest_line(text), "file too deeply nested to process (the deepest nesting is on this line)")
        return result
    except Exception as exc:  # a bug in a rule must not stop the run or damage the file
        result.failure = Failure("internal", 0, f"internal error: {type(exc).__name__}: {exc}")
        return result
    if ctx is None or result.failure:
        return result
    result.edits = sorted(ctx.edits, key=lambda e: (e.line, e.column))
    result.notes = sorted(ctx.notes, key=lambda n: (n.line, n.column))
    return finish(result, text, new_text, encoding, ctx)  # no edit: the input itself; else its bytes outside the edits


def _applies(rule: RuleType, text: str, project, path: str) -> bool:
    """The prefilter: the rule's needles are in the text, or the index says it has work here."""
    return rule.applies_to(text) or (project is not None and rule.applies_in_project(project, path))


def _passes(rules: Sequence[RuleType]) -> List[List[RuleType]]:
    """Consecutive batched rules form one pass; each legacy transformer is a pass of its own."""
    passes: List[List[RuleType]] = []
    for rule in rules:
        batched = issubclass(rule, TreeRule)
        if batched and passes and issubclass(passes[-1][0], TreeRule):
            passes[-1].append(rule)
        else:
            passes.append([rule])
    return passes


@contextlib.contextmanager
def _gc_paused():
    """No cyclic garbage collection while a file is parsed and migrated: its trees and semantic
    model live until the file is done, and the collector's passes over them while they were
    built made a run superlinear in the file (generated files, alternating in one process: 2k
    lines 2.9 s -> 2.4 s, 20k lines 30 s -> 27 s).
    Almost everything the rules make is freed by reference counting; the collector is enabled
    again when the file is done and finds whatever cycles were left."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _migrate_text(text: str, path: str, active: List[RuleType], unsafe: bool, result: Result, project) -> Tuple[str, Optional[FileContext]]:
    original_text = text
    ctx = FileContext(path, text, None, None, unsafe, project=project)
    for rule_cls in active:
        if rule_cls.stage is not Stage.TEXT or not rule_cls.applies_to(text):
            continue
        text_rule = rule_cls(ctx)
        text = text_rule.transform(text)  # type: ignore[attr-defined]
        if text_rule.failure:  # type: ignore[attr-defined]
            result.failure = text_rule.failure  # type: ignore[attr-defined]
            return original_text, None
    ctx.resolve_reports()
    tree, failure = parse_python(text, path)
    if failure:
        result.failure = failure
        return original_text, None
    assert tree is not None
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        result.failure = Failure("syntax", exc.raw_line, f"libcst cannot parse this file: {exc.message}")
        return original_text, None
    summary = project.module_for_path(path) if project is not None else None
    imports = ImportTable(tree, summary.name, project, summary.package) if summary is not None else ImportTable(tree)
    ctx.text, ctx.module, ctx.tree, ctx.imports = text, module, tree, imports
    tree_rules = [r for r in active if r.stage is Stage.TREE and _applies(r, text, project, path)]
    suppressed = _suppressed_statements(module, result.suppressions) if result.suppressions else {}
    changed = False  # whether a hook returned another node than it was given (else the tree is the parse's)
    for group in _passes(tree_rules):
        if issubclass(group[0], TreeRule):
            batch = _Batch(cast(List[TreeRule], [r(ctx) for r in group]), ctx, suppressed)
            module = batch.run(module)
            changed = changed or batch.changed
        else:
            module = _legacy_pass(group[0], ctx, module, suppressed)
            changed = True
    ctx.resolve_reports()
    new_text = module.code if changed else text  # libcst prints an untouched tree as its source
    if new_text == text:
        return text, ctx
    original_module = ctx.module
    assert original_module is not None

    def parses_as_written(candidate: str, path: str) -> Tuple[Optional[ast.AST], Optional[Failure]]:
        """The output must parse as it will be written: ``finish`` splices the edits into the
        input's bytes where libcst's printing differs from them (the last ``\r`` of a CR-only
        file after a backslash continuation), so that is the text checked then."""
        tree_, failure_ = parse_python(candidate, path)
        if failure_ is None:
            return tree_, None
        roundtrip = printed(original_module)
        merged = merge3(text, roundtrip, candidate) if roundtrip != text else None
        if merged is not None:
            tree2, failure2 = parse_python(merged, path)
            if failure2 is None:
                return tree2, None
        return tree_, failure_

    new_tree, failure = parses_as_written(new_text, path)
    if new_tree is not None and ctx.pending_imports:
        used = _names_used(new_tree, imported_locally=False)
        wanted = [m for m in ctx.pending_imports if m.split(".")[0] in used]
        if wanted:
            module = add_module_imports(module, wanted)
            new_text = module.code
            new_tree, failure = parses_as_written(new_text, path)
    if new_tree is not None and ctx.cleanup:
        used = _names_used(new_tree)
        unused = {local: q for local, q in ctx.cleanup.items() if local not in used}
        if unused:
            new_text = remove_imported_names(module, unused).code
            new_tree, failure = parses_as_written(new_text, path)
    if failure:
        result.failure = Failure("internal", failure.line, f"internal error: migrated code does not parse ({failure.message}); file left unchanged")
        return original_text, None
    return new_text, ctx


def _legacy_pass(rule_cls: RuleType, ctx: FileContext, module: cst.Module, suppressed: Dict[int, Optional[Set[str]]]) -> cst.Module:
    needles = rule_cls.statement_filter(ctx)
    skip = {i for i, codes in suppressed.items() if codes is None or rule_cls.code in codes}
    if needles:
        skip |= skippable_statements(module, ctx, needles)
    if skip:
        rule = with_statement_skipping(rule_cls)(ctx)
        rule._skip = skip
    else:
        rule = rule_cls(ctx)
    assert isinstance(rule, LegacyTreeRule)
    if rule.METADATA_DEPENDENCIES:
        from libcst.metadata import MetadataWrapper

        return MetadataWrapper(module, unsafe_skip_copy=True).visit(rule)
    return module.visit(rule)


# the scope node classes (exact types: an isinstance check against libcst's ABCs is slow, and the
# traversal asks it for every node)
_SCOPE_TYPES = frozenset(SCOPE_NODES)


class _Batch(cst.CSTTransformer):
    """One traversal that runs several rules' visit/leave hooks (see ``rule.TreeRule``)."""

    def __init__(self, rules: List[TreeRule], ctx: FileContext, suppressed: Dict[int, Optional[Set[str]]]):
        super().__init__()
        self.rules = rules
        self.ctx = ctx
        n = len(rules)
        # rule i does not see the subtree of stopped[i] (its visit returned False, or the
        # statement is skipped/suppressed for it); leave_on_stop[i]: whether it gets that leave
        self.stopped: List[Optional[cst.CSTNode]] = [None] * n
        self.leave_on_stop: List[bool] = [True] * n
        self.skip: List[Set[int]] = []
        for rule in rules:
            ids = {i for i, codes in suppressed.items() if codes is None or rule.code in codes}
            needles = type(rule).statement_filter(ctx)
            if needles:
                assert ctx.module is not None
                ids |= skippable_statements(ctx.module, ctx, needles)
            self.skip.append(ids)
        self._any_skip: Set[int] = set().union(*self.skip) if self.skip else set()
        self._stops = 0  # how many entries of ``stopped`` are set
        self._visits: Dict[type, List[Tuple[int, object]]] = {}
        self._leaves: Dict[type, List[Tuple[int, object]]] = {}
        self._scopes_seen = 0  # scope nodes met so far, in source order (see SemanticModel)
        self.changed = False

    def run(self, module: cst.Module) -> cst.Module:
        if any(getattr(rule, "uses_analysis", False) for rule in self.rules):
            _ = self.ctx.analysis  # built before the traversal, so that every scope is checked
        for rule in self.rules:
            start = getattr(rule, "start", None)
            if start is not None:
                start()
        return transform(module, self.on_visit, self.on_leave)

    def _hooks(self, table, prefix: str, cls: type) -> List[Tuple[int, object]]:
        hooks = table.get(cls)
        if hooks is None:
            name = prefix + cls.__name__
            hooks = [(i, getattr(r, name)) for i, r in enumerate(self.rules) if hasattr(r, name)]
            table[cls] = hooks
        return hooks

    def on_visit(self, node: cst.CSTNode) -> bool:
        if type(node) in _SCOPE_TYPES:
            index = self._scopes_seen
            self._scopes_seen += 1
            self.ctx.scope_path.append(index)
            model = self.ctx._analyses.get(SemanticModel)
            if model is not None:
                model.check_scope(node, index)
        stopped = self.stopped
        key = id(node)
        if key in self._any_skip:
            for i, skip in enumerate(self.skip):
                if stopped[i] is None and key in skip:
                    stopped[i] = node
                    self.leave_on_stop[i] = False
                    self._stops += 1
        for i, hook in self._hooks(self._visits, "visit_", type(node)):
            if stopped[i] is None and hook(node) is False:  # type: ignore[operator]
                stopped[i] = node
                self.leave_on_stop[i] = True
                self._stops += 1
        self.ctx.parents.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):
        self.ctx.parents.pop()
        stopped = self.stopped
        cls = type(original_node)
        for i, hook in self._hooks(self._leaves, "leave_", cls):
            s = stopped[i]
            if s is not None and (s is not original_node or not self.leave_on_stop[i]):
                continue
            if type(updated_node) is not cls:
                break
            new_node = hook(original_node, updated_node)  # type: ignore[operator]
            if new_node is not updated_node:
                self.changed = True
            updated_node = new_node
        if self._stops:
            for i, s in enumerate(stopped):
                if s is original_node:
                    stopped[i] = None
                    self._stops -= 1
        if cls in _SCOPE_TYPES:
            self.ctx.scope_path.pop()
        if self.ctx.removed and isinstance(updated_node, (cst.IndentedBlock, cst.Module)):
            pruned = prune_block(updated_node, self.ctx.removed)
            if pruned is not updated_node:
                self.changed = True
            updated_node = pruned
        return updated_node


def _suppressed_statements(module: cst.Module, suppressions: List[Suppression]) -> Dict[int, Optional[Set[str]]]:
    """id of the innermost statement (or compound-statement header) on each suppressed line ->
    the codes suppressed there (None: all)."""
    statements: List[cst.CSTNode] = []
    headers: Dict[int, List[cst.CSTNode]] = {}

    class Collect(cst.CSTVisitor):
        def on_visit(self, node):
            if isinstance(node, cst.SimpleStatementLine):
                statements.append(node)
                return False
            if isinstance(node, cst.BaseCompoundStatement):
                statements.append(node)
                parts = [c for c in node.children if not isinstance(c, (cst.BaseSuite, cst.EmptyLine, cst.Else, cst.Finally, cst.ExceptHandler, cst.If))]
                headers[id(node)] = parts
            return True

    cst_visit(module, Collect())
    positions = node_positions(module, statements)
    by_line: Dict[int, List[Tuple[int, cst.CSTNode]]] = {}
    for stmt, (line, _, end, _) in zip(statements, positions):
        if isinstance(stmt, cst.BaseCompoundStatement):
            body = getattr(stmt, "body", None)
            if isinstance(body, cst.IndentedBlock):
                end = line  # the header (one line in the common case)
        for ln in range(line, max(line, end) + 1):
            by_line.setdefault(ln, []).append((ln - line, stmt))
    out: Dict[int, Optional[Set[str]]] = {}
    for sup in suppressions:
        candidates = by_line.get(sup.line)
        if not candidates:
            continue
        _, stmt = min(candidates, key=lambda c: c[0])
        targets = headers.get(id(stmt)) if isinstance(stmt, cst.BaseCompoundStatement) and isinstance(getattr(stmt, "body", None), cst.IndentedBlock) else None
        for target in targets if targets is not None else [stmt]:
            prev = out.get(id(target), set())
            out[id(target)] = None if sup.codes is None or prev is None else prev | set(sup.codes)
    return out


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _names_used(tree: ast.AST, imported_locally: bool = True) -> set:
    """Names the code reads, including those inside string annotations (``x: "Variable"``),
    which ``typing.get_type_hints`` resolves at run time. ``imported_locally=False``: not those
    read only inside functions that import the name themselves (``def f(): import torch``), which
    need no module-level import (a module that imports torch lazily keeps doing so)."""
    used = set()
    annotations = []
    if imported_locally:
        nodes = list(ast_walk(tree))
    else:
        nodes = []
        stack: List[Tuple[ast.AST, frozenset]] = [(tree, frozenset())]
        while stack:
            node, local = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                local = local | {(a.asname or a.name).split(".")[0] for stmt in ast_walk(node)
                                 if isinstance(stmt, (ast.Import, ast.ImportFrom)) for a in stmt.names}
            if isinstance(node, ast.Name) and node.id in local:
                continue
            nodes.append(node)
            stack.extend((child, local) for child in ast.iter_child_nodes(node))
    for node in nodes:
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.arg) and node.annotation is not None:
            annotations.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
    for annotation in annotations:
        for sub in ast_walk(annotation):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                used.update(_WORD.findall(sub.value))
    return used
