"""Regression tests for review findings in TU030, TU034, TU035 and TU037."""
import ast
import textwrap
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


# -- TU037: a user class's own backward(retain_variables=) -----------------------------------

SCALER = textwrap.dedent("""\
    import torch
    class Scaler:
        def backward(self, loss, retain_variables=False):
            return retain_variables
    s = Scaler()
    out = s.backward(torch.ones(1), retain_variables=True)
    """)


def test_tu037_own_backward_with_retain_variables_is_left_with_a_note():
    r = mig(SCALER, select=["TU037"])
    assert r.new_source == SCALER
    assert any(n.rule == "TU037" and "retain_variables" in n.message for n in r.notes)
    assert run(r.new_source)["out"] is True


def test_tu037_tensor_backward_still_renamed_and_runs():
    src = "import torch\nw = torch.ones(2, requires_grad=True)\nloss = (w * w).sum()\nloss.backward(retain_variables=True)\nloss.backward()\ng = w.grad\n"
    r = mig(src, select=["TU037"])
    assert "retain_graph=True" in r.new_source
    assert torch.equal(run(r.new_source, strict=True)["g"], torch.tensor([4.0, 4.0]))


@pytest.mark.parametrize("src", [
    "from torch.autograd import backward\ndef backward(variables, grad_variables=None):\n    return variables\nout = backward(variables=[1], grad_variables=[2])\n",
    "import torch\nclass G:\n    def backward(self, variables=None, grad_variables=None):\n        return variables\nout = G().backward(variables=1, grad_variables=2)\n",
])
def test_tu037_local_backward_with_variables_keywords_untouched(src):
    r = mig(src, select=["TU037"])
    assert r.new_source == src
    assert run(src)["out"] in ([1], 1)


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


# -- TU030: async= as a dictionary key --------------------------------------------------------

@pytest.mark.parametrize("src", [
    "opts = dict(async=True, lr=1)\n",
    "from collections import OrderedDict\nopts = OrderedDict(lr=1, async=True)\n",
    "opts = {}\nopts.update(async=True)\n",
    "s = '{async}'.format(async=1)\n",
])
def test_tu030_async_as_a_key_is_reported_not_renamed(src):
    r = migrate(src)
    assert r.failure is not None and "key" in r.failure.message
    assert r.new_source == src
    assert not r.edits


def test_tu030_calls_still_renamed_next_to_dict_literal():
    src = "opts = {'async': True}\ny = x.cuda(async=opts['async'])\n"
    r = migrate(src, select=["TU030"])
    assert r.failure is None
    assert r.new_source == "opts = {'async': True}\ny = x.cuda(non_blocking=opts['async'])\n"
