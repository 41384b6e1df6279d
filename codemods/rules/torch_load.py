"""TU045 torch-load-weights-only: ``torch.load(f)`` now defaults to ``weights_only=True``."""
from __future__ import annotations

import libcst as cst

from ..model import Example, FixClass
from ..rule import TreeRule
from ..torchapi import TORCH_LOAD
from ._legacy_util import kwarg
from ._static import append_args


class TorchLoadWeightsOnly(TreeRule):
    code = "TU045"
    owns = ("kwarg:torch.load weights_only",)
    name = "torch-load-weights-only"
    fix_class = FixClass.UNPROVEN
    summary = "`torch.load(f)` without `weights_only`: whole pickled models/optimizers fail since torch 2.6; `--unsafe` adds `weights_only=False` (executes code from the file)"
    needles = ("load",)
    description = """
Since torch 2.6 `torch.load(f)` defaults to `weights_only=True`: it unpickles only tensors,
primitive types and containers of them. A checkpoint that pickles anything else, which was
common in 2017 (`torch.save(model)`, optimizer objects in older formats, numpy arrays or
argparse namespaces saved next to the weights), now fails with `_pickle.UnpicklingError: Weights
only load failed. ... In PyTorch 2.6, we changed the default value of the weights_only argument
in torch.load from False to True`. State dicts of tensors load fine, and
`map_location=lambda storage, loc: storage` is still accepted.

The rule notes every `torch.load(...)` (found through the file's imports) that does not pass
`weights_only`. With `--unsafe` it adds `weights_only=False`, the legacy behaviour.

**Security:** `weights_only=False` runs the full unpickler, which executes arbitrary code
embedded in the file. Use it only for checkpoints you created or trust. The better long-term fix
is to re-save old checkpoints as state dicts (`torch.save(model.state_dict(), path)`) once, with
`weights_only=False`, and load those with the default.

Fix safety: unproven. The tool cannot tell what a checkpoint file contains: for a state dict the
call works unchanged, for a pickled model it needs `weights_only=False`, and adding it lowers the
safety of the load. Hence a note by default and the edit only under `--unsafe`.
"""
    examples = (
        Example(
            title="--unsafe: the legacy (trusted-file) behaviour",
            unsafe=True,
            before="""
            import torch
            model = torch.load(args.resume)
            state = torch.load(path, map_location=lambda storage, loc: storage)
            """,
            after="""
            import torch
            model = torch.load(args.resume, weights_only=False)
            state = torch.load(path, map_location=lambda storage, loc: storage, weights_only=False)
            """,
        ),
        Example(
            title="by default a note; calls that choose weights_only and other load functions are left",
            before="""
            import torch
            import pickle
            ckpt = torch.load('model.pth')
            sd = torch.load(f, weights_only=True)
            data = pickle.load(fh)
            opts = torch.load(f, **kwargs)
            """,
            notes=((3, "TU045", "unproven fix not applied"),),
        ),
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self.imports.resolve(original_node.func) != TORCH_LOAD:
            return updated_node
        args = updated_node.args
        if any(a.star for a in args) or any(a.keyword and a.keyword.value == "weights_only" for a in args):
            return updated_node
        if len([a for a in args if a.keyword is None]) > 3:  # (f, map_location, pickle_module): more fails anyway
            return updated_node
        if not self.fix(
            original_node,
            "torch.load(...) defaults to weights_only=True since torch 2.6: a checkpoint that pickles a whole model, an optimizer or numpy arrays (common in 2017) fails with UnpicklingError; weights_only=False restores the legacy behaviour but executes any code in the file: only for trusted checkpoints",
        ):
            return updated_node
        return updated_node.with_changes(args=append_args(list(args), [kwarg("weights_only", cst.Name("False"))]))
