"""Unit tests of the shared tensor inference (codemods/tensors.py)."""
import ast
import textwrap

import libcst as cst
import pytest

from torchupgrade.codemods.imports import ImportTable
from torchupgrade.codemods.tensors import (
    NONSCALAR,
    PARAM,
    SCALAR,
    TENSOR,
    TensorInference,
    is_module,
    is_tensor,
)


class _Ctx:
    def __init__(self, src):
        src = textwrap.dedent(src).lstrip("\n")
        self.text = src
        self.tree = ast.parse(src)
        self.module = cst.parse_module(src)
        self.imports = ImportTable(self.tree)


def kinds(src, key=()):
    ctx = _Ctx(src)
    inf = TensorInference(ctx)
    return lambda expr, k=key: inf.kind(cst.parse_expression(expr), tuple(k))


SRC = """
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.rnn = nn.LSTM(2, 2)
        self.w = nn.Parameter(torch.zeros(2))
        self.data = None

    def forward(self, x):
        h = self.fc(x)
        return h

class Table:
    def __init__(self, rows):
        self.data = rows

def init(m):
    m.weight

net = Net().cuda()
net.apply(init)
crit = nn.NLLLoss()
crit_none = nn.NLLLoss(reduce=False)
out = net(inp)
loss = crit(out, y)
vec = crit_none(out, y)
total = 0
total += loss
s = out.sum()
s1 = out.sum(1)
_, pred = torch.max(out, 1)
arr = out.numpy()
v = Variable(torch.randn(3))
grads = [p for p in net.parameters()]
for p in net.parameters():
    g = p.grad
for name, q in net.named_parameters():
    pass
ls = F.cross_entropy(out, y)
npa = np.zeros(3)

def train(model, batch, x):
    o = model(batch)
    e = x.size(0)
    return o
"""


@pytest.fixture(scope="module")
def k():
    return kinds(SRC)


@pytest.mark.parametrize("expr, want", [
    ("out", NONSCALAR), ("loss", SCALAR), ("vec", TENSOR), ("total", SCALAR), ("s", SCALAR),
    ("s1", TENSOR), ("pred", TENSOR), ("v", NONSCALAR), ("p", PARAM), ("g", TENSOR), ("q", PARAM),
    ("ls", SCALAR), ("loss * 2 + 1", SCALAR), ("out.data", NONSCALAR), ("loss.data", SCALAR),
    ("out.max()", SCALAR), ("out.norm(2)", SCALAR), ("net.fc.weight", PARAM), ("anything.grad", TENSOR),
])
def test_tensor_kinds(k, expr, want):
    assert k(expr) == want


@pytest.mark.parametrize("expr", ["arr", "npa", "inp", "y", "net.data", "Table(1).data", "out.size()", "out.max(1)", "arr.data"])
def test_not_tensors(k, expr):
    assert not is_tensor(k(expr))


def test_modules(k):
    assert is_module(k("net")) and is_module(k("crit"))


def test_self_attributes():
    k = kinds(SRC, key=("Net", "forward"))
    assert k("self.fc(x)") == NONSCALAR
    assert k("self.w") == PARAM
    assert not is_tensor(k("self.rnn(x)"))  # LSTM returns tuples (maybe PackedSequence)
    assert not is_tensor(k("self.data"))
    assert k("h") == NONSCALAR
    kt = kinds(SRC, key=("Table", "__init__"))
    assert not is_tensor(kt("self.data"))


def test_function_scope_and_evidence():
    k = kinds(SRC, key=("train",))
    assert not is_tensor(k("model")) and not is_tensor(k("o"))  # a parameter called model is not a module
    assert k("x") == TENSOR  # used as a tensor: x.size(0)
    assert not is_tensor(k("batch"))
    ki = kinds(SRC, key=("init",))
    assert ki("m.weight") == PARAM  # init is passed to net.apply


def test_flow_insensitive_join_is_conservative():
    k = kinds("""
    import torch
    import numpy as np
    a = torch.zeros(3)
    a = np.ones(3)
    b = None
    b = torch.ones(3)
    """)
    assert not is_tensor(k("a"))
    assert k("b") == NONSCALAR


def test_no_torch_import():
    ctx = _Ctx("x = foo()\n")
    assert not TensorInference(ctx).uses_torch


def test_methods_shared_with_packed_sequence_are_no_tensor_evidence():
    src = """
    import torch
    def summarize(seq):
        a = seq.float()
        b = seq.cuda() if seq.is_cuda else seq.to("cpu")
        return seq.long(), seq.double(), seq.byte(), seq.half(), seq.pin_memory()
    def shaped(t):
        return t.size(0)
    """
    assert not is_tensor(kinds(src, key=("summarize",))("seq"))
    assert is_tensor(kinds(src, key=("shaped",))("t"))


def test_scope_tracking_balanced_when_a_visit_hook_skips_children():
    import libcst as cst

    from torchupgrade.codemods.tensors import ScopeTracking

    class Skipper(ScopeTracking, cst.CSTTransformer):
        def __init__(self):
            super().__init__()
            self._st_init()
            self.keys = []

        def visit_FunctionDef(self, node):
            return node.name.value != "skipped"  # children of `skipped` are not visited

        def visit_Name(self, node):
            if node.value == "probe":
                self.keys.append(self.scope_key)

    src = "class A:\n    def skipped(self):\n        pass\n    def f(self):\n        probe\nprobe\n"
    v = Skipper()
    cst.parse_module(src).visit(v)
    assert v.keys == [("A", "f"), ()]
    assert v.scope_stack == [()] and v.parents == []
