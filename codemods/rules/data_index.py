"""TU021 python-number: where PyTorch 0.3 gave a Python number -> ``.item()``."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from ..cstutil import is_index0, method_call
from ..model import Example, FixClass
from ..semantic.infer import looks_like_loss
from ..semantic.kinds import MULTI_RANK, PYNUM, SCALAR_RANK, VECTOR_RANK, Legacy, Tensor
from .data_common import DataRule

_REDUCTION_CALLS = frozenset(["sum", "mean", "norm", "max", "min", "prod", "std", "var"])
_NUMPY_CHAIN = frozenset(("cpu", "numpy", "data"))


def _data_receiver(node: cst.CSTNode) -> Optional[cst.CSTNode]:
    """``E`` of ``E.data``."""
    if isinstance(node, cst.Attribute) and node.attr.value == "data":
        return node.value
    return None


def _numpy_source(node: cst.CSTNode) -> Optional[cst.BaseExpression]:
    """``T`` of ``T.cpu().numpy()``, ``T.data.cpu().numpy()``, ``T.numpy()``; else None."""
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "numpy" and not node.args):
        return None
    cur: cst.BaseExpression = node.func.value
    while True:
        if isinstance(cur, cst.Call) and isinstance(cur.func, cst.Attribute) and cur.func.attr.value == "cpu" and not cur.args:
            cur = cur.func.value
        elif isinstance(cur, cst.Attribute) and cur.attr.value == "data":
            cur = cur.value
        else:
            return cur


class DataIndexItem(DataRule):
    code = "TU021"
    owns = ("attr:.data", "subscript:.data[0]", "number-sinks")
    after = ("TU023",)
    name = "python-number"
    fix_class = FixClass.RESTORING
    fix_classes = (FixClass.RESTORING, FixClass.UNPROVEN)
    summary = "Where 0.3 gave a Python number: `loss.data[0]` -> `loss.item()`, `pred.data[0]` -> `pred[0].item()`, `total[0]` -> `total.item()`, accumulated reductions -> `.item()`"
    needles = ("[0]", "+=")
    messages = {
        "rank": "`{code}` left unchanged: the rank of `{name}` is not known (0-dim: `.item()`; 1-D: `[0].item()`; more: a row)",
        "variable-index": "`{code}` indexes a 0-dim tensor (an error since torch 0.4); in 0.3 it gave a 1-element Variable: use `{name}` or `{name}.reshape(1)` by hand",
    }
    description = """
In PyTorch 0.3 a loss was a 1-element tensor and `loss.data[0]` a Python float; reductions of plain
tensors (`pred.eq(target.data).sum()`) returned Python numbers. Today both are 0-dim tensors:
`loss.data[0]` raises `IndexError: invalid index of a 0-dim tensor` (the most common crash in
legacy training loops), and `correct += ...sum()` quietly accumulates a tensor, so
`100. * correct / total` prints as `tensor(97.5)`. The rule writes what 0.3 computed, using the
semantic model's ranks:

* `x.data[0]` on a 0-dim tensor (a loss-module or `F.*_loss` result with a reducing reduction, a
  reduction without `dim`, a `forward` or helper that returns one, also from another module of
  the project) -> `x.item()`; on a 1-D tensor -> `x[0].item()` (0.3 gave a number; today it is
  a 0-dim tensor); on higher ranks it stays a row (TU020 may spell it `x.detach()[0]`);
* `x[0]` and `x.cpu().numpy()[0]` on a 0-dim plain tensor (an accumulator such as
  `total_loss += loss.data`, whose 0.3 value had shape `(1,)`) -> `x.item()`;
* `n += e` where `n` starts as a Python number and `e` is a reduction of plain tensors (0.3 gave
  a number) -> `n += e.item()`;
* unknown ranks are left with a note; `--unsafe` turns `x.data[0]` into `x.item()` when `x` is a
  no-argument reduction call or a name that looks like a loss (`loss`, `g_loss`, `loss_d`).

Fix safety: [restoring]: each rewrite gives the Python number 0.3 gave, where today's code
raises or yields a 0-dim tensor. The `--unsafe` `.item()` on unknown receivers is [unproven]: it
raises if the receiver has more than one element.
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
                correct = 0
                for x, y in loader:
                    out = model(x)
                    loss = criterion(out, y)
                    nll = F.nll_loss(x, y)
                    running_loss += loss.data[0]
                    pred = out.data.max(1)[1]
                    correct += pred.eq(y.data).sum()
                    print('loss %.3f' % nll.data[0], float(x.sum().data[0]))
                return running_loss, correct
            """,
            after="""
            import torch.nn as nn
            import torch.nn.functional as F

            criterion = nn.CrossEntropyLoss()

            def train(model, loader):
                running_loss = 0.0
                correct = 0
                for x, y in loader:
                    out = model(x)
                    loss = criterion(out, y)
                    nll = F.nll_loss(x, y)
                    running_loss += loss.item()
                    pred = out.data.max(1)[1]
                    correct += pred.eq(y.data).sum().item()
                    print('loss %.3f' % nll.item(), float(x.sum().item()))
                return running_loss, correct
            """,
        ),
        Example(
            title="1-D values and accumulated .data",
            before="""
            import torch
            import torch.nn as nn

            crit = nn.MSELoss()

            def run(a, b):
                total = 0
                total += crit(a, b).data
                v = torch.zeros(3)
                first = v[0]
                return total[0], v.data[0], crit(a, b).data.cpu().numpy()[0]
            """,
            after="""
            import torch
            import torch.nn as nn

            crit = nn.MSELoss()

            def run(a, b):
                total = 0
                total += crit(a, b).data
                v = torch.zeros(3)
                first = v[0]
                return total.item(), v[0].item(), crit(a, b).item()
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
            title="reduce=False losses have an unknown rank: a note",
            before="""
            import torch.nn as nn

            crit = nn.MSELoss(reduce=False)
            errs = crit(a, b)
            first = errs.data[0]
            """,
            notes=((5, "TU021", "rank of `errs` is not known"),),
        ),
        Example(
            title="a 0-dim Variable indexed: a note",
            before="""
            import torch.nn.functional as F

            def f(out, y):
                loss = F.nll_loss(out, y)
                return loss[0]
            """,
            notes=((5, "TU021", "1-element Variable"),),
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

    @classmethod
    def applies_to(cls, text: str) -> bool:
        return ("torch" in text or "import *" in text) and any(n in text for n in cls.needles)

    statement_needles = ("[0]", "+=")

    # -- shared with TU020 -----------------------------------------------------------------------------------
    @staticmethod
    def handles(rule: DataRule, subscript: cst.Subscript) -> bool:
        """This rule rewrites (or notes) ``subscript`` (an ``E.data[0]``)."""
        receiver = _data_receiver(subscript.value)
        if receiver is None or not is_index0(subscript):
            return False
        k = rule.tensor(receiver)
        return k is None or not k.rank <= MULTI_RANK

    # -- E.data[0], E[0], E.cpu().numpy()[0] ------------------------------------------------------------------------
    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript):
        if not is_index0(original_node) or not self.active():
            return updated_node
        parent = self.parent
        if isinstance(parent, (cst.AssignTarget, cst.AugAssign, cst.Del)) and getattr(parent, "target", None) is original_node:
            return updated_node
        base = original_node.value
        receiver = _data_receiver(base)
        if receiver is not None:
            return self._data_index(original_node, updated_node, receiver)
        source = _numpy_source(base)
        if source is not None:
            k = self.tensor(source)
            if k is not None and k.rank == SCALAR_RANK:
                new_source = _numpy_source(updated_node.value)
                if new_source is not None:
                    self.edit(original_node, "x.cpu().numpy()[0] on a 0-dim tensor -> x.item()")
                    return method_call(new_source, "item")
            return updated_node
        k = self.tensor(base)
        if k is None or k.rank != SCALAR_RANK:
            return updated_node
        if k.legacy in (Legacy.TENSOR, Legacy.NUMBER):
            self.edit(original_node, "x[0] on a 0-dim tensor (a 1-element tensor in 0.3) -> x.item()")
            return method_call(updated_node.value, "item")
        if k.legacy is Legacy.VARIABLE:
            self.note(original_node, "variable-index", code=self.ctx.statement_code(original_node).strip(), name=self.ctx.statement_code(base).strip())
        return updated_node

    def _data_index(self, original_node, updated_node, receiver):
        new_receiver = updated_node.value.value if isinstance(updated_node.value, cst.Attribute) else None
        if new_receiver is None:
            return updated_node
        k = self.tensor(receiver)
        if k is not None and k.rank == SCALAR_RANK:
            self.edit(original_node, "x.data[0] on a 0-dim tensor -> x.item()")
            return method_call(new_receiver, "item")
        if k is not None and k.rank == VECTOR_RANK:
            self.edit(original_node, "x.data[0] on a 1-D tensor -> x[0].item() (a number, as in 0.3)")
            return method_call(cst.Subscript(value=new_receiver, slice=updated_node.slice), "item")
        if k is None or not k.rank <= MULTI_RANK:
            loss_name = isinstance(receiver, cst.Name) and looks_like_loss(receiver.value)
            reduction = (
                isinstance(receiver, cst.Call) and not receiver.args and isinstance(receiver.func, cst.Attribute)
                and receiver.func.attr.value in _REDUCTION_CALLS
            )
            if loss_name or reduction:
                if self.fix(original_node, "x.data[0] -> x.item(): receiver looks like a loss/reduction but its rank is not proven", FixClass.UNPROVEN):
                    return method_call(new_receiver, "item")
                return updated_node
            if k is not None:
                self.note(original_node, "rank", code=self.ctx.statement_code(original_node).strip(), name=self.ctx.statement_code(receiver).strip())
        return updated_node

    # -- accumulators ------------------------------------------------------------------------------------------------
    def leave_AugAssign(self, original_node: cst.AugAssign, updated_node: cst.AugAssign):
        if not isinstance(original_node.target, cst.Name) or not isinstance(original_node.operator, (cst.AddAssign, cst.SubtractAssign)):
            return updated_node
        k = self.tensor(original_node.value)
        if not (isinstance(k, Tensor) and k.rank == SCALAR_RANK and k.legacy is Legacy.NUMBER):
            return updated_node
        if not self._starts_as_number(original_node.target.value):
            return updated_node
        value = updated_node.value
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "item":
            return updated_node
        self.edit(original_node, "accumulating a reduction of plain tensors (a Python number in 0.3) -> .item()")
        return updated_node.with_changes(value=method_call(value, "item"))

    def _starts_as_number(self, name: str) -> bool:
        analysis = self.ctx.analysis
        bindings = analysis.bindings(name)
        scope = analysis.scope
        return any(b.how == "value" and analysis.inference.kind(b.node, scope) is PYNUM for b in bindings)
