"""TU035: layout and scope cases found in review (comments, line breaks, user classes)."""
import ast
import warnings

import pytest

from torchupgrade.codemods import migrate

torch = pytest.importorskip("torch")


def mig(src, **kw):
    r = migrate(src, **kw)
    assert r.failure is None, r.failure
    ast.parse(r.new_source)
    assert migrate(r.new_source, **kw).new_source == r.new_source, "not idempotent"
    return r


def run(src, strict=False):
    ns = {}
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error" if strict else "ignore")
        exec(src, ns)
    return ns


# -- TU035: the added dim must not copy a trailing comment ------------------------------------

@pytest.mark.parametrize("call, expected", [
    ("F.log_softmax(m.view(-1, 4),  # flat\n                  )",
     "F.log_softmax(m.view(-1, 4), dim=1,  # flat\n                  )"),
    ("F.softmax(m  # logits\n              )",
     "F.softmax(m, dim=0  # logits\n              )"),  # m is 3-D: torch picks dim 0
    ("F.softmax(\n    m.view(-1, 4),\n    _stacklevel=3\n)",
     "F.softmax(\n    m.view(-1, 4), dim=1,\n    _stacklevel=3\n)"),
])
def test_tu035_comments_and_line_breaks_stay_put(call, expected):
    head = "import torch\nimport torch.nn.functional as F\nm = torch.randn(2, 3, 4)\n"
    src = head + "q = " + call + "\n"
    r = mig(src, select=["TU035"])
    assert r.new_source == head + "q = " + expected + "\n"
    assert torch.equal(run(src)["q"], run(r.new_source, strict=True)["q"])
