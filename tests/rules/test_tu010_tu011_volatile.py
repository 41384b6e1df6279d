"""TU010/TU011: migrated programs are executed under torch 2.13 and compared with 0.3 semantics.

The reference is the program as it ran on torch <= 0.3: results computed from volatile inputs
carried no graph and no gradient. Regions whose data flow is complete are applied by default
(restoring); regions whose values leave them need ``unsafe=True``.
"""
import ast
import os
import textwrap
import warnings
from pathlib import Path

import pytest

from torchupgrade.codemods import FixClass, migrate
from torchupgrade.codemods.project import ProjectIndex
from torchupgrade.codemods.rules.volatile import VolatileNoGrad

torch = pytest.importorskip("torch")
nn = torch.nn

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("TORCHUPGRADE_CORPUS", os.path.expanduser("~/.cache/torchupgrade-corpus"))) / "src"


def convert(src, unsafe=True, select=("TU010", "TU011", "TU001")):
    src = textwrap.dedent(src).lstrip("\n")
    result = migrate(src, select=list(select) if select else None, unsafe=unsafe)
    assert result.failure is None, result.failure
    ast.parse(result.new_source)
    again = migrate(result.new_source, select=list(select) if select else None, unsafe=unsafe)
    assert again.new_source == result.new_source, "not idempotent"
    assert_no_training_in_regions(result.new_source, src)
    return result


def run(code, **ns):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a leftover `volatile` would warn
        exec(compile(code, "<migrated>", "exec"), ns)
    return ns


def model():
    torch.manual_seed(0)
    return nn.Linear(3, 2)


# -- no region the tool makes holds a training call ---------------------------------------------------
def _no_grad_item(node) -> bool:
    f = node.func if isinstance(node, ast.Call) else node
    return ast.unparse(f).endswith(("no_grad", "set_grad_enabled"))


def _regions(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(_no_grad_item(i.context_expr) for i in node.items) or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(_no_grad_item(d) for d in node.decorator_list):
            yield node


def training_calls(region) -> list:
    found = []
    for stmt in region.body:
        for sub in ast.walk(stmt):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
                f = sub.func
                if f.attr in ("backward", "zero_grad") or f.attr == "step" and not (isinstance(f.value, ast.Name) and f.value.id == "self"):
                    found.append(ast.unparse(sub))
                if f.attr == "grad" and ast.unparse(f.value).endswith("autograd"):
                    found.append(ast.unparse(sub))
    return found


def assert_no_training_in_regions(new_source, old_source=""):
    """Every no-grad region the tool added is free of backward()/step()/zero_grad()."""
    try:
        before = {ast.dump(r) for r in _regions(ast.parse(old_source))} if old_source else set()
    except SyntaxError:
        before = set()
    for region in _regions(ast.parse(new_source)):
        if ast.dump(region) in before:
            continue
        assert not training_calls(region), f"a region the tool made holds {training_calls(region)}"


# -- evaluation code: regions by default --------------------------------------------------------------
VALIDATE_METRICS = """
import torch
from torch.autograd import Variable

def validate(net, loader, criterion):
    net.eval()
    total, correct, loss_sum = 0, 0, 0.0
    for x, y in loader:
        x, y = Variable(x, volatile=True), Variable(y, volatile=True)
        out = net(x)
        loss_sum += criterion(out, y).item()
        pred = out.data.max(1)[1]
        correct += (pred == y.data).sum().item()
        total += y.size(0)
    GRAD["inside"] = out.requires_grad
    return correct / total, loss_sum
"""


def test_validate_is_decorated_by_default_and_runs_without_graph():
    r = convert(VALIDATE_METRICS, unsafe=False)
    code = r.new_source
    assert "volatile" not in code
    assert "@torch.no_grad()\ndef validate" in code
    assert all(e.fix_class is FixClass.RESTORING for e in r.edits if e.rule == "TU010")
    grad = {}
    ns = run(code, GRAD=grad)
    torch.manual_seed(3)
    loader = [(torch.randn(4, 3), torch.randint(0, 2, (4,))) for _ in range(3)]
    acc, loss = ns["validate"](model(), loader, nn.CrossEntropyLoss())
    assert grad["inside"] is False
    assert torch.is_grad_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        legacy = {}
        legacy_acc, legacy_loss = run(textwrap.dedent(VALIDATE_METRICS), GRAD=legacy)["validate"](model(), loader, nn.CrossEntropyLoss())
    assert legacy["inside"] is True  # the unmigrated code builds a graph today
    assert (acc, loss) == (legacy_acc, legacy_loss)


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


def test_returned_volatile_values_need_unsafe_and_run_without_graph():
    r = convert(EVAL_LOOP)
    assert "volatile" not in r.new_source
    ns = run(r.new_source)
    loader = [(torch.randn(4, 3), torch.randn(4, 2)) for _ in range(3)]
    outs, loss = ns["evaluate"](model(), loader)
    assert not outs.requires_grad and not loss.requires_grad
    assert torch.is_grad_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        legacy = run(textwrap.dedent(EVAL_LOOP))["evaluate"](model(), loader)
    assert legacy[0].requires_grad  # legacy code builds a graph today
    assert torch.equal(outs, legacy[0].detach())


def test_default_mode_notes_an_escaping_region_and_never_half_migrates_a_tuple():
    r = convert(EVAL_LOOP, unsafe=False)
    assert "no_grad" not in r.new_source
    assert any(n.rule == "TU010" and "no_grad" in n.message and "--unsafe" in n.message for n in r.notes)
    # `x, y = Variable(x, volatile=True), y` must not happen: the statement migrates whole
    assert "Variable(x, volatile=True), y" not in r.new_source
    assert "Variable(" not in r.new_source


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
    r = convert(SCRIPT, unsafe=False)
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
        outs.append(net(images).data)
    return outs

def train_step(net, b):
    return net(to_var(b)).sum()

if __name__ == "__main__":
    pass
"""


def test_to_var_helper_in_script():
    r = convert(TO_VAR, unsafe=False)
    code = r.new_source
    assert "volatile" not in code
    assert "def to_var(x):" in code
    ns = run(code)
    net = model()
    outs = ns["test"](net, [torch.randn(2, 3)])
    assert not outs[0].requires_grad
    assert ns["train_step"](net, torch.randn(2, 3)).requires_grad


def test_to_var_helper_in_library_keeps_signature():
    r = convert(TO_VAR.replace('if __name__ == "__main__":\n    pass\n', ""), unsafe=False)
    code = r.new_source
    assert "def to_var(x, volatile=False):" in code
    assert "volatile=volatile" not in code  # the parameter stays but has no effect
    assert "to_var(b)" in code  # the migrated call site dropped its keyword flag
    assert any(n.key == "helper_param_kept" and "the parameter is kept" in n.message for n in r.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ns = {}
        exec(code, ns)
    net = model()
    assert not ns["test"](net, [torch.randn(2, 3)])[0].requires_grad
    assert ns["to_var"](torch.randn(2), volatile=True) is not None  # external callers still work


def test_nested_helper_gets_an_edit_or_a_note():
    src = """
    import torch
    from torch.autograd import Variable

    def evaluate(net, batches):
        def var(a):
            return Variable(a, volatile=True)
        return [net(var(b)).data for b in batches]

    def other(net, xs):
        def var(a):
            return Variable(a, volatile=True)
        return list(map(var, xs))
    """
    r = convert(src, unsafe=False)
    tu010 = {e.line for e in r.edits if e.rule == "TU010"} | {n.line for n in r.notes if n.rule == "TU010"}
    for i, line in enumerate(textwrap.dedent(src).lstrip("\n").splitlines(), 1):
        if "volatile=True" in line:
            assert i in tu010 or any(abs(i - j) <= 1 for j in tu010), f"line {i} has neither an edit nor a note"
    ns = run(r.new_source) if "volatile" not in r.new_source else None
    if ns is not None:
        assert not ns["evaluate"](model(), [torch.randn(2, 3)])[0].requires_grad
    assert any(n.key == "helper_kept" for n in r.notes)  # `var` passed to map: its callers are unknown
    assert "volatile" not in r.new_source


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


@pytest.mark.parametrize("unsafe", [False, True], ids=["default", "unsafe"])
def test_dqn_target_network_gradients_match_03_bitwise(unsafe):
    r = convert(DQN, unsafe=unsafe)
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
    assert torch.equal(migrated, ref_net.weight.grad)
    assert torch.equal(net.bias.grad, ref_net.bias.grad)

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
    r = convert(src, unsafe=False)
    net = model()
    s, s2 = torch.randn(8, 3), torch.randn(8, 3)
    nxt = run(r.new_source)["step"](net, s, s2)
    assert not nxt.requires_grad
    ref = model()
    ref.zero_grad()
    q = ref(s).max(1)[0]
    ((q - 0.9 * ref(s2).max(1)[0].detach()) ** 2).mean().backward()
    assert torch.equal(net.weight.grad, ref.weight.grad)


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
    assert any(n.key == "backward" for n in r.notes)


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
    assert not any(e.rule == "TU011" for e in r.edits)  # TU010 drops `volatile=var.volatile`, TU011 does not edit it too
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
    path = ROOT / "examples" / "volatile_eval.py"
    r = convert(path.read_text(), unsafe=False)
    assert "volatile=" not in r.new_source and ".volatile" not in r.new_source
    ns = run(r.new_source, __name__="__main__")
    assert ns["RESULTS"]["eval_requires_grad"] is False
    assert ns["RESULTS"]["grad_enabled_after"] is True
    assert ns["RESULTS"]["target_requires_grad"] is False


def test_elif_branches():
    src = """
    import torch
    from torch.autograd import Variable

    def f(net, x, mode, log):
        log.flush_all()
        v = Variable(x, volatile=True)
        if mode == 1:
            out = net(v)
        elif mode == 2:
            out = net(v) * 2
        else:
            raise ValueError(mode)
        return out.data
    """
    r = convert(src, unsafe=False)
    assert r.new_source.count("with torch.no_grad():") == 2
    assert "with torch.no_grad():\n            with" not in r.new_source
    ns = run(r.new_source)
    assert not ns["f"](model(), torch.randn(2, 3), 2, _Log()).requires_grad


# -- the shape of regions -------------------------------------------------------------------------
def test_region_around_the_whole_loop_and_not_its_neutral_edges():
    src = """
    import torch
    from torch.autograd import Variable

    def test(net, loader, log):
        meter = log.meter()
        net.eval()
        correct = 0
        for x, y in loader:
            x = Variable(x, volatile=True)
            out = net(x)
            correct += out.data.max(1)[1].eq(y).sum()
        log.save(correct)
    """
    r = convert(src, unsafe=False, select=("TU010",))
    assert r.new_source.count("with torch.no_grad():") == 1
    assert "        with torch.no_grad():\n            for x, y in loader:" not in r.new_source
    assert "    with torch.no_grad():\n        for x, y in loader:\n" in r.new_source
    assert "    correct = 0\n    with torch.no_grad()" in r.new_source  # counters stay outside
    assert "    log.save(correct)" in r.new_source  # unknown calls stay outside


def test_backslash_continuation_comments_and_blank_lines_survive():
    src = (
        "import torch\n"
        "from torch.autograd import Variable\n"
        "\n"
        "def run(net, x, opt):\n"
        "    v = Variable(x, volatile=True)\n"
        "    # the forward pass\n"
        "    h = net(v) + \\\n"
        "        net(v * 2)  # twice\n"
        "\n"
        "    s = (h.sum() +\n"
        "  h.mean())\n"
        "    opt.zero_grad()\n"
        "    return s.data\n"
    )
    r = migrate(src, select=["TU010"])
    assert r.new_source == (
        "import torch\n"
        "from torch.autograd import Variable\n"
        "\n"
        "def run(net, x, opt):\n"
        "    v = Variable(x)\n"
        "    # the forward pass\n"
        "    with torch.no_grad():\n"
        "        h = net(v) + \\\n"
        "            net(v * 2)  # twice\n"
        "\n"
        "        s = (h.sum() +\n"
        "      h.mean())\n"
        "    opt.zero_grad()\n"
        "    return s.data\n"
    )
    again = migrate(r.new_source, select=["TU010"])
    assert again.new_source == r.new_source


def test_no_region_holds_a_training_call_in_examples():
    for ex in VolatileNoGrad.examples:
        r = migrate(ex.before_code, select=["TU010", *ex.also], unsafe=ex.unsafe)
        assert_no_training_in_regions(r.new_source, ex.before_code)
        r = migrate(ex.before_code, unsafe=True)  # every rule
        assert_no_training_in_regions(r.new_source, ex.before_code)


def test_training_code_next_to_a_volatile_forward_never_gets_a_region_around_it():
    src = """
    import torch
    from torch.autograd import Variable

    def train(net, opt, loader, crit):
        for x, y in loader:
            baseline = net(Variable(x, volatile=True)).data
            out = net(Variable(x))
            loss = crit(out, Variable(y)) - baseline.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    """
    r = convert(src, unsafe=True)
    assert "with torch.no_grad():\n            baseline" in r.new_source


# -- the idempotence defect (issue 11, defect 10) ---------------------------------------------------
@pytest.mark.parametrize("unsafe", [False, True], ids=["default", "unsafe"])
def test_one_run_reaches_the_fixed_point_with_data_rewritten_to_detach(unsafe):
    src = "from torch.autograd import Variable\n\ndef f(prev_out, project):\n    sampled = project(Variable(prev_out, volatile=True).data)\n    return sampled\n"
    first = migrate(src, unsafe=unsafe)
    second = migrate(first.new_source, unsafe=unsafe)
    assert second.new_source == first.new_source
    assert "no_grad" not in first.new_source  # `.data` is a plain value in 0.3: no region
    assert "volatile" not in first.new_source


# -- helpers of other modules (project index) ----------------------------------------------------------
def _project(tmp_path, files):
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))
    paths = sorted(str(p) for p in tmp_path.rglob("*.py"))
    index = ProjectIndex.build(paths)
    out = {}
    for path in paths:
        src = Path(path).read_text()
        r = migrate(src, path=path, project=index, select=["TU010"])
        assert r.failure is None, r.failure
        again = migrate(r.new_source, path=path, project=index, select=["TU010"])
        assert again.new_source == r.new_source, f"{path}: not idempotent"
        assert_no_training_in_regions(r.new_source, src)
        out[os.path.relpath(path, tmp_path)] = r
    return out


UTILS = """
import torch
from torch.autograd import Variable


def to_var(x, volatile=False):
    if torch.cuda.is_available():
        x = x.cuda()
    return Variable(x, volatile=volatile)
"""

EVALUATE = """
from pkg.utils import to_var
from pkg import utils


def evaluate(net, batches):
    correct = 0
    for x, y in batches:
        out = net(to_var(x, volatile=True))
        correct += (out.data.max(1)[1] == y).sum()
    return correct


def predict(net, x):
    return net(utils.to_var(x, True)).data
"""

TRAIN = """
from .utils import to_var


def step(net, opt, x, y):
    loss = ((net(to_var(x)) - to_var(y)) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss
"""


def _load(tmp_path, results, monkeypatch):
    for rel, r in results.items():
        (tmp_path / rel).write_text(r.new_source)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    for mod in [m for m in list(__import__("sys").modules) if m == "pkg" or m.startswith("pkg.")]:
        del __import__("sys").modules[mod]
    return importlib.import_module("pkg.evaluate"), importlib.import_module("pkg.train")


def test_cross_module_helper_moves_the_region_and_loses_its_parameter(tmp_path, monkeypatch):
    out = _project(tmp_path, {"pkg/__init__.py": "", "pkg/utils.py": UTILS, "pkg/evaluate.py": EVALUATE, "pkg/train.py": TRAIN})
    ev, utils = out[os.path.join("pkg", "evaluate.py")], out[os.path.join("pkg", "utils.py")]
    assert "@torch.no_grad()\ndef evaluate" in ev.new_source and "@torch.no_grad()\ndef predict" in ev.new_source
    assert "to_var(x))" in ev.new_source and "utils.to_var(x))" in ev.new_source
    assert "def to_var(x):" in utils.new_source and "volatile" not in utils.new_source
    assert not out[os.path.join("pkg", "train.py")].changed
    evaluate, train = _load(tmp_path, out, monkeypatch)
    net = model()
    batches = [(torch.randn(4, 3), torch.randint(0, 2, (4,)))]
    assert isinstance(evaluate.evaluate(net, batches), torch.Tensor)
    assert not evaluate.predict(net, torch.randn(2, 3)).requires_grad
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    assert train.step(net, opt, torch.randn(2, 3), torch.randn(2, 2)).requires_grad


def test_cross_module_helper_keeps_its_parameter_when_a_call_site_is_not_migrated(tmp_path, monkeypatch):
    broken = TRAIN.replace("loss = ((net(to_var(x))", "loss = ((net(to_var(x, volatile=True))")  # reaches backward()
    out = _project(tmp_path, {"pkg/__init__.py": "", "pkg/utils.py": UTILS, "pkg/evaluate.py": EVALUATE, "pkg/train.py": broken})
    utils, ev, tr = (out[os.path.join("pkg", f)] for f in ("utils.py", "evaluate.py", "train.py"))
    assert "def to_var(x, volatile=False):" in utils.new_source
    assert any(n.key == "helper_param_kept" and "pkg.train" in n.message for n in utils.notes)
    # the migrated call sites drop the flag (keyword, or last positional with a literal default):
    # the parameter stays and takes its default
    assert "net(to_var(x))" in ev.new_source and "utils.to_var(x))" in ev.new_source
    assert "to_var(x, volatile=True)" in tr.new_source and any(n.key == "backward" for n in tr.notes)
    evaluate, _ = _load(tmp_path, out, monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not evaluate.predict(model(), torch.randn(2, 3)).requires_grad


def test_cross_module_helper_keeps_its_parameter_for_a_positional_flag_before_others(tmp_path):
    utils = UTILS.replace("def to_var(x, volatile=False):", "def to_var(x, volatile=False, cuda=True):")
    caller = """
    from pkg.utils import to_var


    def predict(net, x):
        return net(to_var(x, True, False)).data


    def score(net, x):
        return net(to_var(x, volatile=True)).data.max()
    """
    out = _project(tmp_path, {"pkg/__init__.py": "", "pkg/utils.py": utils, "pkg/caller.py": caller})
    u, c = out[os.path.join("pkg", "utils.py")], out[os.path.join("pkg", "caller.py")]
    assert "def to_var(x, volatile=False, cuda=True):" in u.new_source
    assert any("positionally before other arguments" in n.message for n in u.notes)
    assert "to_var(x, True, False)" in c.new_source and "to_var(x))" in c.new_source
    assert c.new_source.count("@torch.no_grad()") == 2
    assert any(n.key == "arg_kept" for n in c.notes)


def test_cross_module_positional_flag_in_a_file_that_never_says_volatile(tmp_path):
    """TU010 only reads files that mention volatile: such a caller is not migrated, so the
    helper keeps its parameter (the call would break otherwise)."""
    caller = """
    from pkg.utils import to_var


    def predict(net, x):
        return net(to_var(x, True)).data
    """
    out = _project(tmp_path, {"pkg/__init__.py": "", "pkg/utils.py": UTILS, "pkg/caller.py": caller})
    u, c = out[os.path.join("pkg", "utils.py")], out[os.path.join("pkg", "caller.py")]
    assert not c.changed
    assert "def to_var(x, volatile=False):" in u.new_source
    assert any("pkg.caller" in n.message for n in u.notes)


def test_cross_module_helper_passed_as_a_value_keeps_its_parameter(tmp_path):
    caller = """
    from pkg.utils import to_var


    def predict(net, x):
        return net(to_var(x, volatile=True)).data


    CONVERT = to_var
    """
    out = _project(tmp_path, {"pkg/__init__.py": "", "pkg/utils.py": UTILS, "pkg/caller.py": caller})
    u, c = out[os.path.join("pkg", "utils.py")], out[os.path.join("pkg", "caller.py")]
    assert "def to_var(x, volatile=False):" in u.new_source
    assert any("used other than by plain calls" in n.message for n in u.notes)
    assert "net(to_var(x)).data" in c.new_source and "@torch.no_grad()" in c.new_source


def test_without_a_project_index_a_caller_of_another_module_is_left_alone():
    src = textwrap.dedent(EVALUATE).lstrip("\n")
    r = migrate(src, path="pkg/evaluate.py", select=["TU010"])
    assert not r.changed


# -- the corpus --------------------------------------------------------------------------------------
_INDEXES = {}


def _volatile_files():
    if not CORPUS.is_dir():
        pytest.skip("no legacy corpus (run scripts/corpus_report.py once to fetch it)")
    by_package = {}
    for pkg in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        paths = sorted(str(p) for p in pkg.rglob("*.py"))
        chosen = [p for p in paths if b"volatile" in Path(p).read_bytes()]
        if chosen:
            by_package[pkg.name] = (paths, chosen)
    return by_package


def _index(name, paths):
    if name not in _INDEXES:  # built once for the test module (the corpus does not change)
        _INDEXES[name] = ProjectIndex.build(paths)
    return _INDEXES[name]


@pytest.mark.corpus
@pytest.mark.parametrize("project", [False, True], ids=["files", "project"])
@pytest.mark.parametrize("unsafe", [False, True], ids=["default", "unsafe"])
def test_corpus_volatile_files_fixed_point_and_no_training_in_regions(unsafe, project):
    """The corpus files that mention volatile: one run reaches the fixed point, the output
    parses, no region the tool made holds backward()/step()/zero_grad(), and every TU010 note
    has one of the rule's keys."""
    # the volatile rules and TU001 (every rule over the whole corpus: tests/test_corpus.py)
    select = ["TU010", "TU011", "TU001"]
    for name, (paths, chosen) in _volatile_files().items():
        index = _index(name, paths) if project else None
        for path in chosen:
            data = Path(path).read_bytes()
            r = migrate(data, path=path, unsafe=unsafe, project=index, select=select)
            if r.failure:
                assert r.failure.kind == "syntax", (path, r.failure)
                continue
            for n in r.notes:
                if n.rule == "TU010":
                    assert n.key in VolatileNoGrad.messages or n.key == "unproven", (path, n)
            new = r.new_source
            ast.parse(new)
            assert_no_training_in_regions(new.decode(), data.decode())
            again = migrate(new, path=path, unsafe=unsafe, project=index, select=select)
            assert not again.changed, f"{path}: a second run changes it"


def test_suppression_comment_and_code_already_under_no_grad():
    src = """
    import torch
    from torch.autograd import Variable

    def a(net, x):
        v = Variable(x, volatile=True)  # torchupgrade: ignore[TU010]
        return net(v).data

    def b(net, x):
        with torch.no_grad():
            out = net(Variable(x, volatile=True))
        return out.data

    @torch.no_grad()
    def c(net, x):
        return net(Variable(x, volatile=True)).data
    """
    r = convert(src, unsafe=False, select=("TU010",))
    code = r.new_source
    assert "v = Variable(x, volatile=True)  # torchupgrade: ignore[TU010]" in code
    assert code.count("no_grad") == 2  # nothing added
    assert code.count("volatile=True") == 1
    assert all(e.fix_class is FixClass.EXACT for e in r.edits)


@pytest.mark.parametrize("order", ["callers first", "helper first"])
def test_cross_module_files_written_in_any_order_stay_consistent(tmp_path, monkeypatch, order):
    """Files are migrated one by one (in parallel workers) and written as they come: whichever
    is written first, the result is the same (the index judges the callers from the text it
    read, not from files already rewritten), and the code runs."""
    files = {"pkg/__init__.py": "", "pkg/utils.py": UTILS, "pkg/evaluate.py": EVALUATE, "pkg/train.py": TRAIN}
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))
    paths = sorted(str(p) for p in tmp_path.rglob("*.py"))
    index = ProjectIndex.build(paths)
    if order == "helper first":
        paths = sorted(paths, key=lambda p: not p.endswith("utils.py"))
    else:
        paths = sorted(paths, key=lambda p: p.endswith("utils.py"))
    for path in paths:
        r = migrate(Path(path).read_text(), path=path, project=index, select=["TU010"])
        assert r.failure is None
        Path(path).write_text(r.new_source)
    utils = (tmp_path / "pkg" / "utils.py").read_text()
    evaluate_src = (tmp_path / "pkg" / "evaluate.py").read_text()
    assert "to_var(x, volatile=True)" not in evaluate_src and "to_var(x, True)" not in evaluate_src
    assert "def to_var(x):" in utils
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib
    import sys

    for mod in [m for m in list(sys.modules) if m == "pkg" or m.startswith("pkg.")]:
        del sys.modules[mod]
    evaluate = importlib.import_module("pkg.evaluate")
    assert not evaluate.predict(model(), torch.randn(2, 3)).requires_grad


def test_match_cases_get_their_own_regions():
    src = """
    import torch
    from torch.autograd import Variable

    def f(net, x, mode):
        match mode:
            case "eval":
                out = net(Variable(x, volatile=True))
                print(out.data)
            case _:
                loss = net(x).sum()
                loss.backward()
    """
    r = convert(src, unsafe=False, select=("TU010",))
    assert '        case "eval":\n            with torch.no_grad():\n                out = net(Variable(x))\n' in r.new_source


def test_grad_free_rewraps_and_constructor_aliases_do_not_split_the_region():
    """`Variable(out.data)` and `Variable(Tensor(3, 4).fill_(0))` (a module-level constructor
    alias) compute nothing that needs gradients: the evaluation function gets one decorator, not
    a region per statement."""
    src = """
    import torch
    from torch.autograd import Variable

    Tensor = torch.cuda.FloatTensor if torch.cuda.is_available() else torch.FloatTensor

    def evaluate(model, loader):
        for data, target in loader:
            data = Variable(data, volatile=True)
            out = model(data)
            h = Variable(out.data)
            z = Variable(Tensor(3, 4).fill_(0))
            probs = out.exp()
            print(probs, h, z)
    """
    code = migrate(textwrap.dedent(src)).new_source
    assert code.count("no_grad") == 1 and "@torch.no_grad()\ndef evaluate" in code
    assert "Variable" not in code
