"""Syntactic facts about expressions, shared by the legacy-type rules (TU040-TU046).

Everything here looks at one expression only: a literal's value, whether an expression is
certainly a Python ``int`` (a size, a length, integer arithmetic on those) or a ``torch.Size``.
Anything it cannot see is ``None`` / False, and the rules then leave the code alone.
"""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

import libcst as cst

from ..cstutil import cst_visit

Number = Union[int, float]

# tensor methods that return a Python int (``x.size(0)``, ``x.dim()``)
_INT_METHODS_WITH_ARG = frozenset({"size", "stride"})
_INT_METHODS = frozenset({"dim", "ndimension", "numel", "nelement", "element_size", "get_device"})
_INT_BUILTINS = frozenset({"len", "int"})
_INT_OPS = (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide, cst.Modulo, cst.LeftShift, cst.RightShift)


def literal_number(expr: cst.BaseExpression) -> Optional[Number]:
    """The value of a numeric literal (``3``, ``-0.5``, ``1e-3``), else None."""
    sign = 1
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, (cst.Minus, cst.Plus)):
        sign = -1 if isinstance(expr.operator, cst.Minus) else 1
        expr = expr.expression
    if isinstance(expr, cst.Integer):
        return sign * int(expr.evaluated_value)
    if isinstance(expr, cst.Float):
        return sign * float(expr.evaluated_value)
    return None


def is_int_literal(expr: cst.BaseExpression) -> bool:
    return isinstance(literal_number(expr), int)


def is_known_int(expr: cst.BaseExpression, imports) -> bool:
    """``expr`` is certainly a Python int (or raises in the same way either side of a rewrite):
    integer literals, ``len(...)``, ``int(...)``, ``x.size(i)``, ``x.dim()``, ``x.numel()``,
    ``x.shape[i]`` / ``x.size()[i]`` and integer arithmetic (``+ - * // %``) of those."""
    if is_int_literal(expr):
        return True
    if isinstance(expr, cst.BinaryOperation):
        return isinstance(expr.operator, _INT_OPS) and is_known_int(expr.left, imports) and is_known_int(expr.right, imports)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        return is_known_int(expr.expression, imports)
    if isinstance(expr, cst.Call) and not any(a.star or a.keyword for a in expr.args):
        func = expr.func
        if isinstance(func, cst.Name) and func.value in _INT_BUILTINS and imports.is_builtin(func, func.value):
            return len(expr.args) == 1
        if isinstance(func, cst.Attribute) and imports.resolve(func) is None:
            if func.attr.value in _INT_METHODS_WITH_ARG and len(expr.args) == 1:
                return True
            if func.attr.value in _INT_METHODS and not expr.args:
                return True
        return False
    # x.shape[i] / x.size()[i] with an integer index (a slice would give a Size)
    return (
        isinstance(expr, cst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index)
        and is_known_size(expr.value, imports) and is_known_int(expr.slice[0].slice.value, imports)
    )


def is_known_size(expr: cst.BaseExpression, imports) -> bool:
    """``expr`` is certainly a ``torch.Size``: ``x.size()``, ``x.shape``, ``torch.Size(...)``."""
    if isinstance(expr, cst.Call):
        if imports.resolve(expr.func) == "torch.Size":
            return True
        func = expr.func
        return isinstance(func, cst.Attribute) and func.attr.value == "size" and not expr.args and imports.resolve(func) is None
    if isinstance(expr, cst.Attribute) and expr.attr.value == "shape":
        return imports.resolve(expr) is None
    return False


def is_data_display(expr: cst.BaseExpression, imports) -> bool:
    """A list or tuple display, a list comprehension or ``range(...)``: data, never a size."""
    if isinstance(expr, (cst.List, cst.Tuple, cst.ListComp)):
        return not any(isinstance(e, cst.StarredElement) for e in getattr(expr, "elements", ()))
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "range":
        return imports.is_builtin(expr.func, "range")
    return False


def float_leaves_only(expr: cst.BaseExpression) -> bool:
    """A (nested) list/tuple display whose every element is a float literal: ``torch.tensor``
    infers the default dtype from it."""
    if isinstance(expr, (cst.List, cst.Tuple)):
        return bool(expr.elements) and all(float_leaves_only(e.value) for e in expr.elements)
    return isinstance(literal_number(expr), float)


def has_call(expr: cst.CSTNode) -> bool:
    """The expression contains a call (or another construct that may have side effects)."""
    finder = _CallFinder()
    cst_visit(expr, finder)
    return finder.found


class _CallFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Call, cst.Await, cst.Yield, cst.NamedExpr, cst.Lambda)):
            self.found = True
        return not self.found


def number_source(value: Number) -> str:
    """Source text of a number computed by a rule (``repr`` round-trips floats exactly)."""
    return repr(value)


_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


class Walk(cst.CSTVisitor):
    """Every node of a subtree with its parent and the scopes (def/class/lambda/comprehension)
    around it."""

    def __init__(self) -> None:
        self.stack: List[cst.CSTNode] = []
        self.scopes: List[cst.CSTNode] = []
        self.nodes: List[Tuple[cst.CSTNode, Optional[cst.CSTNode], Tuple[cst.CSTNode, ...]]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.nodes.append((node, self.stack[-1] if self.stack else None, tuple(self.scopes)))
        self.stack.append(node)
        if isinstance(node, _SCOPES):
            self.scopes.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()
        if self.scopes and self.scopes[-1] is original_node:
            self.scopes.pop()


def walk(node: cst.CSTNode) -> Walk:
    w = Walk()
    cst_visit(node, w)
    return w


def append_args(args: List[cst.Arg], new: List[cst.Arg]) -> List[cst.Arg]:
    """``args`` followed by ``new``, laid out like the call: the space (or line break) before the
    closing parenthesis, and a trailing comma, stay at the end of the argument list."""
    if not new:
        return list(args)
    space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    new = [a.with_changes(comma=space) for a in new]
    if not args:
        return new[:-1] + [new[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    last = args[-1]
    out = list(args[:-1])
    if isinstance(last.comma, cst.Comma):  # a trailing comma: keep it, after the new arguments
        out.append(last.with_changes(comma=last.comma.with_changes(whitespace_after=cst.SimpleWhitespace(" "))))
        return out + new[:-1] + [new[-1].with_changes(comma=last.comma)]
    out.append(last.with_changes(comma=space, whitespace_after_arg=cst.SimpleWhitespace("")))
    return out + new[:-1] + [new[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=last.whitespace_after_arg)]
