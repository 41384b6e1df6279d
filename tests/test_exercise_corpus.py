"""scripts/exercise_corpus.py on a tiny synthetic legacy package: the per-item classification."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "exercise_corpus.py"
sys.path.insert(0, str(ROOT / "scripts"))
import exercise_corpus as ec  # noqa: E402

MODELS = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable, Function


class Good(nn.Module):
    def __init__(self, in_features, num_classes=3):
        super(Good, self).__init__()
        self.fc = nn.Linear(in_features, num_classes)

    def forward(self, x):
        return F.log_softmax(self.fc(x), dim=1)


class LegacySoftmax(nn.Module):
    def __init__(self, hidden_size):
        super(LegacySoftmax, self).__init__()
        self.fc = nn.Linear(hidden_size, 2)

    def forward(self, x):
        return F.softmax(self.fc(x))


class NeedsVocab(nn.Module):
    def __init__(self, vocab):
        super(NeedsVocab, self).__init__()
        self.vocab = vocab

    def forward(self, x):
        return x


class Base(nn.Module):
    def forward(self, x):
        raise NotImplementedError


class Double(Function):
    def forward(self, x):
        return x * 2

    def backward(self, grad_output):
        return grad_output * 2


class Triple(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 3

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 3


def to_var(x, volatile=False):
    return Variable(x, volatile=volatile)


def nll_loss(pred, target):
    return F.nll_loss(F.log_softmax(pred, dim=1), target).data[0]
'''

ASYNC = '''
import torch


def to_gpu(x):
    return x.cuda(async=True)
'''


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    pkg = root / "toy-0.1" / "toy-0.1" / "toy"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "models.py").write_text(MODELS)
    (pkg / "gpu.py").write_text(ASYNC)
    (pkg / "needs_dep.py").write_text("import surely_not_installed_pkg\n")
    (pkg.parent / "setup.py").write_text("raise SystemExit('setup.py must not be imported')\n")
    (pkg.parent / "tests").mkdir()
    (pkg.parent / "tests" / "test_toy.py").write_text("raise SystemExit('tests must not be imported')\n")
    return root


def _run(corpus, tmp_path, *args):
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), str(corpus), "--json", str(out), "--jobs", "1",
                           "--python", sys.executable, *args], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    (pkg,) = data["packages"]
    return {(it["kind"], it["name"]): it for it in pkg["items"]}, pkg, data, proc.stdout


@pytest.mark.corpus
def test_baseline_classification(corpus, tmp_path):
    items, pkg, data, stdout = _run(corpus, tmp_path, "--no-migrate")
    status = {k: v["status"] for k, v in items.items()}
    assert status == {
        ("module", "toy"): "passed",
        ("module", "toy.gpu"): "failed-torch",
        ("module", "toy.models"): "passed",
        ("module", "toy.needs_dep"): "skipped",
        ("nn.Module", "Good"): "passed",
        ("nn.Module", "LegacySoftmax"): "failed-torch",
        ("nn.Module", "NeedsVocab"): "failed-guess",
        ("nn.Module", "Base"): "skipped",
        ("Function", "Double"): "failed-torch",
        ("Function", "Triple"): "passed",
        ("helper", "to_var"): "failed-torch",
        ("helper", "nll_loss"): "failed-torch",
    }
    assert items[("module", "toy.gpu")]["reason"].startswith("SyntaxError: async= keyword argument")
    assert items[("module", "toy.gpu")]["where"] == "toy-0.1/toy/gpu.py:6"
    assert items[("module", "toy.needs_dep")]["reason"] == "missing dependency: surely_not_installed_pkg"
    assert "implicit dim for softmax" in items[("nn.Module", "LegacySoftmax")]["reason"]
    assert items[("nn.Module", "LegacySoftmax")]["detail"].startswith("forward/backward: UserWarning: Implicit dimension choice")
    assert items[("nn.Module", "NeedsVocab")]["detail"] == "argument 'vocab'"
    assert items[("nn.Module", "Good")]["backward"] is True and items[("nn.Module", "Good")]["constructed"] is True
    assert "non-static forward method" in items[("Function", "Double")]["reason"]
    assert items[("Function", "Double")]["style"] == "old" and items[("Function", "Triple")]["style"] == "new"
    assert items[("Function", "Triple")]["backward"] is True
    assert "volatile was removed" in items[("helper", "to_var")]["reason"]
    assert "invalid index of a 0-dim tensor" in items[("helper", "nll_loss")]["reason"]
    assert sorted(pkg["not_imported"]) == ["toy-0.1/setup.py", "toy-0.1/tests/test_toy.py"]
    assert pkg["missing_deps"] == {"surely_not_installed_pkg": 1}
    assert data["totals"]["nn.Module"] == {"found": 4, "constructed": 3, "passed": 1, "failed-torch": 1,
                                           "failed-guess": 1, "skipped": 1}
    assert data["meta"]["mode"] == "no migration (baseline)" and data["migration"] is None
    assert "top failure reasons" in stdout


@pytest.mark.corpus
def test_migrated_run_uses_the_tool(corpus, tmp_path):
    tool = Path(sys.executable).with_name("torchupgrade")
    if not tool.exists():
        pytest.skip("no torchupgrade next to the interpreter")
    items, _, data, _ = _run(corpus, tmp_path, "--torchupgrade", str(tool))
    assert data["migration"]["returncode"] == 0
    # async= is repaired by the tool, so the module now imports
    assert items[("module", "toy.gpu")]["status"] == "passed"
    assert items[("nn.Module", "Good")]["status"] == "passed"
    assert items[("nn.Module", "NeedsVocab")]["status"] == "failed-guess"  # nothing a migration can do


@pytest.mark.parametrize("exc_type, message, phase, expected", [
    ("IndexError", "invalid index of a 0-dim tensor. Use `tensor.item()` in Python", "call", "failed-torch"),
    ("UserWarning", "volatile was removed and now has no effect. Use `with torch.no_grad():` instead.", "import", "failed-torch"),
    ("RuntimeError", "Legacy autograd function with non-static forward method is deprecated.", "call", "failed-torch"),
    ("AssertionError", "Torch not compiled with CUDA enabled", "call", "skipped"),
    ("RuntimeError", "mat1 and mat2 shapes cannot be multiplied (2x8 and 5x3)", "call", "failed-guess"),
    ("TypeError", "__init__() missing 1 required positional argument: 'vocab'", "call", "failed-guess"),
    ("RecursionError", "maximum recursion depth exceeded", "call", "failed-other"),
    ("NameError", "name 'xrange' is not defined", "import", "failed-other"),
    ("NotImplementedError", "", "call", "skipped"),
])
def test_classify(exc_type, message, phase, expected):
    assert ec.classify(exc_type, message, phase)[0] == expected


def test_classify_imports_and_syntax():
    assert ec.classify("ModuleNotFoundError", "No module named 'torch.utils.ffi'", "import", exc_name="torch.utils.ffi") == \
        ("failed-torch", "torch API removed: no module torch.utils.ffi")
    assert ec.classify("ModuleNotFoundError", "No module named 'cupy'", "import", exc_name="cupy") == ("skipped", "needs CUDA")
    assert ec.classify("ImportError", "cannot import name 'Iterable' from 'collections'", "import",
                       import_from="collections")[0] == "failed-other"
    assert ec.classify("SyntaxError", "invalid syntax", "import", syntax_text="    x.cuda(async=True)\n")[0] == "failed-torch"
    assert ec.classify("SyntaxError", "invalid syntax", "import",
                       syntax_text="    def __init__(self, device=None, async=False):\n")[1] == \
        "SyntaxError: async used as a name (Python >= 3.7)"
    assert ec.classify("SyntaxError", "Missing parentheses in call to 'print'", "import",
                       syntax_text="print 'x'\n")[0] == "failed-other"


def test_discovery_roots_and_namespace_dirs(tmp_path):
    pkg = tmp_path / "p-1.0"
    (pkg / "src" / "p" / "models" / "cifar").mkdir(parents=True)
    (pkg / "src" / "p" / "__init__.py").write_text("")
    (pkg / "src" / "p" / "models" / "resnet.py").write_text("")          # no __init__.py in models/
    (pkg / "src" / "p" / "models" / "cifar" / "main_train.py").write_text("")  # a script
    (pkg / "src" / "single.py").write_text("")
    roots, modules, not_imported = ec.discover_package(pkg)
    assert roots == [str(pkg / "src")]
    assert [m for m, _ in modules] == ["p", "p.models.resnet", "single"]
    assert not_imported == [str(Path("src/p/models/cifar/main_train.py"))]


def test_guess_value_from_names():
    assert ec.guess_value("in_channels") == 8 and ec.guess_value("in_channels", variant=1) == 16
    assert ec.guess_value("kernel_size") == 3 and ec.guess_value("num_classes") == 3
    assert ec.guess_value("dropout") == 0.0 and ec.guess_value("p") == 0.1
    assert ec.guess_value("bidirectional") is False and ec.guess_value("bias") is True
    assert ec.guess_value("vocab") is ec.UNGUESSABLE and ec.guess_value("mode", str) is ec.UNGUESSABLE
    assert ec.guess_value("whatever", int) == 8
