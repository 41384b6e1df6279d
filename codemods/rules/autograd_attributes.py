"""TU038 autograd-attributes: ``ctx.saved_variables`` -> ``saved_tensors``; ``x.creator`` -> ``x.grad_fn``."""
from __future__ import annotations

from typing import List

import libcst as cst

from ..model import Example, FixClass
from ..rule import TreeRule

_FUNCTION_BASES = {"torch.autograd.Function", "torch.autograd.function.Function"}


class AutogradAttributes(TreeRule):
    code = "TU038"
    owns = ("attr:saved_variables", "attr:creator")
    name = "autograd-attributes"
    fix_classes = (FixClass.EXACT, FixClass.UNPROVEN)
    summary = "`self.saved_variables`/`ctx.saved_variables` -> `saved_tensors` in autograd Functions; `x.creator` -> `x.grad_fn` (--unsafe)"
    needles = ("saved_variables", ".creator")
    description = """
Two autograd attributes of PyTorch 0.1-0.3 were renamed:

* `saved_variables` (inside an `autograd.Function`) -> `saved_tensors`. Today it works with
  `DeprecationWarning: 'saved_variables' is deprecated; use 'saved_tensors'` (an error under
  `-W error`). The rule rewrites `self.saved_variables` / `ctx.saved_variables` inside classes
  deriving from `torch.autograd.Function` (through the file's imports).
* `x.creator` (0.1) -> `x.grad_fn`; today `AttributeError: 'Tensor' object has no attribute
  'creator'`. Whether `x` is a tensor is not known (many classes have a `creator` attribute), so
  this is offered under `--unsafe` and noted otherwise; files that assign a `.creator` attribute
  are left alone.

Old-style Functions (an instance `forward(self, ...)`, called as `MyFn()(x)`) raise in torch
2.13 whatever their attributes are called; converting them to `@staticmethod` form is not done
by this rule.

Fix safety: exact for `saved_variables` (the deprecated property returns `saved_tensors`).
`creator` -> `grad_fn` is exact for tensors (the legacy line raises) but wrong for other objects,
hence unproven (`--unsafe`; a note otherwise).
"""
    examples = (
        Example(
            title="saved tensors in an autograd Function",
            before="""
            from torch.autograd import Function

            class Exp(Function):
                @staticmethod
                def backward(ctx, grad):
                    result, = ctx.saved_variables
                    return grad * result
            """,
            after="""
            from torch.autograd import Function

            class Exp(Function):
                @staticmethod
                def backward(ctx, grad):
                    result, = ctx.saved_tensors
                    return grad * result
            """,
        ),
        Example(
            title="--unsafe: x.creator -> x.grad_fn",
            unsafe=True,
            before="""
            fn = y.creator
            """,
            after="""
            fn = y.grad_fn
            """,
        ),
        Example(
            title="outside autograd Functions, and classes with their own creator",
            before="""
            class Doc:
                def __init__(self, who):
                    self.creator = who
                    self.saved_variables = []

            print(doc.creator, self.saved_variables)
            """,
        ),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        self._classes: List[bool] = []
        self._assigns_creator = ".creator =" in ctx.text or ".creator=" in ctx.text

    def visit_ClassDef(self, node: cst.ClassDef):
        self._classes.append(any(self.imports.resolve(b.value) in _FUNCTION_BASES for b in node.bases))

    def leave_ClassDef(self, original_node, updated_node):
        self._classes.pop()
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute):
        attr = original_node.attr.value
        if attr == "saved_variables":
            if self._classes and self._classes[-1] and isinstance(original_node.value, cst.Name) and original_node.value.value in ("self", "ctx"):
                self.edit(original_node, "saved_variables -> saved_tensors")
                return updated_node.with_changes(attr=cst.Name("saved_tensors"))
            return updated_node
        if (
            attr == "creator" and not self._assigns_creator and self.imports.resolve(original_node) is None
            and self.fix(original_node, "x.creator -> x.grad_fn (creator is the 0.1 name; exact only if x is a tensor)", FixClass.UNPROVEN)
        ):
            return updated_node.with_changes(attr=cst.Name("grad_fn"))
        return updated_node
