"""TU048 integer-division: ``/`` of integer tensors (truncating in 0.3) -> ``torch.div(..., rounding_mode='trunc')``."""
from __future__ import annotations

import ast
from typing import Optional, Union

import libcst as cst

from ..cstutil import code_of
from ..model import Example, FixClass
from ..rule import TreeRule
from ..semantic.kinds import DType, Legacy, Tensor
from ..torchapi import DIV_FUNCTIONS, FLOAT_IN_03_FACTORIES, INTEGER_METHODS
from ._legacy_util import kwarg, module_ref
from ._static import append_args, is_known_int, literal_number

_INT_FUNCTIONS = frozenset(("len", "int"))
_SIZE_METHODS = frozenset(("size", "numel", "nelement", "dim", "ndimension"))
_DEPTH = 4


class IntegerDivision(TreeRule):
    code = "TU048"
    name = "integer-division"
    fix_classes = (FixClass.RESTORING, FixClass.EXACT)
    fix_class = FixClass.RESTORING
    uses_analysis = True
    summary = "`a / b` of integer tensors (truncating in 0.3, true division today) -> `torch.div(a, b, rounding_mode='trunc')`; `a /= b` -> `a.div_(b, rounding_mode='trunc')`"
    needles = ("/", "div")
    description = """
In PyTorch 0.3 dividing an integer tensor (`torch.LongTensor`, `.long()`, the indices of
`x.max(1)[1]`, `nonzero()`) by an integer tensor or a Python int truncated toward zero, as C
integer division does: `torch.LongTensor([7, -7]) / 2` was `[3, -3]`. Since torch 1.5/1.6
`/` is true division: the same line gives the float tensor `[3.5, -3.5]`, silently; the
in-place forms raise (`a /= 2`, `a.div_(2)`: `result type Float can't be cast to the desired
output type Long`). `//` is no replacement: it floors (`-7 // 2` is `-4`), which equals
truncation only for non-negative operands.

Where both operands are known to be integers in 0.3 (an integer tensor on the left; an
integer tensor or a certain Python int on the right: a literal, `len(...)`, `x.size(0)`, a
name only ever assigned those), the rule restores the truncation:

* `a / b` -> `torch.div(a, b, rounding_mode='trunc')`, `a.div(b)` and `torch.div(a, b)` get
  `rounding_mode='trunc'`;
* `a /= b` -> `a.div_(b, rounding_mode='trunc')` (`a` a name or an attribute; an in-place
  update through a subscript is left), `a.div_(b)` gets `rounding_mode='trunc'`.

What counts as an integer tensor is what 0.3 computed, not today's dtype: `torch.arange`,
`torch.range` and `torch.linspace` returned float tensors in 0.3 whatever their arguments, so
their results are not integer tensors (unless converted: `torch.arange(n).long()`), and
arithmetic with a float literal is not either. A full reduction of a plain integer tensor was
a Python number in 0.3 (`correct = pred.eq(y).sum()`), and `correct / total` on Python 3 was
true division then as it is now: such divisions are left alone. A 0-dim integer Variable
divided (`(pred == y).sum() / n` on Variables: 0.3 summed in uint8 and truncated, usually to
0) is left with a note rather than restored. An integer tensor divided by an operand of
unknown type (an int or a float?) is left with a note, and so is one divided by a float
literal (0.3 converted the literal to the tensor's integer type: `t / 2.5` was `t / 2`,
truncated); everything else of unknown type is left silently.

Fix safety: restoring for `/`, `.div(...)` and `torch.div(...)`: the result equals what 0.3
computed (truncated integer division, an integer tensor) and differs from what the unmigrated
line computes today (a float tensor). Exact for `/=` and `.div_(...)`: the legacy line raises
today, and the fix computes what 0.3 computed.
"""
    messages = {
        "operand": "`{code}`: {left} is an integer tensor, which 0.3 divided with truncation; the type of {right} is not known (an int tensor or Python int: use torch.div(..., rounding_mode='trunc') to keep 0.3's result; today `/` is true division)",
        "float": "`{code}`: 0.3 converted {right} to the integer type of {left} and truncated the division (an integer tensor); today `/` is true division (a float tensor); left as it is",
        "count": "`{code}`: 0.3 divided this 0-dim integer Variable with truncation (a count of matches divided so was usually 0); today `/` is true division; left as it is",
        "target": "`{code}`: an in-place division of an integer tensor through a subscript raises today; write `{target} = torch.div({target}, {right}, rounding_mode='trunc')`",
        "no-torch": "`{code}`: no usable name for torch in this file",
    }
    examples = (
        Example(
            title="integer tensors divided by integer tensors or ints: 0.3 truncated",
            before="""
            import torch
            idx = torch.LongTensor([7, -7, 9])
            half = idx / 2
            _, pred = torch.randn(3, 10).max(1)
            row = pred / width
            col = pred.long() / idx
            steps = idx / len(boxes)
            q = idx.div(4)
            """,
            after="""
            import torch
            idx = torch.LongTensor([7, -7, 9])
            half = torch.div(idx, 2, rounding_mode='trunc')
            _, pred = torch.randn(3, 10).max(1)
            row = pred / width
            col = torch.div(pred.long(), idx, rounding_mode='trunc')
            steps = torch.div(idx, len(boxes), rounding_mode='trunc')
            q = idx.div(4, rounding_mode='trunc')
            """,
            notes=((5, "TU048", "type of width is not known"),),
        ),
        Example(
            title="in place: a /= b and a.div_(b) raise today",
            before="""
            import torch
            n = 4
            counts = torch.zeros(3).long()
            counts /= n
            bins = torch.LongTensor([5, 9])
            bins.div_(3)
            bins[0] /= 2


            class Hist:
                def __init__(self):
                    self.bins = torch.IntTensor(5).zero_()

                def halve(self):
                    self.bins /= 2
            """,
            after="""
            import torch
            n = 4
            counts = torch.zeros(3).long()
            counts.div_(n, rounding_mode='trunc')
            bins = torch.LongTensor([5, 9])
            bins.div_(3, rounding_mode='trunc')
            bins[0] /= 2


            class Hist:
                def __init__(self):
                    self.bins = torch.IntTensor(5).zero_()

                def halve(self):
                    self.bins.div_(2, rounding_mode='trunc')
            """,
            notes=((7, "TU048", "through a subscript"),),
        ),
        Example(
            title="left: float tensors, arange (float in 0.3), Python numbers of 0.3, unknown operands",
            before="""
            import torch
            x = torch.randn(4)
            a = x / 2
            r = torch.arange(0, 10) / 2
            correct = 0
            total = 0
            for data, target in loader:
                pred = data.max(1)[1]
                correct += pred.eq(target).sum()
                total += target.size(0)
            acc = correct / total
            c = u / v
            idx = torch.LongTensor([3, 4])
            h = idx / 2.0
            """,
            notes=((14, "TU048", "converted 2.0 to the integer type"),),
        ),
        Example(
            title="a 0-dim integer Variable divided: noted",
            before="""
            import torch
            import torch.nn as nn
            from torch.autograd import Variable
            model = nn.Linear(4, 3)
            out = model(Variable(x))
            hits = out.max(1)[1].eq(Variable(y)).sum()
            acc = hits / 8
            """,
            notes=((7, "TU048", "0-dim integer Variable"),),
        ),
        Example(
            title="no name for torch",
            before="""
            from torch import LongTensor
            torch = None
            idx = LongTensor([1, 2])
            h = idx / 2
            """,
            notes=((4, "TU048", "no usable name"),),
        ),
    )

    # -- what 0.3 computed ---------------------------------------------------------------------------
    def _int_tensor(self, expr: cst.BaseExpression) -> Optional[str]:
        """"int": an integer tensor in 0.3; "count": a 0-dim integer Variable; else None."""
        k = self.ctx.analysis.tensor_here(expr)
        if not isinstance(k, Tensor) or k.dtype is not DType.INT or k.legacy not in (Legacy.TENSOR, Legacy.VARIABLE):
            return None
        try:
            tree = self.ctx.analysis.convert(expr)
        except Exception:
            return None
        if self._float_in_03(tree, _DEPTH):
            return None
        if k.legacy is Legacy.VARIABLE and k.is_scalar:
            return "count"
        return "int"

    def _float_in_03(self, node: ast.AST, depth: int) -> bool:
        """The value's dtype comes from something that was a float in 0.3 (``torch.arange``,
        arithmetic with a float literal), as far as the expression and its names show."""
        if isinstance(node, ast.Constant):
            return isinstance(node.value, float)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                if func.attr in INTEGER_METHODS and not node.args:
                    return False  # converted to an integer type: whatever it was before
                q = self.ctx.analysis.file.qualified(func)
                if q is not None:
                    return q in FLOAT_IN_03_FACTORIES and not any(k.arg == "dtype" for k in node.keywords)
                return self._float_in_03(func.value, depth) or any(self._float_in_03(a, depth) for a in node.args if isinstance(a, ast.Constant))
            q = self.ctx.analysis.file.qualified(func)
            return q in FLOAT_IN_03_FACTORIES and not any(k.arg == "dtype" for k in node.keywords)
        if isinstance(node, ast.BinOp):
            return self._float_in_03(node.left, depth) or self._float_in_03(node.right, depth)
        if isinstance(node, ast.UnaryOp):
            return self._float_in_03(node.operand, depth)
        if isinstance(node, (ast.Subscript, ast.Attribute)):
            return self._float_in_03(node.value, depth)
        if isinstance(node, ast.IfExp):
            return self._float_in_03(node.body, depth) or self._float_in_03(node.orelse, depth)
        if isinstance(node, ast.Name) and depth > 0:
            for b in self.ctx.analysis.bindings(node.id):
                value = b.node.value if isinstance(b.node, ast.AugAssign) else b.node
                if b.how in ("value", "aug") and value is not None and self._float_in_03(value, depth - 1):
                    return True
                if b.how == "item" and b.inner is not None and b.inner.node is not None and self._float_in_03(b.inner.node, depth - 1):
                    return True
        return False

    def _python_int(self, expr: cst.BaseExpression) -> bool:
        """Certainly a Python int: a literal, ``len(...)``, ``x.size(0)``, or a name every
        binding of which is one of those."""
        if is_known_int(expr, self.imports):
            return True
        if not isinstance(expr, cst.Name):
            return False
        bindings = self.ctx.analysis.bindings(expr.value)
        return bool(bindings) and all(b.how == "value" and self._int_ast(b.node) for b in bindings)

    def _int_ast(self, node: Optional[ast.AST]) -> bool:
        if isinstance(node, ast.Constant):
            return type(node.value) is int
        if isinstance(node, ast.Call) and not node.keywords:
            if isinstance(node.func, ast.Name):
                return node.func.id in _INT_FUNCTIONS and self.imports.is_builtin(cst.Name(node.func.id), node.func.id)
            return isinstance(node.func, ast.Attribute) and node.func.attr in _SIZE_METHODS and self.ctx.analysis.file.qualified(node.func) is None
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod)):
            return self._int_ast(node.left) and self._int_ast(node.right)
        return False

    def _judge(self, where: cst.CSTNode, left: cst.BaseExpression, right: cst.BaseExpression, code: str) -> Optional[str]:
        """"fix" when both operands are integers in 0.3, else None (after a note where useful)."""
        lk = self._int_tensor(left)
        if lk is None:
            return None
        if lk == "count":
            self.note(where, "count", code=code)
            return None
        if self._int_tensor(right) == "int" or self._python_int(right):
            return "fix"
        if isinstance(literal_number(right), float):
            self.note(where, "float", code=code, left=code_of(left), right=code_of(right))
            return None
        k = self.ctx.analysis.tensor_here(right)
        if isinstance(k, Tensor) and k.dtype is DType.FLOAT:
            return None  # a float divisor: 0.3 refused to mix the types; today's result is float
        self.note(where, "operand", code=code, left=code_of(left), right=code_of(right))
        return None

    # -- rewrites ----------------------------------------------------------------------------------------
    def leave_BinaryOperation(
        self, original_node: cst.BinaryOperation, updated_node: cst.BinaryOperation
    ) -> Union[cst.BinaryOperation, cst.Call]:
        if not isinstance(original_node.operator, cst.Divide):
            return updated_node
        code = code_of(original_node.with_changes(lpar=[], rpar=[]))
        if self._judge(original_node, original_node.left, original_node.right, code) is None:
            return updated_node
        torch = module_ref(self, "torch")
        if torch is None:
            self.note(original_node, "no-torch", code=code)
            return updated_node
        self.edit(original_node, f"{code} -> torch.div(..., rounding_mode='trunc') (integer tensors: 0.3 truncated)")
        return cst.Call(
            func=cst.parse_expression(f"{torch}.div"),
            args=[cst.Arg(updated_node.left, comma=_comma()), cst.Arg(updated_node.right, comma=_comma()), kwarg("rounding_mode", cst.SimpleString("'trunc'"))],
        )

    def leave_AugAssign(self, original_node: cst.AugAssign, updated_node: cst.AugAssign) -> Union[cst.AugAssign, cst.Expr]:
        if not isinstance(original_node.operator, cst.DivideAssign):
            return updated_node
        code = code_of(original_node)
        target = original_node.target
        if self._judge(original_node, target, original_node.value, code) is None:
            return updated_node
        if not isinstance(target, (cst.Name, cst.Attribute)):
            self.note(original_node, "target", code=code, target=code_of(target), right=code_of(original_node.value))
            return updated_node
        self.edit(original_node, f"{code} -> .div_(..., rounding_mode='trunc') (integer tensors: 0.3 truncated; raises today)", FixClass.EXACT)
        call = cst.Call(
            func=cst.Attribute(value=updated_node.target, attr=cst.Name("div_")),
            args=[cst.Arg(updated_node.value, comma=_comma()), kwarg("rounding_mode", cst.SimpleString("'trunc'"))],
        )
        return cst.Expr(value=call, semicolon=updated_node.semicolon)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        func = original_node.func
        args = original_node.args
        if any(a.star for a in args) or any(a.keyword is not None and a.keyword.value == "rounding_mode" for a in args):
            return updated_node
        pos = [a for a in args if a.keyword is None]
        q = self.imports.resolve(func)
        if q in DIV_FUNCTIONS and q == "torch.div" and len(pos) == 2 and len(args) == 2:
            left, right, in_place = pos[0].value, pos[1].value, False
        elif q is None and isinstance(func, cst.Attribute) and func.attr.value in ("div", "div_") and len(pos) == 1 and len(args) == 1:
            left, right, in_place = func.value, pos[0].value, func.attr.value == "div_"
        else:
            return updated_node
        code = code_of(original_node)
        if self._judge(original_node, left, right, code) is None:
            return updated_node
        if in_place:
            self.edit(original_node, f"{code}: rounding_mode='trunc' (integer tensors: 0.3 truncated; raises today)", FixClass.EXACT)
        else:
            self.edit(original_node, f"{code}: rounding_mode='trunc' (integer tensors: 0.3 truncated)")
        return updated_node.with_changes(args=append_args(list(updated_node.args), [kwarg("rounding_mode", cst.SimpleString("'trunc'"))]))


def _comma() -> cst.Comma:
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
