"""TU035 softmax-implicit-dim: ``F.softmax(x)`` without ``dim`` -> the dim torch picks today."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from ..imports import dotted_name
from ..model import Example, FixClass
from ..rule import TreeRule
from ..torchapi import RANKED_FACTORIES, RANKED_VIEWS, SOFTMAX_FUNCTIONS, SOFTMAX_MODULES
from ._legacy_util import insert_arg, is_number, kwarg


def _legacy_dim(rank: int) -> int:
    return 0 if rank in (0, 1, 3) else 1


class SoftmaxImplicitDim(TreeRule):
    code = "TU035"
    owns = ("call:softmax without dim",)
    name = "softmax-implicit-dim"
    fix_classes = (FixClass.EXACT, FixClass.UNPROVEN)
    summary = "`F.softmax(x)`/`log_softmax`/`softmin` without `dim` -> the dim torch chooses (exact), else a note"
    needles = ("softmax", "Softmax", "softmin", "Softmin")
    description = """
`F.softmax(x)`, `F.log_softmax(x)` and `F.softmin(x)` without `dim` warn on every call under
torch 2.13 (`Implicit dimension choice for softmax has been deprecated`), an error under
`python -W error`. The dim torch picks is **0 if `x.dim()` is 0, 1 or 3, else 1** (verified for
ranks 0-4; 3-D input is normalised over dim 0, probably a latent bug, but that is what the code
computes). The rule adds exactly that dim:

* when the input's rank is visible in the code (`x.view(-1, n)`, `x.view(-1)`,
  `torch.randn(a, b, c)`): `dim=1` or `dim=0`;
* when the input is a plain name or attribute (`logits`, `self.scores`): the exact expression
  `dim=(0 if x.dim() in (0, 1, 3) else 1)` (evaluating a name twice has no effect);
* otherwise it leaves the call with a note; `--unsafe` writes `dim=1`, right for 2-D and 4-D
  inputs (the usual `(batch, classes)`) but not for 1-D or 3-D ones.

`nn.Softmax()`, `nn.LogSoftmax()`, `nn.Softmin()` without `dim` cannot know the input's rank: note;
`--unsafe` writes `dim=1`.

Fix safety: safe. The dim written is the one torch computes for that call today, so the output
is bitwise identical and only the warning disappears. The `--unsafe` `dim=1` is exact only for
inputs of rank 2 or 4.
"""
    examples = (
        Example(
            title="rank visible in the code, or a plain name",
            before="""
            import torch.nn.functional as F

            p = F.softmax(scores.view(-1, n_classes))
            q = F.log_softmax(x.view(-1))
            r = F.softmax(logits)
            """,
            after="""
            import torch.nn.functional as F

            p = F.softmax(scores.view(-1, n_classes), dim=1)
            q = F.log_softmax(x.view(-1), dim=0)
            r = F.softmax(logits, dim=(0 if logits.dim() in (0, 1, 3) else 1))
            """,
        ),
        Example(
            title="--unsafe: dim=1 for unknown ranks",
            unsafe=True,
            before="""
            import torch.nn as nn
            import torch.nn.functional as F
            out = F.softmax(self.fc(h))
            layer = nn.Softmax()
            """,
            after="""
            import torch.nn as nn
            import torch.nn.functional as F
            out = F.softmax(self.fc(h), dim=1)
            layer = nn.Softmax(dim=1)
            """,
        ),
        Example(
            title="calls with dim (keyword or positional) and unknown ranks by default are left alone",
            before="""
            import torch.nn as nn
            import torch.nn.functional as F
            a = F.softmax(x, dim=-1)
            b = F.log_softmax(x, 1)
            c = F.softmax(self.fc(h))
            layer = nn.Softmax()
            """,
            notes=((5, "TU035", "dim=1 assumes 2-D or 4-D input"), (6, "TU035", "dim=1 assumes 2-D or 4-D input")),
        ),
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        q = self.imports.resolve(original_node.func)
        if q not in SOFTMAX_FUNCTIONS and q not in SOFTMAX_MODULES:
            return updated_node
        args = updated_node.args
        if any(a.star for a in args) or any(a.keyword and a.keyword.value == "dim" for a in args):
            return updated_node
        pos = [a for a in args if a.keyword is None]
        short = q.rsplit(".", 1)[1]
        if q in SOFTMAX_MODULES:
            if pos:
                return updated_node
            if not self.fix(original_node, f"{short}() without dim: the dim is chosen per call from the input's rank (0 for 1-D/3-D input, else 1); dim=1 assumes 2-D or 4-D input", FixClass.UNPROVEN):
                return updated_node
            return updated_node.with_changes(args=[kwarg("dim", cst.Integer("1"))])
        if len(pos) != 1:
            return updated_node
        x = original_node.args[[a.keyword is None for a in original_node.args].index(True)].value
        rank = self._rank(x)
        if rank is not None:
            dim: cst.BaseExpression = cst.Integer(str(_legacy_dim(rank)))
            self.edit(original_node, f"{short}(x) -> dim={_legacy_dim(rank)} (input rank {rank})")
        elif dotted_name(x) is not None:
            name = dotted_name(x)
            dim = cst.parse_expression(f"(0 if {name}.dim() in (0, 1, 3) else 1)")
            self.edit(original_node, f"{short}(x) -> dim=(0 if x.dim() in (0, 1, 3) else 1) (exactly the implicit choice)")
        else:
            if not self.fix(original_node, f"{short}(...) without dim: torch picks dim 0 for 0-/1-/3-D input, else 1; dim=1 assumes 2-D or 4-D input", FixClass.UNPROVEN):
                return updated_node
            dim = cst.Integer("1")
        index = [a.keyword is None for a in args].index(True) + 1
        return updated_node.with_changes(args=insert_arg(args, index, kwarg("dim", dim)))

    def _rank(self, x: cst.BaseExpression) -> Optional[int]:
        if not isinstance(x, cst.Call) or any(a.star or a.keyword for a in x.args):
            return None
        if isinstance(x.func, cst.Attribute) and x.func.attr.value in RANKED_VIEWS and self.imports.resolve(x.func) is None:
            sizes = list(x.args)
        elif self.imports.resolve(x.func) in RANKED_FACTORIES:
            sizes = list(x.args)
        else:
            return None
        if len(sizes) == 1:
            v = sizes[0].value
            if isinstance(v, (cst.Tuple, cst.List)):
                if any(isinstance(e, cst.StarredElement) for e in v.elements):
                    return None
                return len(v.elements)
            return 1 if is_number(v) else None
        return len(sizes) or None
