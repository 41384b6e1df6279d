"""`apply --out-dir`, the progress bar (in a real pty), `python -m torchupgrade`, the library API
(`torchupgrade.migrate_paths`) and the libcst codemod command."""
import os
import stat
import subprocess
import sys

import pexpect
import pytest
from _cli import command, env, tu

LEGACY = "import torch\nfrom torch.autograd import Variable\n\nx = Variable(torch.zeros(3))\n"
MIGRATED = "import torch\n\nx = torch.zeros(3)\n"


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "src"
    (src / "pkg" / "data").mkdir(parents=True)
    (src / "pkg" / "__init__.py").write_text("")
    (src / "pkg" / "train.py").write_text(LEGACY)
    (src / "pkg" / "train.py").chmod(0o750)
    (src / "pkg" / "clean.py").write_text(MIGRATED)
    (src / "pkg" / "data" / "weights.bin").write_bytes(b"\x00\x01")
    (src / "pkg" / "run.sh").write_text("#!/bin/sh\n")
    (src / "pkg" / "run.sh").chmod(0o755)
    (src / "README.md").write_text("hi\n")
    os.symlink("README.md", src / "link.md")
    return tmp_path


def snapshot(root):
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def test_out_dir_mirrors_the_tree(tree):
    before = snapshot(tree / "src")
    r = tu("apply", "--out-dir", "migrated", "src", cwd=tree)
    assert r.returncode == 0, r.stderr
    assert snapshot(tree / "src") == before  # the input is not touched
    out = tree / "migrated"
    assert (out / "pkg" / "train.py").read_text() == MIGRATED
    assert stat.S_IMODE((out / "pkg" / "train.py").stat().st_mode) == 0o750
    assert (out / "pkg" / "clean.py").read_text() == MIGRATED
    assert (out / "pkg" / "data" / "weights.bin").read_bytes() == b"\x00\x01"
    assert stat.S_IMODE((out / "pkg" / "run.sh").stat().st_mode) == 0o755
    assert (out / "README.md").read_text() == "hi\n" and os.readlink(out / "link.md") == "README.md"
    assert b"wrote 1 migrated file and copied" in r.stderr
    r = tu("apply", "--out-dir", "migrated", "src", cwd=tree)  # again: the same result
    assert r.returncode == 0 and (out / "pkg" / "train.py").read_text() == MIGRATED
    assert not list(out.rglob(".torchupgrade-*"))


def test_out_dir_inside_the_input_is_refused(tree):
    before = snapshot(tree / "src")
    for target in ("src/migrated", "src", "src/pkg"):
        r = tu("apply", "--out-dir", target, "src", cwd=tree)
        assert r.returncode == 2 and b"is inside the input" in r.stderr, target
    assert snapshot(tree / "src") == before and not (tree / "src" / "migrated").exists()
    r = tu("apply", "--out-dir", "out", "-", cwd=tree, input=LEGACY.encode())
    assert r.returncode == 2


def test_out_dir_single_file(tree):
    r = tu("apply", "--out-dir", "o", "src/pkg/train.py", cwd=tree)
    assert r.returncode == 0 and (tree / "o" / "train.py").read_text() == MIGRATED
    assert (tree / "src" / "pkg" / "train.py").read_text() == LEGACY


def many(tmp_path, n=30):
    for i in range(n):
        (tmp_path / f"m{i:02d}.py").write_text(LEGACY)


def test_progress_bar_on_a_terminal(tmp_path):
    many(tmp_path)
    cmd = command()
    child = pexpect.spawn(cmd[0], [*cmd[1:], "apply", "-j", "1", "."], cwd=str(tmp_path), env=env(NO_COLOR=None), encoding="utf-8", timeout=120)
    out = child.read()
    child.close()
    assert child.exitstatus == 0
    assert "torchupgrade" in out and "/30" in out and "0:00:0" in out  # files done / total, elapsed
    assert "30 files scanned, 30 changed" in out
    # check streams "would change" lines to the terminal: no bar then; with stdout redirected, a bar
    many(tmp_path)
    child = pexpect.spawn("/bin/sh", ["-c", " ".join([*cmd, "check", "-j", "1", "."]) + " > out.txt"], cwd=str(tmp_path), env=env(), encoding="utf-8", timeout=120)
    out = child.read()
    child.close()
    assert "/30" in out and (tmp_path / "out.txt").read_text().count("would change") == 30
    child = pexpect.spawn(cmd[0], [*cmd[1:], "check", "-j", "1", "."], cwd=str(tmp_path), env=env(), encoding="utf-8", timeout=120)
    out = child.read()
    child.close()
    assert "/30" not in out and out.count("would change: ") == 30


def test_no_progress_when_piped_or_quiet(tmp_path):
    many(tmp_path)
    r = tu("check", ".", cwd=tmp_path)
    assert b"/30" not in r.stderr and b"\x1b[" not in r.stderr
    cmd = command()
    child = pexpect.spawn(cmd[0], [*cmd[1:], "check", "-q", "."], cwd=str(tmp_path), env=env(), encoding="utf-8", timeout=120)
    out = child.read()
    child.close()
    assert "/30" not in out and "30 files scanned" in out


def test_ctrl_c_with_progress_bar_exits_130(tmp_path):
    many(tmp_path, 60)
    cmd = command()
    child = pexpect.spawn(cmd[0], [*cmd[1:], "apply", "-j", "1", "."], cwd=str(tmp_path), env=env(TORCHUPGRADE_PROGRESS_MIN="1"), encoding="utf-8", timeout=120)
    child.expect("/60")
    child.sendintr()
    child.expect("interrupted by SIGINT: [0-9]+ files? written")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    for f in tmp_path.glob("m*.py"):
        assert f.read_text() in (LEGACY, MIGRATED)  # never half-written
    assert not list(tmp_path.glob(".torchupgrade-*"))


def test_python_dash_m_and_help_lists_commands():
    r = subprocess.run([sys.executable, "-m", "torchupgrade", "--help"], capture_output=True, text=True, env=env())
    assert r.returncode == 0
    for name in ("apply", "check", "diff", "explain", "review", "rules"):
        assert f"  {name} " in r.stdout
    r = subprocess.run([sys.executable, "-m", "torchupgrade", "--version"], capture_output=True, text=True, env=env())
    assert r.returncode == 0 and "torchupgrade, version" in r.stdout


def test_import_torchupgrade_is_lazy():
    code = "import sys, torchupgrade; print(sorted(m for m in ('rich', 'libcst', 'click') if m in sys.modules)); torchupgrade.migrate_paths; print('libcst' in sys.modules); torchupgrade.migrate; print('libcst' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.splitlines() == ["[]", "False", "True"]  # the engine (libcst) loads when it is used


def test_migrate_paths(tmp_path):
    import torchupgrade

    (tmp_path / "a.py").write_text(LEGACY)
    (tmp_path / "b.py").write_text("from torch.autograd import Variable\nprint 'x', Variable(y)\n")
    (tmp_path / "pyproject.toml").write_text('[tool.torchupgrade]\nignore = ["TU031"]\n')
    results = list(torchupgrade.migrate_paths([tmp_path], jobs=1))
    assert [os.path.basename(r.path) for r in results] == ["a.py", "b.py"]
    a, b = results
    assert a.changed and a.new_source == MIGRATED.encode() and [e.rule for e in a.edits] == ["TU001"]
    assert b.failure.kind == "syntax"
    assert (tmp_path / "a.py").read_text() == LEGACY  # nothing written by default
    list(torchupgrade.migrate_paths(str(tmp_path / "a.py"), write=True))
    assert (tmp_path / "a.py").read_text() == MIGRATED
    with pytest.raises(ValueError, match="unknown rule"):
        list(torchupgrade.migrate_paths(tmp_path, select=["TU999"]))
    with pytest.raises(ValueError, match="does not exist"):
        list(torchupgrade.migrate_paths(tmp_path / "missing.py"))


def test_libcst_codemod_command(tmp_path):
    (tmp_path / "a.py").write_text(LEGACY)
    (tmp_path / "b.py").write_text("import torch\nw = torch.nn.init.xavier_uniform(torch.empty(2, 2))\nx = Variable(1)\n")
    r = subprocess.run([sys.executable, "-m", "libcst.tool", "codemod", "-x", "torchupgrade.libcst_codemod.TorchUpgrade", "--no-format",
                        "--select", "TU001", "."], cwd=tmp_path, capture_output=True, text=True, env=env())
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "a.py").read_text() == MIGRATED
    assert "xavier_uniform(" in (tmp_path / "b.py").read_text()  # not selected


