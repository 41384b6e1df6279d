"""TU047 byte-masks: uint8 masks -> ``.bool()``; mask arithmetic on comparison results -> ``~``/``^``."""
from __future__ import annotations

from typing import Optional, Union, cast

import libcst as cst

from ..cstutil import code_of
from ..model import Example, FixClass
from ..rule import TreeRule
from ..semantic.kinds import DType, Tensor
from ..torchapi import MASK_ARGUMENTS
from ._static import literal_number

_ATOMIC = (cst.Name, cst.Attribute, cst.Call, cst.Subscript)
# method calls on a mask whose result only depends on which elements are set
_TRUTH_METHODS = frozenset({"nonzero", "any", "all"})


def _parens(expr: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(expr, _ATOMIC) or expr.lpar:
        return expr
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _bare(expr: cst.BaseExpression) -> cst.BaseExpression:
    return expr.with_changes(lpar=[], rpar=[]) if getattr(expr, "lpar", None) else expr


class ByteMasks(TreeRule):
    code = "TU047"
    name = "byte-masks"
    owns = ("arith:mask",)
    fix_classes = (FixClass.EXACT, FixClass.UNPROVEN)
    uses_analysis = True
    summary = "uint8 masks (`torch.ByteTensor`, `.byte()`) given to `masked_fill`/`masked_select`/indexing -> `.bool()`; `1 - x.eq(0)` on comparison results -> `~x.eq(0)`"
    # masked_* calls and torch.where, uint8 sources (ByteTensor, .byte(), uint8), indexing, mask arithmetic
    needles = ("masked_", "where", "yte", "uint8", "[", "-", "+")
    description = """
PyTorch 0.3 had no bool dtype: comparisons (`x.eq(0)`, `a > b`) returned uint8 tensors, and
masks were uint8 tensors (`torch.ByteTensor`, `.byte()`). Today comparisons return bool
tensors, and the mask operations want bool:

* `x.masked_fill(m, v)`, `masked_fill_`, `masked_select`, `masked_scatter(_)`, `x[m] = v`
  with a uint8 mask raise (`masked_fill_ only supports boolean masks, but got mask with dtype
  unsigned char`, `masked_select: expected BoolTensor for mask`); reading `x[m]` and
  `torch.where(m, a, b)` still work but warn (`indexing with dtype torch.uint8 is now
  deprecated`). Where the mask is known to be a uint8 tensor (a `ByteTensor` constructor,
  `.byte()`, `dtype=torch.uint8`, arithmetic on those), the rule adds `.bool()`:
  `scores.masked_fill_(pad_mask.bool(), -inf)`. 0.3 refused masks with values other than 0
  and 1 in these operations, so `.bool()` selects exactly the elements 0.3 selected.
* Mask arithmetic on comparison results, which worked on 0.3's uint8 and raises on today's
  bool (`Subtraction, the - operator, with a bool tensor is not supported`): `1 - m` (also
  `1.0 - m`) becomes `~m`, the same elements set. `m1 - m2` becomes `m1 ^ m2`: on 0.3 the
  uint8 difference was 1 where only `m1` was set, 0 where both or neither were, and 255
  where only `m2` was; `^` is set exactly where 0.3's result was non-zero, so it is exact
  where the result is used as a mask (indexing a tensor, the mask of `masked_*`, `.nonzero()`,
  `.any()`, `.all()`), and elsewhere (its values counted or converted) only when `m2` is
  contained in `m1`, which the rule cannot see.
* `m1 + m2` of two comparison results runs today but means something else: bool addition is
  a logical or (`True + True` is `True`), where 0.3's uint8 addition gave 2. Where the sum is
  not used as a mask, the rule leaves a note. `m1 * m2` (a logical and, 0 or 1 either way) is
  the same on both and is left alone.

Only operands the semantic model knows are comparison results (today's bool) are rewritten:
on a real uint8 tensor (`torch.ByteTensor`, `.byte()`) `1 - m` still works and gives what 0.3
gave, while `~m` would give 254 and 255 (bitwise not), so those are left as they are. A mask
of unknown dtype (a parameter, the result of an unknown call) is left alone without a note.

Fix safety: exact for `.bool()` on uint8 masks (the legacy line raises today or only warns,
and the fix selects the elements 0.3 selected), for `1 - m` -> `~m` (the legacy line raises
today; the fix sets the elements 0.3 set, as bool, the dtype every comparison has today), and
for `m1 - m2` -> `m1 ^ m2` where the result is used as a mask. Unproven (`--unsafe`):
`m1 - m2` -> `m1 ^ m2` anywhere else, where the values equal 0.3's only if `m2` is contained
in `m1` (0.3 gave 255 where only `m2` was set).
"""
    messages = {
        "add": "`{code}`: bool + bool is a logical or today (True + True is True); in 0.3 these uint8 masks added up to 2 where both were set: write `{left}.long() + {right}` if the count is meant",
    }
    examples = (
        Example(
            title="uint8 masks given to masked_fill, masked_select and indexing get .bool()",
            before="""
            import torch
            pad = torch.ByteTensor(2, 5).zero_()
            pad[0, 3:] = 1
            scores = scores.masked_fill(pad, -1e9)
            keep = torch.zeros(3, 4, dtype=torch.uint8)
            picked = x.masked_select(keep)
            lengths = torch.LongTensor([3, 1, 4, 1])
            flags = (lengths > 2).byte()
            y = torch.randn(4)[flags]
            """,
            after="""
            import torch
            pad = torch.ByteTensor(2, 5).zero_()
            pad[0, 3:] = 1
            scores = scores.masked_fill(pad.bool(), -1e9)
            keep = torch.zeros(3, 4, dtype=torch.uint8)
            picked = x.masked_select(keep.bool())
            lengths = torch.LongTensor([3, 1, 4, 1])
            flags = (lengths > 2).byte()
            y = torch.randn(4)[flags.bool()]
            """,
        ),
        Example(
            title="1 - mask on comparison results -> ~mask; the difference of two masks used as a mask -> ^",
            before="""
            import torch
            x = torch.randn(5)
            valid = x.ne(0)
            x = x.masked_fill(1 - valid, -1)
            inv = (1 - (x > 0.5)).float()
            mid = x[(x > 0) - (x > 3)]
            """,
            after="""
            import torch
            x = torch.randn(5)
            valid = x.ne(0)
            x = x.masked_fill(~valid, -1)
            inv = (~(x > 0.5)).float()
            mid = x[(x > 0) ^ (x > 3)]
            """,
        ),
        Example(
            title="--unsafe: the difference of two masks whose values are used",
            unsafe=True,
            before="""
            import torch
            a, b = torch.randn(3), torch.randn(3)
            only_a = a.gt(0) - b.gt(0)
            """,
            after="""
            import torch
            a, b = torch.randn(3), torch.randn(3)
            only_a = a.gt(0) ^ b.gt(0)
            """,
        ),
        Example(
            title="left: real uint8 tensors (~ would give 254), masks of unknown dtype, m * m; notes: a difference whose values are used, a sum of masks",
            before="""
            import torch
            a, b = torch.randn(3), torch.randn(3)
            m = torch.ByteTensor([1, 0, 1])
            inv = 1 - m
            y = a.masked_fill(mask, 0)
            both = (a > 0) * (b > 0)
            only_a = (a > 0) - (b > 0)
            count = (a > 0) + (b > 0)
            """,
            notes=(
                (7, "TU047", "unproven fix not applied (use --unsafe): (a > 0) - (b > 0) -> (a > 0) ^ (b > 0)"),
                (8, "TU047", "logical or"),
            ),
        ),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        # ids of original expressions in a mask position (the mask argument, a tensor's index)
        self._mask_positions: set = set()

    # -- kinds ---------------------------------------------------------------------------------------
    def _dtype(self, expr: cst.BaseExpression) -> Optional[DType]:
        k = self.ctx.analysis.tensor_here(expr)
        return k.dtype if isinstance(k, Tensor) else None

    def _is_byte(self, expr: cst.BaseExpression) -> bool:
        return self._dtype(expr) is DType.BYTE

    def _is_comparison(self, expr: cst.BaseExpression) -> bool:
        return self._dtype(expr) is DType.BOOL

    # -- mask positions --------------------------------------------------------------------------------
    def _mask_args(self, call: cst.Call):
        """The mask argument(s) of a masked_* call / torch.where, else ()."""
        func = call.func
        q = self.imports.resolve(func)
        if any(a.star for a in call.args):
            return ()
        pos = [a for a in call.args if a.keyword is None]
        kws = {a.keyword.value: a for a in call.args if a.keyword is not None}
        if q is not None:
            index = MASK_ARGUMENTS.get(q)
            if index is None:
                return ()
            name = "condition" if q == "torch.where" else "mask"
            if len(pos) > index:
                return (pos[index],)
            return (kws[name],) if name in kws else ()
        if isinstance(func, cst.Attribute) and f"Tensor.{func.attr.value}" in MASK_ARGUMENTS:
            if self.ctx.analysis.tensor_here(func.value) is None and not any(
                self._is_byte(a.value) for a in call.args
            ):
                return ()
            if pos:
                return (pos[0],)
            return (kws["mask"],) if "mask" in kws else ()
        return ()

    def visit_Call(self, node: cst.Call) -> None:
        for arg in self._mask_args(node):
            self._mask_positions.add(id(arg.value))
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _TRUTH_METHODS and not node.args:
            self._mask_positions.add(id(func.value))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            index = node.slice[0].slice.value
            if self.ctx.analysis.tensor_here(node.value) is not None:
                self._mask_positions.add(id(index))

    def _in_mask_position(self, expr: cst.BaseExpression) -> bool:
        return id(expr) in self._mask_positions

    # -- rewrites ----------------------------------------------------------------------------------------
    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        value = original_node.value
        if id(value) in self._mask_positions and self._is_byte(value) and self.fix(value, "uint8 mask -> .bool() (masked operations take bool masks)"):
            return updated_node.with_changes(value=self._bool(updated_node.value))
        return updated_node

    def leave_Index(self, original_node: cst.Index, updated_node: cst.Index) -> cst.Index:
        value = original_node.value
        if id(value) in self._mask_positions and self._is_byte(value) and self.fix(
            value, "uint8 mask index -> .bool() (indexing with uint8 is deprecated; assigning through it raises)"
        ):
            return updated_node.with_changes(value=self._bool(updated_node.value))
        return updated_node

    @staticmethod
    def _bool(expr: cst.BaseExpression) -> cst.BaseExpression:
        return cst.Call(func=cst.Attribute(value=_parens(expr), attr=cst.Name("bool")))

    def leave_BinaryOperation(
        self, original_node: cst.BinaryOperation, updated_node: cst.BinaryOperation
    ) -> Union[cst.BinaryOperation, cst.UnaryOperation]:
        op = original_node.operator
        if isinstance(op, cst.Subtract):
            if literal_number(original_node.left) == 1 and self._is_comparison(original_node.right):
                code = code_of(_bare(original_node))
                inverted = code_of(_parens(_bare(original_node.right)))
                if self.fix(original_node, f"{code} -> ~{inverted} (a comparison result is a bool mask today: inverted with ~)"):
                    return cst.UnaryOperation(
                        operator=cst.BitInvert(), expression=_parens(updated_node.right),
                        lpar=updated_node.lpar, rpar=updated_node.rpar,
                    )
                return updated_node
            if self._is_comparison(original_node.left) and self._is_comparison(original_node.right):
                left = code_of(original_node.left)
                right = code_of(original_node.right)
                exact = self._in_mask_position(original_node)
                fc = FixClass.EXACT if exact else FixClass.UNPROVEN
                why = "used as a mask" if exact else "equal to 0.3's uint8 difference only if the second mask is contained in the first (0.3 gave 255 where only the second was set)"
                if self.fix(original_node, f"{left} - {right} -> {left} ^ {right} ({why})", fc):
                    return updated_node.with_changes(
                        operator=cst.BitXor(
                            whitespace_before=cast(cst.Subtract, updated_node.operator).whitespace_before,
                            whitespace_after=cast(cst.Subtract, updated_node.operator).whitespace_after,
                        )
                    )
            return updated_node
        if (
            isinstance(op, cst.Add) and not self._in_mask_position(original_node)
            and self._is_comparison(original_node.left) and self._is_comparison(original_node.right)
        ):
            self.note(
                original_node, "add", code=code_of(_bare(original_node)),
                left=code_of(_parens(original_node.left)), right=code_of(original_node.right),
            )
        return updated_node
