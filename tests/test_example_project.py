"""examples/legacy_project (a 0.3-era multi-module project) migrated by the real `torchupgrade apply`.

The project spreads its legacy idioms over modules: `utils.to_var(x, volatile=False)` is called
with `volatile=True` only from `train.validate`, the loss is a custom module from `losses.py`, so
`loss.data[0]` in `train.py` is a 0-dim tensor only if one knows what `AuxLoss.forward` returns.
After the migration it must train and validate under `python -W error`, with every `Variable`,
`volatile`, `.data[0]` and `async=` gone, validation under no-grad, and no `.detach()` the code does
not need (the only one it needs is in `utils.repackage_hidden`, where `Variable(h.data)` cut the
history on purpose).

Several checks need cross-module facts: the CLI migrates the files together with a project index
(`to_var`'s region moves to `validate`, its parameter goes).
"""
import ast
import io
import json
import re
import shutil
import subprocess
import sys
import textwrap
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "examples" / "legacy_project"
# (file, function) pairs whose `.detach()` calls the program needs: repackage_hidden's job is to
# cut the hidden state's history (`Variable(h.data)` in 0.3).
NEEDED_DETACH = {("utils.py", "repackage_hidden")}


def _torchupgrade():
    exe = Path(sys.executable).with_name("torchupgrade")
    return str(exe) if exe.exists() else shutil.which("torchupgrade")


def _snapshot(d: Path):
    return {p.name: p.read_bytes() for p in sorted(d.glob("*.py"))}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    tool = _torchupgrade()
    if tool is None:
        pytest.skip("no torchupgrade executable next to the interpreter or on PATH")
    dest = tmp_path_factory.mktemp("project") / "legacy_project"
    shutil.copytree(PROJECT, dest, ignore=shutil.ignore_patterns("__pycache__"))
    first = subprocess.run([tool, "apply", str(dest)], capture_output=True, text=True, timeout=300)
    after_first = _snapshot(dest)
    second = subprocess.run([tool, "apply", str(dest)], capture_output=True, text=True, timeout=300)
    return {"dir": dest, "first": first, "second": second, "after_first": after_first, "after_second": _snapshot(dest)}


def _code_tokens(src: str):
    """(type, string, line) of every token that is code: comments, strings and layout dropped."""
    skip = {tokenize.COMMENT, tokenize.STRING, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
    return [(t.type, t.string, t.start[0]) for t in tokenize.generate_tokens(io.StringIO(src).readline) if t.type not in skip]


def _legacy_tokens(src: str):
    toks = _code_tokens(src)
    found = []
    for i, (_, s, line) in enumerate(toks):
        nxt = [t[1] for t in toks[i + 1:i + 5]]
        if s in ("Variable", "volatile"):
            found.append((line, s))
        elif s == "async" and nxt[:1] == ["="]:
            found.append((line, "async="))
        elif s == "." and nxt == ["data", "[", "0", "]"]:
            found.append((line, ".data[0]"))
    return found


def _run(args, cwd, timeout=300):
    return subprocess.run([sys.executable, "-W", "error", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_project_is_legacy_as_written():
    """The project is 0.3 code: train.py does not even parse on Python >= 3.7 (`async=True`)."""
    with pytest.raises(SyntaxError):
        ast.parse((PROJECT / "train.py").read_bytes())
    found = {s for f in PROJECT.glob("*.py") for _, s in _legacy_tokens(f.read_text())}
    assert found == {"Variable", "volatile", "async=", ".data[0]"}


def test_migration_exits_cleanly_and_second_run_changes_nothing(migrated):
    assert migrated["first"].returncode == 0, migrated["first"].stderr
    assert migrated["second"].returncode == 0, migrated["second"].stderr
    assert migrated["after_first"] != _snapshot(PROJECT)  # it did something
    assert migrated["after_second"] == migrated["after_first"]
    for name, data in migrated["after_first"].items():
        ast.parse(data, filename=name)


def test_no_variable_volatile_data0_async_left_in_code(migrated):
    left = {name: _legacy_tokens(data.decode()) for name, data in migrated["after_first"].items()}
    assert {k: v for k, v in left.items() if v} == {}


def _detach_sites(tree):
    """(line, innermost enclosing function name or None) of every `.detach` attribute."""
    sites = []

    def visit(node, fn):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            fn = node.name
        if isinstance(node, ast.Attribute) and node.attr == "detach":
            sites.append((node.lineno, fn))
        for child in ast.iter_child_nodes(node):
            visit(child, fn)
    visit(tree, None)
    return sites


def test_no_detach_the_code_does_not_need(migrated):
    unneeded = [f"{name}:{line} in {fn}()" for name, data in migrated["after_first"].items()
                for line, fn in _detach_sites(ast.parse(data)) if (name, fn) not in NEEDED_DETACH]
    assert unneeded == []


def test_migrated_project_trains_and_validates_under_W_error(migrated):
    proc = _run(["train.py"], cwd=migrated["dir"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    train = [float(x) for x in re.findall(r"train loss ([-\d.e+naninf]+)", proc.stdout)]
    val = re.findall(r"val loss ([-\d.e+naninf]+)  accuracy ([\d.]+)%", proc.stdout)
    assert len(train) == 3 and len(val) == 3, proc.stdout
    assert all(x == x and abs(x) < 1e6 for x in train), proc.stdout  # finite
    assert train[-1] < train[0], proc.stdout
    assert float(val[-1][1]) > 60.0, proc.stdout  # three classes: chance is 33%


PROBE = textwrap.dedent("""
    import json, torch
    from data import get_loaders
    from losses import AuxLoss
    from models import ConvNet
    import train
    train_loader, val_loader = get_loaders(batch_size=64)
    model = ConvNet()
    seen = {"train": [], "val": []}
    phase = ["train"]
    model.register_forward_hook(lambda m, i, o: seen[phase[0]].append(
        [torch.is_grad_enabled(), o[0].requires_grad]))
    criterion = AuxLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    train.train(model, train_loader, criterion, optimizer, 1)
    phase[0] = "val"
    loss, acc = train.validate(model, val_loader, criterion)
    print(json.dumps({"seen": seen, "loss": float(loss), "loss_type": type(loss).__name__}))
""")


def test_validation_runs_under_no_grad_and_training_does_not(migrated):
    """What volatile=True meant in 0.3: no graph in validate(); train() still builds one."""
    (migrated["dir"] / "probe_grad.py").write_text(PROBE)
    proc = _run(["probe_grad.py"], cwd=migrated["dir"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["seen"]["train"] and all(g and rg for g, rg in out["seen"]["train"])
    assert out["seen"]["val"] and not any(g or rg for g, rg in out["seen"]["val"])
    assert out["loss_type"] == "float"  # AverageMeter got Python numbers, as 0.3's loss.data[0]


REPACKAGE = textwrap.dedent("""
    import json, torch
    from utils import repackage_hidden
    h = torch.randn(1, 2, 4, requires_grad=True) * 2
    c = torch.randn(1, 2, 4, requires_grad=True) * 3
    one = repackage_hidden(h)
    pair = repackage_hidden((h, c))
    print(json.dumps({
        "one": [isinstance(one, torch.Tensor), one.requires_grad, one.grad_fn is None, bool(torch.equal(one, h))],
        "pair": [type(pair).__name__, len(pair), [p.requires_grad for p in pair], bool(torch.equal(pair[1], c))],
    }))
""")


def test_repackage_hidden_still_detaches_tensors_and_tuples(migrated):
    """`type(h) == Variable` was True for every Variable in 0.3; on 2.13 it is always False."""
    (migrated["dir"] / "probe_repackage.py").write_text(REPACKAGE)
    proc = _run(["probe_repackage.py"], cwd=migrated["dir"], timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["one"] == [True, False, True, True]
    assert out["pair"] == ["tuple", 2, [False, False], True]
