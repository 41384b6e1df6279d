"""Issue 11, defects 3, 4, 5, 7 and 13, through the real command: read-only files and folders,
hard links, setuid/setgid bits, temporary files, two runs at once."""
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from _cli import tu

LEGACY = "import torch\nfrom torch.autograd import Variable\n\nx = Variable(torch.zeros(3))\n"
MIGRATED = "import torch\n\nx = torch.zeros(3)\n"
NOBODY = 65534


@pytest.fixture
def other_user_dir():
    """A folder owned by the user the command runs as: this user, or `nobody` when the tests run
    as root (root writes read-only files anyway, so the real permission checks need another user)."""
    root = Path(tempfile.mkdtemp(prefix="tu-fs-", dir="/tmp"))
    root.chmod(0o755)
    run_as = {}
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: cannot run the command as another user")
        os.chown(root, NOBODY, NOBODY)
        run_as = {"prefix": ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")}
    yield root, run_as
    for p in [root, *root.rglob("*")]:
        if p.is_dir() and not p.is_symlink():
            p.chmod(0o755)
    shutil.rmtree(root, ignore_errors=True)


def make(path, text, run_as, mode=None):
    path.write_text(text)
    if run_as:
        os.chown(path, NOBODY, NOBODY)
    if mode is not None:
        path.chmod(mode)
    return path


# -- defect 3: read-only files and folders -------------------------------------------------------
def test_read_only_file_refused_unless_force(tmp_path):
    """The refusal looks at the mode bits, so it holds for root too."""
    f = tmp_path / "a.py"
    f.write_text(LEGACY)
    f.chmod(0o444)
    r = tu("apply", tmp_path)
    assert r.returncode == 1
    assert f"{f}:0: error: read-only file: not written".encode() in r.stderr
    assert f.read_text() == LEGACY and b"1 failed" in r.stderr
    r = tu("apply", "--force", tmp_path)
    assert r.returncode == 0, r.stderr
    assert f.read_text() == MIGRATED
    assert stat.S_IMODE(f.stat().st_mode) == 0o444


def test_read_only_file_of_a_non_root_owner(other_user_dir):
    root, run_as = other_user_dir
    f = make(root / "a.py", LEGACY, run_as, 0o444)
    r = tu("apply", root, **run_as)
    assert r.returncode == 1 and b"read-only file: not written" in r.stderr
    assert f.read_text() == LEGACY


def test_writable_file_in_read_only_directory_names_the_directory(other_user_dir):
    root, run_as = other_user_dir
    sub = root / "ro"
    sub.mkdir()
    if run_as:
        os.chown(sub, NOBODY, NOBODY)
    f = make(sub / "a.py", LEGACY, run_as, 0o644)
    sub.chmod(0o555)
    r = tu("apply", sub, **run_as)
    assert r.returncode == 1
    assert f"directory is not writable: {sub}".encode() in r.stderr, r.stderr
    assert f.read_text() == LEGACY


def test_file_of_another_owner_keeps_owner(tmp_path, other_user_dir):
    """A group-writable file of another user is written in place: a replacement could not keep its owner."""
    root, run_as = other_user_dir
    if not run_as:
        pytest.skip("needs root to create a file of another user")
    f = root / "theirs.py"
    f.write_text(LEGACY)
    os.chown(f, 0, NOBODY)
    f.chmod(0o664)
    root.chmod(0o777)
    r = tu("apply", f, prefix=run_as["prefix"][:3] + ("--groups=" + str(NOBODY),))
    assert r.returncode == 0, r.stderr
    assert f.read_text() == MIGRATED and f.stat().st_uid == 0 and f.stat().st_gid == NOBODY


# -- defect 4: hard links ------------------------------------------------------------------------
def test_hard_links_keep_sharing_the_new_content(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text(LEGACY)
    os.link(a, b)
    inode = a.stat().st_ino
    r = tu("apply", a)
    assert r.returncode == 0, r.stderr
    assert a.read_text() == b.read_text() == MIGRATED
    assert a.stat().st_ino == b.stat().st_ino == inode and a.stat().st_nlink == 2


# -- defect 5: the whole mode --------------------------------------------------------------------
@pytest.mark.parametrize("mode", [0o6755, 0o2775, 0o4700, 0o1644, 0o600])
def test_whole_mode_kept(tmp_path, mode):
    f = tmp_path / "a.py"
    f.write_text(LEGACY)
    f.chmod(mode)
    if stat.S_IMODE(f.stat().st_mode) != mode:
        pytest.skip("this file system does not keep these mode bits")
    r = tu("apply", f)
    assert r.returncode == 0, r.stderr
    assert f.read_text() == MIGRATED
    assert stat.S_IMODE(f.stat().st_mode) == mode


def test_setgid_kept_for_non_root_owner(other_user_dir):
    root, run_as = other_user_dir
    f = make(root / "a.py", LEGACY, run_as, 0o2755)
    r = tu("apply", f, **run_as)
    assert r.returncode == 0, r.stderr
    assert f.read_text() == MIGRATED and stat.S_IMODE(f.stat().st_mode) == 0o2755


def test_symlinked_file_is_written_through_the_link(tmp_path):
    real = tmp_path / "real.py"
    real.write_text(LEGACY)
    link = tmp_path / "link.py"
    link.symlink_to(real)
    r = tu("apply", link)
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and real.read_text() == MIGRATED


# -- defect 7: temporary files -------------------------------------------------------------------
def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_stale_temp_files_removed_live_ones_kept(tmp_path):
    (tmp_path / "a.py").write_text(LEGACY)
    stale = tmp_path / f".torchupgrade-{dead_pid()}-0a1b2c3d.a.py.tmp"
    legacy_name = tmp_path / ".torchupgrade-k3j4h5g6.tmp"  # the name older releases used
    live = tmp_path / f".torchupgrade-{os.getpid()}-0a1b2c3d.a.py.tmp"  # a run still going on
    foreign = tmp_path / ".other-tool.tmp"
    for p in (stale, legacy_name, live, foreign):
        p.write_text("partial")
    old = time.time() - 600
    os.utime(legacy_name, (old, old))
    r = tu("apply", tmp_path)
    assert r.returncode == 0, r.stderr
    assert b"removed 2 stale temporary files" in r.stderr
    assert not stale.exists() and not legacy_name.exists()
    assert live.exists() and foreign.exists()
    assert (tmp_path / "a.py").read_text() == MIGRATED
    # nothing of ours is left next to the written file
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".torchupgrade-")) == [live.name]


def test_temp_files_never_taken_as_sources(tmp_path):
    temp = tmp_path / f".torchupgrade-{dead_pid()}-0a1b2c3d.x.py.tmp"
    temp.write_text(LEGACY)
    r = tu("check", tmp_path)
    assert r.returncode == 0 and b"0 files scanned" in r.stderr
    r = tu("check", temp)
    assert r.returncode == 2 and b"not a Python file" in r.stderr


def test_apply_names_temp_files_recognisably(tmp_path, monkeypatch):
    from torchupgrade.cli import writer

    names = []
    real_open = os.open

    def spy(path, flags, *a):
        if flags & os.O_EXCL:
            names.append(os.path.basename(path))
        return real_open(path, flags, *a)

    monkeypatch.setattr(writer.os, "open", spy)
    f = tmp_path / "a.py"
    f.write_text(LEGACY)
    result = writer.write_file(str(f), MIGRATED.encode(), LEGACY.encode())
    assert result.status == writer.WRITTEN
    assert len(names) == 1 and re.fullmatch(rf"\.torchupgrade-{os.getpid()}-[0-9a-f]+\.a\.py\.tmp", names[0])
    assert writer.is_temp_name(names[0])
    assert not list(tmp_path.glob(".torchupgrade-*"))


# -- defect 13: two runs at once -----------------------------------------------------------------
def test_two_concurrent_applies_write_each_file_once(tmp_path):
    n = 120
    for i in range(n):
        (tmp_path / f"m{i:03}.py").write_text(LEGACY.replace("3", str(i + 1)))
    from _cli import command, env

    runs = [subprocess.Popen([*command(), "apply", "-j", "1", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env()) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in runs]
    for p, (_, err) in zip(runs, outs):
        assert p.returncode == 0, err.decode()[-2000:]
        assert b"Traceback" not in err and b" error: " not in err
    written = [int(re.search(rb"(\d+) changed", err).group(1)) for _, err in outs]
    already = [err.count(b"already migrated") for _, err in outs]
    assert sum(written) == n  # each file written by exactly one of the runs
    assert [w + a <= n for w, a in zip(written, already)] == [True, True]
    for i in range(n):
        assert (tmp_path / f"m{i:03}.py").read_text() == MIGRATED.replace("3", str(i + 1))
    assert not list(tmp_path.glob(".torchupgrade-*"))


def test_second_writer_reports_already_migrated(tmp_path):
    """The content check under the lock: a file another run has just migrated is not an error."""
    from torchupgrade.cli import writer

    f = tmp_path / "a.py"
    f.write_text(LEGACY)
    first = writer.write_file(str(f), MIGRATED.encode(), LEGACY.encode())
    second = writer.write_file(str(f), MIGRATED.encode(), LEGACY.encode())
    assert first.status == writer.WRITTEN and second.status == writer.ALREADY
    f.write_text("x = 1\n")
    third = writer.write_file(str(f), MIGRATED.encode(), LEGACY.encode())
    assert third.status == writer.REFUSED and "changed while it was being processed" in third.message
