"""TU052 stale-grad (advisory): ``.grad`` kept or assigned on tensors that no longer require grad."""
from __future__ import annotations

from typing import Dict, List, Optional

import libcst as cst

from ..imports import dotted_name
from ..model import Example
from ._advisory import AdvisoryRule, Body, BodyEvents, frozen_roots, parameters_loop_root


class StaleGrad(AdvisoryRule):
    code = "TU052"
    name = "stale-grad"
    summary = "Advisory: `p.requires_grad = False` after `backward()` without `p.grad = None`, or `.grad` assigned to a frozen tensor: optimizers keep stepping it"
    needles = ("requires_grad",)
    description = """
Setting `p.requires_grad = False` does not clear `p.grad`. A parameter frozen after training
steps (`loss.backward()` earlier in the same function, e.g. a staged fine-tuning loop) keeps
its last gradient, and every optimizer still updates a parameter whose `.grad` is not None
(SGD with momentum, Adam: the "frozen" weights keep moving). Likewise a gradient assigned by
hand (`p.grad = ...`) to a tensor that no longer requires grad is used by the next
`optimizer.step()` although autograd will never refresh it.

The advisory fires, in one function (or a script's top level), at a freeze (`x.requires_grad =
False`, also for the loop variable of `for p in m.parameters():`, or `x.requires_grad_(False)`)
that comes after a `.backward()` call when neither `x.grad = None` nor a `zero_grad()` call
follows it (since torch 2.0 `zero_grad()` sets grads to None), and at an assignment `x.grad =
<value>` (not None) to a tensor frozen earlier in the same function. It never edits: add
`p.grad = None` where the parameter is frozen.

Fix safety: advisory only (no fix).
"""
    messages = {
        "stale": "{name}.requires_grad = False after backward(): {name}.grad keeps the last gradient and optimizers still update parameters whose .grad is not None; set {name}.grad = None when freezing",
        "grad-on-frozen": "{name}.grad assigned by hand to a tensor frozen above (requires_grad = False): the next optimizer.step() uses it, and autograd never refreshes it",
    }
    examples = (
        Example(
            title="staged fine-tuning: frozen after training, the stale gradient kept",
            before="""
            import torch

            def train(model, opt, batches):
                for x, y in batches:
                    loss = model(x).sub(y).pow(2).mean()
                    loss.backward()
                    opt.step()
                for p in model.encoder.parameters():
                    p.requires_grad = False
                model.decoder.weight.grad = model.decoder.weight.grad * 2
            """,
            notes=((9, "TU052", "p.grad keeps the last gradient"),),
        ),
        Example(
            title="a gradient assigned to a frozen tensor",
            before="""
            import torch

            def hook(emb, g):
                emb.weight.requires_grad = False
                emb.weight.grad = g
            """,
            notes=((5, "TU052", "assigned by hand to a tensor frozen above"),),
        ),
        Example(
            title="does not fire: freezing before training, grads cleared, zero_grad after",
            before="""
            import torch

            def setup(model):
                for p in model.features.parameters():
                    p.requires_grad = False

            def staged(model, opt, loss):
                loss.backward()
                opt.step()
                for p in model.encoder.parameters():
                    p.requires_grad = False
                    p.grad = None
                model.head.weight.requires_grad_(False)
                opt.zero_grad()
            """,
        ),
    )

    def check(self, body: Body, events: BodyEvents) -> None:
        freezes = frozen_roots(events)
        if not freezes:
            return
        backwards = [e.order for _, e, _ in events.method_calls("backward")]
        zero_grads = [e.order for _, e, _ in events.method_calls("zero_grad")]
        cleared: Dict[Optional[str], List[int]] = {}
        for a in events.assigns:
            t = a.node
            if isinstance(t, cst.Attribute) and t.attr.value == "grad":
                name = dotted_name(t.value)
                if isinstance(a.value, cst.Name) and a.value.value == "None":
                    cleared.setdefault(name, []).append(a.order)
        for e, name, _root in freezes:
            if not backwards or min(backwards) > e.order:
                continue
            if any(o > e.order for o in zero_grads) or any(o > e.order for o in cleared.get(name, ())):
                continue
            self.note(e.node, "stale", name=name)
        for a in events.assigns:
            t = a.node
            if not (isinstance(t, cst.Attribute) and t.attr.value == "grad") or (isinstance(a.value, cst.Name) and a.value.value == "None"):
                continue
            name = dotted_name(t.value)
            loop_root = parameters_loop_root(name, a.loops) if name else None
            if any(f_name == name and f.order < a.order and (loop_root is None or f_root == loop_root) for f, f_name, f_root in freezes):
                self.note(a.node, "grad-on-frozen", name=name)
