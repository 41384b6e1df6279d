"""TU020 data-read: ``.data`` reads on known tensors -> ``.detach()``."""
from __future__ import annotations

import libcst as cst

from ..cstutil import is_index0

from ..cstutil import method_call
from ..model import Example, FixClass
from .data_common import COND, SAFE, DataRule




class DataRead(DataRule):
    code = "TU020"
    owns = ("attr:.data",)
    after = ("TU021",)
    name = "data-read"
    fix_classes = (FixClass.EXACT, FixClass.UNPROVEN)
    summary = "`.data` read on a known tensor -> `.detach()` where that is exact"
    description = """
`x.data` is still supported, but it is the pre-0.4 way to get a tensor without history; the
modern spelling is `x.detach()` (`out.data.cpu().numpy()` -> `out.detach().cpu().numpy()`,
`torch.max(outputs.data, 1)` -> `torch.max(outputs.detach(), 1)`, `pred.eq(target.data)` ->
`pred.eq(target.detach())`). Only receivers that the shared tensor inference
(`codemods/tensors.py`) proves to be tensors are touched: `self.data` of a Dataset, numpy
arrays, torchtext batches and any other unknown object keep `.data` byte for byte.
`.data[0]` is TU021's, `x.grad.data` TU022's and in-place writes through `.data` TU023's.

Run after TU001, it completes the `Variable` migration: `Variable(h.data)` becomes `h.data` there
and `h.detach()` here.

Fix safety: `.data` and `.detach()` differ only in version-counter sharing (spec section 3):
with `.detach()`, an in-place change of `x` or of the result raises at a later `backward()` if a
graph saved the result, where `.data` silently computed with the new values. The rewrite is a
safe fix where the value cannot reach such a graph: it is converted (`.numpy()`, `.tolist()`,
`float()`, `print`, formatting), compared, reduced or combined only with grad-free operands
(numbers, other `.data`/`.detach()` values), added or subtracted (their backward saves no
operand), Views of it (`.view()`, `.chunk()`, `.swapaxes()`, `torch.permute()`, indexing ...)
are followed. Everywhere else (arguments of model or user functions, `return`, containers, and
values stored in a name such as `h = h.data`: an in-place change may reach the tensor through an
alias, a called function or `torch.nn.init`, which no local scan can rule out) it is an unsafe
fix, applied with `--unsafe`. Methods that PackedSequence shares with tensors (`.float()`,
`.cuda()`, `.to()` ...) are no evidence that a parameter is a tensor.
"""
    examples = (
        Example(
            title="metrics and conversions",
            before="""
            import torch
            import torch.nn as nn

            model = nn.Sequential(nn.Linear(4, 2))

            def evaluate(loader):
                correct = 0
                for data, target in loader:
                    output = model(data.cuda())
                    target = target.cuda()
                    seen = target.size(0)
                    _, pred = torch.max(output.data, 1)
                    correct += pred.eq(target.data).cpu().sum()
                    scores = output.data.cpu().numpy()
                return correct, scores
            """,
            after="""
            import torch
            import torch.nn as nn

            model = nn.Sequential(nn.Linear(4, 2))

            def evaluate(loader):
                correct = 0
                for data, target in loader:
                    output = model(data.cuda())
                    target = target.cuda()
                    seen = target.size(0)
                    _, pred = torch.max(output.detach(), 1)
                    correct += pred.eq(target.detach()).cpu().sum()
                    scores = output.detach().cpu().numpy()
                return correct, scores
            """,
        ),
        Example(
            title="--unsafe: Variable(h.data) end to end with TU001 (a stored value needs --unsafe)",
            also=("TU001",),
            unsafe=True,
            before="""
            import torch.nn as nn
            from torch.autograd import Variable

            rnn = nn.GRUCell(4, 4)

            def run(xs, h):
                for x in xs:
                    h = rnn(x, h)
                    h = Variable(h.data)
                    leaf = Variable(h.data, requires_grad=True)
                return h, leaf
            """,
            after="""
            import torch.nn as nn

            rnn = nn.GRUCell(4, 4)

            def run(xs, h):
                for x in xs:
                    h = rnn(x, h)
                    h = h.detach()
                    leaf = h.detach().requires_grad_()
                return h, leaf
            """,
        ),
        Example(
            title="non-tensors keep .data: a class with its own data attribute, numpy, unknown objects",
            before="""
            import numpy as np
            import torch
            from torch.utils.data import Dataset

            class Corpus(Dataset):
                def __init__(self, path):
                    self.data = np.load(path)

                def __len__(self):
                    return len(self.data)

                def stats(self):
                    return self.data.mean(), batch.data.size(0)

            arr = np.zeros(3)
            buf = arr.data
            w = torch.randn(3, 4).numpy()
            print(w.data)
            """,
        ),
        Example(
            title="values passed to a model or returned need --unsafe",
            unsafe=True,
            before="""
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(2, 2)

                def forward(self, x):
                    y = self.fc(x)
                    return self.fc(y.data), y.data
            """,
            after="""
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(2, 2)

                def forward(self, x):
                    y = self.fc(x)
                    return self.fc(y.detach()), y.detach()
            """,
        ),
    )

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute):
        if original_node.attr.value != "data" or not self.active():
            return updated_node
        receiver = original_node.value
        if isinstance(receiver, cst.Attribute) and receiver.attr.value == "grad":
            return updated_node  # TU022
        parent = self.parents[-1] if self.parents else None
        if is_index0(parent) and parent.value is original_node:
            return updated_node  # TU021
        if not self.is_tensor(receiver):
            return updated_node
        status, why = self.flow(original_node, receiver)
        if status not in (SAFE, COND):
            return updated_node
        msg = "x.data -> x.detach()"
        if status == COND:
            msg += f" (exact unless a graph saves it and it is modified in place: {why})"
        if not self.fix(original_node, msg, FixClass.UNPROVEN if status == COND else None):
            return updated_node
        return method_call(updated_node.value, "detach")
