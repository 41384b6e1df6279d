"""TU034: layout and scope cases found in review (comments, line breaks, user classes)."""

import pytest

torch = pytest.importorskip("torch")

from _layout import mig, run  # noqa: E402

# -- TU034: comments between multi-line arguments ---------------------------------------------

def test_tu034_comments_between_arguments_leave_the_call_with_a_note():
    src = "import torch\nx = torch.ones(3)\nt = torch.ones(3)\nx.add_(  # scale\n    2,  # alpha\n    t,  # other\n)\nprint(x)\n"
    r = mig(src, select=["TU034"])
    assert r.new_source == src
    assert any(n.rule == "TU034" and "comments" in n.message for n in r.notes)


def test_tu034_multiline_without_comments_keeps_layout_byte_for_byte():
    src = "import torch\nx = torch.ones(3)  # keep\nt = torch.ones(3)\nx.add_(  # scale\n    2,\n    t,\n)\ny = x\n"
    r = mig(src, select=["TU034"])
    assert r.new_source == src.replace("    2,\n    t,\n", "    t,\n    alpha=2,\n")
    assert torch.equal(run(src)["y"], run(r.new_source, strict=True)["y"])


def test_tu034_comment_inside_a_value_travels_with_it():
    src = "import torch\nx = torch.ones(3)\nt = torch.ones(3)\nx.addcmul_(0.5, (t  # a\n               ), t)\ny = x\n"
    r = mig(src, select=["TU034"])
    assert r.new_source.count("# a") == 1
    assert "value=0.5" in r.new_source
    assert torch.equal(run(src)["y"], run(r.new_source, strict=True)["y"])
