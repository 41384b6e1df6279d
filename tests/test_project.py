"""The project index through the real command: what one module defines is understood in another,
also through a cycle of star imports, whatever the order of the files or the number of jobs, and
`apply FILE` analyses the file with the rest of its package."""
import textwrap

from _cli import tu

A = """\
from .b import *
import torch
from torch.autograd import Variable
def to_var(x, volatile=False):
    return Variable(x, volatile=volatile)
"""
B = """\
from .a import *
import torch.nn as nn
crit = nn.NLLLoss()
"""
MAIN = """\
from pkg.b import *
from pkg.a import to_var
def evaluate(m, x, y):
    out = m(to_var(x, volatile=True))
    loss = crit(out, y)
    return loss.data[0]
"""


def _tree(root):
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "a.py").write_text(A)
    (root / "pkg" / "b.py").write_text(B)
    (root / "main.py").write_text(MAIN)


def test_a_cycle_of_star_imports_is_resolved_without_a_crash(tmp_path):
    _tree(tmp_path)
    r = tu("apply", tmp_path)
    assert r.returncode == 0, r.stderr
    main = (tmp_path / "main.py").read_text()
    # the loss module defined in pkg/b.py and reached through two star imports is 0-dim
    assert "return loss.item()" in main
    # the volatile flag of the helper in pkg/a.py became a region at the call site in main.py
    assert "@torch.no_grad()\ndef evaluate" in main and "to_var(x)" in main
    assert (tmp_path / "pkg" / "a.py").read_text() == "from .b import *\nimport torch\ndef to_var(x):\n    return x\n"
    assert (tmp_path / "pkg" / "b.py").read_text() == B
    again = tu("check", tmp_path)
    assert again.returncode == 0 and b"would change" not in again.stdout


def _per_file(diff: bytes):
    return sorted(b"--- " + part for part in diff.split(b"--- ")[1:])


def test_result_does_not_depend_on_jobs_or_the_order_files_are_named(tmp_path):
    _tree(tmp_path)
    one = tu("diff", "-j", "1", "main.py", "pkg", cwd=tmp_path)
    two = tu("diff", "-j", "2", "main.py", "pkg", cwd=tmp_path)
    flipped = tu("diff", "-j", "2", "pkg", "main.py", cwd=tmp_path)
    assert one.returncode == two.returncode == flipped.returncode == 0
    assert one.stdout.count(b"+++ ") == 2
    assert one.stdout == two.stdout
    # files are shown in the order they were named; each file's diff is the same
    assert flipped.stdout.index(b"--- pkg/a.py") < flipped.stdout.index(b"--- main.py")
    assert _per_file(flipped.stdout) == _per_file(one.stdout)


def test_apply_one_file_analyses_it_with_its_package(tmp_path):
    _tree(tmp_path)
    (tmp_path / "pkg" / "train.py").write_text(textwrap.dedent("""\
        import torch
        from .b import crit
        def step(out, y):
            loss = crit(out, y)
            return loss.data[0]
        """))
    r = tu("apply", tmp_path / "pkg" / "train.py")
    assert r.returncode == 0, r.stderr
    assert "return loss.item()" in (tmp_path / "pkg" / "train.py").read_text()
    # only the named file is written
    assert (tmp_path / "pkg" / "a.py").read_text() == A


def test_a_file_that_does_not_parse_does_not_stop_the_index(tmp_path):
    _tree(tmp_path)
    (tmp_path / "pkg" / "broken.py").write_text("from torch.autograd import Variable\ndef f(:\n")
    r = tu("apply", tmp_path)
    assert r.returncode == 1
    assert b"broken.py:2" in r.stdout + r.stderr
    assert "return loss.item()" in (tmp_path / "main.py").read_text()
    assert (tmp_path / "pkg" / "broken.py").read_text() == "from torch.autograd import Variable\ndef f(:\n"


def test_a_parameter_every_call_site_passes_a_number_to_is_a_size(tmp_path):
    (tmp_path / "data.py").write_text(textwrap.dedent("""\
        import torch

        def make_labels(n):
            return torch.LongTensor(n).random_(0, 3)
        """))
    (tmp_path / "train.py").write_text("from data import make_labels\ntrain, val = make_labels(512), make_labels(128)\n")
    r = tu("diff", tmp_path / "data.py")
    assert b"+    return torch.empty(n, dtype=torch.int64).random_(0, 3)" in r.stdout, r.stdout + r.stderr
    # a call site the index sees passing something else: a size or data? left, with a note
    (tmp_path / "eval.py").write_text("from data import make_labels\nx = make_labels([1, 2])\n")
    r = tu("diff", tmp_path / "data.py")
    assert b"+++" not in r.stdout and b"TU040" in r.stderr


def test_a_helper_named_alone_keeps_what_its_callers_in_other_files_need(tmp_path):
    """`apply utils.py` indexes the package but writes one file: the helper keeps its `volatile`
    parameter and flag (its callers still pass `volatile=True`), and a later run over the whole
    project migrates both."""
    _tree(tmp_path)
    r = tu("apply", tmp_path / "pkg" / "a.py")
    assert r.returncode == 0, r.stderr
    assert "def to_var(x, volatile=False):\n    return Variable(x, volatile=volatile)" in (tmp_path / "pkg" / "a.py").read_text()
    assert b"not migrated by this run" in r.stderr
    assert (tmp_path / "main.py").read_text() == MAIN
    r = tu("apply", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "def to_var(x):" in (tmp_path / "pkg" / "a.py").read_text()
    assert "to_var(x)" in (tmp_path / "main.py").read_text() and "volatile" not in (tmp_path / "main.py").read_text()


ROI = """\
from torch.autograd import Function


class RoIPool(Function):
    def __init__(self, h, w, scale):
        self.scale = scale

    def forward(self, features, rois):
        return features * self.scale

    def backward(self, grad_output):
        return grad_output * self.scale, None
"""
ROI_MODEL = """\
import torch.nn as nn
from pkg import roi


class Head(nn.Module):
    def __init__(self, s):
        super(Head, self).__init__()
        self.pool = roi.RoIPool(7, 7, s)

    def forward(self, x, rois):
        return self.pool(x, rois)
"""
ROI_MAIN = """\
from pkg.roi import *

def pool(x, r):
    return RoIPool(1, 1, 3.0)(x, r)
"""


def test_an_old_style_function_and_its_calls_in_other_modules_change_together(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "roi.py").write_text(ROI)
    (tmp_path / "pkg" / "model.py").write_text(ROI_MODEL)
    (tmp_path / "main.py").write_text(ROI_MAIN)
    one = tu("diff", "-j", "1", "main.py", "pkg", cwd=tmp_path)
    two = tu("diff", "-j", "2", "pkg", "main.py", cwd=tmp_path)
    assert _per_file(one.stdout) == _per_file(two.stdout)
    # named alone, the caller is left (its class's module is not migrated by that run), noted
    alone = tu("diff", "main.py", cwd=tmp_path)
    assert alone.stdout == b"" and b"its module `pkg.roi` is not migrated by this run" in alone.stderr
    r = tu("apply", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "def forward(ctx, h, w, scale, features, rois):" in (tmp_path / "pkg" / "roi.py").read_text()
    assert "self.pool = functools.partial(roi.RoIPool.apply, 7, 7, s)" in (tmp_path / "pkg" / "model.py").read_text()
    assert "return RoIPool.apply(1, 1, 3.0, x, r)" in (tmp_path / "main.py").read_text()
    again = tu("check", tmp_path)
    assert again.returncode == 0 and b"would change" not in again.stdout
