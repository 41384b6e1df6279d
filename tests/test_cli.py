"""The real `torchupgrade` command, run as a subprocess: exit codes, dry runs, stdin, files."""
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

LEGACY = "import torch\nfrom torch.autograd import Variable\n\nx = Variable(torch.zeros(3))\n"
MIGRATED = "import torch\n\nx = torch.zeros(3)\n"
CLEAN = "import torch\n\nx = torch.zeros(3)\n"
PY2 = "from torch.autograd import Variable\nprint 'hello', Variable(x)\n"


def _command():
    exe = Path(sys.executable).with_name("torchupgrade")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "torchupgrade.cli.main"]


def tu(*args, cwd=None, input=None):
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([*_command(), *map(str, args)], cwd=cwd, input=input, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "legacy.py").write_text(LEGACY)
    (tmp_path / "pkg" / "clean.py").write_text(CLEAN)
    return tmp_path


def snapshot(root):
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(Path(root).rglob("*")) if p.is_file()}


def test_diff_shows_unified_diff_and_writes_nothing(repo):
    before = snapshot(repo)
    r = tu("diff", repo)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert f"--- {repo}/pkg/legacy.py" in out and f"+++ {repo}/pkg/legacy.py" in out and "-x = Variable(torch.zeros(3))" in out and "+x = torch.zeros(3)" in out
    assert "\x1b[" not in out  # plain when piped
    assert snapshot(repo) == before
    assert b"2 files scanned, 1 would change, 1 unchanged, 0 failed" in r.stderr


def test_check_exit_codes(repo):
    r = tu("check", repo)
    assert r.returncode == 1
    assert f"would change: {repo}/pkg/legacy.py".encode() in r.stdout
    (repo / "pkg" / "legacy.py").write_text(MIGRATED)
    r = tu("check", repo)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == b""


def test_apply_rewrites_then_second_apply_changes_nothing(repo):
    target = repo / "pkg" / "legacy.py"
    target.chmod(0o754)
    r = tu("apply", repo)
    assert r.returncode == 0, r.stderr
    assert target.read_text() == MIGRATED
    assert stat.S_IMODE(target.stat().st_mode) == 0o754
    assert b"1 changed" in r.stderr and b"edits per rule: TU001 1" in r.stderr
    before = snapshot(repo)
    r = tu("apply", repo)
    assert r.returncode == 0 and b"0 changed" in r.stderr
    assert snapshot(repo) == before  # not even rewritten with the same bytes
    assert not list(repo.rglob(".torchupgrade-*"))  # no temp files left behind


def test_python2_file_reported_and_run_continues(repo):
    (repo / "pkg" / "old.py").write_text(PY2)
    r = tu("apply", repo)
    assert r.returncode == 1
    err = r.stderr.decode()
    assert f"{repo}/pkg/old.py:2: error: Python 2 syntax: print statement; run 2to3 first" in err
    assert (repo / "pkg" / "legacy.py").read_text() == MIGRATED
    assert (repo / "pkg" / "old.py").read_text() == PY2
    assert "3 files scanned, 1 changed, 1 unchanged, 1 failed" in err


def test_check_exit_1_on_failure_even_if_nothing_changes(tmp_path):
    (tmp_path / "old.py").write_text(PY2)
    assert tu("check", tmp_path).returncode == 1
    assert tu("diff", tmp_path).returncode == 1


def test_usage_errors_exit_2(repo):
    assert tu("diff", repo / "missing.py").returncode == 2
    r = tu("check", "--select", "TU999", repo)
    assert r.returncode == 2 and b"unknown rule code" in r.stderr
    assert tu("apply").returncode == 2
    assert tu("explain", "TU999").returncode == 2
    assert tu("diff", "--jobs", "0", repo).returncode == 2


def test_stdin(repo):
    r = tu("apply", "-", input=LEGACY.encode())
    assert r.returncode == 0 and r.stdout == MIGRATED.encode()
    r = tu("diff", "-", input=LEGACY.encode())
    assert r.returncode == 0 and b"+x = torch.zeros(3)" in r.stdout
    r = tu("check", "-", input=LEGACY.encode())
    assert r.returncode == 1
    r = tu("check", "-", input=CLEAN.encode())
    assert r.returncode == 0
    r = tu("apply", "-", input=PY2.encode())
    assert r.returncode == 1 and r.stdout == PY2.encode() and b"<stdin>:2: error: Python 2 syntax" in r.stderr


def test_select_ignore_unsafe(tmp_path):
    src = "from torch.autograd import Variable\nif type(h) == Variable:\n    h = Variable(h.data)\n"
    f = tmp_path / "a.py"
    f.write_text(src)
    r = tu("diff", "--select", "TU002", f)  # a restoring fix: applied by default
    assert b"+if isinstance(h, torch.Tensor):" in r.stdout and b"Variable(h.data)" in r.stdout
    r = tu("diff", "--select", "TU036", f)
    assert r.stdout == b""
    r = tu("diff", "--ignore", "TU002,TU01,TU02", "-q", f)
    assert b"+    h = h.data" in r.stdout and b" note: " not in r.stderr


def test_discovery_gitignore_hidden_venv_exclude(tmp_path):
    for rel in ["a.py", "build_dir/b.py", "ignored/c.py", ".hidden/d.py", "venv1/e.py", "skip_me.py", "sub/f.py"]:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(LEGACY)
    (tmp_path / "venv1" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / ".gitignore").write_text("ignored/\n")
    (tmp_path / "sub" / ".gitignore").write_text("f.py\n")
    (tmp_path / "notes.txt").write_text(LEGACY)
    r = tu("check", "--exclude", "skip_*.py", tmp_path)
    changed = sorted(line.split()[2] for line in r.stdout.decode().splitlines())
    assert changed == [f"{tmp_path}/a.py", f"{tmp_path}/build_dir/b.py"]
    # explicit Python files are always processed (a non-Python file is a usage error: test_messages.py)
    (tmp_path / "script").write_text("#!/usr/bin/env python3\n" + LEGACY)
    r = tu("check", tmp_path / "ignored" / "c.py", tmp_path / "script")
    assert r.stdout.count(b"would change") == 2


def test_parallel_jobs_give_same_result(tmp_path):
    for i in range(12):
        (tmp_path / f"m{i}.py").write_text(LEGACY.replace("3", str(i + 1)))
    one = tu("diff", "-j", "1", tmp_path)
    two = tu("diff", "-j", "2", tmp_path)
    assert one.returncode == two.returncode == 0
    assert one.stdout == two.stdout and one.stdout.count(b"+++ ") == 12


def test_crlf_and_latin1_files_through_apply(tmp_path):
    crlf = tmp_path / "crlf.py"
    crlf.write_bytes(LEGACY.replace("\n", "\r\n").encode())
    latin = tmp_path / "latin.py"
    latin.write_bytes(("# -*- coding: latin-1 -*-\n" + LEGACY + "s = 'caf\xe9'\n").encode("latin-1"))
    assert tu("apply", tmp_path).returncode == 0
    assert crlf.read_bytes() == MIGRATED.replace("\n", "\r\n").encode()
    assert latin.read_bytes() == ("# -*- coding: latin-1 -*-\n" + MIGRATED + "s = 'caf\xe9'\n").encode("latin-1")


def test_rules_and_explain(repo):
    r = tu("rules")
    assert r.returncode == 0
    lines = r.stdout.decode().splitlines()
    assert any(l.startswith("TU001  variable-wrapper") for l in lines)
    r = tu("explain", "TU001")
    out = r.stdout.decode()
    assert r.returncode == 0 and "Fix safety" in out and "+            h = torch.zeros(2, 3)" not in out
    assert "-    h = Variable(torch.zeros(2, 3))" in out and "+    h = torch.zeros(2, 3)" in out
    assert tu("explain", "variable-type-check").returncode == 0
    # the fixed sections, in order, and the notes an example produces
    r = tu("explain", "TU045")
    out = r.stdout.decode()
    headings = ["## What it does", "## Why", "## Fix safety", "## Options", "## Examples"]
    assert [out.index(h) for h in headings] == sorted(out.index(h) for h in headings)
    assert "`--unsafe`: also apply the unproven fixes" in out
    assert "note, line 3: unproven fix not applied (use --unsafe): torch.load(...) defaults to weights_only=True" in out
    # an example's other project modules are shown with it
    out = tu("explain", "TU046").stdout.decode()
    assert "    with train.py in the project (indexed, not migrated by the run):\n        from example import Crop\n" in out


def test_color_when_forced(repo):
    env = {**os.environ, "FORCE_COLOR": "1"}
    env.pop("NO_COLOR", None)
    r = subprocess.run([*_command(), "diff", str(repo)], capture_output=True, env=env)
    assert b"\x1b[" in r.stdout
    env["NO_COLOR"] = "1"
    r = subprocess.run([*_command(), "diff", "--no-color", str(repo)], capture_output=True, env=env)
    assert b"\x1b[" not in r.stdout


def test_help_documents_exit_codes():
    r = tu("check", "--help")
    assert r.returncode == 0 and b"Exit codes" in r.stdout and b"usage error" in r.stdout
