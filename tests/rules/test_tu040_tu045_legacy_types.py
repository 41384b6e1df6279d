"""TU040-TU045 executed under torch 2.13: the migrated code (warnings as errors) against the
original where it runs, else against what PyTorch 0.3 computed (a direct implementation)."""
import textwrap
import warnings

import pytest

from torchupgrade.codemods import migrate

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")
import torch.nn as nn  # noqa: E402

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport numpy as np\n"


def run(src, seed=0, strict=False, **env):
    ns = dict(env)
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error" if strict else "ignore")
        exec(src, ns)
    return ns


def migrated(src, select, unsafe=False):
    r = migrate(src, select=select, unsafe=unsafe)
    assert r.failure is None, r.failure
    assert r.changed, f"expected a rewrite of {src!r}"
    assert migrate(r.new_source, select=select, unsafe=unsafe).new_source == r.new_source
    return r


def same(a, b):
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and a.device == b.device and torch.equal(a, b)
    return type(a) is type(b) and a == b


def check(body, select, names=("out",), unsafe=False, **env):
    src = HEADER + textwrap.dedent(body)
    r = migrated(src, select, unsafe)
    before = run(src, **env)
    after = run(r.new_source, strict=True, **env)
    for n in names:
        assert same(before[n], after[n]), (n, before[n], after[n], r.new_source)
    return r


# -- TU040 legacy constructors ----------------------------------------------------------------------
TYPES = ["Float", "Double", "Half", "BFloat16", "Byte", "Char", "Short", "Int", "Long", "Bool"]
FLOATS = ["Float", "Double", "Half", "BFloat16"]


@pytest.mark.parametrize("t", TYPES)
def test_constructor_sizes_and_data(t):
    body = f"""
    n = 3
    a = torch.{t}Tensor(2, 3).zero_()
    b = torch.{t}Tensor(3).zero_().shape
    c = torch.{t}Tensor([1, 0, 1])
    d = torch.{t}Tensor([[1, 0], [0, 1]])
    e = torch.{t}Tensor()
    f = torch.{t}Tensor(len([1, 2]), x.size(0)).fill_(1)
    g = torch.{t}Tensor([v for v in range(2)])
    h = torch.{t}Tensor(x.size()).zero_()
    """
    r = check(body, ["TU040"], names="abcdefgh", x=torch.randn(4, 5))
    assert "Tensor(" not in r.new_source


@pytest.mark.parametrize("t", FLOATS)
def test_fused_random_fills_consume_the_same_numbers(t):
    body = f"""
    a = torch.{t}Tensor(4, 3).normal_()
    b = torch.{t}Tensor(4, 3).uniform_()
    c = torch.{t}Tensor(5).normal_(0, 0.02)
    d = torch.{t}Tensor(2, 2).normal_(mean=1.0, std=2)
    e = torch.{t}Tensor(3, 3).uniform_(-0.1, 0.1)
    f = torch.{t}Tensor(2).fill_(0.5)
    """
    r = check(body, ["TU040"], names="abcdef")
    assert "Tensor(" not in r.new_source and "randn" in r.new_source and "torch.normal(" in r.new_source


def test_default_type_follows_the_default_dtype():
    body = """
    torch.set_default_dtype(torch.float64)
    a = torch.Tensor(2, 3).zero_()
    b = torch.Tensor([1, 2])
    c = torch.Tensor([0.5, 1.5])
    d = torch.Tensor(3).fill_(2)
    e = torch.Tensor(4).normal_()
    torch.set_default_dtype(torch.float32)
    """
    check(body, ["TU040"], names="abcde")


def test_list_data_casts_like_the_constructor():
    body = """
    a = torch.LongTensor([1.7, -1.7])
    b = torch.ByteTensor([-1, 2])
    c = torch.FloatTensor([x[0], x[1]])
    d = torch.LongTensor(range(4))
    e = torch.FloatTensor([[True, False]])
    """
    check(body, ["TU040"], names="abcde", x=torch.randn(3, requires_grad=True))


def test_unsafe_starred_sizes_and_parameters():
    body = """
    size = [2, 3]
    a = torch.LongTensor(*size).fill_(0)
    p = nn.Parameter(torch.Tensor(3, 4).normal_())
    out = p.detach()
    """
    check(body, ["TU040"], names=("a", "out"), unsafe=True)


# -- TU041 tensor type objects --------------------------------------------------------------------------
def test_type_conversions_are_exact_on_tensors():
    body = """
    a = torch.from_numpy(arr).type(torch.FloatTensor)
    b = torch.randn(3).type('torch.DoubleTensor')
    w = torch.randn(3, requires_grad=True)
    c = w.clone().type(torch.LongTensor)
    d = w.clone().type(torch.DoubleTensor)
    same_object = (lambda t: t.view(3).type(torch.FloatTensor))(torch.ones(3))
    out = (d.grad_fn is not None, d.requires_grad)
    """
    r = check(body, ["TU041"], names=("a", "b", "c", "d", "out"), arr=np.arange(4.0))
    assert ".type(" not in r.new_source


def test_type_comparison_restores_the_03_branch():
    """On 0.3, type(x) == torch.FloatTensor was True for a float CPU tensor; today it is False."""
    body = """
    def describe(x):
        if type(x) == torch.FloatTensor:
            return 'float'
        if type(x) in (torch.LongTensor, torch.cuda.LongTensor):
            return 'long'
        return 'other' if type(x) is not torch.DoubleTensor else 'double'
    out = [describe(torch.zeros(2)), describe(torch.zeros(2).long()), describe(torch.zeros(2).double()), describe(np.zeros(2))]
    """
    src = HEADER + textwrap.dedent(body)
    assert run(src)["out"] == ["other", "other", "other", "other"]  # today: never a tensor type
    r = migrated(src, ["TU041"])
    assert {e.fix_class for e in r.edits} == {"restoring"}
    assert run(r.new_source, strict=True)["out"] == ["float", "long", "double", "other"]  # what 0.3 answered


# -- TU042 torch.range ------------------------------------------------------------------------------
RANGES = [
    "0, 9", "1, 10, 3", "10, 0, -2", "-5, 5", "0, 7, 7", "3, 3", "0, 1, 0.25", "0.5, 3.2", "-2, 2, 0.5",
    "1, 0, -0.125", "2, -3, -0.5", "0.75, 100, 1.5",
]
# steps that are not binary fractions: same element count, values equal up to the last bit
INEXACT_RANGES = ["0, 1, 0.1", "0, 0.3, 0.1", "0, 0.7, 0.1", "0, 1, 0.3", "-1, 1, 0.1", "0, 2.1, 0.7", "1, 0, -0.1", "0, 100, 0.01"]


@pytest.mark.parametrize("args", RANGES)
def test_range_to_arange_bitwise(args):
    r = check(f"out = torch.range({args})\n", ["TU042"])
    assert "torch.range" not in r.new_source and {e.fix_class for e in r.edits} == {"exact"}


@pytest.mark.parametrize("args", INEXACT_RANGES)
def test_range_with_decimal_steps_needs_unsafe(args):
    src = HEADER + f"out = torch.range({args})\n"
    r = migrate(src, select=["TU042"])
    assert not r.changed and [n.key for n in r.notes] == ["unproven"]
    r = migrated(src, ["TU042"], unsafe=True)
    before, after = run(src)["out"], run(r.new_source, strict=True)["out"]
    assert before.shape == after.shape and before.dtype == after.dtype
    assert torch.allclose(before, after, rtol=1e-6, atol=1e-7)


def test_range_with_integer_expressions_and_dtype():
    body = """
    out = torch.range(0, x.size(0) - 1).view(-1, 1)
    n = torch.range(1, len(xs), 2, dtype=torch.float64)
    m = torch.range(0, x.size(1) - 1).long()
    """
    check(body, ["TU042"], names=("out", "n", "m"), x=torch.randn(5, 3), xs=[1, 2, 3, 4])


def test_range_default_dtype_kept():
    body = "torch.set_default_dtype(torch.float64)\nout = torch.range(0, 4)\ntorch.set_default_dtype(torch.float32)\n"
    check(body, ["TU042"])


# -- TU043 grid_sample / affine_grid ------------------------------------------------------------------
def _bilinear_03(img, grid):
    """grid_sample as PyTorch 0.3 computed it: -1 and 1 are the centres of the corner pixels,
    zero padding (a direct numpy implementation of that convention)."""
    n, c, h, w = img.shape
    out = np.zeros((n, c) + grid.shape[1:3])
    for b in range(n):
        for i in range(grid.shape[1]):
            for j in range(grid.shape[2]):
                x = (grid[b, i, j, 0] + 1) / 2 * (w - 1)
                y = (grid[b, i, j, 1] + 1) / 2 * (h - 1)
                x0, y0 = int(np.floor(x)), int(np.floor(y))
                for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
                    for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
                        if 0 <= yy < h and 0 <= xx < w:
                            out[b, :, i, j] += wy * wx * img[b, :, yy, xx]
    return out


def test_grid_sample_and_affine_grid_restore_03():
    body = """
    grid = F.affine_grid(theta, x.size())
    out = F.grid_sample(x, grid)
    """
    src = HEADER + textwrap.dedent(body)
    theta = torch.tensor([[[0.9, -0.2, 0.1], [0.3, 0.8, -0.05]]], dtype=torch.float64)
    x = torch.randn(1, 2, 5, 6, dtype=torch.float64)
    r = migrated(src, ["TU043"])
    assert {e.fix_class for e in r.edits} == {"restoring"}
    after = run(r.new_source, strict=True, theta=theta, x=x)
    # affine_grid under 0.3: the base grid runs from -1 to 1 through the pixel centres
    base = np.stack([*np.meshgrid(np.linspace(-1, 1, 6), np.linspace(-1, 1, 5)), np.ones((5, 6))], -1)
    expected_grid = base @ theta[0].numpy().T
    assert np.allclose(after["grid"][0].numpy(), expected_grid, atol=1e-12)
    assert np.allclose(after["out"].numpy(), _bilinear_03(x.numpy(), after["grid"].numpy()), atol=1e-12)
    today = run(src, theta=theta, x=x)["out"]
    assert not torch.allclose(today, after["out"])  # the unmigrated line computes something else today


# -- TU044 removed internals ----------------------------------------------------------------------------
def test_six_names_replaced_and_import_removed():
    src = HEADER + textwrap.dedent("""
    from torch._six import string_classes, int_classes, inf, container_abcs, PY3
    out = [isinstance(v, string_classes) for v in ('a', b'b', 1)] + [isinstance(3, int_classes), inf == float('inf'), isinstance({}, container_abcs.Mapping), PY3]
    """)
    with pytest.raises(ModuleNotFoundError):
        run(src)
    r = migrated(src, ["TU044"])
    assert "_six" not in r.new_source
    assert run(r.new_source, strict=True)["out"] == [True, True, False, True, True, True, True]


def test_backend_embedding_matches_the_03_lookup():
    """0.3's backend: rows looked up, gradient summed per index, none for the padding row
    (-1: no padding row)."""
    body = """
    def emb(words, weight, padding_idx):
        return m._backend.Embedding.apply(words, weight, padding_idx, None, 2, False, False)
    w1 = w.clone().requires_grad_()
    emb(words, w1, -1).pow(2).sum().backward()
    w2 = w.clone().requires_grad_()
    emb(words, w2, 2).pow(2).sum().backward()
    out = (w1.grad, w2.grad)
    """
    words = torch.tensor([[0, 2, 4], [4, 4, 1]])
    w = torch.randn(5, 3)
    r = migrated(HEADER + textwrap.dedent(body), ["TU044"])
    g1, g2 = run(r.new_source, strict=True, m=None, w=w, words=words)["out"]
    expected = torch.zeros(5, 3)
    for i in words.flatten().tolist():
        expected[i] += 2 * w[i]
    assert torch.allclose(g1, expected)  # no padding row: the last row (4) gets its gradient
    expected[2] = 0
    assert torch.allclose(g2, expected)


# -- TU045 torch.load -----------------------------------------------------------------------------------
def test_load_of_a_pickled_model_needs_weights_only_false(tmp_path):
    path = tmp_path / "model.pth"
    torch.save(nn.Linear(2, 3), path)  # a whole model, as 2017 code saved it
    src = HEADER + f"model = torch.load({str(path)!r})\nout = model.weight\n"
    import pickle
    with pytest.raises(pickle.UnpicklingError):
        run(src)
    assert not migrate(src, select=["TU045"]).changed
    r = migrated(src, ["TU045"], unsafe=True)
    assert torch.equal(run(r.new_source, strict=True)["out"], torch.load(path, weights_only=False).weight)


# -- TU035 softmax modules whose calls are visible ----------------------------------------------------
def test_softmax_module_dim_from_its_visible_calls():
    body = """
    class Attention(nn.Module):
        def __init__(self):
            super(Attention, self).__init__()
            self.softmax = nn.Softmax()
            self.lsm = nn.LogSoftmax()

        def forward(self, scores, n):
            return self.softmax(scores.view(-1, n)), self.lsm(scores.view(-1))

    out = Attention()(x, 4)
    """
    r = check(body, ["TU035"], x=torch.randn(2, 3, 4))
    assert "nn.Softmax(dim=1)" in r.new_source and "nn.LogSoftmax(dim=0)" in r.new_source


# -- TU041 torch._TensorBase ------------------------------------------------------------------------
SANITIZE = '''
import torch
from torch.autograd import Variable

def sanitize(x):
    """allennlp 0.4.2's common/util.py, cut down."""
    if isinstance(x, (str, float, int, bool)):
        return x
    elif isinstance(x, torch.autograd.Variable):
        return sanitize(x.data)
    elif isinstance(x, torch._TensorBase):
        return x.cpu().tolist()
    elif isinstance(x, dict):
        return {k: sanitize(v) for k, v in x.items()}
    raise ValueError(type(x))

def is_torch_data_type(x):
    """skorch 0.1.0's utils.py."""
    return isinstance(x, (torch.tensor._TensorBase, Variable))
'''


def test_tensor_base_checks_migrated_with_the_variable_rules_run_as_in_0_3():
    ns = run(SANITIZE)
    with pytest.raises(AttributeError):  # today: the removed class
        ns["is_torch_data_type"](torch.ones(2))
    r = migrate(SANITIZE)
    assert r.failure is None and "_TensorBase" not in r.new_source, r.new_source
    assert {e.fix_class.value for e in r.edits if e.rule == "TU041"} == {"exact"}
    assert "return isinstance(x, torch.Tensor)\n" in r.new_source  # not (torch.Tensor, torch.Tensor)
    ns = run(r.new_source, strict=True)
    leaf = torch.ones(2, requires_grad=True)
    # 0.3: a Variable is unwrapped to its tensor, a tensor becomes a list; both end as lists
    assert ns["sanitize"]({"a": leaf * 2, "b": torch.arange(3)}) == {"a": [2.0, 2.0], "b": [0, 1, 2]}
    assert ns["is_torch_data_type"](leaf) and ns["is_torch_data_type"](torch.zeros(1)) and not ns["is_torch_data_type"]([1])
