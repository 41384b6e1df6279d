"""TU053 freeze-for-inference (advisory): ``requires_grad = False`` where a ``no_grad()`` region was meant."""
from __future__ import annotations

import libcst as cst

from ..imports import dotted_name
from ..model import Example
from ._advisory import AdvisoryRule, Body, BodyEvents, frozen_roots


class FreezeForInference(AdvisoryRule):
    code = "TU053"
    name = "freeze-for-inference"
    summary = "Advisory: parameters frozen with `requires_grad = False` to run a model without gradients, where a `torch.no_grad()` region was meant"
    needles = ("requires_grad",)
    description = """
Freezing a model's parameters (`for p in model.parameters(): p.requires_grad = False`) to
evaluate it, extract features or compute a target is not the same as running it under
`torch.no_grad()`: the freeze changes the model for good (a later training step silently leaves
those parameters alone), and any input or buffer that requires grad still makes autograd record
the whole pass. `with torch.no_grad():` says what is meant, leaves the parameters as they are
and records nothing.

The advisory fires in a function (or a script's top level) that freezes the parameters of `m`
(or calls `m.requires_grad_(False)`) and then calls `m(...)` outside a no-grad region, while
computing no gradients itself (no `.backward()`, `.step()` or `torch.autograd.grad`: freezing
for fine-tuning is what `requires_grad = False` is for). It never edits.

Fix safety: advisory only (no fix).
"""
    messages = {
        "freeze": "{model}'s parameters are frozen here and {model}(...) is then run without computing gradients: if no gradients are wanted, run it under `with torch.no_grad():` instead (requires_grad = False changes the model for later training, and inputs that require grad still build a graph)",
    }
    examples = (
        Example(
            title="features extracted with frozen parameters instead of no_grad",
            before="""
            import torch

            def extract(model, images):
                for p in model.parameters():
                    p.requires_grad = False
                return [model(x) for x in images]
            """,
            notes=((5, "TU053", "run it under `with torch.no_grad():`"),),
        ),
        Example(
            title="does not fire: fine-tuning (gradients computed), no_grad region, frozen but not run",
            before="""
            import torch

            def finetune(model, x, y, opt):
                for p in model.features.parameters():
                    p.requires_grad = False
                loss = (model(x) - y).pow(2).mean()
                loss.backward()
                opt.step()

            def extract(model, x):
                model.requires_grad_(False)
                with torch.no_grad():
                    return model(x)

            def build(model):
                for p in model.parameters():
                    p.requires_grad = False
                return model
            """,
        ),
    )

    def check(self, body: Body, events: BodyEvents) -> None:
        if events.decorated_no_grad:
            return
        # whole-model freezes: a loop over m.parameters(), or m.requires_grad_(False)
        freezes = [(e, root) for e, name, root in frozen_roots(events) if root != name or isinstance(e.node, cst.Call)]
        if not freezes or events.computes_gradients():
            return
        for e, root in freezes:
            for c in events.calls:
                if c.order <= e.order or c.no_grad:
                    continue
                if dotted_name(c.call.func) == root:
                    self.note(e.node, "freeze", model=root)
                    break
