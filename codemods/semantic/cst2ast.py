"""Convert libcst expressions to equivalent Python ``ast`` expressions, structurally.

The semantic model is computed on ``ast`` (cheap); rules hold libcst nodes. A query converts the
libcst expression (no positions, no code generation) and evaluates it in the right scope. Only
the structure matters to the inference; forms it does not look into become a neutral constant.
"""
from __future__ import annotations

import ast
from typing import Dict, List, Tuple

import libcst as cst

_BINOPS = {
    cst.Add: ast.Add, cst.Subtract: ast.Sub, cst.Multiply: ast.Mult, cst.Divide: ast.Div,
    cst.FloorDivide: ast.FloorDiv, cst.Modulo: ast.Mod, cst.Power: ast.Pow, cst.MatrixMultiply: ast.MatMult,
    cst.LeftShift: ast.LShift, cst.RightShift: ast.RShift, cst.BitAnd: ast.BitAnd, cst.BitOr: ast.BitOr,
    cst.BitXor: ast.BitXor,
}
_AUGOPS = {
    cst.AddAssign: ast.Add, cst.SubtractAssign: ast.Sub, cst.MultiplyAssign: ast.Mult, cst.DivideAssign: ast.Div,
    cst.FloorDivideAssign: ast.FloorDiv, cst.ModuloAssign: ast.Mod, cst.PowerAssign: ast.Pow,
    cst.MatrixMultiplyAssign: ast.MatMult, cst.BitAndAssign: ast.BitAnd, cst.BitOrAssign: ast.BitOr,
    cst.BitXorAssign: ast.BitXor, cst.LeftShiftAssign: ast.LShift, cst.RightShiftAssign: ast.RShift,
}
_UNARY = {cst.Minus: ast.USub, cst.Plus: ast.UAdd, cst.Not: ast.Not, cst.BitInvert: ast.Invert}
_CMP = {
    cst.Equal: ast.Eq, cst.NotEqual: ast.NotEq, cst.LessThan: ast.Lt, cst.LessThanEqual: ast.LtE,
    cst.GreaterThan: ast.Gt, cst.GreaterThanEqual: ast.GtE, cst.In: ast.In, cst.NotIn: ast.NotIn,
    cst.Is: ast.Is, cst.IsNot: ast.IsNot,
}
_LOAD = ast.Load()


def aug_operator(op: cst.BaseAugOp) -> ast.operator:
    return _AUGOPS.get(type(op), ast.Add)()


class Converter:
    """Memoised conversion (nodes are kept alive with their conversion, so ids stay unique)."""

    def __init__(self) -> None:
        self._memo: Dict[int, Tuple[cst.CSTNode, ast.expr]] = {}

    def __call__(self, node: cst.CSTNode) -> ast.expr:
        hit = self._memo.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        out = self._convert(node)
        self._memo[id(node)] = (node, out)
        return out

    def _convert(self, n: cst.CSTNode) -> ast.expr:  # noqa: C901 - a dispatch table
        c = self
        if isinstance(n, cst.Name):
            if n.value in ("True", "False", "None"):
                return ast.Constant({"True": True, "False": False, "None": None}[n.value])
            return ast.Name(n.value, _LOAD)
        if isinstance(n, cst.Attribute):
            return ast.Attribute(c(n.value), n.attr.value, _LOAD)
        if isinstance(n, cst.Call):
            args: List[ast.expr] = []
            keywords: List[ast.keyword] = []
            for a in n.args:
                if a.keyword is not None:
                    keywords.append(ast.keyword(a.keyword.value, c(a.value)))
                elif a.star == "**":
                    keywords.append(ast.keyword(None, c(a.value)))
                elif a.star == "*":
                    args.append(ast.Starred(c(a.value), _LOAD))
                else:
                    args.append(c(a.value))
            return ast.Call(c(n.func), args, keywords)
        if isinstance(n, cst.Subscript):
            parts = [self._slice(e.slice) for e in n.slice]
            index = parts[0] if len(parts) == 1 else ast.Tuple(parts, _LOAD)
            return ast.Subscript(c(n.value), index, _LOAD)
        if isinstance(n, cst.Integer):
            return ast.Constant(int(n.evaluated_value) if isinstance(n.evaluated_value, int) else 0)
        if isinstance(n, cst.Float):
            return ast.Constant(float(n.evaluated_value))
        if isinstance(n, cst.Imaginary):
            return ast.Constant(complex(n.evaluated_value))
        if isinstance(n, cst.SimpleString):
            v = n.evaluated_value
            return ast.Constant(v if isinstance(v, (str, bytes)) else "")
        if isinstance(n, (cst.ConcatenatedString, cst.FormattedString)):
            return ast.Constant("")
        if isinstance(n, cst.BinaryOperation):
            return ast.BinOp(c(n.left), _BINOPS.get(type(n.operator), ast.Add)(), c(n.right))
        if isinstance(n, cst.UnaryOperation):
            return ast.UnaryOp(_UNARY.get(type(n.operator), ast.UAdd)(), c(n.expression))
        if isinstance(n, cst.BooleanOperation):
            return ast.BoolOp(ast.And() if isinstance(n.operator, cst.And) else ast.Or(), [c(n.left), c(n.right)])
        if isinstance(n, cst.Comparison):
            return ast.Compare(c(n.left), [_CMP.get(type(t.operator), ast.Eq)() for t in n.comparisons], [c(t.comparator) for t in n.comparisons])
        if isinstance(n, cst.IfExp):
            return ast.IfExp(c(n.test), c(n.body), c(n.orelse))
        if isinstance(n, cst.Tuple):
            return ast.Tuple([self._element(e) for e in n.elements], _LOAD)
        if isinstance(n, cst.List):
            return ast.List([self._element(e) for e in n.elements], _LOAD)
        if isinstance(n, cst.Set):
            return ast.Set([self._element(e) for e in n.elements])
        if isinstance(n, cst.Dict):
            return ast.Dict([], [])
        if isinstance(n, cst.ListComp):
            return ast.ListComp(c(n.elt), [self._comp(n.for_in)])
        if isinstance(n, cst.GeneratorExp):
            return ast.GeneratorExp(c(n.elt), [self._comp(n.for_in)])
        if isinstance(n, (cst.SetComp, cst.DictComp)):
            return ast.Set([])
        if isinstance(n, cst.Lambda):
            return ast.Lambda(ast.arguments([], [], None, [], [], None, []), ast.Constant(None))
        if isinstance(n, cst.NamedExpr):
            return ast.NamedExpr(ast.Name(n.target.value, ast.Store()) if isinstance(n.target, cst.Name) else ast.Name("_", ast.Store()), c(n.value))
        if isinstance(n, cst.Arg):
            return c(n.value)
        return ast.Constant(...)

    def _element(self, e: cst.BaseElement) -> ast.expr:
        if isinstance(e, cst.StarredElement):
            return ast.Starred(self(e.value), _LOAD)
        return self(e.value)

    def _slice(self, s: cst.BaseSlice) -> ast.expr:
        if isinstance(s, cst.Index):
            return self(s.value)
        assert isinstance(s, cst.Slice)
        return ast.Slice(
            self(s.lower) if s.lower is not None else None,
            self(s.upper) if s.upper is not None else None,
            self(s.step) if s.step is not None else None,
        )

    def _comp(self, f: cst.CompFor) -> ast.comprehension:
        return ast.comprehension(self(f.target), self(f.iter), [self(i.test) for i in f.ifs], 0)
