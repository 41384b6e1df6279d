"""TU054 backward-in-no-grad (advisory): ``.backward()`` inside a no-grad region."""
from __future__ import annotations

import libcst as cst

from ..cstutil import code_of
from ..model import Example
from ._advisory import AdvisoryRule, Body, BodyEvents


class BackwardInNoGrad(AdvisoryRule):
    code = "TU054"
    name = "backward-in-no-grad"
    summary = "Advisory: `.backward()` (training code) inside a `torch.no_grad()`/`inference_mode()` region or a `@torch.no_grad()` function"
    needles = ("no_grad", "inference_mode", "set_grad_enabled")
    description = """
Inside `with torch.no_grad():` (or `torch.inference_mode()`, `torch.set_grad_enabled(False)`,
or a function decorated with one of them) nothing is recorded: a loss computed there has no
graph, and `loss.backward()` raises `element 0 of tensors does not require grad and does not
have a grad_fn`; where the loss was computed outside, the region hides that the code trains. The
usual cause is a region drawn too wide around an evaluation loop that also trains, or a
`volatile` migration done by hand. (torchupgrade's own `volatile` migration never produces such
a region.)

The advisory fires at every `.backward()`, `torch.autograd.backward(...)` and
`torch.autograd.grad(...)` call inside such a region (not inside nested functions, which run at
another time). `optimizer.step()` alone inside `no_grad` is fine (optimizers run their update
under `no_grad` themselves) and is not reported. It never edits.

Fix safety: advisory only (no fix).
"""
    messages = {
        "backward": "{call} inside a no-grad region: nothing computed in the region has a graph (backward() raises if the loss was computed here); end the region before the training step",
    }
    examples = (
        Example(
            title="a training step inside no_grad",
            before="""
            import torch

            def step(model, x, y, opt):
                with torch.no_grad():
                    loss = (model(x) - y).pow(2).mean()
                    loss.backward()
                    opt.step()
            """,
            notes=((6, "TU054", "loss.backward() inside a no-grad region"),),
        ),
        Example(
            title="does not fire: backward after the region, step alone inside it, a nested function",
            before="""
            import torch

            def step(model, x, y, opt):
                with torch.no_grad():
                    target = model(y)
                loss = (model(x) - target).pow(2).mean()
                loss.backward()
                with torch.no_grad():
                    opt.step()
                    def later():
                        loss.backward()
                return later
            """,
        ),
    )

    def check(self, body: Body, events: BodyEvents) -> None:
        for e in events.calls:
            if not e.no_grad:
                continue
            func = e.call.func
            q = self.imports.resolve(func)
            if q in ("torch.autograd.backward", "torch.autograd.grad"):
                self.note(e.node, "backward", call=q + "(...)")
            elif isinstance(func, cst.Attribute) and func.attr.value == "backward" and q is None:
                text = code_of(e.node)
                self.note(e.node, "backward", call=text if len(text) < 40 and "\n" not in text else ".backward()")
