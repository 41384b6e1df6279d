"""`torchupgrade review` in a real pseudo-terminal (pexpect): answers per hunk, rejections that keep
their statement byte-identical, a/d/q/e/?, Ctrl-C, and the refusal without a terminal."""
import ast
import subprocess
import sys

import pexpect
import pytest
from _cli import command, env, tu

LEGACY = (
    "import torch\n"
    "from torch.autograd import Variable\n"
    "\n"
    "x = Variable(torch.zeros(3))\n"
    "y = Variable(torch.ones(3), requires_grad=True)\n"
    "print((x * y).sum().data[0])\n"
    "w = torch.nn.init.xavier_uniform(torch.empty(2, 2))\n"
)
PROMPT = r"Apply this change to .* \[y,n,a,d,q,(e,)?\?\]\?"


def spawn(*args, cwd, **extra):
    cmd = command()
    child = pexpect.spawn(cmd[0], [*cmd[1:], "review", *map(str, args)], cwd=str(cwd), env=env(**extra), encoding="utf-8", timeout=60,
                          dimensions=(50, 160))
    child.logfile_read = sys.stdout  # shown by pytest on failure
    return child


def answer(child, *keys):
    for key in keys:
        child.expect(PROMPT)
        child.sendline(key)


def finish(child):
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.signalstatus


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "a.py").write_text(LEGACY)
    return tmp_path


def test_reject_one_hunk_keeps_its_statement_and_the_import(tree):
    child = spawn("a.py", cwd=tree)
    child.expect(r"a\.py:4  \(1/4\)")
    child.expect("TU001 variable-wrapper: Variable\\(t\\) -> t \\[exact\\]")
    child.expect(r"- x = Variable\(torch.zeros\(3\)\)")
    child.expect(r"\+ x = torch.zeros\(3\)")
    answer(child, "n")
    child.expect(r"a\.py:5  \(2/4\)")
    answer(child, "y")
    child.expect("TU021 python-number: .* \\[restores 0.3 behaviour\\]")
    answer(child, "y", "y")
    child.expect("wrote a.py")
    child.expect("1 file scanned, 1 with changes, 1 written, 0 failed")
    assert finish(child) == (0, None)
    new = (tree / "a.py").read_text()
    assert new == (
        "import torch\n"
        "from torch.autograd import Variable\n"  # still used by the rejected statement
        "\n"
        "x = Variable(torch.zeros(3))\n"
        "y = torch.ones(3, requires_grad=True)\n"
        "print((x * y).sum().item())\n"
        "w = torch.nn.init.xavier_uniform_(torch.empty(2, 2))\n"
    )
    ast.parse(new)
    # what is left migrates consistently: only the rejected change remains
    r = tu("diff", "a.py", cwd=tree)
    assert r.stdout.decode().count("\n-") == 2 and "-x = Variable(torch.zeros(3))" in r.stdout.decode()


def test_all_and_done_with_file_and_quit(tree):
    (tree / "b.py").write_text(LEGACY)
    (tree / "c.py").write_text(LEGACY)
    child = spawn(".", cwd=tree)
    answer(child, "y", "a")  # a.py: everything
    child.expect("wrote a.py")
    answer(child, "d")  # b.py: nothing
    answer(child, "q")  # c.py: quit
    assert finish(child) == (0, None)
    assert "Variable" not in (tree / "a.py").read_text()
    assert (tree / "b.py").read_text() == LEGACY and (tree / "c.py").read_text() == LEGACY


def test_quit_keeps_answers_given_in_the_file(tree):
    child = spawn("a.py", cwd=tree)
    answer(child, "n", "y", "q")
    assert finish(child) == (0, None)
    new = (tree / "a.py").read_text()
    assert "x = Variable(torch.zeros(3))" in new and "y = torch.ones(3, requires_grad=True)" in new and "data[0]" in new


def test_help_and_explain(tree):
    child = spawn("a.py", cwd=tree)
    answer(child, "?")
    child.expect("a - apply this change and all later changes in the file")
    child.expect("TU001 variable-wrapper \\(exact\\)")
    child.expect("Fix safety: exact")
    answer(child, "what")  # not an answer: the help again
    child.expect("q - quit")
    answer(child, "d")
    assert finish(child) == (0, None)
    assert (tree / "a.py").read_text() == LEGACY


def test_edit_a_hunk(tree):
    child = spawn("a.py", cwd=tree, EDITOR="sed -i s/zeros/empty/")
    answer(child, "e", "d")
    assert finish(child) == (0, None)
    new = (tree / "a.py").read_text()
    assert "x = torch.empty(3)\n" in new and "y = Variable(torch.ones(3), requires_grad=True)" in new


def test_edit_that_does_not_parse_writes_nothing(tree):
    child = spawn("a.py", cwd=tree, EDITOR="sed -i s/zeros/zeros\\(/")
    answer(child, "e", "d")
    child.expect("your edit does not parse")
    assert finish(child) == (0, None)
    assert (tree / "a.py").read_text() == LEGACY


def test_notebook_review(tmp_path):
    import json

    cells = [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {}, "outputs": [],
              "source": ["%matplotlib inline\n", "import torch\n", "from torch.autograd import Variable"]},
             {"cell_type": "code", "execution_count": 2, "id": "c2", "metadata": {}, "outputs": [],
              "source": ["x = Variable(torch.zeros(3))\n", "print(x.sum().data[0])"]}]
    nb = tmp_path / "nb.ipynb"
    nb.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n")
    child = spawn("nb.ipynb", cwd=tmp_path)
    child.expect(r"nb\.ipynb:cell 2:1  \(1/2\)")
    answer(child, "n")
    child.expect(r"nb\.ipynb:cell 2:2  \(2/2\)")
    answer(child, "y")
    assert finish(child) == (0, None)
    src = ["".join(c["source"]) for c in json.loads(nb.read_text())["cells"]]
    assert src == ["%matplotlib inline\nimport torch\nfrom torch.autograd import Variable", "x = Variable(torch.zeros(3))\nprint(x.sum().item())"]


def test_colour_in_a_terminal(tree):
    child = spawn("a.py", cwd=tree, NO_COLOR=None)
    child.expect("\x1b\\[")  # styled
    answer(child, "d")
    assert finish(child) == (0, None)


def test_ctrl_c_stops_cleanly(tree):
    (tree / "b.py").write_text(LEGACY)
    child = spawn(".", cwd=tree)
    answer(child, "a")
    child.expect("wrote a.py")
    child.expect(PROMPT)
    child.sendintr()
    child.expect("interrupted by SIGINT: 1 file written; no file is half-written")
    status, _ = finish(child)
    assert status == 130
    assert (tree / "b.py").read_text() == LEGACY and "Variable" not in (tree / "a.py").read_text()
    assert not list(tree.glob(".torchupgrade-*"))


def test_review_needs_a_terminal(tree):
    r = tu("review", "a.py", cwd=tree, input=b"y\n")
    assert r.returncode == 2
    assert b"needs a terminal on standard input" in r.stderr and b"torchupgrade diff" in r.stderr and b"torchupgrade apply" in r.stderr
    r = subprocess.run([*command(), "review", "a.py"], cwd=tree, stdin=subprocess.DEVNULL, capture_output=True, env=env())
    assert r.returncode == 2 and b"needs a terminal" in r.stderr
    # stdin closed altogether
    r = subprocess.run(" ".join([*command(), "review", "a.py"]) + " <&-", shell=True, cwd=tree, capture_output=True, env=env())
    assert r.returncode == 2 and b"needs a terminal" in r.stderr
    assert (tree / "a.py").read_text() == LEGACY


def test_stdin_closed_while_asking(tree):
    child = spawn("a.py", cwd=tree)
    child.expect(PROMPT)
    child.sendeof()
    assert finish(child) == (0, None)
    assert (tree / "a.py").read_text() == LEGACY


def test_review_lists_in_help():
    r = tu("--help")
    out = r.stdout.decode()
    for name in ("review", "diff", "apply", "check", "rules", "explain"):
        assert f"  {name} " in out




def test_a_rejection_that_cannot_be_honoured_asks_before_writing(tmp_path):
    src = "import torch\nfrom torch.autograd import Variable\nx = Variable(torch.zeros(3))\ny = x.cuda(async=True)\n"
    (tmp_path / "a.py").write_text(src)
    child = spawn("a.py", cwd=tmp_path)
    answer(child, "y", "n")  # TU030 cannot be rejected: the file would not parse
    child.expect("a.py:4: cannot be left as it is: without it the file does not parse")
    child.expect(r"Write a.py with these changes anyway \[y,n\]\?")
    child.sendline("n")
    assert finish(child) == (0, None)
    assert (tmp_path / "a.py").read_text() == src
    child = spawn("a.py", cwd=tmp_path)
    answer(child, "y", "n")
    child.expect(r"anyway \[y,n\]\?")
    child.sendline("y")
    child.expect("wrote a.py")
    assert finish(child) == (0, None)
    assert (tmp_path / "a.py").read_text() == "import torch\nx = torch.zeros(3)\ny = x.cuda(non_blocking=True)\n"


def test_rejections_keep_statements_byte_identical_over_the_examples():
    """Every hunk of the example scripts, rejected alone: its lines stay as they were (except the
    ones `review` then reports and asks about) and the file still parses."""
    import difflib
    from pathlib import Path

    from torchupgrade.cli.hunks import hunks_of, split_lines, text_of
    from torchupgrade.cli.review import Reviewer, _unhonoured
    from torchupgrade.cli.runner import Options, migrate_path

    examples = Path(__file__).resolve().parent.parent / "examples"
    options = Options()
    reviewer = Reviewer(lambda p: options, None, False)
    checked = reported = 0
    for path in sorted(examples.rglob("*.py")):
        data = path.read_bytes()
        result = migrate_path(data, str(path), options)
        if result.failure or not result.changed:
            continue
        for hunk in [h for h in hunks_of(result) if h.edits]:
            final = reviewer._resolve(result, options, set(hunk.engine_lines))
            assert final.failure is None
            ast.parse(text_of(final.new_source))
            old, new = split_lines(text_of(data)), split_lines(text_of(final.new_source))
            lo, hi = hunk.old_start - 1, hunk.old_start - 1 + len(hunk.old_lines)
            ops = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
            touched = [op for op in ops if op[0] != "equal" and op[1] < hi and max(op[2], op[1] + 1) > lo]
            if touched:
                assert _unhonoured([hunk], final) == [hunk]  # review says so and asks
                assert hunk.rules == ["TU030"], (path, hunk.old_start, hunk.rules)
                reported += 1
            checked += 1
    assert checked >= 30 and reported <= 2


def test_hunks_are_grouped_per_statement():
    from torchupgrade.cli.hunks import hunks_of
    from torchupgrade.codemods import migrate

    src = (
        "import torch\n"
        "from torch.autograd import Variable\n"
        "from torch.nn.utils import clip_grad_norm\n"
        "x = Variable(torch.zeros(3))\n"
        "y = Variable(torch.ones(3),\n"
        "             requires_grad=True)\n"
        "clip_grad_norm(x, 1)\n"
    )
    hunks = hunks_of(migrate(src))
    assert [(h.old_start, len(h.old_lines), len(h.new_lines), h.rules) for h in hunks] == [
        (2, 1, 0, []),  # the import that becomes unused: a consequence, asked about by nobody
        (3, 1, 1, ["TU031"]),
        (4, 1, 1, ["TU001"]),
        (5, 2, 1, ["TU001"]),  # a statement over two lines is one hunk
        (7, 1, 1, ["TU031"]),
    ]


def test_accepting_everything_writes_what_apply_writes(tmp_path):
    """Over the multi-module example project (the project index matters there): `a` in every
    file gives the bytes `apply` gives."""
    import shutil
    from pathlib import Path

    example = Path(__file__).resolve().parent.parent / "examples" / "legacy_project"
    shutil.copytree(example, tmp_path / "by_review")
    shutil.copytree(example, tmp_path / "by_apply")
    assert tu("apply", "by_apply", cwd=tmp_path).returncode == 0
    child = spawn("by_review", cwd=tmp_path)
    while True:
        i = child.expect([PROMPT, pexpect.EOF])
        if i == 1:
            break
        child.sendline("a")
    child.close()
    assert child.exitstatus == 0
    for f in sorted((tmp_path / "by_apply").rglob("*.py")):
        assert (tmp_path / "by_review" / f.relative_to(tmp_path / "by_apply")).read_bytes() == f.read_bytes(), f
