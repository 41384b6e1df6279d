"""TU021 data-index-item: ``loss.data[0]`` -> ``loss.item()``; ``out.data[0]`` -> ``out.detach()[0]``."""
from __future__ import annotations

import libcst as cst

from ..cstutil import method_call
from ..model import Example, FixClass
from ..tensors import NONSCALAR, SCALAR, TENSOR_KINDS, looks_like_loss
from .data_common import COND, SAFE, DataRule

_REDUCTION_CALLS = frozenset("sum mean norm max min prod std var".split())


def _is_data_zero(node: cst.Subscript) -> bool:
    if not (isinstance(node.value, cst.Attribute) and node.value.attr.value == "data"):
        return False
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return False
    idx = node.slice[0].slice.value
    return isinstance(idx, cst.Integer) and idx.value == "0"


class DataIndexItem(DataRule):
    code = "TU021"
    owns = ("attr:.data", "subscript:.data[0]")
    after = ("TU023",)
    name = "data-index-item"
    fix_classes = (FixClass.EXACT, FixClass.UNPROVEN)
    summary = "`loss.data[0]` -> `loss.item()` on 0-dim tensors; `.detach()[0]` on other tensors"
    needles = (".data[0]",)
    description = """
In PyTorch 0.3 a loss was a 1-element tensor and `loss.data[0]` was a Python float. Today losses
and full reductions are 0-dim, and `loss.data[0]` raises `IndexError: invalid index of a 0-dim
tensor. Use tensor.item()` -- the most common crash in legacy training loops. The rule uses the
shared tensor inference (see `codemods/tensors.py`):

* receiver known to be a **0-dim tensor** (a loss-module or `F.*_loss` result with the default
  reduction, a reduction without `dim` such as `.sum()`, `.mean()`, `.norm()`, `.max()`, names
  bound only to those) -> `loss.item()`, wherever it appears (`running_loss += ...`,
  `%`-formatting, `float(...)`, `print`);
* receiver known to be some other **tensor** (a batch output `out = model(x)`, `pred`) ->
  `out.detach()[0]`, the first row, still a tensor;
* receiver whose type is unknown (`self.data[0]` in a Dataset, a list, a numpy array) -> left
  unchanged with a note. `--unsafe` turns it into `.item()` when the receiver is a no-argument
  reduction call (`x.sum().data[0]`) or a name that looks like a loss (`loss`, `g_loss`,
  `loss_d`), whose rank the inference could not prove.

Fix safety: `.item()` on a known 0-dim tensor is a fix of code that raises today; it gives the
0.3 result, a Python number. `.detach()[0]` keeps today's behaviour (a 0-dim tensor view); it
is applied as a safe fix only where `.detach()` is exact (the value is converted, compared,
printed or used with grad-free operands; see TU020), else as an unsafe fix. The `--unsafe`
`.item()` for unknown receivers changes the type if the receiver has more than one dimension.
"""
    examples = (
        Example(
            title="losses and reductions become .item()",
            before="""
            import torch.nn as nn
            import torch.nn.functional as F

            criterion = nn.CrossEntropyLoss()

            def train(model, loader):
                running_loss = 0.0
                for x, y in loader:
                    loss = criterion(model(x), y)
                    nll = F.nll_loss(x, y)
                    running_loss += loss.data[0]
                    print('loss %.3f' % nll.data[0], float(x.sum().data[0]))
                return running_loss
            """,
            after="""
            import torch.nn as nn
            import torch.nn.functional as F

            criterion = nn.CrossEntropyLoss()

            def train(model, loader):
                running_loss = 0.0
                for x, y in loader:
                    loss = criterion(model(x), y)
                    nll = F.nll_loss(x, y)
                    running_loss += loss.item()
                    print('loss %.3f' % nll.item(), float(x.sum().item()))
                return running_loss
            """,
        ),
        Example(
            title="batch outputs keep a tensor: .detach()[0]",
            before="""
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 2)

                def forward(self, x):
                    return self.fc(x)

            net = Net()
            out = net(batch)
            print(out.data[0])
            """,
            after="""
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 2)

                def forward(self, x):
                    return self.fc(x)

            net = Net()
            out = net(batch)
            print(out.detach()[0])
            """,
        ),
        Example(
            title="a Dataset's own data attribute is never touched",
            before="""
            import torch
            from torch.utils.data import Dataset

            class Pairs(Dataset):
                def __init__(self, data):
                    self.data = data

                def first(self):
                    return self.data[0]

            def peek(batch):
                return batch.data[0], self_data.data[0]
            """,
        ),
        Example(
            title="reduce=False losses are not 0-dim",
            before="""
            import torch.nn as nn

            crit = nn.MSELoss(reduce=False)
            losses = crit(a, b)
            first = losses.data[0]
            """,
        ),
        Example(
            title="--unsafe: names that look like losses",
            unsafe=True,
            before="""
            import torch

            def log(g_loss, step):
                print(step, g_loss.data[0], lens.max().data[0])
            """,
            after="""
            import torch

            def log(g_loss, step):
                print(step, g_loss.item(), lens.max().item())
            """,
        ),
    )

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript):
        if not _is_data_zero(original_node) or not self.active():
            return updated_node
        parent = self.parents[-1] if self.parents else None
        if isinstance(parent, (cst.AssignTarget, cst.AugAssign, cst.Del)) and getattr(parent, "target", None) is original_node:
            return updated_node
        receiver = original_node.value.value
        new_receiver = updated_node.value.value if isinstance(updated_node.value, cst.Attribute) else None
        if new_receiver is None:
            return updated_node
        if isinstance(receiver, cst.Attribute) and receiver.attr.value == "grad":
            kind = self.kind_of(receiver)
        else:
            kind = self.kind_of(receiver)
        if kind == SCALAR:
            self.fix(original_node, "x.data[0] on a 0-dim tensor -> x.item()")
            return method_call(new_receiver, "item")
        loss_name = isinstance(receiver, cst.Name) and looks_like_loss(receiver.value)
        reduction = (
            isinstance(receiver, cst.Call)
            and not receiver.args
            and isinstance(receiver.func, cst.Attribute)
            and receiver.func.attr.value in _REDUCTION_CALLS
        )
        if kind in TENSOR_KINDS and not (loss_name and kind != NONSCALAR):
            status, why = self.flow(original_node, receiver)
            if status not in (SAFE, COND):
                return updated_node
            msg = "x.data[0] -> x.detach()[0] (first element, still a tensor)"
            if status == COND:
                msg += f"; exact unless the view is saved by a graph and modified in place ({why})"
            if not self.fix(original_node, msg, FixClass.UNPROVEN if status == COND else None):
                return updated_node
            return updated_node.with_changes(value=method_call(new_receiver, "detach"))
        if loss_name or reduction:
            if self.fix(original_node, "x.data[0] -> x.item(): receiver looks like a loss/reduction but its rank is not proven", FixClass.UNPROVEN):
                return method_call(new_receiver, "item")
            return updated_node
        self.note(original_node, "`.data[0]` left unchanged: the receiver is not known to be a tensor (if it is a 0-dim tensor, use .item())")
        return updated_node
