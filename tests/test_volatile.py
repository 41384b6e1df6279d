"""TU010/TU011: migrated programs are executed under torch 2.13 and compared with 0.3 semantics."""
import ast
import textwrap
import warnings

import pytest

from torchupgrade.codemods import migrate

torch = pytest.importorskip("torch")
nn = torch.nn


def convert(src, unsafe=True, select=("TU010", "TU011", "TU001")):
    src = textwrap.dedent(src).lstrip("\n")
    result = migrate(src, select=list(select), unsafe=unsafe)
    assert result.failure is None, result.failure
    ast.parse(result.new_source)
    again = migrate(result.new_source, select=list(select), unsafe=unsafe)
    assert again.new_source == result.new_source, "not idempotent"
    return result


def run(code, **ns):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a leftover `volatile` would warn
        exec(compile(code, "<migrated>", "exec"), ns)
    return ns


def model():
    torch.manual_seed(0)
    return nn.Linear(3, 2)


EVAL_LOOP = """
import torch
from torch.autograd import Variable

def evaluate(net, loader):
    net.eval()
    outs = []
    for x, y in loader:
        x, y = Variable(x, volatile=True), Variable(y)
        out = net(x)
        loss = ((out - y) ** 2).sum()
        outs.append(out)
    return torch.cat(outs), loss
"""


def test_eval_loop_runs_without_graph():
    r = convert(EVAL_LOOP)
    assert "volatile" not in r.new_source
    ns = run(r.new_source)
    loader = [(torch.randn(4, 3), torch.randn(4, 2)) for _ in range(3)]
    outs, loss = ns["evaluate"](model(), loader)
    assert not outs.requires_grad and not loss.requires_grad
    assert torch.is_grad_enabled()
    # values unchanged compared with the legacy program
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        legacy = run(textwrap.dedent(EVAL_LOOP))["evaluate"](model(), loader)
    assert legacy[0].requires_grad  # legacy code builds a graph today
    assert torch.equal(outs, legacy[0].detach())


def test_default_mode_leaves_volatile_with_note():
    r = convert(EVAL_LOOP, unsafe=False)
    assert "volatile=True" in r.new_source
    assert any(n.rule == "TU010" and "no_grad" in n.message and "--unsafe" in n.message for n in r.notes)


VALIDATE = """
import torch
from torch.autograd import Variable

class Trainer:
    def __init__(self, net):
        self.net = net

    def validate(self, batch):
        if batch is None:
            return None
        self.net.train(False)
        x = Variable(batch, volatile=True)
        h = self.net(x)
        return h.sum(1)
"""


def test_validate_with_early_return():
    r = convert(VALIDATE)
    code = r.new_source
    assert "volatile" not in code
    # the early return stays outside any region
    tree = ast.parse(code)
    fn = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "validate"][0]
    assert isinstance(fn.body[0], ast.If) or fn.decorator_list
    ns = run(code)
    t = ns["Trainer"](model())
    assert t.validate(None) is None
    out = t.validate(torch.randn(5, 3))
    assert out.requires_grad is False
    assert torch.is_grad_enabled()


SCRIPT = """
import torch
from torch.autograd import Variable

net = torch.nn.Linear(3, 2)
data = torch.randn(4, 3)
inp = Variable(data, volatile=True)
pred = net(inp)
score = pred.max(1)[0]
after = torch.is_grad_enabled()
train_out = net(Variable(data))
"""


def test_module_level_script():
    r = convert(SCRIPT)
    assert "with torch.no_grad():" in r.new_source
    ns = run(r.new_source)
    assert not ns["pred"].requires_grad and not ns["score"].requires_grad
    assert ns["after"] is True
    assert ns["train_out"].requires_grad  # the training forward outside stays differentiable


GENERATOR = """
import torch
from torch.autograd import Variable

def predictions(net, batches):
    for b in batches:
        x = Variable(b, volatile=True)
        out = net(x)
        yield out
"""

GENERATOR_PARTIAL = """
import torch
from torch.autograd import Variable

def predictions(net, batches, log):
    log.flush_all()
    for b in batches:
        x = Variable(b, volatile=True)
        out = net(x)
        yield out
"""


class _Log:
    def flush_all(self):
        pass


@pytest.mark.parametrize("src", [GENERATOR, GENERATOR_PARTIAL], ids=["decorated", "regions"])
def test_generator_restores_grad_mode_between_steps(src):
    r = convert(src)
    code = r.new_source
    assert "volatile" not in code
    tree = ast.parse(code)
    for w in [n for n in ast.walk(tree) if isinstance(n, ast.With)]:
        assert not any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in ast.walk(w)), "yield inside with no_grad"
    ns = run(code)
    net = model()
    args = (net, [torch.randn(2, 3) for _ in range(3)]) + ((_Log(),) if "log" in src else ())
    for out in ns["predictions"](*args):
        assert torch.is_grad_enabled(), "grad mode must be on in the caller between steps"
        assert not out.requires_grad
        assert net(torch.randn(1, 3)).requires_grad


FLAG = """
import torch
from torch.autograd import Variable

def run(net, x, train):
    v = Variable(x, volatile=not train)
    h = net(v)
    return h.sum()
"""


def test_volatile_expression_becomes_set_grad_enabled():
    r = convert(FLAG)
    assert "torch.set_grad_enabled(train)" in r.new_source
    assert "not not" not in r.new_source
    ns = run(r.new_source)
    net = model()
    assert ns["run"](net, torch.randn(2, 3), True).requires_grad
    assert not ns["run"](net, torch.randn(2, 3), False).requires_grad
    assert torch.is_grad_enabled()


TO_VAR = """
import torch
from torch.autograd import Variable

def to_var(x, volatile=False):
    if torch.cuda.is_available():
        x = x.cuda()
    return Variable(x, volatile=volatile)

def test(net, batches):
    outs = []
    for b in batches:
        images = to_var(b, volatile=True)
        outs.append(net(images))
    return outs

def train_step(net, b):
    return net(to_var(b)).sum()

if __name__ == "__main__":
    pass
"""


def test_to_var_helper_in_script():
    r = convert(TO_VAR)
    code = r.new_source
    assert "volatile" not in code
    assert "def to_var(x):" in code
    ns = run(code)
    net = model()
    outs = ns["test"](net, [torch.randn(2, 3)])
    assert not outs[0].requires_grad
    assert ns["train_step"](net, torch.randn(2, 3)).requires_grad


def test_to_var_helper_in_library_keeps_signature():
    r = convert(TO_VAR.replace('if __name__ == "__main__":\n    pass\n', ""))
    code = r.new_source
    assert "def to_var(x, volatile=False):" in code
    assert any("kept so callers elsewhere keep working" in n.message for n in r.notes)
    ns = run(code)
    net = model()
    assert not ns["test"](net, [torch.randn(2, 3)])[0].requires_grad
    assert ns["to_var"](torch.randn(2), volatile=True) is not None  # external callers still work


DQN = """
import torch
import torch.nn.functional as F
from torch.autograd import Variable

def optimize(net, s, a, r, s2, gamma):
    net.zero_grad()
    q = net(Variable(s)).gather(1, a).squeeze(1)
    next_values = Variable(torch.zeros(s2.size(0)))
    next_values[mask] = net(Variable(s2[mask], volatile=True)).max(1)[0]
    next_values.volatile = False
    expected = r + gamma * next_values
    loss = F.smooth_l1_loss(q, expected)
    loss.backward()
    return loss
"""


def test_dqn_target_network_gradients_match_03():
    r = convert(DQN)
    code = r.new_source
    assert "volatile" not in code
    torch.manual_seed(1)
    s, s2, r_ = torch.randn(8, 3), torch.randn(8, 3), torch.randn(8)
    a = torch.randint(0, 2, (8, 1))
    mask = torch.tensor([True, False] * 4)

    net = model()
    run(code, mask=mask)["optimize"](net, s, a, r_, s2, 0.9)
    migrated = net.weight.grad.clone()

    # 0.3 semantics: no gradient through the target branch (explicit .detach())
    ref_net = model()
    ref_net.zero_grad()
    q = ref_net(s).gather(1, a).squeeze(1)
    nv = torch.zeros(8)
    nv[mask] = ref_net(s2[mask]).max(1)[0].detach()
    torch.nn.functional.smooth_l1_loss(q, r_ + 0.9 * nv).backward()
    assert torch.allclose(migrated, ref_net.weight.grad)

    # the legacy code run as-is on modern torch leaks gradient through the target branch
    leak_net = model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(textwrap.dedent(DQN), mask=mask)["optimize"](leak_net, s, a, r_, s2, 0.9)
    assert not torch.allclose(leak_net.weight.grad, ref_net.weight.grad)


def test_c02b_pattern():
    src = """
    import torch
    from torch.autograd import Variable

    def step(model, s, s_next):
        model.zero_grad()
        q = model(Variable(s)).max(1)[0]
        nxt = model(Variable(s_next, volatile=True)).max(1)[0]
        nxt.volatile = False
        loss = ((q - 0.9 * nxt) ** 2).mean()
        loss.backward()
        return nxt
    """
    r = convert(src)
    net = model()
    s, s2 = torch.randn(8, 3), torch.randn(8, 3)
    nxt = run(r.new_source)["step"](net, s, s2)
    assert not nxt.requires_grad
    ref = model()
    ref.zero_grad()
    q = ref(s).max(1)[0]
    ((q - 0.9 * ref(s2).max(1)[0].detach()) ** 2).mean().backward()
    assert torch.allclose(net.weight.grad, ref.weight.grad)


def test_file_without_import_torch():
    src = """
    from torch import nn
    from torch.autograd import Variable as V

    def infer(net, x):
        return net(V(x, volatile=True))
    """
    r = convert(src)
    assert "import torch\n" in r.new_source
    ns = run(r.new_source)
    assert not ns["infer"](model(), torch.randn(2, 3)).requires_grad


def test_multiple_volatile_inputs_in_one_block():
    src = """
    import torch
    from torch.autograd import Variable

    def compare(enc, a, b, w):
        count = 0
        xa = Variable(a, volatile=True)
        train_h = enc(Variable(w))
        xb = Variable(b, volatile=True)
        ha = enc(xa)
        count += 1
        hb = enc(xb)
        dist = (ha - hb).norm()
        return dist, ha, hb, train_h
    """
    r = convert(src)
    ns = run(r.new_source)
    dist, ha, hb, train_h = ns["compare"](model(), torch.randn(2, 3), torch.randn(2, 3), torch.randn(2, 3))
    assert not dist.requires_grad and not ha.requires_grad and not hb.requires_grad
    assert train_h.requires_grad  # the non-volatile forward stays outside the region


def test_nested_functions():
    src = """
    import torch
    from torch.autograd import Variable

    def outer(net, x):
        def inner(y):
            v = Variable(y, volatile=True)
            return net(v)
        trained = net(Variable(x))
        return inner(x), trained
    """
    r = convert(src)
    ns = run(r.new_source)
    frozen, trained = ns["outer"](model(), torch.randn(2, 3))
    assert not frozen.requires_grad and trained.requires_grad
    assert torch.is_grad_enabled()


def test_region_in_try_and_if():
    src = """
    import torch
    from torch.autograd import Variable

    def f(net, x, flag):
        try:
            if flag:
                v = Variable(x, volatile=True)
                out = net(v)
                return out * 2
        except KeyError:
            pass
        return None
    """
    r = convert(src)
    ns = run(r.new_source)
    assert not ns["f"](model(), torch.randn(2, 3), True).requires_grad
    assert ns["f"](model(), torch.randn(2, 3), False) is None


def test_volatile_reaching_backward_is_left_with_note():
    src = """
    from torch.autograd import Variable

    def step(model, s2, r):
        target = r + model(Variable(s2, volatile=True)).max(1)[0]
        loss = (target ** 2).mean()
        loss.backward()
    """
    r = convert(src)
    assert "volatile=True" in r.new_source
    assert any("backward" in n.message for n in r.notes)


def test_volatile_false_and_reads():
    src = """
    import torch
    from torch.autograd import Variable

    def mask_like(var, mask):
        m = Variable(mask, volatile=var.volatile)
        n = Variable(mask, False, False)
        flag = var.volatile
        if var.volatile:
            pass
        return m, n, flag
    """
    r = convert(src, unsafe=False)
    code = r.new_source
    assert "flag = var.volatile" in code  # `var` is not known to be a tensor: note only
    assert "if var.volatile:" in code  # control flow: note only
    assert "volatile=var.volatile" not in code and "False, False" not in code
    assert any(n.rule == "TU011" for n in r.notes)
    known = convert("import torch\nv = torch.zeros(2)\nflag = v.volatile\n", unsafe=False).new_source
    assert "flag = False" in known


def test_volatile_read_on_non_tensors_is_kept():
    src = """
    import argparse
    import torch

    p = argparse.ArgumentParser()
    p.add_argument("--volatile", action="store_true")
    args = p.parse_args(["--volatile"])
    flag = args.volatile
    class C:
        def volatile(self):
            return 1
    value = C().volatile()
    """
    r = convert(src, unsafe=False)
    assert "flag = args.volatile" in r.new_source and "C().volatile()" in r.new_source
    ns = {}
    exec(r.new_source, ns)
    assert ns["flag"] is True and ns["value"] == 1


def test_stray_volatile_false_statement_removed_safely():
    src = """
    import torch
    h = torch.zeros(2)
    h.volatile = False
    """
    r = convert(src, unsafe=False)
    assert "volatile" not in r.new_source


def test_example_script_migrates_and_runs():
    import pathlib

    path = pathlib.Path(__file__).resolve().parent.parent / "examples" / "volatile_eval.py"
    r = convert(path.read_text())
    assert "volatile=" not in r.new_source and ".volatile" not in r.new_source
    ns = run(r.new_source, __name__="__main__")
    assert ns["RESULTS"]["eval_requires_grad"] is False
    assert ns["RESULTS"]["grad_enabled_after"] is True
    assert ns["RESULTS"]["target_requires_grad"] is False


def test_elif_branches_get_one_region_each():
    src = """
    import torch
    from torch.autograd import Variable

    def f(net, x, mode):
        v = Variable(x, volatile=True)
        if mode == 1:
            out = net(v)
        elif mode == 2:
            out = net(v) * 2
        else:
            raise ValueError(mode)
        return out
    """
    r = convert(src)
    assert r.new_source.count("with torch.no_grad():") == 2
    assert "with torch.no_grad():\n            with" not in r.new_source
    ns = run(r.new_source)
    assert not ns["f"](model(), torch.randn(2, 3), 2).requires_grad
