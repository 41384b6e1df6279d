"""The migration engine: one file's source in, new source plus edits and notes out.

Pipeline for one file (see ``migrate``):

1. decode bytes like the interpreter (BOM, PEP 263 cookie); binary or undecodable -> Failure;
2. skip the file at once if its text contains none of the active rules' needles;
3. text rules (token-level repairs that make a file parseable, e.g. ``async=``);
4. validate with Python's ``ast`` (fast; gives the reason for Python 2 files) and build the
   import table from that tree;
5. one libcst parse; the active rules run in registry order, each a transformer over the
   module the previous one produced (rules whose needles are absent are skipped);
6. add imports rules asked for, drop imports that became unused;
7. the new text must parse, else the file is reported as an internal error and left untouched.
"""
from __future__ import annotations

import ast
import re
from typing import Iterable, List, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper

from .imports import ImportTable, add_module_imports, remove_imported_names
from .model import Failure, Result, Source
from .rule import FileContext, skippable_statements, with_statement_skipping
from .source import decode, deepest_line, parse_python
from .splice import finish


def all_rules() -> List[type]:
    from .rules import RULES

    return list(RULES)


def get_rule(code: str) -> type:
    for rule in all_rules():
        if rule.code.upper() == code.upper() or rule.name == code:
            return rule
    raise KeyError(code)


def _matches(rule: type, patterns: Iterable[str]) -> bool:
    return any(rule.code.upper().startswith(p.upper()) or rule.name == p for p in patterns)


def select_rules(select: Optional[Iterable[str]] = None, ignore: Optional[Iterable[str]] = None) -> List[type]:
    """Rules in registry order filtered by code prefixes or names (``TU0`` selects TU001...).

    Raises ValueError for a pattern that matches no rule."""
    rules = all_rules()
    for patterns in (select, ignore):
        for p in patterns or ():
            if not any(_matches(r, [p]) for r in rules):
                raise ValueError(f"unknown rule code or name: {p}")
    if select:
        select = list(select)
        rules = [r for r in rules if _matches(r, select)]
    if ignore:
        ignore = list(ignore)
        rules = [r for r in rules if not _matches(r, ignore)]
    return rules


def migrate(
    source: Source,
    *,
    path: str = "<string>",
    select: Optional[Iterable[str]] = None,
    ignore: Optional[Iterable[str]] = None,
    unsafe: bool = False,
    rules: Optional[Sequence[type]] = None,
) -> Result:
    """Migrate one file's source. ``source`` may be ``bytes`` (read from disk: encoding, BOM and
    line endings are preserved exactly) or ``str``; the result's ``new_source`` has the same type.
    The input is never modified when ``result.failure`` is set."""
    active = list(rules) if rules is not None else select_rules(select, ignore)
    result = Result(path=path, source=source, new_source=source)
    if isinstance(source, bytes):
        text, encoding, failure = decode(source)
        if failure:
            result.failure = failure
            return result
    else:
        text, encoding = source, None
    if not any(r.applies_to(text) for r in active):
        return result
    try:
        new_text, ctx = _migrate_text(text, path, active, unsafe, result)
    except RecursionError:
        result.failure = Failure("internal", deepest_line(text), "file too deeply nested to process (the deepest nesting is on this line)")
        return result
    except Exception as exc:  # a bug in a rule must not stop the run or damage the file
        result.failure = Failure("internal", 0, f"internal error: {type(exc).__name__}: {exc}")
        return result
    if ctx is None or result.failure:
        return result
    result.edits = sorted(ctx.edits, key=lambda e: e.line)
    result.notes = sorted(ctx.notes, key=lambda n: n.line)
    return finish(result, text, new_text, encoding, ctx)  # no edit: the input itself; else its bytes outside the edits


def _migrate_text(text: str, path: str, active: List[type], unsafe: bool, result: Result) -> Tuple[str, Optional[FileContext]]:
    original_text = text
    text_rules = [r for r in active if getattr(r, "stage", "tree") == "text" and r.applies_to(text)]
    tree_rules = [r for r in active if getattr(r, "stage", "tree") == "tree"]
    pre_edits, pre_notes = [], []
    for rule_cls in text_rules:
        text_rule = rule_cls(path=path, unsafe=unsafe)
        text = text_rule.transform(text)
        pre_edits.extend(text_rule.edits)
        pre_notes.extend(text_rule.notes)
        if text_rule.failure:
            result.failure = text_rule.failure
            return original_text, None
    tree, failure = parse_python(text, path)
    if failure:
        result.failure = failure
        return original_text, None
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        result.failure = Failure("syntax", exc.raw_line, f"libcst cannot parse this file: {exc.message}")
        return original_text, None
    ctx = FileContext(path, text, module, ImportTable(tree), unsafe, tree=tree)
    ctx.edits.extend(pre_edits)
    ctx.notes.extend(pre_notes)
    for rule_cls in tree_rules:
        if not rule_cls.applies_to(text):
            continue
        needles = rule_cls.statement_filter(ctx)
        if needles:
            rule = with_statement_skipping(rule_cls)(ctx)
            rule._skip = skippable_statements(module, ctx, needles)
        else:
            rule = rule_cls(ctx)
        if rule_cls.METADATA_DEPENDENCIES:
            module = MetadataWrapper(module, unsafe_skip_copy=True).visit(rule)
        else:
            module = module.visit(rule)
    ctx.resolve_reports()
    new_text = module.code
    if new_text == text:
        return text, ctx
    if ctx.pending_imports:
        module = add_module_imports(module, ctx.pending_imports)
        new_text = module.code
    new_tree, failure = parse_python(new_text, path)
    if failure is None and ctx.cleanup:
        used = _names_used(new_tree)
        unused = {local: q for local, q in ctx.cleanup.items() if local not in used}
        if unused:
            new_text = remove_imported_names(module, unused).code
            new_tree, failure = parse_python(new_text, path)
    if failure:
        result.failure = Failure("internal", failure.line, f"internal error: migrated code does not parse ({failure.message}); file left unchanged")
        return original_text, None
    return new_text, ctx


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _names_used(tree: ast.AST) -> set:
    """Names the code reads, including those inside string annotations (``x: "Variable"``),
    which ``typing.get_type_hints`` resolves at run time."""
    used = set()
    annotations = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.arg) and node.annotation is not None:
            annotations.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
    for annotation in annotations:
        for sub in ast.walk(annotation):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                used.update(_WORD.findall(sub.value))
    return used
