"""TU002 variable-type-check: ``isinstance(x, Variable)`` and ``type(x) == Variable``."""
from __future__ import annotations

import libcst as cst

from ..model import Example, FixClass
from ..rule import LegacyTreeRule
from ..torchapi import VARIABLE
from .variable import variable_statement_needles


class VariableTypeCheck(LegacyTreeRule):
    code = "TU002"
    owns = ("call:Variable", "ref:Variable")
    after = ("TU001",)
    name = "variable-type-check"
    fix_classes = (FixClass.EXACT, FixClass.UNPROVEN)
    summary = "`isinstance(x, Variable)` and `x: Variable` annotations -> `torch.Tensor`; flag `type(x) == Variable`"
    needles = ("Variable",)

    @classmethod
    def statement_filter(cls, ctx):
        return variable_statement_needles(ctx)
    description = """
`isinstance(x, Variable)` is still True for every tensor (through a metaclass hook), so it is
rewritten to the modern spelling `isinstance(x, torch.Tensor)`, also inside a tuple of classes.

`type(x) == Variable` / `type(x) is Variable` (and `!=`, `is not`) is **always False** since
PyTorch 0.4: `type(x)` is `torch.Tensor`. The classic `repackage_hidden` helper silently stops
detaching hidden states because of it. Rewriting it to `isinstance(x, torch.Tensor)` restores
what the code did under 0.3.

Type annotations naming `Variable` (`x: Variable`, `-> List[Variable]`,
`Union[float, torch.autograd.Variable]`) are rewritten to `torch.Tensor`.

Fix safety: the `isinstance` rewrite is safe (identical result). The annotation rewrite is safe
too: annotations do not affect what the code does; the only observable difference is the object
stored in `__annotations__` (`torch.Tensor` instead of the `Variable` class), which matters only
to code that compares annotations with `Variable` by identity. The `type(x) == Variable`
rewrite changes what the code does today (it restores 0.3 behaviour), so it is an unsafe fix:
applied with `--unsafe`, otherwise reported as a note.
"""
    examples = (
        Example(
            title="isinstance",
            before="""
            import torch
            from torch.autograd import Variable

            def f(x):
                if isinstance(x, Variable):
                    return x
                return isinstance(x, (Variable, list))
            """,
            after="""
            import torch

            def f(x):
                if isinstance(x, torch.Tensor):
                    return x
                return isinstance(x, (torch.Tensor, list))
            """,
        ),
        Example(
            title="type(h) == Variable is always False today: unsafe fix",
            unsafe=True,
            also=("TU001",),
            before="""
            from torch.autograd import Variable

            def repackage_hidden(h):
                if type(h) == Variable:
                    return Variable(h.data)
                else:
                    return tuple(repackage_hidden(v) for v in h)
            """,
            after="""
            import torch

            def repackage_hidden(h):
                if isinstance(h, torch.Tensor):
                    return h.data.detach()
                else:
                    return tuple(repackage_hidden(v) for v in h)
            """,
        ),
        Example(
            title="annotations",
            before="""
            from typing import List
            import torch
            from torch.autograd import Variable

            def viterbi(logits: Variable, masks: List[Variable]) -> Variable:
                return logits
            """,
            after="""
            from typing import List
            import torch

            def viterbi(logits: torch.Tensor, masks: List[torch.Tensor]) -> torch.Tensor:
                return logits
            """,
        ),
        Example(
            title="without --unsafe, type(h) == Variable is only reported",
            before="""
            from torch.autograd import Variable

            def is_var(h):
                return type(h) is not Variable
            """,
        ),
    )

    def _is_variable(self, node) -> bool:
        return self.imports.resolve(node) == VARIABLE

    def _tensor(self):
        torch = self.module_name("torch")
        return cst.Attribute(value=cst.Name(torch), attr=cst.Name("Tensor")) if torch else None

    def leave_Call(self, original_node, updated_node):
        if not self.imports.is_builtin(original_node.func, "isinstance") or len(original_node.args) != 2:
            return updated_node
        cls = original_node.args[1].value
        if self._is_variable(cls):
            tensor = self._tensor()
            if tensor is None or not self.fix(original_node, "isinstance(x, Variable) -> isinstance(x, torch.Tensor)"):
                return updated_node
            arg = updated_node.args[1]
            return updated_node.with_changes(args=[updated_node.args[0], arg.with_changes(value=tensor.with_changes(lpar=cls.lpar, rpar=cls.rpar))])
        if isinstance(cls, cst.Tuple) and any(self._is_variable(e.value) for e in cls.elements):
            tensor = self._tensor()
            if tensor is None or not self.fix(original_node, "isinstance(x, (Variable, ...)) -> isinstance(x, (torch.Tensor, ...))"):
                return updated_node
            new_tuple = updated_node.args[1].value
            elements = [
                e.with_changes(value=tensor) if self._is_variable(orig.value) else e
                for e, orig in zip(new_tuple.elements, cls.elements)
            ]
            return updated_node.with_changes(
                args=[updated_node.args[0], updated_node.args[1].with_changes(value=new_tuple.with_changes(elements=elements))]
            )
        return updated_node

    def visit_Annotation(self, node):
        self._in_annotation = getattr(self, "_in_annotation", 0) + 1

    def leave_Annotation(self, original_node, updated_node):
        self._in_annotation -= 1
        return updated_node

    def leave_Name(self, original_node, updated_node):
        return self._annotation_ref(original_node, updated_node)

    def leave_Attribute(self, original_node, updated_node):
        return self._annotation_ref(original_node, updated_node)

    def _annotation_ref(self, original_node, updated_node):
        if not getattr(self, "_in_annotation", 0) or not self._is_variable(original_node):
            return updated_node
        tensor = self._tensor()
        if tensor is None or not self.fix(original_node, "annotation Variable -> torch.Tensor"):
            return updated_node
        return tensor.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)

    def leave_Comparison(self, original_node, updated_node):
        if len(original_node.comparisons) != 1:
            return updated_node
        target = original_node.comparisons[0]
        op = target.operator
        if not isinstance(op, (cst.Equal, cst.NotEqual, cst.Is, cst.IsNot)):
            return updated_node
        left, right = original_node.left, target.comparator
        if self._is_variable(left):
            left, right = right, left
        if not (
            self._is_variable(right)
            and isinstance(left, cst.Call)
            and self.imports.is_builtin(left.func, "type")
            and len(left.args) == 1
            and not left.args[0].keyword
            and not left.args[0].star
        ):
            return updated_node
        negate = isinstance(op, (cst.NotEqual, cst.IsNot))
        msg = f"type(x) {'!=' if negate else '=='} Variable is always {'True' if negate else 'False'} on torch >= 0.4; -> {'not ' if negate else ''}isinstance(x, torch.Tensor) restores 0.3 behaviour"
        if (self.ctx.unsafe and self._tensor() is None) or not self.fix(original_node, msg, FixClass.UNPROVEN):
            return updated_node
        tensor = self._tensor()
        call = cst.Call(func=cst.Name("isinstance"), args=[cst.Arg(left.args[0].value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), cst.Arg(tensor)])
        new = cst.UnaryOperation(operator=cst.Not(), expression=call) if negate else call
        return new.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)

    def leave_Module(self, original_node, updated_node):
        if self.ctx.has_edits(self.code):
            self.ctx.drop_import_when_unused(VARIABLE)
        return super().leave_Module(original_node, updated_node)
