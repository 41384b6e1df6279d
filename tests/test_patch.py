"""Issue 11, defect 2: `torchupgrade diff` is a patch that `git apply -p0` and `patch -p0`
turn into exactly what `torchupgrade apply` writes (CRLF, CR, latin-1, BOM, no final newline,
odd file names), checked on small cases and over the whole legacy corpus."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from _cli import tu

LEGACY = "import torch\nfrom torch.autograd import Variable\n\nx = Variable(torch.zeros(3))\ny = x.data\nprint(x.data)\n"

CASES = {
    "lf.py": LEGACY.encode(),
    "crlf.py": LEGACY.replace("\n", "\r\n").encode(),
    "cr.py": LEGACY.replace("\n", "\r").encode(),
    "mixed.py": LEGACY.replace("\n", "\r\n", 2).encode(),
    "nofinal.py": LEGACY.rstrip("\n").encode(),
    "nofinal_crlf.py": LEGACY.replace("\n", "\r\n").rstrip("\r\n").encode(),
    "latin1.py": ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + LEGACY + "s = 'na\xefve'\n").encode("latin-1"),
    "bom.py": b"\xef\xbb\xbf" + LEGACY.encode(),
    "trailing_ws.py": (LEGACY + "\n    ").encode(),
    "with space.py": LEGACY.encode(),
    "caf\xe9.py": LEGACY.encode(),
    'quote"back\\slash.py': LEGACY.encode(),
}

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
needs_patch = pytest.mark.skipif(shutil.which("patch") is None, reason="patch not installed")


def tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(Path(root).rglob("*")) if p.is_file()}


def write_cases(root):
    root.mkdir()
    for name, data in CASES.items():
        (root / name).write_bytes(data)


@pytest.fixture
def applied(tmp_path):
    """The cases, migrated by `torchupgrade apply`, and the patch `torchupgrade diff` printed."""
    write_cases(tmp_path / "orig")
    shutil.copytree(tmp_path / "orig", tmp_path / "applied")
    r = tu("diff", ".", cwd=tmp_path / "orig")
    assert r.returncode == 0, r.stderr
    patch = r.stdout
    r = tu("apply", ".", cwd=tmp_path / "applied")
    assert r.returncode == 0, r.stderr
    expected = tree(tmp_path / "applied")
    assert expected != tree(tmp_path / "orig")
    return tmp_path, patch, expected


def test_patch_keeps_the_files_bytes(applied):
    _, patch, _ = applied
    assert b"\\ No newline at end of file" in patch
    assert b"-x = Variable(torch.zeros(3))\r\n" in patch and b"+x = torch.zeros(3)\r\n" in patch
    assert b"# caf\xe9\n" in patch  # latin-1 bytes, not re-encoded
    assert b"--- \"with space.py\"\n" in patch and b'--- "quote\\"back\\\\slash.py"\n' in patch
    assert patch.count(b"\n+++ ") + patch.startswith(b"+++ ") == len(CASES)


@needs_git
def test_git_apply_reproduces_apply(applied):
    tmp_path, patch, expected = applied
    target = tmp_path / "git"
    shutil.copytree(tmp_path / "orig", target)
    r = subprocess.run(["git", "apply", "-p0", "--whitespace=nowarn", "-"], cwd=target, input=patch, capture_output=True)
    assert r.returncode == 0, r.stderr.decode()
    assert tree(target) == expected


@needs_patch
def test_patch_p0_reproduces_apply(applied):
    tmp_path, patch, expected = applied
    target = tmp_path / "patch"
    shutil.copytree(tmp_path / "orig", target)
    r = subprocess.run(["patch", "-p0", "--quiet", "--no-backup-if-mismatch", "--binary"], cwd=target, input=patch, capture_output=True)
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    assert tree(target) == expected


def test_stdin_diff_is_a_patch(tmp_path):
    src = CASES["crlf.py"]
    r = tu("diff", "-", input=src)
    assert r.returncode == 0
    assert r.stdout.startswith(b"--- <stdin>\n+++ <stdin>\n") and b"+x = torch.zeros(3)\r\n" in r.stdout


# -- the whole legacy corpus ----------------------------------------------------------------------
CACHE = Path(os.environ.get("TORCHUPGRADE_CORPUS", os.path.expanduser("~/.cache/torchupgrade-corpus")))
FETCH = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "fetch.sh"


@pytest.fixture(scope="module")
def corpus_src():
    if not (CACHE / "src").is_dir() and FETCH.exists():
        subprocess.run(["bash", str(FETCH), str(CACHE)], capture_output=True)
    if not (CACHE / "src").is_dir() or not any((CACHE / "src").rglob("*.py")):
        pytest.skip(f"no legacy corpus in {CACHE}/src")
    return CACHE / "src"


@pytest.mark.corpus
@needs_git
def test_corpus_diff_applies_byte_for_byte(corpus_src, tmp_path):
    orig, applied, patched = tmp_path / "orig", tmp_path / "applied", tmp_path / "patched"
    shutil.copytree(corpus_src, orig)
    shutil.copytree(corpus_src, applied)
    shutil.copytree(corpus_src, patched)
    r = tu("diff", "-q", "-j", "2", ".", cwd=orig, timeout=900)
    assert r.returncode in (0, 1), r.stderr.decode()[-2000:]  # 1: the corpus has Python 2 files
    patch = r.stdout
    n_diffs = patch.count(b"\n+++ ") + patch.startswith(b"+++ ")
    r = tu("apply", "-q", "-j", "2", ".", cwd=applied, timeout=900)
    assert r.returncode in (0, 1), r.stderr.decode()[-2000:]
    expected = tree(applied)
    changed = [name for name, data in tree(orig).items() if expected[name] != data]
    assert n_diffs == len(changed) >= 80
    r = subprocess.run(["git", "apply", "-p0", "--whitespace=nowarn", "--check", "-"], cwd=patched, input=patch, capture_output=True)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    r = subprocess.run(["git", "apply", "-p0", "--whitespace=nowarn", "-"], cwd=patched, input=patch, capture_output=True)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    assert tree(patched) == expected
    print(f"git apply -p0: {n_diffs} diffs applied, {len(changed)} files byte-identical to `apply`")
    if shutil.which("patch"):
        patched_p0 = tmp_path / "patched_p0"
        shutil.copytree(corpus_src, patched_p0)
        r = subprocess.run(["patch", "-p0", "--quiet", "--no-backup-if-mismatch", "--binary"], cwd=patched_p0, input=patch, capture_output=True)
        assert r.returncode == 0, (r.stdout + r.stderr).decode()[-3000:]
        assert tree(patched_p0) == expected
