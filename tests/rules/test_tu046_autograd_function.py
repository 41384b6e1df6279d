"""TU046 executed under torch 2.13: old-style autograd Functions (which raise today) converted to
static ones, compared bitwise with a hand-written modern Function, and gradchecked."""
import textwrap
import warnings

import pytest

from torchupgrade.codemods import migrate

torch = pytest.importorskip("torch")
import torch.nn as nn  # noqa: E402
from torch.autograd import Function  # noqa: E402

LEGACY = '''
import torch
import torch.nn as nn
from torch.autograd import Function


class _ScaledCrop(Function):
    """Crops size columns at a per-row offset and scales them (a toy RoI pooling)."""

    def __init__(self, size, scale=1.0):
        super(_ScaledCrop, self).__init__()
        self.size = size
        self.scale = scale

    def forward(self, features, offsets):
        self.save_for_backward(offsets)
        self.input_shape = features.size()
        n = self.size
        out = features.new(features.size(0), n).zero_()
        for i in range(features.size(0)):
            o = int(offsets[i])
            out[i] = features[i, o:o + n] * self.scale
        return out

    def backward(self, grad_output):
        offsets, = self.saved_tensors
        grad = grad_output.new(*self.input_shape).zero_()
        n = self.size
        for i in range(grad_output.size(0)):
            o = int(offsets[i])
            grad[i, o:o + n] = grad_output[i] * self.scale
        return grad if self.needs_input_grad[0] else None, None


class _Square(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, g):
        x, = self.saved_tensors
        return 2 * x * g


class Head(nn.Module):
    def __init__(self, size, scale):
        super(Head, self).__init__()
        self.crop = _ScaledCrop(size, scale=scale)  # stored, called twice per forward
        self.lin = nn.Linear(size, 2)

    def forward(self, x, offsets):
        return self.lin(self.crop(x, offsets)) + self.lin(self.crop(x * 2, offsets))


def crop_once(x, offsets):
    return _ScaledCrop(3)(x, offsets) + _Square()(x[:, :3])
'''


class ModernCrop(Function):
    """The same operation written by hand as a modern Function (the reference)."""

    @staticmethod
    def forward(ctx, size, scale, features, offsets):
        ctx.save_for_backward(offsets)
        ctx.size, ctx.scale, ctx.shape = size, scale, features.size()
        out = features.new_zeros(features.size(0), size)
        for i in range(features.size(0)):
            o = int(offsets[i])
            out[i] = features[i, o:o + size] * scale
        return out

    @staticmethod
    def backward(ctx, grad_output):
        offsets, = ctx.saved_tensors
        grad = grad_output.new_zeros(ctx.shape)
        for i in range(grad_output.size(0)):
            o = int(offsets[i])
            grad[i, o:o + ctx.size] = grad_output[i] * ctx.scale
        return None, None, (grad if ctx.needs_input_grad[2] else None), None


class ModernSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 2 * x * g


def load(src):
    ns = {"__name__": "migrated"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(src, "<migrated>", "exec"), ns)
    return ns


@pytest.fixture(scope="module")
def converted():
    r = migrate(LEGACY, select=["TU046"])
    assert r.failure is None and r.changed
    assert migrate(r.new_source, select=["TU046"]).new_source == r.new_source
    assert not r.notes, r.notes
    return r.new_source


def test_legacy_function_raises_today():
    ns = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(LEGACY, ns)
        with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward method"):
            ns["crop_once"](torch.randn(2, 5), torch.tensor([0, 2]))


def test_converted_source(converted):
    assert "def forward(ctx, size, scale, features, offsets):" in converted
    assert "return None, None, grad if ctx.needs_input_grad[2] else None, None" in converted
    assert "self.crop = functools.partial(_ScaledCrop.apply, size, scale)" in converted
    assert "_ScaledCrop.apply(3, 1.0, x, offsets) + _Square.apply(x[:, :3])" in converted


def test_direct_calls_match_a_modern_function_bitwise(converted):
    ns = load(converted)
    x = torch.randn(3, 6, requires_grad=True)
    offsets = torch.tensor([0, 3, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ns["crop_once"](x, offsets)
        out.pow(2).sum().backward()
    x_ref = x.detach().clone().requires_grad_()
    ref = ModernCrop.apply(3, 1.0, x_ref, offsets) + ModernSquare.apply(x_ref[:, :3])
    ref.pow(2).sum().backward()
    assert torch.equal(out, ref) and torch.equal(x.grad, x_ref.grad)


def test_stored_instance_reused_in_a_module_matches_bitwise(converted):
    ns = load(converted)
    x = torch.randn(4, 7, requires_grad=True)
    offsets = torch.tensor([0, 1, 4, 2])
    torch.manual_seed(0)
    head = ns["Head"](3, 0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = head(x, offsets)
        out.sum().backward()
    assert [name for name, _ in head.named_modules()] == ["", "lin"]  # the partial is no sub-module

    torch.manual_seed(0)
    lin = nn.Linear(3, 2)
    x_ref = x.detach().clone().requires_grad_()
    ref = lin(ModernCrop.apply(3, 0.25, x_ref, offsets)) + lin(ModernCrop.apply(3, 0.25, x_ref * 2, offsets))
    ref.sum().backward()
    assert torch.equal(out, ref)
    assert torch.equal(x.grad, x_ref.grad)
    assert torch.equal(head.lin.weight.grad, lin.weight.grad)


def test_gradcheck_on_double(converted):
    ns = load(converted)
    crop, square = ns["_ScaledCrop"], ns["_Square"]
    offsets = torch.tensor([1, 0, 2])
    x = torch.randn(3, 6, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: crop.apply(3, 0.5, t, offsets), (x,))
    assert torch.autograd.gradcheck(square.apply, (x,))


def test_needs_input_grad_shifted_past_the_constructor_arguments(converted):
    ns = load(converted)
    x = torch.randn(2, 5)  # no grad: forward runs, backward is never asked for x
    w = torch.randn(2, 3, requires_grad=True)
    out = (ns["_ScaledCrop"].apply(3, 1.0, x, torch.tensor([0, 1])) * w).sum()
    out.backward()
    assert torch.equal(w.grad, ModernCrop.apply(3, 1.0, x, torch.tensor([0, 1])))


def test_varargs_forward_and_tuple_valued_return():
    src = textwrap.dedent('''
    import torch
    from torch.autograd import Function

    class _Mix(Function):
        def __init__(self, alpha):
            self.alpha = alpha

        def forward(self, *inputs):
            self.n = len(inputs)
            return sum(inputs) * self.alpha

        def backward(self, g):
            grads = tuple(g * self.alpha for _ in range(self.n))
            return grads

    def mix(a, b, c):
        return _Mix(0.5)(a, b, c)
    ''')
    r = migrate(src, select=["TU046"])
    assert "return (None, *grads)" in r.new_source
    ns = load(r.new_source)
    a, b, c = (torch.randn(3, requires_grad=True) for _ in range(3))
    ns["mix"](a, b, c).sum().backward()
    for t in (a, b, c):
        assert torch.equal(t.grad, torch.full((3,), 0.5))


HEAD = "import torch\nfrom torch.autograd import Function\n"
SIMPLE = """
class _F(Function):
    def forward(self, x):
        return x.clone()
    def backward(self, g):
        return g
"""
LEFT = {
    "state set by a previous backward": ("""
class _F(Function):
    def forward(self, x):
        return x * self.last
    def backward(self, g):
        self.last = g
        return g
y = _F()(x)
""", "keeps state across calls"),
    "self passed along": ("""
class _F(Function):
    def forward(self, x):
        return helper(self, x)
    def backward(self, g):
        return g
y = _F()(x)
""", "other than as self.attribute"),
    "instances in a list": (SIMPLE + "fns = [_F(), _F()]\n", "used in a way the rule does not follow"),
    "isinstance": (SIMPLE + "ok = isinstance(f, _F)\n", "used other than by constructing and calling it"),
    "keyword call of a stored instance": ("""
class _F(Function):
    def forward(self, x, y):
        return x + y
    def backward(self, g):
        return g, g
f = _F()
z = f(x, y=y)
""", "keyword arguments"),
    "omitted non-literal default": ("""
class _F(Function):
    def __init__(self, k=DEFAULT_K):
        self.k = k
    def forward(self, x):
        return x * self.k
    def backward(self, g):
        return g * self.k
z = _F()(x)
""", "default is not a literal"),
    "random state made in the constructor": ("""
class _F(Function):
    def __init__(self, n):
        self.noise = torch.randn(n)
    def forward(self, x):
        return x + self.noise
    def backward(self, g):
        return g
z = _F(3)(x)
""", "does more than store values"),
    "a constructor parameter would shadow a global": ("""
class _F(Function):
    def __init__(self, scale):
        self.scale = scale
    def forward(self, x):
        return x * scale
    def backward(self, g):
        return g
z = _F(3)(x)
""", "would shadow"),
    "keyword arguments reordered around calls": ("""
class _F(Function):
    def __init__(self, a, b):
        self.a = a
        self.b = b
    def forward(self, x):
        return x * self.a + self.b
    def backward(self, g):
        return g * self.a
z = _F(b=f(), a=g())(x)
""", "evaluation order would change"),
}


@pytest.mark.parametrize("title", LEFT)
def test_what_cannot_be_converted_exactly_is_left_with_a_note(title):
    body, why = LEFT[title]
    r = migrate(HEAD + body, select=["TU046"])
    assert not r.changed
    assert any(n.key == "not-converted" for n in r.notes)
    assert any(why in n.message for n in r.notes), [n.message for n in r.notes]


def test_class_attributes_and_static_helpers_through_the_class():
    src = HEAD + """
class _F(Function):
    SCALE = 2.0
    @staticmethod
    def helper(x):
        return x * 2
    def forward(self, x):
        return self.helper(x) * self.SCALE
    def backward(self, g):
        return g * 2 * self.SCALE
def f(x):
    return _F()(x)
"""
    r = migrate(src, select=["TU046"])
    assert "return _F.helper(x) * _F.SCALE" in r.new_source and "return _F.apply(x)" in r.new_source
    ns = load(r.new_source)
    x = torch.randn(3, requires_grad=True)
    ns["f"](x).sum().backward()
    assert torch.equal(x.grad, torch.full((3,), 4.0))


# -- the class in one module, its call sites in others (project index) -------------------------------
def _split_project(tmp_path):
    """LEGACY split the way 2017 repositories are: the Functions in ``pkg/functions.py``, the
    module using a stored instance in ``pkg/head.py`` (through ``from ... import``), a script
    calling one through its module (``functions._ScaledCrop(3)(x, o)``)."""
    classes, rest = LEGACY.split("class Head(nn.Module):")
    head, once = rest.split("def crop_once")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "functions.py").write_text(classes)
    (tmp_path / "pkg" / "head.py").write_text(
        "import functools\nimport torch.nn as nn\nfrom pkg.functions import _ScaledCrop\n\n\nclass Head(nn.Module):" + head
    )
    (tmp_path / "run.py").write_text(
        "from pkg import functions\nfrom pkg.functions import _Square\n\n\ndef crop_once" + once.replace("_ScaledCrop(3)", "functions._ScaledCrop(3)")
    )
    return sorted(str(p) for p in tmp_path.rglob("*.py"))


def _migrate_project(paths, targets=None):
    from torchupgrade.codemods.project import ProjectIndex

    index = ProjectIndex.build(paths, targets=targets)
    out = {}
    for path in targets or paths:
        with open(path) as fh:
            src = fh.read()
        r = migrate(src, path=path, project=index, select=["TU046"])
        assert r.failure is None, r.failure
        assert migrate(r.new_source, path=path, project=index, select=["TU046"]).new_source == r.new_source, path
        out[path] = r
    return out


def test_call_sites_in_other_modules_are_migrated_with_the_class(tmp_path, monkeypatch):
    import importlib
    import sys

    paths = _split_project(tmp_path)
    results = _migrate_project(paths)
    for path, r in results.items():
        assert not r.notes, (path, r.notes)
        with open(path, "w") as fh:
            fh.write(r.new_source)
    head_src = (tmp_path / "pkg" / "head.py").read_text()
    assert "self.crop = functools.partial(_ScaledCrop.apply, size, scale)" in head_src
    run_src = (tmp_path / "run.py").read_text()
    assert "return functions._ScaledCrop.apply(3, 1.0, x, offsets) + _Square.apply(x[:, :3])" in run_src

    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("pkg", "pkg.functions", "pkg.head", "run"):
        sys.modules.pop(name, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        head_mod, run_mod = importlib.import_module("pkg.head"), importlib.import_module("run")
        x = torch.randn(4, 7, requires_grad=True)
        offsets = torch.tensor([0, 1, 4, 2])
        torch.manual_seed(0)
        head = head_mod.Head(3, 0.25)
        out = head(x, offsets) .sum() + run_mod.crop_once(x, offsets).pow(2).sum()
        out.backward()
    torch.manual_seed(0)
    lin = nn.Linear(3, 2)
    x_ref = x.detach().clone().requires_grad_()
    ref = (lin(ModernCrop.apply(3, 0.25, x_ref, offsets)) + lin(ModernCrop.apply(3, 0.25, x_ref * 2, offsets))).sum()
    ref = ref + (ModernCrop.apply(3, 1.0, x_ref, offsets) + ModernSquare.apply(x_ref[:, :3])).pow(2).sum()
    ref.backward()
    assert torch.equal(out, ref) and torch.equal(x.grad, x_ref.grad)
    for name in ("pkg", "pkg.functions", "pkg.head", "run"):
        sys.modules.pop(name, None)


def test_a_class_whose_callers_are_not_migrated_by_the_run_is_left_whole(tmp_path):
    paths = _split_project(tmp_path)
    functions = str(tmp_path / "pkg" / "functions.py")
    (r,) = _migrate_project(paths, targets=[functions]).values()
    assert not r.changed
    assert any("a use in `pkg.head` is not migrated by this run" in n.message for n in r.notes), r.notes
    # and the callers alone keep their calls, noted
    head = str(tmp_path / "pkg" / "head.py")
    (r,) = _migrate_project(paths, targets=[head]).values()
    assert not r.changed
    assert [n.rule for n in r.notes] == ["TU046"] and "its module `pkg.functions` is not migrated" in r.notes[0].message


@pytest.mark.parametrize("use, why", [
    ("print(isinstance(None, _ScaledCrop))", "used other than by constructing and calling it"),
    ("class Sub(_ScaledCrop):\n    pass", "Sub subclasses it"),
    ("f = _ScaledCrop(3)\nprint(f.size)", "reads an attribute of an instance"),
    ("def g():\n    _ScaledCrop = None", "bound more than once in this file"),
])
def test_a_use_in_another_module_that_cannot_be_migrated_stops_the_conversion(tmp_path, use, why):
    paths = _split_project(tmp_path)
    head = tmp_path / "pkg" / "head.py"
    head.write_text(head.read_text() + "\n\n" + use + "\n")
    results = _migrate_project(paths)
    functions = results[str(tmp_path / "pkg" / "functions.py")]
    assert "_ScaledCrop" not in "".join(e.message for e in functions.edits if "_Square" not in e.message)
    assert any("left unchanged: a use in `pkg.head` cannot be migrated" in n.message and why in n.message for n in functions.notes), functions.notes
    # neither caller changes its uses, as the class stays old-style
    assert not results[str(head)].changed
    assert "functions._ScaledCrop(3)(x, offsets)" in results[str(tmp_path / "run.py")].new_source
    assert any(why in n.message for n in results[str(head)].notes)


CYCLE_FN = '''
from torch.autograd import Function


class {name}(Function):
    def __init__(self, k):
        self.k = k

    def forward(self, x):
        return x * self.k

    def backward(self, g):
        return g * self.k
'''


def test_two_modules_that_use_each_others_functions_are_judged_each_on_its_uses(tmp_path):
    """a.py defines FnA and calls b.FnB; b.py defines FnB, calls FnA and also inspects an FnA
    instance: FnA stays old-style (with both notes), FnB and its call in a.py are converted."""
    (tmp_path / "a.py").write_text(CYCLE_FN.format(name="FnA") + "\n\nfrom b import FnB\n\n\ndef f(x):\n    return FnB(2.0)(x)\n")
    (tmp_path / "b.py").write_text(
        CYCLE_FN.format(name="FnB") + "\n\nfrom a import FnA\n\n\ndef g(x):\n    fn = FnA(3.0)\n    print(fn.k)\n    return fn(x)\n"
    )
    results = _migrate_project(sorted(str(p) for p in tmp_path.glob("*.py")))
    a, b = results[str(tmp_path / "a.py")], results[str(tmp_path / "b.py")]
    assert "return FnB.apply(2.0, x)" in a.new_source and "def forward(self, x):" in a.new_source
    assert any("FnA" in n.message and "a use in `b` cannot be migrated" in n.message for n in a.notes), a.notes
    assert "def forward(ctx, k, x):" in b.new_source and "fn = FnA(3.0)" in b.new_source
    assert any("attribute of an instance" in n.message for n in b.notes), b.notes


def test_a_blocking_use_on_either_side_of_a_cycle_is_seen(tmp_path):
    (tmp_path / "a.py").write_text(CYCLE_FN.format(name="FnA") + "\n\nfrom b import FnB\n\n\ndef f(x):\n    print(isinstance(x, FnB))\n    return FnB(2.0)(x)\n")
    (tmp_path / "b.py").write_text(CYCLE_FN.format(name="FnB") + "\n\nfrom a import FnA\n\n\ndef g(x):\n    return FnA(3.0)(x)\n")
    results = _migrate_project(sorted(str(p) for p in tmp_path.glob("*.py")))
    a, b = results[str(tmp_path / "a.py")], results[str(tmp_path / "b.py")]
    # FnB is used by isinstance in a.py: it stays, and so does its call there
    assert "def forward(self, x):" in b.new_source and "return FnB(2.0)(x)" in a.new_source
    assert any("FnB" in n.message and "a use in `a` cannot be migrated" in n.message for n in b.notes), b.notes
    # FnA has no blocking use: converted with its call in b.py
    assert "def forward(ctx, k, x):" in a.new_source and "return FnA.apply(3.0, x)" in b.new_source
