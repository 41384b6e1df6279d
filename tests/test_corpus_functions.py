"""The old-style autograd Function of the legacy corpus (allennlp 0.4.2's alternating highway LSTM),
migrated by TU046 and run under torch 2.13 with warnings as errors.

Its CUDA kernel (a torch.utils.ffi extension) cannot be built today, and the package needs spacy
to import, so the dev-corpus exercise harness cannot reach it; here the migrated class is loaded
from the migrated file with those imports stubbed and a small pure-torch kernel with the same
calling convention, and its forward and gradients are compared with autograd's."""
import os
import sys
import types
import warnings
from pathlib import Path

import pytest

from torchupgrade.codemods import migrate

torch = pytest.importorskip("torch")

CORPUS = Path(os.environ.get("TORCHUPGRADE_CORPUS", os.path.expanduser("~/.cache/torchupgrade-corpus")))
FILE = CORPUS / "src/allennlp-0.4.2/allennlp-0.4.2/allennlp/modules/alternating_highway_lstm.py"


def _kernel():
    """highway_lstm_forward_cuda/backward_cuda with the extension's argument lists: the last
    layer's state is ``inputs[..., :H] * weight[0] + bias[0]``."""

    def forward(input_size, hidden_size, batch_size, num_layers, sequence_length, inputs, lengths,
                state_accumulator, memory_accumulator, tmp_i, tmp_h, weight, bias, dropout_mask, gates, is_training):
        state_accumulator[-1, 1:] = inputs[..., :hidden_size] * weight[0] + bias[0]

    def backward(input_size, hidden_size, batch_size, num_layers, sequence_length, grad_output, lengths,
                 grad_state_accumulator, grad_memory_accumulator, inputs, state_accumulator, memory_accumulator,
                 weight, gates, dropout_mask, tmp_h_gates_grad, tmp_i_gates_grad, grad_hy, grad_input, grad_weight,
                 grad_bias, is_training, parameters_need_grad):
        grad_input[..., :hidden_size] = grad_output * weight[0]
        if parameters_need_grad:
            grad_weight[0] = (grad_output * inputs[..., :hidden_size]).sum()
            grad_bias[0] = grad_output.sum()

    return types.SimpleNamespace(highway_lstm_forward_cuda=forward, highway_lstm_backward_cuda=backward)


@pytest.fixture
def migrated_module(monkeypatch):
    if not FILE.exists():
        pytest.skip("legacy corpus not fetched")
    r = migrate(FILE.read_bytes(), path=str(FILE))
    assert r.failure is None and any(e.rule == "TU046" for e in r.edits)
    stubs = {
        "overrides": types.SimpleNamespace(overrides=lambda f: f),
        "allennlp": types.ModuleType("allennlp"),
        "allennlp.nn": types.ModuleType("allennlp.nn"),
        "allennlp.nn.initializers": types.SimpleNamespace(block_orthogonal=lambda t, sizes: None),
        "allennlp.custom_extensions": types.ModuleType("allennlp.custom_extensions"),
        "allennlp.custom_extensions._ext": types.SimpleNamespace(highway_lstm_layer=_kernel()),
    }
    for name, mod in stubs.items():
        monkeypatch.setitem(sys.modules, name, mod)
    ns = {"__name__": "alternating_highway_lstm"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(r.new_source, str(FILE), "exec"), ns)
    return ns


@pytest.mark.corpus
def test_migrated_corpus_function_runs_and_backpropagates(migrated_module):
    fn = migrated_module["_AlternatingHighwayLSTMFunction"]
    layers, seq, batch, hidden, size = 1, 4, 2, 3, 5
    inputs = torch.randn(seq, batch, size, requires_grad=True)
    weight = torch.randn(10, requires_grad=True)
    bias = torch.randn(5, requires_grad=True)
    state = torch.zeros(layers, seq + 1, batch, hidden)
    memory = torch.zeros(layers, seq + 1, batch, hidden)
    dropout = torch.ones(layers, batch, hidden)
    lengths = torch.full((batch,), seq, dtype=torch.int32)
    gates = torch.empty(layers, seq, batch, 6 * hidden)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        output, _ = fn.apply(size, hidden, layers, True, inputs, weight, bias, state, memory, dropout, lengths, gates)
        output.pow(2).sum().backward()
    x, w, b = (t.detach().clone().requires_grad_() for t in (inputs, weight, bias))
    expected = x[..., :hidden] * w[0] + b[0]
    expected.pow(2).sum().backward()
    assert torch.equal(output, expected.detach())
    assert torch.allclose(inputs.grad, x.grad) and torch.allclose(weight.grad[0], w.grad[0]) and torch.allclose(bias.grad[0], b.grad[0])
