"""TU037: layout and scope cases found in review (comments, line breaks, user classes)."""
import textwrap

import pytest

torch = pytest.importorskip("torch")

from _layout import mig, run  # noqa: E402

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
