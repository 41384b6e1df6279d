"""The .data rules (TU020-TU023): extra cases, and execution of original vs migrated code."""
import ast
import pathlib
import textwrap

import pytest

from torchupgrade.codemods import migrate

ROOT = pathlib.Path(__file__).resolve().parents[2]


def mig(src, unsafe=False, select=None):
    r = migrate(textwrap.dedent(src).lstrip("\n"), unsafe=unsafe, select=select)
    assert r.failure is None
    ast.parse(r.new_source)
    again = migrate(r.new_source, unsafe=unsafe, select=select)
    assert again.new_source == r.new_source, "not idempotent"
    return r


def run(src, name="main", **env):
    ns = dict(env)
    exec(compile(textwrap.dedent(src), "<legacy>", "exec"), ns)
    return ns[name]


# -- precision: unknown receivers -------------------------------------------------------------
def test_class_with_own_data_next_to_tensor_code():
    src = """
    import torch
    import torch.nn as nn

    class Vocab(object):
        def __init__(self, words):
            self.data = words

        def head(self):
            return self.data[0], self.data.copy()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(x)

    net = Net()
    out = net(torch.randn(3, 2))
    v = Vocab(['a'])
    print(out.data.numpy(), v.data[0], v.data)
    """
    r = mig(src, unsafe=True)
    assert "self.data[0], self.data.copy()" in r.new_source
    assert "out.detach().numpy(), v.data[0], v.data)" in r.new_source


@pytest.mark.parametrize("line", [
    "x = np.zeros(3); y = x.data",
    "batch = next(it); t = batch.data[0]",
    "print(self.data.size(0))",
    "loader.dataset.data.shape",
    "packed = pack_padded_sequence(x, lens); y = packed.data.max(1)",
])
def test_unknowns_are_left(line):
    src = "import numpy as np\nimport torch\nfrom torch.nn.utils.rnn import pack_padded_sequence\n" + line + "\n"
    r = mig(src, unsafe=True)
    assert r.new_source == src


def test_lstm_outputs_are_unknown():
    # nn.LSTM returns (output, (h, c)); output may be a PackedSequence whose .data is a field
    src = """
    import torch.nn as nn
    rnn = nn.LSTM(4, 4)
    out, (h, c) = rnn(packed)
    flat = out.data
    """
    r = mig(src, unsafe=True)
    assert "out.data" in r.new_source


def test_non_torch_file_untouched():
    src = "class A:\n    def f(self, p):\n        p.grad.data.zero_()\n        return loss.data[0]\n"
    r = mig(src, unsafe=True)
    assert r.new_source == src and not r.notes


# -- TU021 ------------------------------------------------------------------------------------
def test_scalar_contexts():
    src = """
    import torch
    import torch.nn.functional as F

    def step(out, y):
        loss = F.cross_entropy(out, y)
        total = 0
        total += loss.data[0]
        s = '%.3f' % loss.data[0]
        f = float(loss.data[0])
        m = out.mean()
        return total, s, f, m.data[0], (loss * 2).data[0]
    """
    r = mig(src)
    assert r.new_source.count(".item()") == 5
    assert ".data[0]" not in r.new_source


def test_loss_with_reduction_none_not_scalar():
    src = """
    import torch.nn.functional as F
    l = F.mse_loss(a, b, reduction='none')
    v = l.data[0]
    """
    r = mig(src)
    assert "v = l.data[0]" in r.new_source  # the rank is not known: left, with a note
    assert [n.key for n in r.notes] == ["rank"]
    assert "v = l.data[0]" in mig(src, unsafe=True).new_source  # not .item(), not a row


# -- TU020 exactness -----------------------------------------------------------------------------
def test_assignment_is_an_unsafe_fix():
    # a stored `.data` value may be saved by a graph later, and in-place changes may come through
    # aliases, callees or torch functions: no local scan can prove `.detach()` exact
    src = """
    import torch

    def f(x):
        h = torch.tanh(x)
        a = h.data
        b = h.data
        b.add_(1)
        return a, b
    """
    r = mig(src)
    assert "a = h.data" in r.new_source and "b = h.data" in r.new_source
    assert sum(n.rule == "TU020" for n in r.notes) == 2
    assert "a = h.detach()" in mig(src, unsafe=True).new_source


def test_parameter_read_into_name_is_conditional():
    src = """
    import torch.nn as nn
    lin = nn.Linear(2, 2)
    w = lin.weight.data
    n = lin.weight.data.norm()
    """
    r = mig(src)
    assert "w = lin.weight.data" in r.new_source
    assert "n = lin.weight.detach().norm()" in r.new_source


def test_grad_data_create_graph_is_noted():
    src = "import torch\ng = torch.autograd.grad(y, x, create_graph=True)\nw.grad.data.zero_()\n"
    r = mig(src)
    assert r.new_source == src and any(n.rule == "TU022" for n in r.notes)


def test_p_data_assignment_kept_with_note():
    src = """
    import torch
    for p in model.parameters():
        p.data = p.data.half()
        p.data[0] = 1.0
    """
    r = mig(src, unsafe=True)
    assert "p.data = p." in r.new_source and "p.data[0] = 1.0" in r.new_source
    assert sum(n.rule == "TU023" for n in r.notes) == 2


def test_no_grad_uses_torch_alias():
    src = """
    import torch as th
    for p in net.parameters():
        p.data.mul_(0.5)
    """
    r = mig(src, unsafe=True)
    assert "with th.no_grad():" in r.new_source and "p.mul_(0.5)" in r.new_source


# -- execution under torch 2.13 -----------------------------------------------------------------
torch = pytest.importorskip("torch")

SGD = """
import torch
import torch.nn as nn

def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 2))
    target = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 2))
    crit = nn.MSELoss()
    x = torch.randn(9, 5)
    y = torch.randn(9, 2)
    for _ in range(4):
        model.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        for p in model.parameters():
            if p.grad is None:
                continue
            p.data.add_(-0.05 * p.grad.data)
            p.data.clamp_(-0.3, 0.3)
        for tp, sp in zip(target.parameters(), model.parameters()):
            tp.data.mul_(0.9).add_(0.1 * sp.data)
        target[0].weight.data.copy_(model[0].weight.data)
    return [p.detach().clone() for p in model.parameters()] + [p.detach().clone() for p in target.parameters()]
"""


def test_manual_sgd_identical_parameters():
    r = mig(SGD, unsafe=True)
    assert ".data" not in r.new_source and r.new_source.count("with torch.no_grad():") == 1  # one block around the consecutive updates
    before = run(SGD)()
    after = run(r.new_source)()
    assert len(before) == len(after) == 8
    for a, b in zip(before, after):
        assert torch.equal(a, b)


INIT = """
import torch
import torch.nn as nn

def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        m.weight.data.normal_(0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        m.weight.data.normal_(1.0, 0.02)
        m.bias.data.fill_(0)
    elif classname.find('Linear') != -1:
        m.weight.data.uniform_(-0.1, 0.1)
        m.bias.data.zero_()

def main():
    torch.manual_seed(3)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Linear(8, 4))
    net.apply(weights_init)
    return net.state_dict()
"""


def test_init_same_statistics_bitwise():
    r = mig(INIT, unsafe=True)
    assert "nn.init.normal_(m.weight, 0.0, 0.02)" in r.new_source
    assert "nn.init.uniform_(m.weight, -0.1, 0.1)" in r.new_source
    assert ".data" not in r.new_source
    before, after = run(INIT)(), run(r.new_source)()
    assert before.keys() == after.keys()
    for k in before:
        assert torch.equal(before[k], after[k]), k
    w = after["0.weight"]
    assert abs(w.mean().item()) < 0.01 and abs(w.std().item() - 0.02) < 0.005


ITEM = """
import torch
import torch.nn as nn
import torch.nn.functional as F

def main():
    torch.manual_seed(1)
    criterion = nn.CrossEntropyLoss()
    out = torch.randn(6, 3, requires_grad=True)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    loss = criterion(out, y)
    nll = F.nll_loss(F.log_softmax(out, 1), y)
    total = 0.0
    total += loss.data[0]
    return total, nll.data[0], out.sum().data[0], out.data[0]
"""


def test_item_results_are_python_floats():
    with pytest.raises(IndexError, match="invalid index of a 0-dim tensor"):
        run(ITEM)()  # the legacy line crashes today
    r = mig(ITEM)
    total, nll, s, row = run(r.new_source)()
    # 0.3 intent: the same numbers as Python floats
    torch.manual_seed(1)
    out = torch.randn(6, 3)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    for got, want in ((total, torch.nn.functional.cross_entropy(out, y)), (nll, torch.nn.functional.cross_entropy(out, y)), (s, out.sum())):
        assert type(got) is float
        assert got == float(want)
    assert isinstance(row, torch.Tensor) and torch.equal(row, out[0])  # batch row stays a tensor


READS = """
import torch
import torch.nn as nn

def main():
    torch.manual_seed(2)
    model = nn.Linear(3, 4)
    out = model(torch.randn(5, 3))
    _, pred = torch.max(out.data, 1)
    target = torch.randint(0, 4, (5,))
    correct = pred.eq(target.data).sum()
    arr = out.data.cpu().numpy()
    return pred, correct, arr
"""


def test_reads_identical():
    r = mig(READS)
    assert ".data" not in r.new_source
    a, b = run(READS)(), run(r.new_source)()
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and (a[2] == b[2]).all()


def test_example_file_runs_after_migration():
    src = (ROOT / "examples" / "data_idioms.py").read_text()
    with pytest.raises(IndexError):
        run(src)()
    r = mig(src, unsafe=True)
    (loss, correct, arr), first, model = run(r.new_source)()
    assert type(loss) is float and first == 0 and arr.shape == (16, 3)
    assert "self.data[0]" in r.new_source


# -- precision on non-PyTorch code ------------------------------------------------------------------
def _site(pkg):
    mod = pytest.importorskip(pkg)
    return pathlib.Path(mod.__file__).parent


@pytest.mark.parametrize("pkg", ["click", "rich"])
def test_precision_on_non_torch_packages(pkg):
    changed = []
    for path in sorted(_site(pkg).rglob("*.py")):
        data = path.read_bytes()
        r = migrate(data, path=str(path))
        if r.changed or r.edits:
            changed.append(str(path))
    assert changed == []


def test_module_level_functional_loss_alias_is_scalar():
    src = (
        "import torch.nn.functional as F\n"
        "criterion = F.nll_loss\n"
        "def train(model, loader):\n"
        "    for x, y in loader:\n"
        "        loss = criterion(model(x), y)\n"
        "        total = loss.data[0]\n"
        "        per_item = criterion(model(x), y, reduction='none').data[0]\n"
    )
    r = migrate(src)
    assert "total = loss.item()" in r.new_source
    assert "reduction='none').data[0]" in r.new_source  # rank not known: a note
    assert any(n.key == "rank" for n in r.notes)


# -- review regressions: safe mode never changes behaviour -----------------------------------------
def _exec_out(src):
    """Run a program under torch; return its printed output, or the exception's type and message."""
    import contextlib
    import io

    pytest.importorskip("torch")
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            exec(compile(src, "<prog>", "exec"), {"__name__": "__main__"})
    except Exception as e:  # noqa: BLE001 - the outcome is what we compare
        return buf.getvalue() + f"EXC {type(e).__name__}: {e}"
    return buf.getvalue()


def _same_behaviour(src, unsafe=False):
    src = textwrap.dedent(src).lstrip("\n")
    r = mig(src, unsafe=unsafe)
    before, after = _exec_out(src), _exec_out(r.new_source)
    assert "EXC" not in before, before
    assert after == before, r.new_source
    return r


_PRE = """
import torch
import torch.nn.functional as F

def bump(t):
    t.mul_(2)

def main():
    x = torch.ones(4)
    w = torch.ones(2, requires_grad=True)
    {bind}
    y = (w * a).sum()
    {mut}
    y.backward()
    print(w.grad)

main()
"""


@pytest.mark.parametrize(
    "bind, mut",
    [
        ("a, b = x.data.chunk(2)", "x.mul_(2)"),
        ("a = torch.permute(x.data.view(2, 2), (1, 0))[0]", "x.mul_(2)"),
        ("a = x.data.view(2, 2).swapaxes(0, 1)[0]", "x.mul_(2)"),
        ("a = x.data.view(2, 2).T[0]", "x.mul_(2)"),
        ("a = x.data.split(2)[0]", "x.mul_(2)"),
        ("a = torch.unbind(x.data.view(2, 2), 1)[0]", "x.mul_(2)"),
        ("a = x.data[:2]", "x2 = x; x2.mul_(2)"),
        ("a = x.data[:2]", "torch.nn.init.constant_(x, 2.0)"),
        ("a = x.data[:2]", "bump(x)"),
        ("a = x.data[:2]", "torch.exp_(x)"),
    ],
)
def test_data_read_stored_or_viewed_then_mutated_is_not_a_safe_fix(bind, mut):
    src = _PRE.format(bind=bind, mut=mut)
    r = _same_behaviour(src)
    assert ".detach()" not in r.new_source
    assert any(n.rule == "TU020" for n in r.notes)


def test_data_read_view_used_with_grad_operand_is_not_safe():
    # no name: a view method missing from the alias list used to end the flow as SAFE
    src = """
    import torch
    x = torch.ones(4)
    w = torch.ones(2, 2, requires_grad=True)
    y = (x.data.view(2, 2).swapdims(0, 1) * w).sum()
    x.mul_(2)
    y.backward()
    print(w.grad)
    """
    r = _same_behaviour(src)
    assert ".detach()" not in r.new_source


def test_data_read_into_inplace_torch_function_is_left_alone():
    src = """
    import torch
    x = torch.ones(4, requires_grad=True)
    y = (x * x).sum()
    torch.nn.init.constant_(x.data, 2.0)
    y.backward()
    print(x.grad)
    """
    r = _same_behaviour(src)
    assert "x.data" in r.new_source


def test_data_read_consumed_in_place_still_safe():
    src = """
    import torch
    x = torch.ones(2, 3)
    print(torch.max(x.data, 1)[1].tolist(), x.data.swapaxes(0, 1).sum().item(), x.data.chunk(3, 1)[0].numpy().shape)
    """
    r = _same_behaviour(src)
    assert ".data" not in r.new_source
    assert ".detach()" not in r.new_source  # x does not require grad: .data is a no-op


_GRAD_CASES = [
    """
    import torch
    w = torch.ones(3, requires_grad=True)
    (w * 2).sum().backward()
    loss2 = (w * w.grad.data).sum()
    (w * 3).sum().backward()
    loss2.backward()
    print(w.grad)
    """,
    """
    import torch
    w = torch.ones(3, requires_grad=True)
    (w * 2).sum().backward()
    g = w.grad.data
    loss2 = (w * g).sum()
    w.grad.zero_()
    loss2.backward()
    print(w.grad)
    """,
    """
    import torch
    w = torch.ones(3, requires_grad=True)
    w.grad = w * 2
    n = w.grad.data.norm()
    print(n.requires_grad)
    """,
    """
    import torch
    class Holder:
        class G:
            data = [1, 2]
        grad = G()
    h = Holder()
    print(h.grad.data)
    """,
    """
    import torch
    w = torch.ones(3, requires_grad=True)
    v = torch.ones(3, requires_grad=True)
    (w * 2).sum().backward()
    w.grad.data.mul_(v)
    print(w.grad.requires_grad, w.grad)
    """,
]


@pytest.mark.parametrize("src", _GRAD_CASES)
def test_grad_data_not_rewritten_where_it_changes_behaviour(src):
    r = _same_behaviour(src)
    assert ".grad.data" in r.new_source


def test_grad_data_optimizer_loop_still_safe():
    src = """
    import torch
    import torch.nn as nn
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    for step in range(2):
        model.zero_grad()
        model(torch.ones(4, 3)).pow(2).sum().backward()
        total = sum(p.grad.data.norm() ** 2 for p in model.parameters())
        for p in model.parameters():
            p.grad.data.mul_(0.5)
            p.data.add_(p.grad.data, alpha=-0.1)
    print([p.sum().item() for p in model.parameters()], total.item())
    """
    r = _same_behaviour(src)
    assert ".grad.data" not in r.new_source
    assert not r.notes or all(n.rule != "TU022" for n in r.notes)


def test_packed_sequence_methods_are_no_tensor_evidence():
    src = """
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence
    def summarize(seq):
        seq = seq.float()
        first = seq.data[0]
        return seq.data.numpy().sum(), float(first)
    def more(seq):
        seq = seq.cuda() if seq.is_cuda else seq.to("cpu")
        return seq.data.long().double().byte().half().numpy().sum()
    p = pack_padded_sequence(torch.ones(3, 2, 1, dtype=torch.float64), [3, 2])
    print(summarize(p), more(p))
    """
    r = _same_behaviour(src)
    assert "detach" not in r.new_source
    r = _same_behaviour(src, unsafe=True)


@pytest.mark.parametrize(
    "expr",
    ["x.data.requires_grad_().pow(2).sum()", "torch.nn.Parameter(x.data).pow(2).sum()"],
)
def test_data_read_made_to_require_grad_is_not_safe(expr):
    src = f"""
    import torch
    x = torch.ones(3)
    y = {expr}
    x.mul_(2)
    y.backward()
    print(y.item())
    """
    r = _same_behaviour(src)
    assert "x.data" in r.new_source


@pytest.mark.parametrize(
    "expr",
    [
        "F.dropout(x.data, 0.5, training=False)",
        "torch.as_tensor(x.data)",
        "torch.Tensor.view(x.data, 3)",
        "torch.swapaxes(x.data.view(3, 1), 0, 1)",
    ],
)
def test_data_read_through_aliasing_torch_functions_is_followed(expr):
    src = f"""
    import torch
    import torch.nn.functional as F
    x = torch.ones(3)
    w = torch.ones(3, requires_grad=True)
    y = (w * {expr}).sum()
    x.mul_(2)
    y.backward()
    print(w.grad)
    """
    r = _same_behaviour(src)
    assert "x.data" in r.new_source


def test_packed_sequence_data_is_not_grad_free():
    # `packed.data` of an RNN output requires grad: `x.data * packed.data` is saved by the graph
    src = """
    import torch
    import torch.nn as nn
    from torch.nn.utils.rnn import pack_padded_sequence
    torch.manual_seed(0)
    rnn = nn.RNN(1, 1)
    def run(packed):
        out, _ = rnn(packed)
        return out
    out = run(pack_padded_sequence(torch.ones(2, 1, 1), [2]))
    x = torch.ones(2, 1)
    y = (x.data * out.data).sum()
    x.mul_(2)
    y.backward()
    print(rnn.weight_hh_l0.grad is not None)
    """
    r = _same_behaviour(src)
    assert "x.data" in r.new_source


def test_fill_of_a_plain_tensor_is_not_an_init():
    # `input.data.fill_(idx)` on a buffer that does not require grad is not a weight initialisation
    src = "import torch\ninp = torch.LongTensor(1, 1)\nfor idx in range(3):\n    inp.data.fill_(idx)\n"
    out = migrate(src, unsafe=True).new_source
    assert "nn.init" not in out and "inp.fill_(idx)" in out


def test_constructor_alias_is_a_factory():
    src = (
        "import torch\nfrom torch.autograd import Variable\n"
        "Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor\n"
        "h = Variable(Tensor(2, 3).zero_(), requires_grad=True)\n"
    )
    assert "h = Tensor(2, 3).zero_().requires_grad_()" in migrate(src).new_source


def test_init_function_on_data_at_construction():
    src = (
        "import torch\nimport torch.nn as nn\n"
        "class Emb(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.weight = nn.Parameter(torch.FloatTensor(3, 4))\n"
        "        torch.nn.init.xavier_uniform(self.weight.data)\n"
    )
    out = migrate(src).new_source
    assert "torch.nn.init.xavier_uniform_(self.weight)\n" in out
    ns = {}
    exec(out, ns)
    assert ns["Emb"]().weight.requires_grad
