"""TU034 scalar-first-overloads: ``x.add_(a, t)`` -> ``x.add_(t, alpha=a)`` and friends."""
from __future__ import annotations

from typing import List, cast

import libcst as cst

from ..imports import dotted_name
from ..model import Example, FixClass
from ..rule import TreeRule
from ..torchapi import AMBIGUOUS_OVERLOAD_METHODS, OVERLOAD_FUNCTIONS, OVERLOAD_METHODS
from ._legacy_util import is_number, kwarg, reorder_args, separators_have_comments

_TORCH_TENSOR_SOURCES = ("torch.",)


class ScalarOverloads(TreeRule):
    code = "TU034"
    owns = ("call:scalar-first overloads",)
    name = "scalar-first-overloads"
    fix_classes = (FixClass.EXACT, FixClass.UNPROVEN)
    summary = "Deprecated scalar-first overloads: `add_(a, t)` -> `add_(t, alpha=a)`, `addcmul_(v, t1, t2)` -> `addcmul_(t1, t2, value=v)`, `addmm_(b, a, M1, M2)` -> keywords"
    needles = (".add_(", ".sub_(", ".add(", ".sub(", "addcmul", "addcdiv", "addmm", "addmv", ".addr", "addbmm")
    description = """
PyTorch 0.3 put the scalar multiplier first: `x.add_(alpha, t)`, `x.sub_(alpha, t)`,
`x.addcmul_(value, t1, t2)`, `x.addcdiv_(value, t1, t2)`, `M.addmm_(beta, alpha, A, B)`,
`torch.addmm(beta, M, alpha, A, B)` and the same for `addmv`, `addr`, `addbmm`, `baddbmm`.
Torch 2.13 still accepts these overloads but warns (`This overload of add_ is deprecated`, once
per process for all of them), so uses cannot be found at run time; the rule finds them by
arity: the modern `add_`/`sub_` take one positional argument, `addcmul_`/`addcdiv_` two,
`addmm_`-style methods two, so any extra positional argument means the deprecated overload.

| legacy | modern |
|---|---|
| `x.add_(a, t)`, `x.sub_(a, t)` | `x.add_(t, alpha=a)`, `x.sub_(t, alpha=a)` |
| `torch.add(x, a, t)` | `torch.add(x, t, alpha=a)` |
| `x.addcmul_(v, t1, t2)` (also `addcdiv`, in-place or not) | `x.addcmul_(t1, t2, value=v)` |
| `torch.addcmul(x, v, t1, t2)` | `torch.addcmul(x, t1, t2, value=v)` |
| `M.addmm_(b, a, A, B)` / `M.addmm_(b, A, B)` | `M.addmm_(A, B, beta=b, alpha=a)` / `M.addmm_(A, B, beta=b)` |
| `torch.addmm(b, M, a, A, B)` / `torch.addmm(b, M, A, B)` | `torch.addmm(M, A, B, beta=b, alpha=a)` / `torch.addmm(M, A, B, beta=b)` |

`addmv`, `addr`, `addbmm` and `baddbmm` follow `addmm`. The non-in-place methods `x.add(a, t)` /
`x.sub(a, t)` share their names with many non-tensor classes (`meter.add(value, n)`), so they are
rewritten only when the receiver is visibly a tensor (`p.data`, a `torch.*` call); with a
numeric first argument on an unknown receiver the rewrite is offered under `--unsafe`.

Fix safety: exact. Both overloads run the same kernel with the same scalars: 13 forms verified
bitwise equal under torch 2.13, including a 0-dim tensor passed as the scalar. Where the tool
cannot tell that the receiver is a tensor, the rewrite is unproven (`--unsafe`; a note otherwise).
"""
    messages = {
        "comments": "{name}(<scalar>, ...) looks like the deprecated overload, but comments sit between its arguments and would end up next to other arguments: rewrite it by hand ({name}(..., {detail}))",
    }
    examples = (
        Example(
            title="a 2017 SGD/Adam update",
            before="""
            for p in group['params']:
                d_p = p.grad.data
                d_p.add_(weight_decay, p.data)
                exp_avg.mul_(beta1).add_(1 - beta1, d_p)
                exp_avg_sq.mul_(beta2).addcmul_(1 - beta2, d_p, d_p)
                p.data.addcdiv_(-step_size, exp_avg, denom)
                p.data.add_(-group['lr'], d_p)
            """,
            after="""
            for p in group['params']:
                d_p = p.grad.data
                d_p.add_(p.data, alpha=weight_decay)
                exp_avg.mul_(beta1).add_(d_p, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(d_p, d_p, value=1 - beta2)
                p.data.addcdiv_(exp_avg, denom, value=-step_size)
                p.data.add_(d_p, alpha=-group['lr'])
            """,
        ),
        Example(
            title="matrix products with beta/alpha, methods and functions",
            before="""
            import torch
            out.addmm_(0, 1, x, w)
            h = torch.addmm(1, b, x, w)
            y = torch.addmm(0.5, M, 2, A, B)
            z = torch.add(x, -1, y)
            r = p.data.sub(lr, g)
            """,
            after="""
            import torch
            out.addmm_(x, w, beta=0, alpha=1)
            h = torch.addmm(b, x, w, beta=1)
            y = torch.addmm(M, A, B, beta=0.5, alpha=2)
            z = torch.add(x, y, alpha=-1)
            r = p.data.sub(g, alpha=lr)
            """,
        ),
        Example(
            title="modern calls and non-tensor add() are left alone",
            before="""
            import torch
            x.add_(y, alpha=2)
            x.addcmul_(a, b, value=0.1)
            torch.addmm(M, A, B)
            meter.add(loss, n)
            seen.add(key)
            """,
        ),
        Example(
            title="a comment between the arguments: left, with a note",
            before="""
            import torch
            p.data.add_(-lr,  # step size
                        d_p)
            """,
            notes=((2, "TU034", "comments sit between its arguments"),),
        ),
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        if not isinstance(func, cst.Attribute):
            return updated_node
        method = func.attr.value
        if method not in OVERLOAD_METHODS and method not in AMBIGUOUS_OVERLOAD_METHODS and f"torch.{method}" not in OVERLOAD_FUNCTIONS:
            return updated_node
        args = updated_node.args
        if any(a.star for a in args):
            return updated_node
        pos = [a for a in args if a.keyword is None]
        kws = [a for a in args if a.keyword is not None]
        q = self.imports.resolve(func)
        if q is not None and q in OVERLOAD_FUNCTIONS:
            table = OVERLOAD_FUNCTIONS[q].get(len(pos))
            if table is None or any(k.keyword is not None and k.keyword.value not in ("out",) for k in kws):
                return updated_node
            moved = {i for i, _ in table}
            new_pos = [a for i, a in enumerate(pos) if i not in moved]
            new_kw = [kwarg(name, pos[i].value) for i, name in table]
            short = q
        else:
            head = (dotted_name(func.value) or "").split(".")[0]
            if head == "torch" or (head and head in self.imports.aliases):
                return updated_node  # a module function (np.add, operator.add), not a tensor method
            table_m = OVERLOAD_METHODS.get(method) or AMBIGUOUS_OVERLOAD_METHODS.get(method)
            names = table_m.get(len(pos)) if table_m else None
            if names is None or kws:
                return updated_node
            new_pos = pos[len(names):]
            new_kw = [kwarg(name, pos[i].value) for i, name in enumerate(names)]
            short = f".{method}"
        detail = ", ".join(f"{cast(cst.Name, k.keyword).value}=" for k in new_kw)  # kwarg(name, ...)s
        message = f"{short}(<scalar>, ...) -> {short}(..., {detail}) (deprecated overload)"
        ambiguous = method in AMBIGUOUS_OVERLOAD_METHODS and q not in OVERLOAD_FUNCTIONS
        known_tensor = not ambiguous or self._is_tensor(func.value)
        if not known_tensor and not is_number(pos[0].value):
            return updated_node
        if separators_have_comments(args):
            self.note(original_node, "comments", name=short, detail=detail)
            return updated_node
        if not known_tensor:
            if not self.fix(original_node, message + "; the receiver is not known to be a tensor", FixClass.UNPROVEN):
                return updated_node
        else:
            self.edit(original_node, message)
        new_args: List[cst.Arg] = [*new_pos, *new_kw, *kws]
        laid_out = reorder_args(new_args, args)
        assert laid_out is not None  # same count, no comments between arguments (checked above)
        return updated_node.with_changes(args=laid_out)

    def _is_tensor(self, expr: cst.BaseExpression) -> bool:
        """Visibly a tensor: ``x.data``, ``x.grad``, or the result of a ``torch.*`` call."""
        if isinstance(expr, cst.Attribute) and expr.attr.value in ("data", "grad"):
            return True
        if isinstance(expr, cst.Call):
            q = self.imports.resolve(expr.func)
            if q is not None and q.startswith(_TORCH_TENSOR_SOURCES):
                return True
            if isinstance(expr.func, cst.Attribute) and expr.func.attr.value in OVERLOAD_METHODS:
                return True
            if isinstance(expr.func, cst.Attribute):
                return expr.func.attr.value in ("mul", "mul_", "div", "div_", "clone", "detach", "float", "double", "cuda", "cpu") and self._is_tensor(expr.func.value)
        return False
