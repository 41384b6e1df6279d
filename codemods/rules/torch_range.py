"""TU042 torch-range: ``torch.range(a, b, s)`` (inclusive) -> ``torch.arange`` with the end adjusted."""
from __future__ import annotations

import math

import libcst as cst

from ..model import Example, FixClass
from ..rule import TreeRule
from ..torchapi import DTYPE_METHODS, TORCH_RANGE
from ._legacy_util import kwarg, module_ref
from ._static import append_args, is_known_int, literal_number, number_source

_ATOMIC = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float)
_LOOSE_OPS = (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide, cst.Modulo)


def _range_size(a: float, b: float, s: float) -> int:
    # ATen range_out: size = (int64_t)(((end - start) / step) + 1), computed in double
    return int((b - a) / s + 1)


def _arange_size(a: float, end: float, s: float) -> int:
    # ATen arange_out: size = ceil((end - start) / step), computed in double
    return math.ceil((end - a) / s)


def _dyadic(v: float) -> bool:
    """A multiple of 1/1024 small enough that every ``start + i * step`` is exact in float32
    (then range and arange give bitwise the same values whatever their order of operations)."""
    scaled = v * 1024
    return scaled == int(scaled) and abs(v) < 2 ** 13


def _plus_one(b: cst.BaseExpression, delta: int) -> cst.BaseExpression:
    """``b + 1`` (``delta`` 1) or ``b - 1`` (-1), folding ``n - 1`` + 1 back to ``n``."""
    if (
        isinstance(b, cst.BinaryOperation) and not b.lpar and literal_number(b.right) == 1
        and ((delta == 1 and isinstance(b.operator, cst.Subtract)) or (delta == -1 and isinstance(b.operator, cst.Add)))
    ):
        return b.left
    value = literal_number(b)
    if isinstance(value, int):
        return cst.parse_expression(str(value + delta))
    if not isinstance(b, _ATOMIC) and not (isinstance(b, cst.BinaryOperation) and isinstance(b.operator, _LOOSE_OPS)) and not b.lpar:
        b = b.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    op = cst.Add() if delta == 1 else cst.Subtract()
    return cst.BinaryOperation(left=b, operator=op.with_changes(whitespace_before=cst.SimpleWhitespace(" "), whitespace_after=cst.SimpleWhitespace(" ")), right=cst.Integer("1"))


class TorchRange(TreeRule):
    code = "TU042"
    owns = ("call:torch.range",)
    name = "torch-range"
    fix_classes = (FixClass.EXACT, FixClass.UNPROVEN)
    summary = "`torch.range(a, b, s)` (inclusive, deprecated) -> `torch.arange` with an end that gives exactly the same elements"
    needles = ("range",)
    description = """
`torch.range(start, end, step=1)` includes `end` and always returns the default float dtype;
torch 2.13 warns on every call (`torch.range is deprecated and will be removed in a future
release because its behavior is inconsistent with Python's range builtin`). `torch.arange`
excludes its end and infers an integer dtype from integer arguments. Both compute element `i` as
`start + i * step` (in double); they differ only in how many elements they produce:
`trunc((end - start) / step) + 1` for `range`, `ceil((end - start) / step)` for `arange`. The
rule writes the `arange` end that gives exactly the `range` count:

* integer bounds and step (literals, or expressions that are certainly ints: `len(x)`,
  `x.size(0)`, `n - 1` of those): end `b + 1` (`b - 1` for a negative step; `n - 1` becomes
  `n`), with `dtype=torch.get_default_dtype()` since integer arguments would give int64:
  `torch.range(0, x.size(0) - 1)` -> `torch.arange(0, x.size(0), dtype=torch.get_default_dtype())`
  (no dtype when the result is converted at once: `torch.range(0, n - 1).long()` ->
  `torch.arange(0, n).long()`, the same integers);
* literal float bounds or step that are binary fractions (multiples of 1/1024: `0.5`, `0.25`,
  `0.125`): the end is computed, and checked, with torch's own size formulas
  (`torch.range(0, 1, 0.25)` -> `torch.arange(0, 1.25, 0.25)`); a float argument makes
  `arange` use the default dtype by itself;
* other float steps (`0.1`): `arange` computes its elements in another order (vectorised), so
  they can differ from `range`'s in the last bit (verified: `torch.range(-1, 1, 0.1)[10]` is
  `0.0`, the `arange` element is `-2.98e-09`), and the count needs care too:
  `torch.range(0, 0.3, 0.1)` has 3 elements (`0.3 / 0.1` is 2.9999999999999996 in double), the
  naive end `0.3 + 0.1` would give 4, so the rule writes the midpoint `0.25`. These are
  rewritten under `--unsafe` only;
* bounds of unknown type (`torch.range(lo, hi)`): integer bounds are assumed (`hi + 1`) under
  `--unsafe` only; a non-literal step (whose sign decides the adjustment) is left with a note.

`torch.range(..., dtype=...)` keeps its dtype; calls with `out=` or `*args` are left.

Fix safety: exact for integer bounds and for binary-fraction literals: the element count is the
one torch computes for `torch.range`, and every element is exactly representable, so the values
are bitwise equal (verified under torch 2.13 for positive and negative, integer and fractional
steps; integer bounds are assumed below 2**24, where float32 counts exactly). Unproven
(`--unsafe`): bounds of unknown type (assumed integers: for float bounds that are not a whole
number of steps apart the count may differ) and other float steps (same count, values equal up
to the last bit).
"""
    messages = {
        "args": "torch.range(...) with arguments the rule does not map (out=, *args, keyword bounds): use torch.arange(start, end + step, step, dtype=torch.get_default_dtype()) by hand (its end is exclusive)",
        "step": "torch.range(a, b, step) with a non-literal step: the end of torch.arange depends on the step's sign; rewrite by hand (end b + step for integer steps)",
        "no-torch": "torch.range -> torch.arange: no usable name for torch in this file",
    }
    examples = (
        Example(
            title="integer bounds: end + 1 and the default dtype",
            before="""
            import torch
            a = torch.range(0, 9)
            b = torch.range(1, 10, 3)
            idx = torch.range(0, x.size(0) - 1).long()
            ids = torch.range(0, x.size(0) - 1).view(-1, 1)
            c = torch.range(10, 0, -2)
            """,
            after="""
            import torch
            a = torch.arange(0, 10, dtype=torch.get_default_dtype())
            b = torch.arange(1, 11, 3, dtype=torch.get_default_dtype())
            idx = torch.arange(0, x.size(0)).long()
            ids = torch.arange(0, x.size(0), dtype=torch.get_default_dtype()).view(-1, 1)
            c = torch.arange(10, -1, -2, dtype=torch.get_default_dtype())
            """,
        ),
        Example(
            title="float steps: the end that gives torch.range's element count",
            before="""
            import torch
            a = torch.range(0, 1, 0.25)
            b = torch.range(-2, 2, 0.5, dtype=torch.float64)
            """,
            after="""
            import torch
            a = torch.arange(0, 1.25, 0.25)
            b = torch.arange(-2, 2.5, 0.5, dtype=torch.float64)
            """,
        ),
        Example(
            title="--unsafe: bounds of unknown type are assumed to be integers; 0.1 steps (same count, values up to the last bit)",
            unsafe=True,
            before="""
            from torch import range as trange
            r = trange(lo, hi)
            s = trange(0, 0.3, 0.1)
            """,
            after="""
            import torch
            r = torch.arange(lo, hi + 1, dtype=torch.get_default_dtype())
            s = torch.arange(0, 0.25, 0.1)
            """,
        ),
        Example(
            title="unknown bounds, a non-literal step, out= and Python's range are left",
            before="""
            import torch
            r = torch.range(lo, hi)
            s = torch.range(0, 10, step)
            torch.range(0, 3, out=buf)
            for i in range(10):
                pass
            """,
            notes=((2, "TU042", "unproven fix not applied"), (3, "TU042", "non-literal step"), (4, "TU042", "does not map")),
        ),
        Example(
            title="no name for torch",
            before="""
            from torch import range as trange
            torch = None
            r = trange(0, 3)
            """,
            notes=((3, "TU042", "no usable name"),),
        ),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        self._converted: set = set()  # ids of calls whose result is converted at once: x.long()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in DTYPE_METHODS.values() and not node.args and isinstance(func.value, cst.Call):
            self._converted.add(id(func.value))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self.imports.resolve(original_node.func) != TORCH_RANGE:
            return updated_node
        args = list(updated_node.args)
        pos = [a for a in args if a.keyword is None]
        kws = {a.keyword.value: a for a in args if a.keyword is not None}
        if any(a.star for a in args) or "out" in kws or {"start", "end"} & set(kws) or not 2 <= len(pos) <= 3 or (len(pos) == 3 and "step" in kws):
            self.note(original_node, "args")
            return updated_node
        step_arg = pos[2] if len(pos) == 3 else kws.get("step")
        a, b = pos[0].value, pos[1].value
        s_val = literal_number(step_arg.value) if step_arg is not None else 1
        if s_val is None:
            self.note(original_node, "step")
            return updated_node
        if s_val == 0:
            return updated_node
        end, fix_class, why = self._end(a, b, s_val)
        if end is None:
            return updated_node
        torch_ref = module_ref(self, "torch")
        if torch_ref is None:
            self.note(original_node, "no-torch")
            return updated_node
        needs_dtype = "dtype" not in kws and not any(isinstance(v, float) for v in (literal_number(a), literal_number(end), s_val))
        if needs_dtype and id(original_node) in self._converted:
            needs_dtype = False  # torch.range(0, n - 1).long(): integer values, converted at once
        msg = f"torch.range(...) -> torch.arange(...) with the end adjusted ({why})"
        if not self.fix(original_node, msg, fix_class):
            return updated_node
        new_args = list(args)
        i_end = args.index(pos[1])
        new_args[i_end] = args[i_end].with_changes(value=end)
        extra = [kwarg("dtype", cst.parse_expression(f"{torch_ref}.get_default_dtype()"))] if needs_dtype else []
        if isinstance(original_node.func, cst.Attribute):
            func = updated_node.func.with_changes(attr=cst.Name("arange"))
        else:
            func = cst.parse_expression(f"{torch_ref}.arange")
            self.ctx.drop_import_when_unused(TORCH_RANGE)
        return updated_node.with_changes(func=func, args=append_args(new_args, extra))

    def _end(self, a: cst.BaseExpression, b: cst.BaseExpression, s: float):
        """(new end expression, fix class, reason) or (None, ...) when there is none."""
        av, bv = literal_number(a), literal_number(b)
        delta = 1 if s > 0 else -1
        if av is not None and bv is not None:
            n = _range_size(float(av), float(bv), float(s))
            if n <= 0:
                return None, None, ""
            if all(isinstance(v, int) for v in (av, bv, s)):
                return cst.parse_expression(str(bv + delta)), FixClass.EXACT, "integer bounds"
            exact = _dyadic(float(av)) and _dyadic(float(s)) and abs(bv) < 2 ** 13
            for candidate in (bv + s, av + (n - 0.5) * s):
                if _arange_size(float(av), float(candidate), float(s)) == n:
                    if exact:
                        return cst.parse_expression(number_source(float(candidate))), FixClass.EXACT, f"{n} elements, as torch.range computes"
                    return (
                        cst.parse_expression(number_source(float(candidate))),
                        FixClass.UNPROVEN,
                        f"{n} elements, as torch.range computes; the step is not a binary fraction, so values may differ in the last bit (arange accumulates differently)",
                    )
            return None, None, ""
        if isinstance(s, int) and is_known_int(a, self.imports) and is_known_int(b, self.imports):
            return _plus_one(b, delta), FixClass.EXACT, "integer bounds"
        if isinstance(s, int):
            return _plus_one(b, delta), FixClass.UNPROVEN, "assumes integer bounds: for float bounds that are not a whole number of steps apart the count may differ"
        return None, None, ""
