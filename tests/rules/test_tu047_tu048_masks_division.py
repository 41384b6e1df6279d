"""TU047 (uint8 masks, mask arithmetic) and TU048 (integer-tensor division) executed under torch
2.13: the migrated code (warnings as errors) against what PyTorch 0.3 computed, written here
directly (0.3 masks: uint8 0/1 values, an element selected where the mask is non-zero; 0.3
integer division: C division, truncating toward zero, integer result)."""
import textwrap
import warnings

import pytest

from torchupgrade.codemods import migrate

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")

HEADER = "import torch\nfrom torch.autograd import Variable\n"


def migrated(body, select, unsafe=False):
    src = HEADER + textwrap.dedent(body)
    r = migrate(src, select=select, unsafe=unsafe)
    assert r.failure is None, r.failure
    assert r.changed, f"expected a rewrite of {src!r}"
    assert migrate(r.new_source, select=select, unsafe=unsafe).new_source == r.new_source
    return src, r


def run(src, strict=True, **env):
    ns = dict(env)
    with warnings.catch_warnings():
        warnings.simplefilter("error" if strict else "ignore")
        exec(src, ns)
    return ns


def raises_today(src, **env):
    with pytest.raises(RuntimeError):
        run(src, strict=False, **env)


# -- TU047 --------------------------------------------------------------------------------------------
X = torch.tensor([[0.5, -1.0, 2.0, 0.0, 3.0], [1.5, 0.0, -2.5, 4.0, -0.5]])
PAD = np.array([[0, 0, 0, 1, 1], [0, 1, 1, 1, 1]], dtype=np.uint8)  # 0.3: a ByteTensor mask


def legacy_masked_fill(x, mask_u8, value):
    """0.3's masked_fill with a uint8 mask of 0/1 values."""
    out = x.numpy().copy()
    out[mask_u8 != 0] = value
    return torch.from_numpy(out)


def legacy_masked_select(x, mask_u8):
    return torch.from_numpy(x.numpy()[mask_u8 != 0].copy())


def test_byte_masks_get_bool():
    body = """
    x = torch.tensor(XS)
    pad = torch.ByteTensor(2, 5).zero_()
    pad[0, 3:] = 1
    pad[1, 1:] = 1
    filled = x.masked_fill(pad, -1e9)
    y = x.clone()
    y.masked_fill_(pad, 7.0)
    picked = x.masked_select(pad)
    picked2 = torch.masked_select(x, pad)
    keep = torch.zeros(2, 5, dtype=torch.uint8)
    keep[:, 0] = 1
    rows = x[keep]
    z = x.clone()
    z[keep] = 0.0
    flags = (x > 1).byte()
    big = x[flags]
    """
    src, r = migrated(body, ["TU047"])
    assert {e.fix_class.value for e in r.edits} == {"exact"}
    raises_today(src, XS=X.tolist())  # masked_fill_ only supports boolean masks
    ns = run(r.new_source, XS=X.tolist())
    assert torch.equal(ns["filled"], legacy_masked_fill(X, PAD, -1e9))
    assert torch.equal(ns["y"], legacy_masked_fill(X, PAD, 7.0))
    assert torch.equal(ns["picked"], legacy_masked_select(X, PAD))
    assert torch.equal(ns["picked2"], legacy_masked_select(X, PAD))
    keep = np.zeros((2, 5), dtype=np.uint8)
    keep[:, 0] = 1
    assert torch.equal(ns["rows"], legacy_masked_select(X, keep))
    assert torch.equal(ns["z"], legacy_masked_fill(X, keep, 0.0))
    assert torch.equal(ns["big"], legacy_masked_select(X, (X.numpy() > 1).astype(np.uint8)))


def test_inverted_comparisons():
    body = """
    x = torch.tensor(XS)
    valid = x.ne(0)
    filled = x.masked_fill(1 - valid, -1.0)
    inv = (1 - (x > 0.5)).float()
    inv_var = (1 - Variable(x).eq(0)).long()
    sel = x[1 - valid]
    weights = x * (1.0 - x.gt(1)).float()
    """
    src, r = migrated(body, ["TU047"])
    assert "~" in r.new_source and "1 -" not in r.new_source
    raises_today(src, XS=X.tolist())  # Subtraction, the `-` operator, with a bool tensor is not supported
    ns = run(r.new_source, XS=X.tolist())
    xs = X.numpy()
    inv_valid = (1 - (xs != 0).astype(np.uint8)).astype(np.uint8)  # 0.3's uint8 1 - mask
    assert torch.equal(ns["filled"], legacy_masked_fill(X, inv_valid, -1.0))
    assert torch.equal(ns["inv"], torch.from_numpy((1 - (xs > 0.5).astype(np.uint8)).astype(np.float32)))
    assert torch.equal(ns["inv_var"], torch.from_numpy((1 - (xs == 0).astype(np.uint8)).astype(np.int64)))
    assert torch.equal(ns["sel"], legacy_masked_select(X, inv_valid))
    assert torch.equal(ns["weights"], X * torch.from_numpy((1 - (xs > 1).astype(np.uint8)).astype(np.float32)))


def test_mask_difference():
    body = """
    x = torch.tensor(XS)
    a = x > 0
    b = x > 2
    mid = x[a - b]
    only_a = (a - b).long()
    """
    src, r = migrated(body, ["TU047"], unsafe=True)
    assert [e.fix_class.value for e in r.edits] == ["exact", "unproven"]
    raises_today(src, XS=X.tolist())
    ns = run(r.new_source, XS=X.tolist())
    xs = X.numpy()
    diff = (xs > 0).astype(np.uint8) - (xs > 2).astype(np.uint8)  # 0.3: uint8 arithmetic (wraps)
    assert torch.equal(ns["mid"], legacy_masked_select(X, diff))
    # b is contained in a here, so the values agree too (else 0.3 had 255 where only b was set)
    assert torch.equal(ns["only_a"], torch.from_numpy(diff.astype(np.int64)))
    # without --unsafe only the mask use is rewritten
    safe = migrate(src, select=["TU047"])
    assert "x[a ^ b]" in safe.new_source and "(a - b).long()" in safe.new_source
    assert [n.key for n in safe.notes] == ["unproven"]


def test_real_uint8_arithmetic_is_left():
    body = """
    m = torch.ByteTensor([1, 0, 1])
    inv = 1 - m
    """
    src = HEADER + textwrap.dedent(body)
    r = migrate(src, select=["TU047"])
    assert not r.changed and not r.notes
    assert run(src)["inv"].tolist() == [0, 1, 0]  # what 0.3 gave; ~m would give [254, 255, 254]


# -- TU048 --------------------------------------------------------------------------------------------
A = [7, -7, 9, -9, 0, 13]
B = [2, 2, -4, 4, 3, -5]


def trunc(a, b):
    """C integer division (0.3's integer tensor division): truncation toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def legacy_div(xs, d):
    ds = d if isinstance(d, list) else [d] * len(xs)
    return torch.tensor([trunc(a, b) for a, b in zip(xs, ds)], dtype=torch.int64)


def test_integer_division_truncates_as_in_03():
    body = """
    a = torch.LongTensor(A)
    b = torch.LongTensor(B)
    q1 = a / 2
    q2 = a / b
    q3 = a.div(3)
    q4 = torch.div(a, b)
    n = len(B)
    q5 = a / n
    scores = torch.randn(6, 10)
    _, pred = scores.max(1)
    row = pred / scores.size(1)
    flat = (pred.long() * 3 + 2) / 4
    """
    src, r = migrated(body, ["TU048"])
    assert {e.fix_class.value for e in r.edits} == {"restoring"}
    before = run(src, strict=False, A=A, B=B)
    assert before["q1"].dtype == torch.float32  # today: true division
    torch.manual_seed(0)
    ns = run(r.new_source, A=A, B=B)
    assert torch.equal(ns["q1"], legacy_div(A, 2))
    assert torch.equal(ns["q2"], legacy_div(A, B))
    assert torch.equal(ns["q3"], legacy_div(A, 3))
    assert torch.equal(ns["q4"], legacy_div(A, B))
    assert torch.equal(ns["q5"], legacy_div(A, len(B)))
    pred = ns["pred"].tolist()
    assert torch.equal(ns["row"], legacy_div(pred, 10))
    assert torch.equal(ns["flat"], legacy_div([p * 3 + 2 for p in pred], 4))


def test_in_place_integer_division():
    body = """
    a = torch.LongTensor(A)
    a /= 2
    b = torch.LongTensor(A)
    b.div_(torch.LongTensor(B))
    """
    src, r = migrated(body, ["TU048"])
    assert {e.fix_class.value for e in r.edits} == {"exact"}
    raises_today(src, A=A, B=B)  # result type Float can't be cast to the desired output type Long
    ns = run(r.new_source, A=A, B=B)
    assert torch.equal(ns["a"], legacy_div(A, 2))
    assert torch.equal(ns["b"], legacy_div(A, B))


def test_python_numbers_of_03_are_left():
    """``correct`` was a Python int in 0.3 (a reduction of a plain tensor): true division on
    Python 3 then, as now; arange was a float tensor in 0.3."""
    body = """
    correct = 0
    total = 0
    for _ in range(2):
        out = torch.randn(8, 3)
        target = torch.LongTensor([0, 1, 2, 0, 1, 2, 0, 1])
        pred = out.max(1)[1]
        correct += pred.eq(target).sum()
        total += target.size(0)
    acc = 100. * correct / total
    ratio = correct / total
    half = torch.arange(0, 6) / 2
    """
    src = HEADER + textwrap.dedent(body)
    r = migrate(src)
    assert "rounding_mode" not in r.new_source
    assert not [n for n in r.notes if n.rule == "TU048"]
