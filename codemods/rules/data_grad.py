"""TU022 grad-data: ``x.grad.data`` -> ``x.grad``."""
from __future__ import annotations

import libcst as cst

from ..model import Example
from .data_common import DataRule


class GradData(DataRule):
    code = "TU022"
    name = "grad-data"
    summary = "`x.grad.data` -> `x.grad` (also `x.grad.data.zero_()` -> `x.grad.zero_()`)"
    safety = "safe"
    needles = (".grad.data",)
    description = """
A gradient is an ordinary tensor that does not require grad, so going through `.data` to read or
update it is unnecessary: `p.grad.data.norm()` -> `p.grad.norm()`,
`p.grad.data.zero_()` -> `p.grad.zero_()`, `p.data.add_(-lr, p.grad.data)` ->
`p.data.add_(-lr, p.grad)`. Every `E.grad.data` in a file that imports torch is rewritten
(`.grad` is a gradient whatever `E` is). Assignments *to* `E.grad.data` (`p.grad.data = t`
swaps storage) are left with a note.

Fix safety: safe when the gradient has no graph of its own, which is the normal case
(`backward()` without `create_graph=True`): `p.grad` and `p.grad.data` then have the same
values, storage, dtype and device, neither requires grad, and no graph saved the gradient, so
the version-counter difference of `.data` (spec section 3) cannot be observed. If the file
mentions `create_graph`, the gradient may carry a graph (`.zero_()` would be recorded into
it, reads would stay attached to it), so the rewrite becomes an unsafe fix there.
"""
    examples = (
        Example(
            title="reads, zeroing and optimizer updates",
            before="""
            import torch

            for p in model.parameters():
                if p.grad is not None:
                    p.grad.data.zero_()
            total = sum(p.grad.data.norm() ** 2 for p in params)
            p.data.add_(-lr, p.grad.data)
            """,
            after="""
            import torch

            for p in model.parameters():
                if p.grad is not None:
                    p.grad.zero_()
            total = sum(p.grad.norm() ** 2 for p in params)
            p.data.add_(-lr, p.grad)
            """,
        ),
        Example(
            title="assigning to grad.data is kept; non-torch files are untouched",
            before="""
            import torch

            p.grad.data = torch.zeros(3)
            """,
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

            g, = torch.autograd.grad(y, x, create_graph=True)
            w.grad.data.zero_()
            """,
            after="""
            import torch

            g, = torch.autograd.grad(y, x, create_graph=True)
            w.grad.zero_()
            """,
        ),
    )

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute):
        if original_node.attr.value != "data":
            return updated_node
        grad = original_node.value
        if not (isinstance(grad, cst.Attribute) and grad.attr.value == "grad") or not self.active():
            return updated_node
        parent = self.parents[-1] if self.parents else None
        if isinstance(parent, cst.AssignTarget) and parent.target is original_node:
            self.note(original_node, "`x.grad.data = t` left unchanged (swaps the gradient's storage; no exact modern spelling)")
            return updated_node
        risky = "create_graph" in self.ctx.text
        msg = "x.grad.data -> x.grad"
        if risky:
            msg += " (file uses create_graph: exact only if this gradient has no graph)"
        if not self.fix(original_node, msg, unsafe=risky):
            return updated_node
        return updated_node.value
