"""TU037 renamed-keywords: ``retain_variables=``, ``device_id=``, ``grad_variables=`` -> current names."""
from __future__ import annotations

import ast
from typing import Optional, Set

import libcst as cst

from ..model import Example
from ..rule import TreeRule

_AUTOGRAD_BACKWARD = {"torch.autograd.backward"}
_BACKWARD_KW = {"retain_variables": "retain_graph", "grad_variables": "grad_tensors", "variables": "tensors"}


class RenamedKeywords(TreeRule):
    code = "TU037"
    owns = ("kwarg:retain_variables/device_id/variables/grad_variables",)
    name = "renamed-keywords"
    summary = "`backward(retain_variables=)` -> `retain_graph=`, `.cuda(device_id=)` -> `device=`, `autograd.backward(variables=, grad_variables=)` -> `tensors=`, `grad_tensors=`"
    needles = ("retain_variables", "device_id", "grad_variables", "variables=")
    description = """
Keyword arguments renamed in PyTorch 0.2-0.4 that torch 2.13 rejects or warns about:

* `loss.backward(retain_variables=True)` -> `retain_graph=True` (also `torch.autograd.backward`);
  today a `TypeError: ... unexpected keyword argument 'retain_variables'`;
* `x.cuda(device_id=0)` / `model.cuda(device_id=0)` -> `device=0`; today a `TypeError`;
* `torch.autograd.backward(variables=..., grad_variables=...)` -> `tensors=`, `grad_tensors=`
  (`variables=` raises; `grad_variables=` warns).

`.backward(...)` and `.cuda(...)` are methods, so the receiver is not checked; the rule skips
`.cuda(device_id=...)` in a file that defines its own `cuda` method (whose parameter may really be
called `device_id`), and `.backward(retain_variables=...)` in a file that defines a function
with a `retain_variables` parameter (a user class's own `backward(self, loss,
retain_variables=False)`), with a note. `torch.autograd.backward` is matched through the
file's imports, so a local function called `backward` is never touched.

Fix safety: exact. The legacy keywords raise today (or, for `grad_variables`, are forwarded to
the new name), so the rename restores what the code did under 0.3 and cannot change a working
program.
"""
    messages = {
        "own-backward": "backward(retain_variables=...) left unchanged: this file defines a function with a `retain_variables` parameter, so this may be its own backward method",
        "own-cuda": "cuda(device_id=...) left unchanged: this file defines its own cuda method",
    }
    examples = (
        Example(
            title="backward and cuda keywords",
            before="""
            import torch
            loss.backward(retain_variables=True)
            model.cuda(device_id=args.gpu)
            torch.autograd.backward(variables=[out], grad_variables=[g])
            """,
            after="""
            import torch
            loss.backward(retain_graph=True)
            model.cuda(device=args.gpu)
            torch.autograd.backward(tensors=[out], grad_tensors=[g])
            """,
        ),
        Example(
            title="a file with its own cuda(device_id) method, and modern calls",
            before="""
            class Net:
                def cuda(self, device_id=None):
                    return self

            net.cuda(device_id=1)
            loss.backward(retain_graph=True)
            """,
            notes=((5, "TU037", "defines its own cuda method"),),
        ),
        Example(
            title="a file with its own backward(retain_variables) method",
            before="""
            class Scaler:
                def backward(self, loss, retain_variables=False):
                    loss.backward(retain_graph=retain_variables)

            scaler.backward(loss, retain_variables=True)
            """,
            notes=((5, "TU037", "may be its own backward method"),),
        ),
    )

    _params: Optional[Set[str]] = None

    def _parameter_names(self) -> Set[str]:
        """Names of all parameters of functions and lambdas defined in this file (computed once)."""
        if self._params is None:
            names: Set[str] = set()
            tree = self.ctx.tree
            if tree is not None:
                for node in ast.walk(tree):
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                        a = node.args
                        for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg):
                            if p is not None:
                                names.add(p.arg)
            self._params = names
        return self._params

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        q = self.imports.resolve(func)
        if q in _AUTOGRAD_BACKWARD:
            renames = _BACKWARD_KW
        elif isinstance(func, cst.Attribute) and q is None and func.attr.value == "backward":
            if not any(a.keyword and a.keyword.value == "retain_variables" for a in updated_node.args):
                return updated_node
            if "retain_variables" in self._parameter_names():
                self.note(original_node, "own-backward")
                return updated_node
            renames = {"retain_variables": "retain_graph"}
        elif isinstance(func, cst.Attribute) and q is None and func.attr.value == "cuda":
            if not any(a.keyword and a.keyword.value == "device_id" for a in updated_node.args):
                return updated_node
            if "cuda" in self.imports.other_bindings:
                self.note(original_node, "own-cuda")
                return updated_node
            renames = {"device_id": "device"}
        else:
            return updated_node
        present = {a.keyword.value for a in updated_node.args if a.keyword}
        args = []
        changed = False
        for a in updated_node.args:
            if a.keyword is not None and a.keyword.value in renames and renames[a.keyword.value] not in present:
                new = renames[a.keyword.value]
                self.edit(original_node, f"{a.keyword.value}= -> {new}=")
                a = a.with_changes(keyword=cst.Name(new))
                changed = True
            args.append(a)
        return updated_node.with_changes(args=args) if changed else updated_node
