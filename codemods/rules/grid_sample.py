"""TU043 grid-sample-align-corners: ``F.grid_sample``/``F.affine_grid`` without ``align_corners``."""
from __future__ import annotations

import libcst as cst

from ..model import Example, FixClass
from ..rule import TreeRule
from ..torchapi import GRID_SAMPLE_ALIGN
from ._legacy_util import kwarg
from ._static import append_args


class GridSampleAlignCorners(TreeRule):
    code = "TU043"
    owns = ("kwarg:grid_sample/affine_grid align_corners",)
    name = "grid-sample-align-corners"
    fix_class = FixClass.RESTORING
    summary = "`F.grid_sample`/`F.affine_grid` without `align_corners` -> `align_corners=True`, what PyTorch 0.3 computed (2.13 defaults to False and warns)"
    needles = ("grid_sample", "affine_grid")
    description = """
`F.grid_sample` and `F.affine_grid` (spatial transformer networks, deformable sampling, optical
flow warping) computed with `align_corners=True` semantics up to torch 1.2: the grid's -1 and 1
are the *centres* of the corner pixels. Since 1.3 the default is `align_corners=False` (-1 and 1
are the outer *edges* of the corner pixels) and every call without the argument warns (`Default
grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please
specify align_corners=True if the old behavior is desired.`). The sampled values differ.

**Behaviour change since 0.3, restored:** the rule adds `align_corners=True` to every call,
found through the file's imports, that does not pass it (by keyword, or positionally as the 5th
argument of `grid_sample(input, grid, mode, padding_mode, align_corners)` or the 3rd of
`affine_grid(theta, size, align_corners)`), so the migrated code computes what the original
computed. The alternative that keeps today's values is `align_corners=False` (exact with
respect to the unmigrated line on torch 2.13, silencing only the warning); choose it by hand if
the code was written for torch >= 1.3.

Related calls handled elsewhere: bilinear `F.upsample`/`nn.Upsample` (TU032).
`F.interpolate` did not exist in 0.3 (it was added in 0.4.1), so code calling it was written for
a torch that already had the `align_corners` argument: it is left alone.

Fix safety: restoring. The outputs equal those of PyTorch 0.3 (verified under torch 2.13
against a direct implementation of the 0.3 coordinate convention), and differ from what the
unmigrated line computes on today's torch.
"""
    examples = (
        Example(
            title="spatial transformer: both calls get the 0.3 convention",
            before="""
            import torch.nn.functional as F

            grid = F.affine_grid(theta, x.size())
            out = F.grid_sample(x, grid)
            warped = F.grid_sample(img, flow, mode='nearest', padding_mode='border')
            """,
            after="""
            import torch.nn.functional as F

            grid = F.affine_grid(theta, x.size(), align_corners=True)
            out = F.grid_sample(x, grid, align_corners=True)
            warped = F.grid_sample(img, flow, mode='nearest', padding_mode='border', align_corners=True)
            """,
        ),
        Example(
            title="calls that pass align_corners (keyword or positional), interpolate and user functions are left",
            before="""
            import torch.nn.functional as F
            from mylib import grid_sample

            a = F.grid_sample(x, g, align_corners=False)
            b = F.affine_grid(theta, size, True)
            c = F.interpolate(x, scale_factor=2, mode='bilinear')
            d = grid_sample(x, g)
            """,
        ),
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        q = self.imports.resolve(original_node.func)
        if not q:
            return updated_node
        position = GRID_SAMPLE_ALIGN.get(q)
        if position is None:
            return updated_node
        args = updated_node.args
        if any(a.star for a in args) or any(a.keyword and a.keyword.value == "align_corners" for a in args):
            return updated_node
        if len([a for a in args if a.keyword is None]) > position:
            return updated_node
        short = q.rsplit(".", 1)[1]
        self.edit(original_node, f"{short}(...) without align_corners: PyTorch 0.3 computed align_corners=True (torch >= 1.3 defaults to False): align_corners=True added")
        return updated_node.with_changes(args=append_args(list(args), [kwarg("align_corners", cst.Name("True"))]))
