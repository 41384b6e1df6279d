"""TU035: layout and scope cases found in review (comments, line breaks, user classes)."""

import pytest

torch = pytest.importorskip("torch")

from _layout import mig, run  # noqa: E402

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
