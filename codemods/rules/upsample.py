"""TU032 upsample-interpolate: ``F.upsample*`` -> ``F.interpolate`` with the mode they imply."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from ..model import Example, FixClass
from ..torchapi import ALIGN_CORNERS_MODES, INTERPOLATE, UPSAMPLE, UPSAMPLE_FIXED_MODE
from ._legacy_util import RenamingRule, keywords, kwarg, module_ref, positional, rebuild_args

_UPSAMPLE_MODULE = "torch.nn.Upsample"


def _string_value(expr: cst.BaseExpression) -> Optional[str]:
    if isinstance(expr, cst.SimpleString):
        return expr.evaluated_value if isinstance(expr.evaluated_value, str) else None
    return None


class UpsampleInterpolate(RenamingRule):
    code = "TU032"
    owns = ("call:F.upsample*", "call:nn.Upsample")
    name = "upsample-interpolate"
    fix_classes = (FixClass.EXACT, FixClass.RESTORING)
    summary = "`F.upsample` -> `F.interpolate`; `upsample_bilinear`/`upsample_nearest` -> `interpolate` with their exact mode"
    needles = ("upsample", "Upsample")
    in_place = {UPSAMPLE: INTERPOLATE}
    description = """
`F.upsample`, `F.upsample_bilinear` and `F.upsample_nearest` warn under torch 2.13
(`nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.`). The rule
rewrites, through the file's imports:

* `F.upsample(...)` -> `F.interpolate(...)` with the same arguments (it forwards them; calls,
  references and `from ... import` lines);
* `F.upsample_bilinear(x, size, scale_factor)` -> `F.interpolate(x, size, scale_factor,
  mode='bilinear', align_corners=True)` and `F.upsample_nearest(...)` -> `F.interpolate(...,
  mode='nearest')`: exactly what they call in 2.13.

**Behaviour change since 0.3, restored:** `F.upsample(..., mode='bilinear')` (also `linear`,
`trilinear`) and `nn.Upsample(mode='bilinear')` without `align_corners` behaved like
`align_corners=True` under PyTorch 0.3, but use `align_corners=False` today (no warning any
more): outputs differ. The rule adds `align_corners=True`, so the migrated code computes what the
original computed when it was written.

Fix safety: the renames are [exact]: they call the same implementation with the same arguments
(bitwise identical outputs, verified for nearest and bilinear). Adding `align_corners=True` is
[restoring]: the outputs equal those of PyTorch 0.3, and differ from what the unmigrated line
computes on today's torch (which is what 0.4 changed). If the code was in fact written for
torch >= 0.4 and relies on `align_corners=False`, remove the argument by hand.
"""
    messages = {
        "bound-otherwise": RenamingRule.messages["bound-otherwise"],
        "bad-args": "{name}(...) with arguments it does not accept left unchanged",
        "no-name": "{name}(...) -> interpolate: no usable name for torch.nn.functional in this file",
    }
    examples = (
        Example(
            title="upsample and its fixed-mode variants",
            before="""
            import torch.nn.functional as F

            up = F.upsample(x, scale_factor=2)
            up2 = F.upsample(x, size=(8, 8), mode='nearest')
            b = F.upsample_bilinear(x, scale_factor=2)
            n = F.upsample_nearest(x, (16, 16))
            """,
            after="""
            import torch.nn.functional as F

            up = F.interpolate(x, scale_factor=2)
            up2 = F.interpolate(x, size=(8, 8), mode='nearest')
            b = F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=True)
            n = F.interpolate(x, (16, 16), mode='nearest')
            """,
        ),
        Example(
            title="bilinear without align_corners: renamed, and the 0.3 behaviour restored",
            before="""
            from torch.nn.functional import upsample, upsample_bilinear
            y = upsample(x, scale_factor=2, mode='bilinear')
            z = upsample_bilinear(x, size=(4, 4))
            """,
            after="""
            from torch.nn.functional import interpolate
            import torch
            y = interpolate(x, scale_factor=2, mode='bilinear', align_corners=True)
            z = torch.nn.functional.interpolate(x, size=(4, 4), mode='bilinear', align_corners=True)
            """,
        ),
        Example(
            title="positional mode and the Upsample module: align_corners=True where 0.3 implied it",
            before="""
            import torch.nn as nn
            import torch.nn.functional as F
            y = F.upsample(x, None, 2, 'bilinear')
            up = nn.Upsample(scale_factor=2, mode='bilinear')
            """,
            after="""
            import torch.nn as nn
            import torch.nn.functional as F
            y = F.interpolate(x, None, 2, 'bilinear', align_corners=True)
            up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)
            """,
        ),
        Example(
            title="interpolate, Upsample with align_corners, and other upsample functions are left alone",
            before="""
            import torch.nn as nn
            import torch.nn.functional as F
            y = F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)
            up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)
            z = self.upsample(x)
            """,
        ),
        Example(
            title="arguments upsample_bilinear does not take are left, with a note",
            before="""
            import torch.nn.functional as F
            y = F.upsample_bilinear(x, scale_factor=2, mode='nearest')
            """,
            notes=((2, "TU032", "arguments it does not accept"),),
        ),
        Example(
            title="no name to spell torch.nn.functional with: left, with a note",
            before="""
            from torch.nn.functional import upsample_nearest
            torch = None
            y = upsample_nearest(x, size=(4, 4))
            """,
            notes=((3, "TU032", "no usable name"),),
        ),
        Example(
            title="an imported name the module rebinds is left, with a note",
            before="""
            from torch.nn.functional import upsample
            upsample = wrap(upsample)
            """,
            notes=((1, "TU032", "bound otherwise"),),
        ),
    )

    def rewrite_call(self, original_node, updated_node, qualified):
        if qualified == UPSAMPLE:
            return self._align_corners(original_node, updated_node, mode_pos=3, corners_pos=4, what="F.upsample")
        if qualified == _UPSAMPLE_MODULE:
            return self._align_corners(original_node, updated_node, mode_pos=2, corners_pos=3, what="nn.Upsample")
        extra = UPSAMPLE_FIXED_MODE.get(qualified)
        if extra is None:
            return updated_node
        short = qualified.rsplit(".", 1)[1]
        pos, kws = positional(updated_node), keywords(updated_node)
        if any(a.star for a in updated_node.args) or len(pos) > 3 or set(kws) - {"input", "size", "scale_factor"}:
            self.note(original_node, "bad-args", name=short)
            return updated_node
        if isinstance(updated_node.func, cst.Attribute):
            func = updated_node.func.with_changes(attr=cst.Name("interpolate"))
        else:
            ref = module_ref(self, "torch.nn.functional")
            if ref is None:
                self.note(original_node, "no-name", name=short)
                return updated_node
            func = cst.parse_expression(f"{ref}.interpolate")
            self.ctx.drop_import_when_unused(qualified)
        args = [*updated_node.args, *(kwarg(k, cst.parse_expression(v)) for k, v in extra)]
        self.edit(original_node, f"{short}(...) -> interpolate(..., {', '.join(f'{k}={v}' for k, v in extra)})")
        return updated_node.with_changes(func=func, args=rebuild_args(args, updated_node.args))

    def _align_corners(self, original_node, updated_node, mode_pos, corners_pos, what):
        pos, kws = positional(updated_node), keywords(updated_node)
        if any(a.star for a in updated_node.args) or "align_corners" in kws or len(pos) > corners_pos:
            return updated_node
        mode_arg = kws.get("mode") or (pos[mode_pos] if len(pos) > mode_pos else None)
        mode = _string_value(mode_arg.value) if mode_arg is not None else None
        if mode not in ALIGN_CORNERS_MODES:
            return updated_node
        self.edit(original_node, f"{what}(mode='{mode}') without align_corners: PyTorch 0.3 computed align_corners=True (torch >= 0.4 defaults to False): align_corners=True added", FixClass.RESTORING)
        args = [*updated_node.args, kwarg("align_corners", cst.Name("True"))]
        return updated_node.with_changes(args=rebuild_args(args, updated_node.args))
