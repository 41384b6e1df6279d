"""Helpers of the layout and scope tests (TU034, TU035, TU037): migrate and check the result
parses and is a fixed point; run code with a fixed seed, warnings ignored or as errors."""
import ast
import warnings

from torchupgrade.codemods import migrate


def mig(src, **kw):
    r = migrate(src, **kw)
    assert r.failure is None, r.failure
    ast.parse(r.new_source)
    assert migrate(r.new_source, **kw).new_source == r.new_source, "not idempotent"
    return r


def run(src, strict=False):
    import torch

    ns = {}
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error" if strict else "ignore")
        exec(src, ns)
    return ns
