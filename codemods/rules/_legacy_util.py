"""Small helpers shared by the legacy-API rules (TU031-TU038): call arguments and references."""
from __future__ import annotations

from typing import ClassVar, Dict, List, Optional, Sequence, Set

import libcst as cst

from ..cstutil import cst_visit, is_number, keywords, positional  # noqa: F401 (re-exported to the rules)
from ..imports import canonical, dotted_name
from ..rule import TreeRule


def kwarg(name: str, value: cst.BaseExpression) -> cst.Arg:
    """``name=value`` with the usual (PEP 8) spacing."""
    return cst.Arg(
        keyword=cst.Name(name),
        value=value,
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )


def is_simple_call(call: cst.Call) -> bool:
    """No ``*args``/``**kwargs``: every argument can be seen."""
    return not any(a.star for a in call.args)


def literal_const(expr: cst.BaseExpression) -> Optional[str]:
    """``"True"``, ``"False"`` or ``"None"`` for those names, else None."""
    if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        return expr.value
    return None


def is_pure(expr: cst.BaseExpression) -> bool:
    """A name or attribute chain of names: cheap to evaluate twice, no side effects in practice."""
    return dotted_name(expr) is not None


def as_keyword(arg: cst.Arg, name: str) -> cst.Arg:
    return arg.with_changes(
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )


def module_ref(rule, module: str) -> Optional[str]:
    """Source text that refers to ``module`` (``F``, ``torch.nn.functional``, ``th.nn.functional``).

    Prefers an existing alias of the module itself, then spells it through torch's local name
    (adding ``import torch`` when the file lacks it). None when no name is usable."""
    alias = rule.imports.module_alias(module)
    if alias:
        return alias
    head, _, rest = module.partition(".")
    base = rule.module_name(head)
    if base is None:
        return None
    return base + ("." + rest if rest else "")


def parse_ref(text: str) -> cst.BaseExpression:
    return cst.parse_expression(text)


def _comma_of(arg: cst.Arg) -> cst.Comma:
    if isinstance(arg.comma, cst.Comma):
        return arg.comma
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def rebuild_args(new_args: Sequence[cst.Arg], original: Sequence[cst.Arg]) -> List[cst.Arg]:
    """Argument list ``new_args`` with commas: each keeps its own comma if it had one (so line
    breaks survive), new ones get ``, ``; the last keeps the original call's trailing comma."""
    out: List[cst.Arg] = []
    trailing = original[-1].comma if original else cst.MaybeSentinel.DEFAULT
    for i, a in enumerate(new_args):
        if i == len(new_args) - 1:
            out.append(a.with_changes(comma=trailing))
        else:
            out.append(a.with_changes(comma=_comma_of(a)))
    return out


class RenamingRule(TreeRule):
    """Base for rules that rename torch functions, through the file's imports.

    ``in_place``: qualified old name -> new name in the same module (``nn.init.normal`` ->
    ``nn.init.normal_``); calls, references and ``from ... import`` lines are renamed, and a
    name bound by ``from ... import old`` is renamed everywhere it is used.
    ``across``: old name -> a function in another module (``F.tanh`` -> ``torch.tanh``); only
    calls are rewritten, and a ``from ... import`` left unused is dropped.
    Subclasses may override ``rewrite_call(original, updated, qualified)``.
    """

    in_place: ClassVar[Dict[str, str]] = {}
    across: ClassVar[Dict[str, str]] = {}
    messages: ClassVar[Dict[str, str]] = {
        "bound-otherwise": "`{name}` is deprecated ({new} is the new name) but is also bound otherwise here: rename it by hand",
        "no-module-name": "{old} -> {new}: no usable name for {module} in this file",
    }

    def __init__(self, ctx):
        super().__init__(ctx)
        self._skip: Set[int] = set()
        self._local_renames: Dict[str, str] = {}
        imports = self.imports
        for local, targets in imports.aliases.items():
            if len(targets) != 1 or local in imports.other_bindings:
                continue
            (q,) = targets
            new = self.in_place.get(q)
            if new is None:
                continue
            old_last, new_last = q.rsplit(".", 1)[1], new.rsplit(".", 1)[1]
            if local == old_last and (imports.is_free(new_last) or imports.aliases.get(new_last) == {new}):
                self._local_renames[local] = new_last

    # -- contexts whose names are not references ------------------------------------------------
    def visit_Import(self, node):
        return False

    def visit_ImportFrom(self, node):
        return False

    def visit_Attribute(self, node):
        self._skip.add(id(node.attr))

    def visit_Arg(self, node):
        if node.keyword is not None:
            self._skip.add(id(node.keyword))

    # -- renames --------------------------------------------------------------------------------
    def leave_ImportFrom(self, original_node, updated_node):
        if updated_node.relative or updated_node.module is None or isinstance(updated_node.names, cst.ImportStar):
            return updated_node
        module = dotted_name(updated_node.module) or ""
        names = list(updated_node.names)
        changed = False
        for i, alias in enumerate(names):
            name = dotted_name(alias.name) or ""
            q = canonical(f"{module}.{name}")
            new = self.in_place.get(q)
            if new is None:
                continue
            new_last = new.rsplit(".", 1)[1]
            if alias.asname is None and self._local_renames.get(name) != new_last:
                self.note(original_node, "bound-otherwise", name=name, new=new_last)
                continue
            self.edit(original_node, f"import of {name} -> {new_last}")
            names[i] = alias.with_changes(name=cst.Name(new_last))
            changed = True
        return updated_node.with_changes(names=names) if changed else updated_node

    def leave_Attribute(self, original_node, updated_node):
        q = self.imports.resolve(original_node)
        new = self.in_place.get(q) if q else None
        if new is None:
            return updated_node
        new_last = new.rsplit(".", 1)[1]
        self.edit(original_node, f"{q.rsplit('.', 1)[1]} -> {new_last}")
        return updated_node.with_changes(attr=cst.Name(new_last))

    def leave_Name(self, original_node, updated_node):
        if id(original_node) in self._skip:
            return updated_node
        local = original_node.value
        q = self.imports.resolve(original_node)
        new = self.in_place.get(q) if q else None
        if new is None:
            return updated_node
        new_last = new.rsplit(".", 1)[1]
        if local in self._local_renames:
            target = self._local_renames[local]
        elif local not in self.imports.aliases and self.imports.is_free(new_last):
            target = new_last  # through `from module import *`
        else:
            return updated_node
        self.edit(original_node, f"{local} -> {target}")
        return updated_node.with_changes(value=target)

    def leave_Call(self, original_node, updated_node):
        q = self.imports.resolve(original_node.func)
        if q is None:
            return updated_node
        new = self.across.get(q)
        if new is not None:
            module, _, attr = new.rpartition(".")
            ref = module_ref(self, module)
            if ref is None:
                self.note(original_node, "no-module-name", old=q, new=new, module=module)
                return updated_node
            self.edit(original_node, f"{q.split('.')[-1]}(...) -> {new}(...)")
            if isinstance(original_node.func, cst.Name):
                self.ctx.drop_import_when_unused(q)
            return updated_node.with_changes(func=cst.parse_expression(f"{ref}.{attr}"))
        return self.rewrite_call(original_node, updated_node, q)

    def rewrite_call(self, original_node, updated_node, qualified):
        return updated_node


class _CommentFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Comment(self, node: cst.Comment) -> bool:
        self.found = True
        return False


def _has_comment(node: cst.CSTNode) -> bool:
    finder = _CommentFinder()
    cst_visit(node, finder)
    return finder.found


def separators_have_comments(args: Sequence[cst.Arg]) -> bool:
    """A comment between the arguments (in a comma or after an argument), i.e. one that belongs
    to an argument's position rather than to its value."""
    return any(_has_comment(a.whitespace_after_arg) or (isinstance(a.comma, cst.Comma) and _has_comment(a.comma)) for a in args)


def reorder_args(new_args: Sequence[cst.Arg], original: Sequence[cst.Arg]) -> Optional[List[cst.Arg]]:
    """``new_args`` (as many as ``original``) laid out in the original's slots: argument ``i``
    gets the comma and the whitespace after argument ``i`` of the original call, so line breaks
    and indentation are kept exactly. None when a comment sits between the arguments (it would
    end up next to another argument): leave such a call alone."""
    if len(new_args) != len(original) or separators_have_comments(original):
        return None
    return [
        a.with_changes(comma=o.comma, whitespace_after_arg=o.whitespace_after_arg)
        for a, o in zip(new_args, original)
    ]


def insert_arg(args: Sequence[cst.Arg], index: int, new: cst.Arg) -> List[cst.Arg]:
    """``args`` with ``new`` inserted at ``index`` (>= 1), right after ``args[index - 1]`` on
    the same line: the new argument takes over the previous one's comma and trailing whitespace
    (with any comment and line break), the previous one gets a plain ``, ``."""
    prev = args[index - 1]
    out = list(args)
    out[index - 1] = prev.with_changes(
        comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
        whitespace_after_arg=cst.SimpleWhitespace(""),
    )
    out.insert(index, new.with_changes(comma=prev.comma, whitespace_after_arg=prev.whitespace_after_arg))
    return out
