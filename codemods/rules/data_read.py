"""TU020 data-read: ``x.data`` reads -> ``x`` where no gradient is involved, else ``x.detach()``."""
from __future__ import annotations

import libcst as cst

from ..cstutil import method_call
from ..model import Example, FixClass
from ..semantic.kinds import Grad
from .data_common import COND, DETACH, DROP, DataRule
from .data_index import DataIndexItem


class DataRead(DataRule):
    code = "TU020"
    owns = ("attr:.data",)
    after = ("TU021",)
    name = "data-read"
    fix_classes = (FixClass.EXACT, FixClass.UNPROVEN)
    summary = "`.data` reads on known tensors: dropped where no gradient is involved (`out.data.max(1)[1]` -> `out.max(1)[1]`), else `.detach()` where that is exact"
    description = """
`x.data` is still supported, but it is the pre-0.4 way to get a tensor without history. The rule
rewrites reads of `.data` on expressions the semantic model knows to be tensors (a Dataset's
`self.data`, numpy arrays, `PackedSequence.data` and other unknown objects keep `.data` byte for
byte):

* where the value only reaches results without gradient or Python values, `.data` is dropped:
  `pred = out.data.max(1)[1]` -> `out.max(1)[1]`, `pred.eq(target.data)` -> `pred.eq(target)`,
  `_, pred = torch.max(out.data, 1)` -> `torch.max(out, 1)`, `x.data.size(0)`, `.tolist()`;
* where `.detach()` is exact, `.data` becomes `.detach()`: conversions
  (`out.data.cpu().numpy()` -> `out.detach().cpu().numpy()`: `numpy()` needs it), printing and
  formatting, arithmetic with grad-free operands, `Variable(h.data)` (-> `h.detach()`, with
  TU001), and values stored in a local name that is never modified in place, aliased, returned
  or passed to code the tool cannot see (`h = h.data` -> `h = h.detach()`);
* everywhere else (a value returned, passed to a model or a user function, stored where it may
  change in place) `.detach()` is an unproven fix, applied with `--unsafe`.
`.data[0]` is TU021's, `x.grad.data` TU022's and in-place writes through `.data` TU023's.

Fix safety: dropping `.data` is [exact] where it is dropped: the results (indices, booleans,
numbers) never carry gradient, so values and types are those of the legacy code. `.data` and
`.detach()` differ only in version-counter sharing: with `.detach()`, an in-place change of `x`
or of the result raises at a later `backward()` if a graph saved the result, where `.data`
silently computed with the new values. The rewrite is [exact] where the value cannot reach such
a graph or change in place (the cases above), and [unproven] elsewhere.
"""
    examples = (
        Example(
            title="metrics and conversions",
            before="""
            import torch
            import torch.nn as nn

            model = nn.Sequential(nn.Linear(4, 2))

            def evaluate(loader):
                for data, target in loader:
                    output = model(data.cuda())
                    target = target.cuda()
                    seen = target.size(0)
                    _, pred = torch.max(output.data, 1)
                    best = output.data.max(1)[1]
                    hits = pred.eq(target.data)
                    scores = output.data.cpu().numpy()
                    print(output.data)
                return hits, scores, best
            """,
            after="""
            import torch
            import torch.nn as nn

            model = nn.Sequential(nn.Linear(4, 2))

            def evaluate(loader):
                for data, target in loader:
                    output = model(data.cuda())
                    target = target.cuda()
                    seen = target.size(0)
                    _, pred = torch.max(output, 1)
                    best = output.max(1)[1]
                    hits = pred.eq(target)
                    scores = output.detach().cpu().numpy()
                    print(output.detach())
                return hits, scores, best
            """,
        ),
        Example(
            title="Variable(h.data) end to end with TU001, and a stored hidden state",
            also=("TU001",),
            before="""
            import torch.nn as nn
            from torch.autograd import Variable

            rnn = nn.GRUCell(4, 4)

            def run(xs, h):
                for x in xs:
                    h = rnn(x, h)
                    h = Variable(h.data)
                    leaf = Variable(h.data, requires_grad=True)
                out = rnn(xs[0], h)
                last = out.data
                print(last.size(0))
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
                out = rnn(xs[0], h)
                last = out.detach()
                print(last.size(0))
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
        Example(
            title="without --unsafe those are notes",
            before="""
            import torch.nn as nn

            fc = nn.Linear(2, 2)

            def f(x):
                y = fc(x)
                return y.data
            """,
            notes=((7, "TU020", "the value is stored or passed on"),),
        ),
    )

    def _variable_argument(self, node: cst.CSTNode) -> bool:
        """``Variable(E.data)``: a working 0.3 program passed a plain tensor there, so ``E`` was a
        Variable (a ``PackedSequence``'s ``.data`` was a Variable itself and would have raised)."""
        parents = self.ctx.parents
        if len(parents) < 2:
            return False
        arg, call = parents[-1], parents[-2]
        return (
            isinstance(arg, cst.Arg) and arg.value is node and isinstance(call, cst.Call)
            and self.imports.resolve(call.func) == "torch.autograd.Variable"
        )

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute):
        if original_node.attr.value != "data" or not self.active():
            return updated_node
        receiver = original_node.value
        if isinstance(receiver, cst.Attribute) and receiver.attr.value == "grad":
            return updated_node  # TU022
        parent = self.parent
        if isinstance(parent, cst.Subscript) and parent.value is original_node and DataIndexItem.handles(self, parent):
            return updated_node  # TU021
        if not self.is_tensor(receiver) and not self._variable_argument(original_node):
            return updated_node
        status, why = self.flow(original_node)
        k = self.tensor(receiver)
        if status == DETACH and k is not None and k.grad is Grad.NO:
            status, why = DROP, "x does not require grad"
        if status == DROP:
            self.edit(original_node, f"x.data -> x ({why or 'the result carries no gradient'})")
            value = updated_node.value
            return value.with_changes(lpar=[*value.lpar, *updated_node.lpar], rpar=[*value.rpar, *updated_node.rpar]) if updated_node.lpar else value
        if status not in (DETACH, COND):
            return updated_node
        msg = "x.data -> x.detach()"
        if status == COND:
            msg += f" (exact unless a graph saves it and it is modified in place: {why})"
        if not self.fix(original_node, msg, FixClass.UNPROVEN if status == COND else None):
            return updated_node
        new = method_call(updated_node.value, "detach")
        return new.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
