"""TU050 eval-without-no-grad (advisory): ``model.eval()`` and then ``model(x)`` outside ``no_grad``."""
from __future__ import annotations

import libcst as cst

from ..imports import dotted_name
from ..model import Example
from ._advisory import AdvisoryRule, Body, BodyEvents


class EvalWithoutNoGrad(AdvisoryRule):
    code = "TU050"
    name = "eval-without-no-grad"
    summary = "Advisory: `model.eval()` and then `model(x)` outside `torch.no_grad()`/`inference_mode()`: graphs are still built during evaluation"
    needles = (".eval()",)
    description = """
`model.eval()` switches dropout and batch normalisation to their inference behaviour; it does
not stop autograd. An evaluation loop that runs the model outside `torch.no_grad()` records a
graph for every output and keeps the activations it needs: more memory and time, and results
that still require grad. PyTorch 0.3 code avoided this with `Variable(x, volatile=True)`, which
has done nothing since 0.4 (TU010 handles those files).

The advisory fires in a function (or at a script's top level) that calls `m.eval()` and later
calls `m(...)` or `m.forward(...)` (the same name or attribute) outside any `with
torch.no_grad():`, `torch.inference_mode()` or `torch.set_grad_enabled(False)` region, unless
the function is decorated with one of them, calls `.backward()`, `.step()` or
`torch.autograd.grad` (it wants gradients: saliency maps, adversarial examples, fine-tuning with
frozen batch norm), switches back with `m.train()` before the call, or mentions `volatile`
(TU010's case). It never edits: put the evaluation under `with torch.no_grad():` or decorate
the function with `@torch.no_grad()`.

Fix safety: advisory only (no fix). The model may be run for gradients by a caller this
function returns to; then the graph is wanted.
"""
    messages = {
        "graph": "{model}.eval() then {model}(...) outside torch.no_grad(): eval() only switches dropout/batch norm to inference behaviour, autograd still records a graph for every output (memory, time); run the evaluation under `with torch.no_grad():` or decorate the function with @torch.no_grad()",
    }
    examples = (
        Example(
            title="an evaluation function that builds graphs",
            before="""
            import torch

            def evaluate(model, loader):
                model.eval()
                correct = 0
                for x, y in loader:
                    out = model(x)
                    correct += (out.argmax(1) == y).sum().item()
                return correct
            """,
            notes=((7, "TU050", "model.eval() then model(...) outside torch.no_grad()"),),
        ),
        Example(
            title="does not fire: no_grad region or decorator, gradients wanted, back to train()",
            before="""
            import torch

            def evaluate(model, loader):
                model.eval()
                with torch.no_grad():
                    return [model(x) for x, _ in loader]

            @torch.no_grad()
            def predict(self, x):
                self.net.eval()
                return self.net(x)

            def saliency(model, x):
                model.eval()
                x.requires_grad_()
                model(x).max().backward()
                return x.grad

            def fit(model, x):
                model.eval()
                model.train()
                return model(x)
            """,
        ),
    )

    def wants(self, body: Body) -> bool:
        return "eval()" in (self.ctx.statement_code(body) if isinstance(body, cst.FunctionDef) else self.ctx.text)

    def check(self, body: Body, events: BodyEvents) -> None:
        if events.decorated_no_grad or events.computes_gradients():
            return
        if "volatile" in (self.ctx.statement_code(body) if isinstance(body, cst.FunctionDef) else self.ctx.text):
            return
        for i, e, model in events.method_calls("eval"):
            if model is None or e.call.args:
                continue
            for later in events.calls[i + 1:]:
                func = later.call.func
                if isinstance(func, cst.Attribute) and func.attr.value == "train" and dotted_name(func.value) == model:
                    break
                called = dotted_name(func)
                forward = isinstance(func, cst.Attribute) and func.attr.value == "forward" and dotted_name(func.value) == model
                if (called == model or forward) and not later.no_grad:
                    self.note(later.node, "graph", model=model)
                    break
