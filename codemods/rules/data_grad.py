"""TU022 grad-data: ``x.grad.data`` -> ``x.grad``."""
from __future__ import annotations

import re

import libcst as cst

from ..model import Example, FixClass
from .data_common import COND, MUTATE, WRITE, DataRule

# `E.grad = value` (not `==`): the gradient may then carry a graph of its own
_GRAD_ASSIGN = re.compile(r"\.grad\s*=(?!=)")


class GradData(DataRule):
    code = "TU022"
    owns = ("attr:.data",)
    after = ("TU001",)
    name = "grad-data"
    fix_classes = (FixClass.EXACT, FixClass.UNPROVEN)
    summary = "`x.grad.data` -> `x.grad` (also `x.grad.data.zero_()` -> `x.grad.zero_()`)"
    needles = (".grad.data",)
    description = """
A gradient is an ordinary tensor that does not require grad, so going through `.data` to read or
update it is unnecessary: `p.grad.data.norm()` -> `p.grad.norm()`,
`p.grad.data.zero_()` -> `p.grad.zero_()`, `p.data.add_(-lr, p.grad.data)` ->
`p.data.add_(-lr, p.grad)`. Only receivers that the tensor inference proves to be tensors or
parameters are touched (an object whose `.grad.data` is a plain attribute keeps it, with a note).
Assignments *to* `E.grad.data` (`p.grad.data = t` swaps storage) are left with a note.

Fix safety: exact when the gradient has no graph of its own, which is the normal case
(`backward()` without `create_graph=True`, no `E.grad = <expression>` in the file), and the value
cannot be saved by a graph: it is reduced or converted (`.norm()`, `.item()`), updated in place
with grad-free operands (`.zero_()`, `.mul_(c)`, `.clamp_()`), or passed to an optimizer-style
update (`p.data.add_(-lr, p.grad.data)`). Then `p.grad` and `p.grad.data` have the same values,
storage, dtype and device, neither requires grad, and the version-counter difference of `.data`
(in-place writes through it are not seen by autograd) cannot be observed. Elsewhere (stored in a name, multiplied with a
grad-requiring tensor, passed to a function) a graph may save the gradient and a later
accumulation or `.zero_()` would make its `backward()` raise, and if the file mentions
`create_graph` or assigns to `.grad` the gradient may carry a graph: there the fix is unproven (`--unsafe`; a note otherwise).
"""
    examples = (
        Example(
            title="reads, zeroing and optimizer updates",
            before="""
            import torch

            for p in model.parameters():
                if p.grad is not None:
                    p.grad.data.zero_()
            total = sum(p.grad.data.norm() ** 2 for p in model.parameters())
            p.data.add_(-lr, p.grad.data)
            """,
            after="""
            import torch

            for p in model.parameters():
                if p.grad is not None:
                    p.grad.zero_()
            total = sum(p.grad.norm() ** 2 for p in model.parameters())
            p.data.add_(-lr, p.grad)
            """,
        ),
        Example(
            title="assigning to grad.data is kept; non-torch files are untouched",
            before="""
            import torch

            p.grad.data = torch.zeros(3)
            node.grad.data.zero_()
            """,
            notes=((3, "TU022", "swaps the gradient's storage"), (4, "TU022", "not known to be a tensor")),
        ),
        Example(
            title="without torch imports nothing changes",
            before="""
            node.grad.data.clear()
            """,
        ),
        Example(
            title="create_graph in the file: unsafe fix",
            unsafe=True,
            before="""
            import torch

            w = torch.zeros(3, requires_grad=True)
            g, = torch.autograd.grad(y, x, create_graph=True)
            w.grad.data.zero_()
            """,
            after="""
            import torch

            w = torch.zeros(3, requires_grad=True)
            g, = torch.autograd.grad(y, x, create_graph=True)
            w.grad.zero_()
            """,
        ),
    )

    messages = {
        "assign": "`x.grad.data = t` left unchanged (swaps the gradient's storage; no exact modern spelling)",
        "unknown": "`.grad.data` left unchanged: the receiver is not known to be a tensor",
    }

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute):
        if original_node.attr.value != "data":
            return updated_node
        grad = original_node.value
        if not (isinstance(grad, cst.Attribute) and grad.attr.value == "grad") or not self.active():
            return updated_node
        parent = self.parent
        if isinstance(parent, cst.AssignTarget) and parent.target is original_node:
            self.note(original_node, "assign")
            return updated_node
        receiver = grad.value
        if not self.is_tensor(receiver):
            self.note(original_node, "unknown")
            return updated_node
        status, why = self.flow(original_node)
        if status == WRITE:
            return updated_node
        # in-place updates of the gradient (`.zero_()`, `.mul_()`, `.clamp_()`): exact when the
        # gradient has no graph (the check below)
        cond = status == COND
        if status == MUTATE:
            parents = self.ctx.parents
            method = parents[-1] if parents else None
            call = parents[-2] if len(parents) >= 2 else None
            if not (
                isinstance(method, cst.Attribute)
                and method.value is original_node
                and isinstance(call, cst.Call)
                and call.func is method
                and all(self.gfree(a.value) or not self.is_tensor(a.value) for a in call.args)
            ):
                cond, why = True, "in-place update with operands that may require grad"
        risky = "create_graph" in self.ctx.text or _GRAD_ASSIGN.search(self.ctx.text) is not None
        msg = "x.grad.data -> x.grad"
        if cond:
            msg += f" (exact unless a graph saves the gradient and it changes in place before backward: {why})"
        if risky:
            msg += " (file uses create_graph or assigns to .grad: exact only if this gradient has no graph)"
        if not self.fix(original_node, msg, FixClass.UNPROVEN if risky or cond else None):
            return updated_node
        return updated_node.value.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar) if updated_node.lpar else updated_node.value
