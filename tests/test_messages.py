"""Issue 11, defects 8, 9, 11 and 12, through the real command: non-Python input, Python 2
diagnoses, ASCII-only output, and messages that said the wrong thing."""
import os
import subprocess
import sys

import pytest
from _cli import command, env, tu

LEGACY = "import torch\nfrom torch.autograd import Variable\n\nx = Variable(torch.zeros(3))\n"


# -- defect 8: non-Python input ------------------------------------------------------------------
@pytest.mark.parametrize("name, reason", [("notes.txt", b"not a Python file"), ("data.json", b"not a Python file")])  # notebooks: test_notebooks.py
def test_explicit_non_python_file_is_an_error(tmp_path, name, reason):
    f = tmp_path / name
    f.write_text(LEGACY)
    for cmd in ("check", "diff", "apply"):
        r = tu(cmd, f)
        assert r.returncode == 2, (cmd, r.stderr)
        assert str(f).encode() in r.stderr and reason in r.stderr
    assert f.read_text() == LEGACY


def test_fifo_named_py_is_skipped_not_read(tmp_path):
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    (tmp_path / "a.py").write_text(LEGACY)
    r = tu("check", fifo, timeout=60)
    assert r.returncode == 2 and b"not a regular file" in r.stderr
    r = tu("check", tmp_path, timeout=60)
    assert r.returncode == 1 and b"pipe.py:0: error: not a regular file" in r.stderr and b"would change" in r.stdout


def test_python_scripts_without_suffix_are_python(tmp_path):
    f = tmp_path / "train"
    f.write_text("#!/usr/bin/env python\n" + LEGACY)
    r = tu("check", f)
    assert r.returncode == 1 and b"would change" in r.stdout
    stub = tmp_path / "api.pyi"
    stub.write_text("from torch.autograd import Variable\ndef f(x: Variable) -> Variable: ...\n")
    assert tu("check", stub).returncode == 1


def test_directory_without_python_files_warns(tmp_path):
    (tmp_path / "README.txt").write_text("hello\n")
    r = tu("check", tmp_path)
    assert r.returncode == 0
    assert f"warning: no Python files found in {tmp_path}".encode() in r.stderr


# -- defect 9: Python 2 diagnoses from tokens, not from comments or strings ----------------------
@pytest.mark.parametrize(
    "src, expected",
    [
        ("def f(x:  # see `g`\n    pass\n", b"not valid Python 3: '(' was never closed"),
        ("x = (1 +  # 2L layers\n", b"not valid Python 3:"),
        ("s = 'a <> b' +\n", b"not valid Python 3: invalid syntax"),
        ("y = 2  # async\nz = (\n", b"not valid Python 3: '(' was never closed"),
        ("x = `y`\n", b"Python 2 syntax: backtick repr"),
        ("n = 10L\n", b"Python 2 syntax: long integer literal"),
        ("if a <> b:\n    pass\n", b"Python 2 syntax: `<>` operator"),
        ("try:\n    pass\nexcept IOError, e:\n    pass\n", b"Python 2 syntax: `except X, e:`"),
        ("raise ValueError, 'no'\n", b"Python 2 syntax: `raise E, msg`"),
        ("s = ur'x'\n", b"Python 2 syntax: ur'' string prefix"),
    ],
)
def test_python2_diagnosis(tmp_path, src, expected):
    f = tmp_path / "old.py"
    f.write_text("from torch.autograd import Variable\n" + src)  # a legacy idiom: the file is parsed
    r = tu("check", f)
    assert r.returncode == 1
    assert expected in r.stderr, r.stderr
    if expected.startswith(b"not valid"):
        assert b"Python 2 syntax" not in r.stderr


# -- defect 11: ASCII-only output ----------------------------------------------------------------
def test_ascii_stdout_never_crashes(tmp_path):
    latin = tmp_path / "latin1.py"
    latin.write_bytes(("# -*- coding: latin-1 -*-\n# caf\xe9\n" + LEGACY + "print(x.data)  # d\xe9j\xe0\n").encode("latin-1"))
    uni = tmp_path / "caf\xe9.py"
    uni.write_text("# \u2603 snowman\n" + LEGACY + "import numpy as np\nprint(np.data)\n")
    for args, extra in [
        (("diff", latin), {}),
        (("diff", uni), {}),
        (("check", tmp_path), {}),
        (("rules",), {"FORCE_COLOR": "1", "NO_COLOR": None}),
        (("rules",), {}),
        (("explain", "TU001"), {"FORCE_COLOR": "1", "NO_COLOR": None}),
        (("diff", tmp_path), {"FORCE_COLOR": "1", "NO_COLOR": None}),
    ]:
        r = tu(*args, extra_env={"PYTHONIOENCODING": "ascii", "LC_ALL": "C", **extra})
        assert b"Traceback" not in r.stderr and b"UnicodeEncodeError" not in r.stderr, (args, r.stderr[-1500:])
        assert r.returncode in (0, 1), (args, r.returncode)
    # the patch itself keeps the file's bytes whatever the terminal's encoding
    r = tu("diff", latin, extra_env={"PYTHONIOENCODING": "ascii"})
    assert b"# caf\xe9\n" in r.stdout


# -- defect 12: misleading messages --------------------------------------------------------------
def test_broken_symlink_and_loop(tmp_path):
    dangling = tmp_path / "gone.py"
    dangling.symlink_to(tmp_path / "nowhere.py")
    loop = tmp_path / "loop.py"
    loop.symlink_to(loop)
    r = tu("check", dangling)
    assert r.returncode == 2 and b"broken symlink" in r.stderr and b"nowhere.py" in r.stderr
    r = tu("check", loop)
    assert r.returncode == 2 and b"symlink loop" in r.stderr
    r = tu("check", tmp_path / "missing.py")
    assert r.returncode == 2 and b"path does not exist" in r.stderr


def nested_ifs(n):
    lines = ["import torch", "x = torch.zeros(1)"]
    lines += ["    " * i + f"if x{i}:" for i in range(n)]
    lines.append("    " * n + "print(x.data)")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_deeply_nested_valid_python_is_migrated(tmp_path, jobs):
    for i in range(4 if jobs == "2" else 1):
        (tmp_path / f"deep{i}.py").write_text(nested_ifs(70 + i * 9))
    r = tu("check", "-j", jobs, tmp_path)
    assert b"too deeply nested" not in r.stderr, r.stderr
    assert r.returncode == 1 and r.stdout.count(b"would change") == (4 if jobs == "2" else 1)


def test_too_deeply_nested_failure_gives_a_line():
    code = (
        "import sys\nsys.setrecursionlimit(200)\nfrom torchupgrade.codemods import migrate\n"
        f"r = migrate({nested_ifs(60)!r})\nprint(r.failure.kind, r.failure.line, r.failure.message)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    kind, line, message = r.stdout.split(" ", 2)
    assert kind == "internal" and "too deeply nested" in message
    assert int(line) == 2 + 60 + 1  # the innermost statement, print(x.data)


def test_no_color_before_the_command():
    for args in (("--no-color", "rules"), ("--no-color", "explain", "TU001"), ("rules", "--no-color")):
        r = tu(*args, extra_env={"FORCE_COLOR": "1", "NO_COLOR": None})
        assert r.returncode == 0, (args, r.stderr)
        assert b"\x1b[" not in r.stdout
    r = subprocess.run([*command(), "--no-color", "diff", "-"], input=LEGACY.encode(), capture_output=True, env=env(FORCE_COLOR="1", NO_COLOR=None))
    assert r.returncode == 0 and b"\x1b[" not in r.stdout and b"+x = torch.zeros(3)" in r.stdout


def test_explain_prefix_lists_the_rules_select_would_run(tmp_path):
    from torchupgrade.codemods import select_rules

    r = tu("explain", "TU03")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    codes = [rule.code for rule in select_rules(["TU03"])]
    assert len(codes) > 1 and f"matches {len(codes)} rules" in out
    assert all(code in out for code in codes)
    r = tu("explain", "TU001")
    assert r.returncode == 0 and "Fix safety" in r.stdout.decode()
    assert tu("explain", "TU9").returncode == 2


@pytest.mark.parametrize("value", [",", " , ", ""])
def test_empty_select_is_a_usage_error(tmp_path, value):
    f = tmp_path / "a.py"
    f.write_text(LEGACY)
    for option in ("--select", "--ignore"):
        r = tu("check", option, value, f)
        assert r.returncode == 2 and b"needs at least one rule code" in r.stderr, (option, value, r.stderr)


def test_broken_pipe_is_quiet(tmp_path):
    for i in range(40):
        (tmp_path / f"m{i}.py").write_text(LEGACY)
    p1 = subprocess.Popen([*command(), "diff", "-j", "1", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    p1.stdout.read(10)
    p1.stdout.close()
    _, err = p1.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err
