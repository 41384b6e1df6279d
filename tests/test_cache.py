"""The result cache, through the real command: a second run reuses it with the same output, a
corrupt entry is ignored, a change to the file, its project or the options is seen, --no-cache
reads and writes nothing."""
from pathlib import Path

from _cli import tu

LEGACY = "import torch\nfrom torch.autograd import Variable\n\nx = Variable(torch.zeros(3))\ny = x.data\n"
HELPER = "from torch.autograd import Variable\n\n\ndef to_var(x, volatile=False):\n    return Variable(x, volatile=volatile)\n"
USER = "import torch\nfrom helpers import to_var\n\n\ndef evaluate(net, x):\n    return net(to_var(x, volatile=True))\n"


def entries(cache: Path):
    return sorted(p for p in cache.rglob("*") if p.is_file() and p.parent != cache)


def run(cache: Path, *args):
    r = tu(*args, extra_env={"TORCHUPGRADE_CACHE_DIR": str(cache)})
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def test_second_run_reuses_the_cache_with_identical_output(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.py").write_text(LEGACY)
    (src / "b.py").write_text("import torch\n")
    (src / "__init__.py").write_text("")
    cache = tmp_path / "cache"
    first = run(cache, "diff", src)
    assert first[0] == 0 and "+x = torch.zeros(3)" in first[1]
    stored = entries(cache)
    assert len(stored) == 3
    mtimes = [p.stat().st_mtime_ns for p in stored]
    assert run(cache, "diff", src) == first
    assert [p.stat().st_mtime_ns for p in entries(cache)] == mtimes  # read, not rewritten
    assert run(cache, "check", src)[0] == 1
    assert (cache / ".gitignore").read_text().endswith("*\n")


def test_corrupt_entries_are_ignored_and_rewritten(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.py").write_text(LEGACY)
    (src / "b.py").write_text(LEGACY.replace("x", "z"))
    cache = tmp_path / "cache"
    first = run(cache, "diff", src)
    a, b = entries(cache)
    a.write_bytes(b"garbage, not an entry")
    blob = bytearray(b.read_bytes())
    blob[-3] ^= 0xFF  # a flipped bit in the payload: the checksum no longer matches
    b.write_bytes(bytes(blob))
    assert run(cache, "diff", src) == first
    assert run(cache, "diff", src) == first
    assert a.read_bytes().startswith(b"TUC1") and b.read_bytes() != bytes(blob)


def test_a_changed_file_or_option_is_migrated_again(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    f = src / "a.py"
    f.write_text(LEGACY)
    cache = tmp_path / "cache"
    assert "+x = torch.zeros(3)" in run(cache, "diff", src)[1]
    assert "+x = torch.zeros(3)" not in run(cache, "diff", "--select", "TU020", src)[1]
    f.write_text(LEGACY.replace("zeros", "ones"))
    assert "+x = torch.ones(3)" in run(cache, "diff", src)[1]


def test_a_change_in_another_module_of_the_project_is_seen(tmp_path):
    """The project index: whether to_var's callers may drop `volatile=` depends on helpers.py."""
    src = tmp_path / "proj"
    src.mkdir()
    (src / "helpers.py").write_text(HELPER)
    (src / "train.py").write_text(USER)
    cache = tmp_path / "cache"
    with_cache = run(cache, "diff", "--no-color", src / "train.py")
    assert with_cache == run(tmp_path / "other", "diff", "--no-color", src / "train.py")
    (src / "helpers.py").write_text("def to_var(x, volatile=False):\n    return x\n")
    after = run(cache, "diff", "--no-color", src / "train.py")
    assert after == run(tmp_path / "fresh", "diff", "--no-color", "--no-cache", src / "train.py")
    assert after != with_cache


def test_no_cache_reads_and_writes_nothing(tmp_path):
    src = tmp_path / "a.py"
    src.write_text(LEGACY)
    cache = tmp_path / "cache"
    assert run(cache, "check", "--no-cache", src)[0] == 1
    assert not cache.exists()
    run(cache, "check", src)
    for p in entries(cache):
        p.write_bytes(b"TUC1" + b"\0" * 40)
    assert run(cache, "check", "--no-cache", src)[0] == 1
    assert all(p.read_bytes() == b"TUC1" + b"\0" * 40 for p in entries(cache))


def test_an_unwritable_cache_does_not_stop_the_run(tmp_path):
    src = tmp_path / "a.py"
    src.write_text(LEGACY)
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    code, out, err = run(blocker, "check", src)
    assert code == 1 and "would change" in out and "Traceback" not in err


def test_an_entry_stored_under_a_relative_name_is_written_where_this_run_names_the_file(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.py").write_text(LEGACY)
    cache = tmp_path / "cache"
    env = {"TORCHUPGRADE_CACHE_DIR": str(cache)}
    assert tu("diff", "a.py", cwd=src, extra_env=env).returncode == 0  # stored as "a.py"
    r = tu("apply", src / "a.py", cwd=tmp_path, extra_env=env)
    assert r.returncode == 0, r.stderr
    assert "x = torch.zeros(3)" in (src / "a.py").read_text()
    assert not (tmp_path / "a.py").exists()
