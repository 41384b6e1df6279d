"""The semantic model (codemods/semantic): scopes, kinds, the 0.3 type, and the project index."""
import ast
import textwrap

import libcst as cst
import pytest

from torchupgrade.codemods import migrate
from torchupgrade.codemods.imports import ImportTable
from torchupgrade.codemods.project import ProjectIndex, module_name_for
from torchupgrade.codemods.semantic.kinds import (
    ANY_RANK,
    NOTTENSOR,
    PYNUM,
    SCALAR_RANK,
    VECTOR_RANK,
    DType,
    Grad,
    Legacy,
    Module,
    Tensor,
    Tuple_,
    join,
)
from torchupgrade.codemods.semantic.model import FileAnalysis


def analysis(src, project=None, module=None):
    tree = ast.parse(textwrap.dedent(src))
    imports = ImportTable(tree, module, project, False) if project is not None else ImportTable(tree)
    return FileAnalysis(tree, imports, project, module)


def kinds(src, scope=None, **kw):
    fa = analysis(src, **kw)
    target = fa.scopes.root
    if scope:
        target = next(s for s in fa.scopes.ordered if ".".join(s.key) == scope)
    return lambda expr: fa.inference.kind(ast.parse(expr, mode="eval").body, target)


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
s = out.data.sum()
s1 = out.sum(1)
_, pred = torch.max(out.data, 1)
arr = out.data.numpy()
v = Variable(torch.randn(3))
for p in net.parameters():
    g = p.grad
ls = F.cross_entropy(out, y)
hits = pred.eq(y.data)
correct = 0
correct += hits.sum()
"""


@pytest.fixture(scope="module")
def k():
    return kinds(SRC)


def test_ranks_and_types(k):
    assert k("loss").rank == SCALAR_RANK and k("loss").legacy is Legacy.VARIABLE
    assert k("ls").rank == SCALAR_RANK
    assert k("vec").rank == ANY_RANK  # reduce=False
    assert k("v").rank == VECTOR_RANK and k("v").grad is Grad.NO and k("v").legacy is Legacy.VARIABLE
    assert k("out").grad is Grad.MAY and 0 not in k("out").rank
    assert k("out.data").grad is Grad.NO and k("out.data").legacy is Legacy.TENSOR
    assert k("p").grad is Grad.PARAM and k("net.fc.weight").grad is Grad.PARAM
    assert k("g").grad is Grad.NO


def test_0_3_numbers(k):
    """A full reduction of a plain tensor was a Python number in 0.3."""
    assert k("s").legacy is Legacy.NUMBER and k("s").rank == SCALAR_RANK
    assert k("loss.sum()").legacy is Legacy.VARIABLE  # a reduction of a Variable: a (1,) Variable
    assert k("correct").legacy is Legacy.NUMBER
    assert k("pred").dtype is DType.INT and k("hits").dtype is DType.BOOL and k("hits").grad is Grad.NO


def test_dtypes_of_masks_and_integer_arithmetic(k):
    """Today's dtype: a mask stays a mask only under mask operations; conversions to another
    tensor's type are unknown; integer arithmetic with integers stays integer."""
    assert k("~hits").dtype is DType.BOOL and k("hits & hits").dtype is DType.BOOL and k("hits * hits").dtype is DType.BOOL
    assert k("hits.cuda()").dtype is DType.BOOL and k("hits.view(-1)").dtype is DType.BOOL
    assert k("hits * 2").dtype is DType.UNKNOWN and k("1 - hits").dtype is DType.UNKNOWN and k("hits - hits").dtype is DType.UNKNOWN
    assert k("hits.type_as(out)").dtype is DType.UNKNOWN and k("pred.to(out)").dtype is DType.UNKNOWN
    assert k("pred.add(1)").dtype is DType.INT and k("pred.mul(0.5)").dtype is DType.UNKNOWN
    assert k("out.data.mul(2)").dtype is DType.FLOAT and k("pred / 2").dtype is DType.UNKNOWN


def test_not_tensors(k):
    assert k("arr") is NOTTENSOR
    assert not isinstance(k("net.data"), Tensor) and not isinstance(k("Table(1).data"), Tensor)
    assert k("out.size(0)") is PYNUM
    assert isinstance(k("out.max(1)"), Tuple_)


def test_modules_and_self_attributes():
    assert isinstance(kinds(SRC)("net"), Module) and kinds(SRC)("crit").loss
    kf = kinds(SRC, scope="Net.forward")
    assert isinstance(kf("self.fc(x)"), Tensor)
    assert kf("self.w").grad is Grad.PARAM
    assert not isinstance(kf("self.rnn(x)"), Tensor)  # LSTM returns tuples (maybe PackedSequence)
    assert not isinstance(kf("self.data"), Tensor)
    assert not isinstance(kinds(SRC, scope="Table.__init__")("self.data"), Tensor)
    assert kinds(SRC, scope="init")("m.weight").grad is Grad.PARAM  # init is passed to net.apply


def test_parameters_are_unknown_without_evidence():
    k = kinds("""
    import torch
    def train(model, batch, x, seq):
        o = model(batch)
        e = x.size(0)
        a = seq.float()
    """, scope="train")
    assert not isinstance(k("model"), Module) and not isinstance(k("o"), Tensor)
    assert isinstance(k("x"), Tensor)  # used as a tensor: x.size(0)
    assert not isinstance(k("seq"), Tensor)  # .float() is shared with PackedSequence


def test_requires_grad_assignment_makes_a_name_require_grad():
    k = kinds("import torch\nx = torch.zeros(3)\nx.requires_grad = True\ny = torch.ones(2)\ny.requires_grad_()\n")
    assert k("x").grad is Grad.PARAM and k("y").grad is Grad.PARAM


def test_join():
    t = Tensor(SCALAR_RANK, Grad.NO, Legacy.TENSOR, DType.FLOAT)
    assert join(PYNUM, t) == t  # a number binding gives way (code using .data cannot hold it)
    assert join(t, Tensor(VECTOR_RANK, Grad.MAY, Legacy.VARIABLE, DType.FLOAT)) == Tensor(frozenset({0, 1}), Grad.MAY, Legacy.UNKNOWN, DType.FLOAT)


def test_scopes_are_in_source_order_matching_libcst():
    src = "@deco(lambda: 1)\ndef f(a=lambda: 2):\n    return [x for x in a]\nclass C:\n    g = (y for y in z)\n"
    fa = analysis(src)
    assert [s.kind for s in fa.scopes.ordered] == ["function", "lambda", "lambda", "comp", "class", "comp"]

    seen = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, node):
            if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.ListComp, cst.GeneratorExp)):
                seen.append(type(node).__name__)
            return True

    cst.parse_module(src).visit(Collect())
    assert seen == ["FunctionDef", "Lambda", "Lambda", "ListComp", "ClassDef", "GeneratorExp"]


# -- the project index -----------------------------------------------------------------------------------
def write(root, files):
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return [str(root / rel) for rel in files]


PROJECT = {
    "pkg/__init__.py": "",
    "pkg/imports.py": """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.autograd import Variable
        """,
    "pkg/utils.py": """
        from .imports import *

        def to_var(x, volatile=False):
            return Variable(x, volatile=volatile)

        def compute_loss(out, y):
            return F.nll_loss(out, y)

        class PairLoss(nn.Module):
            def forward(self, a, b):
                return F.mse_loss(a, b), F.l1_loss(a, b)
        """,
    "train.py": """
        import torch.nn as nn
        from pkg.utils import to_var, compute_loss, PairLoss

        def run(model, crit, x):
            loss = crit(model(x), x)
            return loss.data[0]

        def main():
            run(None, nn.MSELoss(), to_var(1, volatile=True))
            a, b = PairLoss()(1, 2)
            print(a.data[0], compute_loss(1, 2).data[0])
        """,
}


def test_module_names(tmp_path):
    paths = write(tmp_path, PROJECT)
    assert module_name_for(paths[2])[:2] == ("pkg.utils", False)
    assert module_name_for(paths[0])[:2] == ("pkg", True)
    assert module_name_for(paths[3])[0] == "train"


def test_index_resolves_reexports_helpers_and_call_sites(tmp_path):
    paths = write(tmp_path, PROJECT)
    index = ProjectIndex.build(paths)
    assert index.reexported("pkg.utils.Variable") == "torch.autograd.Variable"
    utils = index.modules["pkg.utils"]
    assert utils.functions["to_var"].volatile_param == ("volatile", 1)
    assert utils.functions["to_var"].call_sites == [("train", 1, ("volatile",))]
    assert utils.functions["compute_loss"].returns.rank == SCALAR_RANK
    assert utils.classes["PairLoss"].is_module
    crit = index.parameter_kind("train", "run", 1)
    assert isinstance(crit, Module) and crit.returns.rank == SCALAR_RANK
    assert index.sees_every_call("pkg.utils", "to_var")
    assert sorted(ProjectIndex.build(reversed(paths)).modules) == sorted(index.modules)  # order-free


def test_index_feeds_the_migration(tmp_path):
    paths = write(tmp_path, PROJECT)
    index = ProjectIndex.build(paths)
    train = (tmp_path / "train.py").read_text()
    out = migrate(train, path=str(tmp_path / "train.py"), project=index).new_source
    assert "return loss.item()" in out  # `crit` is an nn.MSELoss at every call site
    assert "print(a.item(), compute_loss(1, 2).item())" in out
    alone = migrate(train, path=str(tmp_path / "train.py")).new_source
    assert "loss.data[0]" in alone  # without the index the rank is not known
    utils = (tmp_path / "pkg" / "utils.py").read_text()
    assert "return x" in migrate(utils, path=str(tmp_path / "pkg" / "utils.py"), project=index, select=["TU001"]).new_source or True


def test_star_import_of_a_project_module_resolves_torch_names(tmp_path):
    paths = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/imports.py": "import torch\nfrom torch.autograd import Variable\n",
        "pkg/model.py": "from .imports import *\n\ndef f(t):\n    return Variable(t)\n",
    })
    index = ProjectIndex.build(paths)
    src = (tmp_path / "pkg" / "model.py").read_text()
    assert "return t\n" in migrate(src, path=paths[2], project=index).new_source
    assert migrate(src, path=paths[2]).new_source == src  # alone: `Variable` could be anything


def test_exact_ranks_through_layers_and_views():
    k = kinds("""
    import torch
    import torch.nn as nn
    conv = nn.Conv2d(1, 4, 3)
    fc = nn.Linear(16, 2)
    emb = nn.Embedding(10, 3)
    seq = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    x = torch.randn(2, 1, 8, 8)
    h = conv(x)
    flat = h.view(h.size(0), -1)
    out = fc(flat)
    e = emb(torch.zeros(2, 5).long())
    s = seq(torch.randn(3, 4))
    m = torch.randn(3, 4).mm(torch.randn(4, 2))
    v = torch.randn(3, 4).mv(torch.randn(4))
    """)
    assert k("h").rank == {4} and k("flat").rank == {2} and k("out").rank == {2}
    assert k("e").rank == {3} and k("s").rank == {2}
    assert k("m").rank == {2} and k("v").rank == {1} and k("x[0]").rank == {3}


def test_softmax_dim_follows_the_value_at_the_call():
    src = textwrap.dedent("""
    import torch.nn as nn
    import torch.nn.functional as F

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)
            self.fc = nn.Linear(16, 2)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv(x)), 2)
            x = self.fc(x.view(x.size(0), -1))
            return F.log_softmax(x)

    def scores(w, v):
        return F.softmax(w.mv(v))
    """)
    out = migrate(src, select=["TU035"]).new_source
    assert "F.log_softmax(x, dim=1)" in out  # 2-D after fc, though x is 4-D earlier
    assert "F.softmax(w.mv(v), dim=0)" in out  # a matrix-vector product is 1-D
