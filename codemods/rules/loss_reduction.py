"""TU033 loss-reduction: ``size_average=`` / ``reduce=`` on losses -> ``reduction=``."""
from __future__ import annotations

from typing import List, Optional

import libcst as cst

from ..model import Example
from ..rule import TreeRule
from ..torchapi import KL_DIV, LOSS_PARAMS
from ._legacy_util import as_keyword, is_pure, kwarg, literal_const, rebuild_args

_LEGACY = ("size_average", "reduce")
_UNKNOWN = object()


def _const(arg: Optional[cst.Arg]):
    """"True"/"False"/"None" for a literal argument, "None" when absent, _UNKNOWN otherwise."""
    if arg is None:
        return "None"
    return literal_const(arg.value) or _UNKNOWN


class LossReduction(TreeRule):
    code = "TU033"
    owns = ("kwarg:size_average/reduce",)
    name = "loss-reduction"
    summary = "`size_average=`/`reduce=` on losses -> `reduction='mean'|'sum'|'none'` (keyword or positional)"
    needles = ("size_average", "reduce=", "reduce =", "elementwise_mean", "Loss(", "_loss(", "cross_entropy(", "kl_div(")
    description = """
Since PyTorch 0.4.1 the loss modules and functions take `reduction=` instead of `size_average=`
and `reduce=`. Torch 2.13 still accepts the old arguments with a warning (`size_average and
reduce args will be deprecated, please use reduction='sum' instead.`), and when either is given
the legacy pair decides and `reduction=` is ignored. The rule rewrites every loss of
`torch.nn` (`nn.CrossEntropyLoss(...)`, 18 classes) and `torch.nn.functional`
(`F.nll_loss(...)`, 17 functions), found through the file's imports, with the exact table:

| `reduce` | `size_average` | `reduction` |
|---|---|---|
| `False` | anything | `'none'` |
| `True` / `None` / absent | `False` | `'sum'` |
| `True` / `None` / absent | `True` / `None` / absent | `'mean'` |

Positional uses are mapped through each loss's own signature: `nn.MSELoss(False)` is
`size_average=False`; `nn.CrossEntropyLoss(w, False, 0)` is `(weight, size_average,
ignore_index)`, so the arguments after the removed ones become keywords
(`nn.CrossEntropyLoss(w, reduction='sum', ignore_index=0)`). A `reduction=` given alongside
the legacy arguments was ignored, and is replaced. `reduction='elementwise_mean'` -> `'mean'`.
Non-literal flags (`size_average=self.avg`) are left with a note. For `KLDivLoss`/`kl_div` the
result `'mean'` keeps today's behaviour (and its warning): `'batchmean'` is the mathematical KL
divergence but changes values, so it is only noted.

Fix safety: exact. The mapping is the one torch itself applies (`torch/nn/_reduction.py`),
verified bitwise for 17 loss classes x 9 combinations and the functional forms, and it is what
the legacy arguments meant in PyTorch 0.3.
"""
    messages = {
        "star-args": "{name}(..., size_average/reduce, *args/**kwargs): cannot see every argument; set reduction= by hand",
        "expr-none": "{name}(size_average=<expression>, reduce=False): set reduction='none' by hand",
        "non-literal": "{name}(size_average=..., reduce=...) with a non-literal flag: the reduction depends on its value at run time; use reduction='mean'/'sum'/'none' by hand",
        "kl-mean": "{name}: reduction='mean' averages over all elements (and warns); 'batchmean' is the true KL divergence but changes the values: decide by hand",
    }
    examples = (
        Example(
            title="keywords, the reduce=False row, and functionals",
            before="""
            import torch.nn as nn
            import torch.nn.functional as F

            crit = nn.CrossEntropyLoss(size_average=False, ignore_index=0)
            per_item = nn.MSELoss(reduce=False)
            loss = F.nll_loss(out, target, size_average=True)
            bce = F.binary_cross_entropy(p, y, size_average=None, reduce=True)
            """,
            after="""
            import torch.nn as nn
            import torch.nn.functional as F

            crit = nn.CrossEntropyLoss(reduction='sum', ignore_index=0)
            per_item = nn.MSELoss(reduction='none')
            loss = F.nll_loss(out, target, reduction='mean')
            bce = F.binary_cross_entropy(p, y, reduction='mean')
            """,
        ),
        Example(
            title="positional legacy arguments follow each loss's signature",
            before="""
            from torch import nn
            from torch.nn.functional import cross_entropy

            a = nn.MSELoss(False)
            b = nn.NLLLoss(weights, False, -1)
            c = cross_entropy(x, t, None, False, 3, False)
            """,
            after="""
            from torch import nn
            from torch.nn.functional import cross_entropy

            a = nn.MSELoss(reduction='sum')
            b = nn.NLLLoss(weights, reduction='sum', ignore_index=-1)
            c = cross_entropy(x, t, None, reduction='none', ignore_index=3)
            """,
        ),
        Example(
            title="non-literal flags, user functions and modern calls are left alone",
            before="""
            import torch.nn as nn

            crit = nn.BCELoss(size_average=self.size_average)
            s = ssim(img1, img2, size_average=False)
            ok = nn.L1Loss(reduction='sum')
            """,
            notes=((3, "TU033", "non-literal flag"),),
        ),
        Example(
            title="arguments the rule cannot see, and an expression with reduce=False",
            before="""
            import torch.nn as nn

            a = nn.MSELoss(size_average=False, **opts)
            b = nn.MSELoss(size_average=flags[0], reduce=False)
            """,
            notes=((3, "TU033", "cannot see every argument"), (4, "TU033", "reduction='none' by hand")),
        ),
        Example(
            title="KL divergence: 'mean' kept, with a note about 'batchmean'",
            before="""
            import torch.nn as nn

            kl = nn.KLDivLoss(size_average=True)
            """,
            after="""
            import torch.nn as nn

            kl = nn.KLDivLoss(reduction='mean')
            """,
            notes=((3, "TU033", "batchmean"),),
        ),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        self._quote: Optional[str] = None

    def quote(self) -> str:
        if self._quote is None:
            self._quote = '"' if self.ctx.text.count('"') > 2 * self.ctx.text.count("'") else "'"
        return self._quote

    def string(self, value: str) -> cst.SimpleString:
        q = self.quote()
        return cst.SimpleString(f"{q}{value}{q}")

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        q = self.imports.resolve(original_node.func)
        if not q:
            return updated_node
        params = LOSS_PARAMS.get(q)
        if params is None:
            return updated_node
        short = q.rsplit(".", 1)[1]
        args = list(updated_node.args)
        if any(a.star for a in args):
            if any(a.keyword and a.keyword.value in _LEGACY for a in args):
                self.note(original_node, "star-args", name=short)
            return updated_node
        bound = {}
        names: List[str] = []
        n_pos = 0
        for a in args:
            if a.keyword is None:
                if n_pos >= len(params):
                    return updated_node  # too many arguments: the call fails anyway
                name = params[n_pos]
                n_pos += 1
            else:
                name = a.keyword.value
            if name in bound:
                return updated_node
            bound[name] = a
            names.append(name)
        if not any(k in bound for k in _LEGACY):
            red = bound.get("reduction")
            if red is not None and isinstance(red.value, cst.SimpleString) and red.value.evaluated_value == "elementwise_mean":
                self.edit(original_node, f"{short}(reduction='elementwise_mean') -> reduction='mean'")
                i = args.index(red)
                args[i] = red.with_changes(value=self.string("mean"))
                return updated_node.with_changes(args=args)
            return updated_node
        sa, rd = _const(bound.get("size_average")), _const(bound.get("reduce"))
        if rd == "False":
            if sa is _UNKNOWN and not is_pure(bound["size_average"].value):
                self.note(original_node, "expr-none", name=short)
                return updated_node
            reduction = "none"
        elif rd in ("True", "None") and sa is not _UNKNOWN:
            reduction = "sum" if sa == "False" else "mean"
        else:
            self.note(original_node, "non-literal", name=short)
            return updated_node
        first_legacy = min(i for i, n in enumerate(names) if n in _LEGACY)
        new_args: List[cst.Arg] = []
        for i, (a, name) in enumerate(zip(args, names)):
            if i == first_legacy:
                new_args.append(kwarg("reduction", self.string(reduction)).with_changes(comma=a.comma))
            if name in _LEGACY or name == "reduction":
                continue
            if a.keyword is None and i > first_legacy:
                a = as_keyword(a, name)
            new_args.append(a)
        legacy = ", ".join(f"{n}={_name_or_dots(bound[n].value)}" for n in _LEGACY if n in bound)
        self.edit(original_node, f"{short}({legacy}) -> reduction='{reduction}'")
        if q in KL_DIV and reduction == "mean":
            self.note(original_node, "kl-mean", name=short)
        return updated_node.with_changes(args=rebuild_args(new_args, updated_node.args))


def _name_or_dots(expr: cst.BaseExpression) -> str:
    return expr.value if isinstance(expr, cst.Name) else "..."
