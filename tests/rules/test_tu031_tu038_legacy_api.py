"""TU031-TU038: original and migrated code executed under torch 2.13, values compared bitwise.

The original runs with warnings ignored (it warns, that is the point); the migrated code runs
with every warning turned into an error.
"""
import inspect
import textwrap
import warnings

import pytest

from torchupgrade.codemods import migrate
from torchupgrade.codemods.torchapi import LOSS_PARAMS

torch = pytest.importorskip("torch")
import torch.nn as nn  # noqa: E402

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def run(src, seed=0, strict=False, **env):
    ns = dict(env)
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error" if strict else "ignore")
        exec(src, ns)
    return ns


def migrated(src, select=None, unsafe=False):
    r = migrate(src, select=select, unsafe=unsafe)
    assert r.failure is None, r.failure
    again = migrate(r.new_source, select=select, unsafe=unsafe)
    assert again.new_source == r.new_source, "second run changed the output"
    return r


def same(a, b):
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    return a == b


def check(body, names=("out",), select=None, unsafe=False, **env):
    """Run the legacy code and its migration; every name in ``names`` must be bitwise equal."""
    src = HEADER + textwrap.dedent(body)
    r = migrated(src, select=select, unsafe=unsafe)
    assert r.changed, "expected a rewrite"
    before = run(src, **{k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in env.items()})
    after = run(r.new_source, strict=True, **{k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in env.items()})
    for n in names:
        assert same(before[n], after[n]), (n, r.new_source)
    return r


# -- TU033 loss reduction ---------------------------------------------------------------------
def test_loss_table_matches_torch_signatures():
    for q, params in LOSS_PARAMS.items():
        obj = eval(q, {"torch": torch})
        sig = inspect.signature(obj.__init__ if isinstance(obj, type) else obj)
        names = [p for p in sig.parameters if p != "self"]
        assert tuple(names[: len(params)]) == params, q


N, C = 4, 3
_x = torch.randn(N, C, generator=torch.Generator().manual_seed(0))
_t = torch.tensor([0, 2, 1, 0])  # fixed: a batch of only ignore_index (1) would make the weighted mean NaN
COMBOS = [(None, None), (True, None), (False, None), (None, True), (None, False), (True, True), (True, False), (False, True), (False, False)]


@pytest.mark.parametrize("sa, rd", [c for c in COMBOS if c != (None, None)])
@pytest.mark.parametrize("form", ["module_kw", "functional_kw", "module_positional", "functional_positional"])
def test_size_average_reduce_table(sa, rd, form):
    kw = ", ".join(f"{k}={v}" for k, v in (("size_average", sa), ("reduce", rd)) if v is not None)
    if form == "module_kw":
        body = f"out = nn.CrossEntropyLoss(weight=w, {kw}, ignore_index=1)(x, t)\nm = nn.MSELoss({kw})(x, y)\n"
    elif form == "functional_kw":
        body = f"out = F.nll_loss(F.log_softmax(x, 1), t, {kw})\nm = F.smooth_l1_loss(x, y, {kw})\n"
    elif form == "module_positional":  # (weight, size_average, ignore_index, reduce)
        body = f"out = nn.NLLLoss(w, {sa}, 1, {rd})(F.log_softmax(x, 1), t)\nm = nn.PoissonNLLLoss(True, False, {sa}, 1e-8, {rd})(x, y)\n"
    else:
        body = f"out = F.cross_entropy(x, t, w, {sa}, 2, {rd})\nm = F.triplet_margin_loss(x, y, x.flip(0), 1.0, 2, 1e-6, False, {sa}, {rd})\n"
    r = check(body, names=("out", "m"), select=["TU033"], x=_x, y=torch.randn(N, C), t=_t, w=torch.tensor([1.0, 2.0, 3.0]))
    assert "size_average" not in r.new_source and "reduce=" not in r.new_source


def test_mse_positional_false_is_sum_and_ignored_reduction_is_replaced():
    r = check("out = nn.MSELoss(False)(x, y)\no2 = F.l1_loss(x, y, size_average=False, reduction='mean')\n",
              names=("out", "o2"), select=["TU033"], x=_x, y=torch.randn(N, C))
    assert "reduction='sum'" in r.new_source and "'mean'" not in r.new_source


def test_elementwise_mean():
    check("out = F.mse_loss(x, y, reduction='elementwise_mean')\n", select=["TU033"], x=_x, y=torch.randn(N, C))


# -- TU034 scalar-first overloads --------------------------------------------------------------
OVERLOADS = [
    "out = a.clone(); out.add_(0.3, b)",
    "out = a.clone(); out.sub_(-2, b)",
    "out = torch.add(a, 0.3, b)",
    "out = torch.sub(a, 0.3, b)",
    "out = a.clone(); out.addcmul_(0.3, b, c)",
    "out = a.clone(); out.addcdiv_(0.3, b, c)",
    "out = a.addcmul(0.3, b, c)",
    "out = torch.addcmul(a, 0.3, b, c)",
    "out = torch.addcdiv(a, 0.3, b, c)",
    "out = M.clone(); out.addmm_(0.5, 2.0, A, B)",
    "out = M.clone(); out.addmm_(0.5, A, B)",
    "out = M.addmm(0.5, 2.0, A, B)",
    "out = torch.addmm(0.5, M, 2.0, A, B)",
    "out = torch.addmm(0.5, M, A, B)",
    "out = v.clone(); out.addmv_(0.5, 2.0, A, v)",
    "out = torch.addmv(0.5, v, 2.0, A, v)",
    "out = M.clone(); out.addr_(0.5, 2.0, v, v)",
    "out = torch.addr(0.5, M, v, v)",
    "out = bM.clone(); out.baddbmm_(0.5, 2.0, b1, b2)",
    "out = torch.baddbmm(0.5, bM, 2.0, b1, b2)",
    "out = M.clone(); out.addbmm_(0.5, 2.0, b1, b2)",
    "out = a.clone(); out.add_(torch.tensor(2.0), b)",
    "out = a.data.add(0.3, b)",
]


@pytest.mark.parametrize("body", OVERLOADS)
def test_deprecated_overloads_bitwise(body):
    env = dict(a=torch.randn(3), b=torch.randn(3), c=torch.rand(3) + 0.5, M=torch.randn(2, 2), A=torch.randn(2, 2),
               B=torch.randn(2, 2), v=torch.randn(2), bM=torch.randn(1, 2, 2), b1=torch.randn(1, 2, 2), b2=torch.randn(1, 2, 2))
    check(body + "\n", select=["TU034"], **env)


def test_ambiguous_add_needs_unsafe_unless_receiver_is_a_tensor():
    src = "meter.add(loss, n)\nx.add(1, y)\n"
    r = migrate(src, select=["TU034"])
    assert not r.changed and len(r.notes) == 1 and r.notes[0].line == 2
    r = migrate(src, select=["TU034"], unsafe=True)
    assert r.new_source == "meter.add(loss, n)\nx.add(y, alpha=1)\n"


def test_sgd_step_with_deprecated_overloads_matches():
    body = """
    p = torch.nn.Parameter(w0.clone())
    buf = torch.zeros(4)
    for _ in range(3):
        loss = (p * p).sum()
        loss.backward()
        d_p = p.grad.data
        d_p.add_(1e-4, p.data)
        buf.mul_(0.9).add_(1 - 0.9, d_p)
        p.data.add_(-0.1, buf)
        p.grad.data.zero_()
    out = p.data
    """
    check(body, select=["TU034"], w0=torch.randn(4))


# -- TU031 / TU032 renames ---------------------------------------------------------------------
def test_init_functions_same_values():
    body = """
    from torch.nn.init import orthogonal
    w = torch.empty(4, 5)
    nn.init.xavier_uniform(w, gain=2.0); a = w.clone()
    nn.init.kaiming_normal(w, mode='fan_out'); b = w.clone()
    nn.init.constant(w, 0.3); c = w.clone()
    orthogonal(w); d = w.clone()
    nn.init.normal(w, 0, 0.1); e = w.clone()
    nn.init.uniform(w, -1, 1); f = w.clone()
    nn.init.sparse(w, 0.5); g = w.clone()
    nn.init.eye(w); h = w.clone()
    k = torch.empty(3, 3, 3); nn.init.dirac(k)
    nn.init.xavier_normal(w); i = w.clone()
    nn.init.kaiming_uniform(w); j = w.clone()
    """
    check(body, names=tuple("abcdefghijk"), select=["TU031"])


def test_clip_grad_norm_nllloss2d_sigmoid_tanh():
    body = """
    from torch.nn.utils import clip_grad_norm
    lin = nn.Linear(3, 2)
    lin(x).pow(2).sum().backward()
    out = clip_grad_norm(lin.parameters(), 0.1)
    g = lin.weight.grad.clone()
    loss = nn.NLLLoss2d(ignore_index=1)(F.log_softmax(img, 1), tgt)
    s = F.sigmoid(x) + F.tanh(x)
    """
    check(body, names=("out", "g", "loss", "s"), select=["TU031"], x=torch.randn(4, 3),
          img=torch.randn(2, 3, 4, 4), tgt=torch.randint(0, 3, (2, 4, 4)))


@pytest.mark.parametrize("call", [
    "F.upsample(x, scale_factor=2)",
    "F.upsample(x, size=(7, 5), mode='nearest')",
    "F.upsample(x, None, 2, 'bilinear', True)",
    "F.upsample_bilinear(x, scale_factor=2)",
    "F.upsample_bilinear(x, (6, 7))",
    "F.upsample_nearest(x, scale_factor=3)",
    "F.upsample_nearest(x, size=(5, 9))",
])
def test_upsample_bitwise(call):
    r = check(f"out = {call}\n", select=["TU032"], x=torch.randn(1, 2, 4, 4))
    assert "upsample" not in r.new_source


def test_align_corners_restores_legacy_bilinear():
    """A restoring fix, applied by default: the migrated code computes what 0.3 computed."""
    src = HEADER + "out = F.upsample(x, scale_factor=2, mode='bilinear')\n"
    r = migrated(src, select=["TU032"])
    assert any(e.fix_class == "restoring" for e in r.edits)
    assert "align_corners=True" in r.new_source
    x = torch.randn(1, 2, 4, 4)
    after = run(r.new_source, strict=True, x=x)["out"]
    # 0.3's bilinear upsampling is what UpsamplingBilinear2d (align_corners=True) still computes
    assert torch.equal(after, nn.UpsamplingBilinear2d(scale_factor=2)(x))


# -- TU035 softmax -------------------------------------------------------------------------------
@pytest.mark.parametrize("ndim", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
def test_implicit_softmax_dim_exact_form(ndim, fn):
    shape = [3] * ndim
    r = check(f"out = F.{fn}(x)\n", select=["TU035"], x=torch.randn(*shape) if shape else torch.randn(()))
    assert "dim=" in r.new_source


@pytest.mark.parametrize("view", ["x.view(-1)", "x.view(2, -1)", "x.view(2, 3, -1)", "x.view((2, 3, 2, -1))", "x.reshape(2, 12)"])
def test_implicit_softmax_dim_from_visible_rank(view):
    r = check(f"out = F.softmax({view})\n", select=["TU035"], x=torch.randn(2, 3, 4))
    assert ".dim()" not in r.new_source


@pytest.mark.parametrize("call, dim", [("torch.mv(w, v)", 0), ("torch.mm(w, w.t())", 1), ("torch.bmm(b, b)", 0), ("torch.ger(v, v)", 1)])
def test_implicit_softmax_dim_of_fixed_rank_products(call, dim):
    """mv/mm/bmm/ger give one rank whatever their inputs: the dim is exact (a 1-D mv result gets
    dim=0, not the dim=1 that raises on it)."""
    r = check(f"out = F.softmax({call})\n", select=["TU035"], w=torch.randn(3, 3), v=torch.randn(3), b=torch.randn(2, 3, 3))
    assert f"dim={dim})" in r.new_source


# -- TU037 / TU038 -------------------------------------------------------------------------------
def test_retain_variables_and_autograd_backward_keywords():
    body = """
    w = torch.ones(3, requires_grad=True)
    y = (w * x).sum()
    y.backward(retain_variables=True)
    y.backward()
    torch.autograd.backward(variables=[(w * x).sum()], grad_variables=[torch.tensor(2.0)])
    out = w.grad
    """
    src = HEADER + textwrap.dedent(body)
    with pytest.raises(TypeError):
        run(src, x=torch.randn(3))
    r = migrated(src, select=["TU037"])
    ns = run(r.new_source, strict=True, x=torch.arange(3.0))
    assert torch.equal(ns["out"], 4 * torch.arange(3.0))


def test_saved_variables():
    body = """
    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_variables
            return 2 * x * g

    x = torch.randn(3, requires_grad=True)
    Square.apply(x).sum().backward()
    out = x.grad
    """
    check(body, select=["TU038"])


# -- everything together -------------------------------------------------------------------------
def test_all_rules_together_keep_values():
    body = """
    from torch.autograd import Variable
    lin = nn.Linear(4, 3)
    nn.init.xavier_uniform(lin.weight)
    x = Variable(torch.randn(5, 4))
    t = Variable(torch.LongTensor([0, 1, 2, 0, 1]))
    h = F.tanh(lin(x))
    p = F.log_softmax(h)
    out = nn.NLLLoss(size_average=False)(p, t)
    out.backward()
    nn.utils.clip_grad_norm(lin.parameters(), 1.0)
    lin.weight.data.add_(-0.1, lin.weight.grad.data)
    w = lin.weight.data
    """
    check(body, names=("out", "w"))
