"""TU031 renamed-functions: deprecated torch function names -> their current names."""
from __future__ import annotations

from ..model import Example
from ..torchapi import RENAMED_ACROSS, RENAMED_IN_PLACE
from ._legacy_util import RenamingRule


class RenamedFunctions(RenamingRule):
    code = "TU031"
    owns = ("name:torch.nn.init.*", "name:clip_grad_norm", "name:NLLLoss2d", "call:F.sigmoid/F.tanh")
    name = "renamed-functions"
    summary = "Deprecated names: `nn.init.xavier_uniform` -> `xavier_uniform_`, `clip_grad_norm` -> `clip_grad_norm_`, `NLLLoss2d` -> `NLLLoss`, `F.sigmoid`/`F.tanh` -> `torch.sigmoid`/`torch.tanh`"
    needles = ("init.", "nn.init", "clip_grad_norm", "NLLLoss2d", ".sigmoid", ".tanh", "functional import")
    in_place = RENAMED_IN_PLACE
    across = RENAMED_ACROSS
    description = """
PyTorch 0.4 renamed the in-place initialisers and gradient clipping after the `_` convention,
and later deprecated a few aliases. Under torch 2.13 the old names still work but warn (a
`FutureWarning`, an error under `python -W error`):

* `nn.init.uniform/normal/constant/xavier_uniform/xavier_normal/kaiming_uniform/kaiming_normal/
  orthogonal/sparse/eye/dirac` -> the same name with a trailing `_` (the old name calls it);
* `torch.nn.utils.clip_grad_norm` -> `clip_grad_norm_` (a plain wrapper);
* `nn.NLLLoss2d` -> `nn.NLLLoss` (same arguments; NLLLoss handles images);
* `F.sigmoid(x)` / `F.tanh(x)` -> `torch.sigmoid(x)` / `torch.tanh(x)` (silent today, kept as
  aliases; rewritten in calls only, because `F.tanh is torch.tanh` is False).

Names are found through the file's imports (`init.normal` after `from torch.nn import init`,
`T.nn.utils.clip_grad_norm`, `from torch.nn.utils import clip_grad_norm`). A name bound by
`from ... import` is renamed in the import line and at every use; `import ... as alias` keeps
its alias. A name the module also binds otherwise is left with a note.

Fix safety: exact. Each old name forwards to the new one with the same arguments (verified in
torch 2.13), so values, in-place effects and return types are unchanged. `clip_grad_norm_`
returns a 0-dim tensor, as `clip_grad_norm` does today (0.3 returned a float; not changed here).
"""
    examples = (
        Example(
            title="init, clipping and activations through aliases",
            before="""
            import torch
            import torch.nn as nn
            import torch.nn.functional as F
            from torch.nn import init

            init.xavier_uniform(layer.weight, gain=init.calculate_gain('relu'))
            nn.init.constant(layer.bias, 0)
            nn.utils.clip_grad_norm(model.parameters(), 5.0)
            criterion = nn.NLLLoss2d(ignore_index=255)
            h = F.tanh(x) * F.sigmoid(g)
            """,
            after="""
            import torch
            import torch.nn as nn
            import torch.nn.functional as F
            from torch.nn import init

            init.xavier_uniform_(layer.weight, gain=init.calculate_gain('relu'))
            nn.init.constant_(layer.bias, 0)
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            criterion = nn.NLLLoss(ignore_index=255)
            h = torch.tanh(x) * torch.sigmoid(g)
            """,
        ),
        Example(
            title="from-imports are renamed with their uses; import torch added",
            before="""
            from torch.nn.utils import clip_grad_norm
            from torch.nn.init import kaiming_normal as kn, orthogonal
            from torch.nn.functional import sigmoid

            init_fn = orthogonal
            kn(w)
            clip_grad_norm(params, 1.0)
            y = sigmoid(x)
            """,
            after="""
            from torch.nn.utils import clip_grad_norm_
            import torch
            from torch.nn.init import kaiming_normal_ as kn, orthogonal_

            init_fn = orthogonal_
            kn(w)
            clip_grad_norm_(params, 1.0)
            y = torch.sigmoid(x)
            """,
        ),
        Example(
            title="a module's own names and non-torch objects are left alone",
            before="""
            import torch.nn.functional as F

            def normal(w):
                return w

            normal(w)
            model.init.normal(w)
            activation = F.tanh  # a reference: F.tanh is not torch.tanh
            self.clip_grad_norm(5)
            """,
        ),
        Example(
            title="a rebound import, and no name to spell torch with: left, with notes",
            before="""
            from torch.nn.init import xavier_uniform
            from torch.nn.functional import sigmoid
            xavier_uniform = partial(xavier_uniform, gain=2)
            torch = None
            y = sigmoid(x)
            """,
            notes=((1, "TU031", "bound otherwise"), (5, "TU031", "no usable name for torch")),
        ),
    )
