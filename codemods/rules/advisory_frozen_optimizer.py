"""TU051 frozen-params-in-optimizer (advisory): frozen parameters still handed to the optimizer."""
from __future__ import annotations

import libcst as cst

from ..imports import dotted_name
from ..model import Example
from ..torchapi import OPTIMIZERS
from ._advisory import AdvisoryRule, Body, BodyEvents, frozen_roots, prefix_of


class FrozenParamsInOptimizer(AdvisoryRule):
    code = "TU051"
    name = "frozen-params-in-optimizer"
    summary = "Advisory: parameters frozen with `requires_grad = False` while `optim.X(model.parameters())` still gets all of them"
    needles = ("requires_grad",)
    description = """
Freezing part of a model (`for p in model.features.parameters(): p.requires_grad = False`) and
then building the optimizer from `model.parameters()` hands it the frozen parameters too.
PyTorch 0.3 refused that (`ValueError: optimizing a parameter that doesn't require gradients`);
torch 2.13 accepts it and skips parameters whose `.grad` is None, so the step is usually the
same, but the optimizer's parameter groups and state (and its checkpoint layout) include the
frozen parameters, weight decay and momentum apply to them again as soon as they get a gradient
(a stale one, or after unfreezing), and the intent is hidden. Pass only what should train:
`optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), ...)` or the trainable
sub-module's `parameters()`.

The advisory fires where one function (or a script's top level) both freezes parameters of `m`
(or of a part of it: `m.features`, `m.fc.weight`), by `p.requires_grad = False` in a loop over
`m.parameters()`, by `m.x.requires_grad = False` or by `m.requires_grad_(False)`, and builds a
`torch.optim` optimizer from `m.parameters()` (unfiltered) or `m.X.parameters()` of the frozen
part. It never edits.

Fix safety: advisory only (no fix): filtering changes the optimizer's parameter groups and
hence the layout of its saved state.
"""
    messages = {
        "frozen-in-optimizer": "{optimizer}({params}) gets every parameter of {model}, but {frozen} is frozen (requires_grad = False) in this function: pass only the trainable ones, e.g. filter(lambda p: p.requires_grad, {params}) (0.3 refused frozen parameters; today they are kept in the optimizer's state)",
    }
    examples = (
        Example(
            title="fine-tuning: the backbone is frozen, the optimizer still gets it",
            before="""
            import torch.optim as optim

            def setup(model, lr):
                for p in model.features.parameters():
                    p.requires_grad = False
                return optim.SGD(model.parameters(), lr=lr, momentum=0.9)
            """,
            notes=((6, "TU051", "is frozen"),),
        ),
        Example(
            title="does not fire: filtered or sub-module parameters, nothing frozen",
            before="""
            import torch

            def setup(model):
                for p in model.features.parameters():
                    p.requires_grad = False
                a = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
                b = torch.optim.Adam(model.classifier.parameters())
                return a, b

            def plain(model):
                return torch.optim.Adam(model.parameters())
            """,
        ),
    )

    def check(self, body: Body, events: BodyEvents) -> None:
        freezes = frozen_roots(events)
        if not freezes:
            return
        for e in events.calls:
            q = self.imports.resolve(e.call.func)
            if q not in OPTIMIZERS or not e.call.args or e.call.args[0].keyword:
                continue
            first = e.call.args[0].value
            if not (isinstance(first, cst.Call) and isinstance(first.func, cst.Attribute) and first.func.attr.value == "parameters" and not first.args):
                continue
            model = dotted_name(first.func.value)
            frozen = next((name for _, name, root in freezes if prefix_of(model, root)), None)
            if model and frozen:
                root = next(root for _, name, root in freezes if name == frozen)
                what = f"{root}'s parameters" if root != frozen else frozen
                self.note(e.node, "frozen-in-optimizer", optimizer=q.rsplit(".", 1)[1], params=f"{model}.parameters()", model=model, frozen=what)
