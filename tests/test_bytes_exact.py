"""Issue 11, defect 1: a file is changed only if a rule made an edit, and the output equals the
input outside the edited code, even where libcst prints the unmodified module differently."""
import pytest
from _cli import tu

from torchupgrade.codemods import migrate
from torchupgrade.codemods.splice import merge3

# libcst's printing of these (unmodified) modules differs from the input
NO_EDIT = [
    pytest.param(b"import torch\nx = torch.zeros(3)\nprint(x)  # was x.data\n\n    ", id="trailing-whitespace-line"),
    pytest.param(b"import torch\nx = torch.zeros(1, requires_grad=True)\nfor i in range(3):\n    y = x\n    # was x.data\n\n  ", id="trailing-indented-comment"),
    pytest.param(b"import torch\nx = 1  # x.data\n\n  # c\n\n    ", id="dropped-comment-line"),
    pytest.param(b"import torch\rx = torch.zeros(1, requires_grad=True)  # .data\r", id="cr-only"),
    pytest.param(b"x = 1  # Variable( volatile .data\n\n    ", id="no-torch-import"),
]

EDITED = [
    # (input, expected output): the edit is made, every other byte kept
    (b"import torch\nx = torch.zeros(1, requires_grad=True)\nprint(x.data)\n\n    ", b"import torch\nx = torch.zeros(1, requires_grad=True)\nprint(x.detach())\n\n    "),
    (b"import torch\rx = torch.zeros(1, requires_grad=True)\rprint(x.data)\r", b"import torch\rx = torch.zeros(1, requires_grad=True)\rprint(x.detach())\r"),
    (b"import torch\rx = torch.zeros(1, requires_grad=True)\rprint(x.data)\r\r", b"import torch\rx = torch.zeros(1, requires_grad=True)\rprint(x.detach())\r\r"),
    (b"import torch\nx = torch.zeros(1, requires_grad=True)\nprint(x.data)\n\n  # c\n\n    ", b"import torch\nx = torch.zeros(1, requires_grad=True)\nprint(x.detach())\n\n  # c\n\n    "),
    (
        b"import torch\nx = torch.zeros(1, requires_grad=True)\nfor i in range(3):\n    print(x.data)\n    # c\n\n  ",
        b"import torch\nx = torch.zeros(1, requires_grad=True)\nfor i in range(3):\n    print(x.detach())\n    # c\n\n  ",
    ),
    (
        b"\xef\xbb\xbfimport torch\r\nx = torch.zeros(1, requires_grad=True)\r\nprint(x.data)\r\n\r\n    ",
        b"\xef\xbb\xbfimport torch\r\nx = torch.zeros(1, requires_grad=True)\r\nprint(x.detach())\r\n\r\n    ",
    ),
    # CR-only, a backslash continuation before the last line: libcst's printing drops the last
    # `\r` (the output would end in a backslash); the output is checked as it will be written
    (
        b"import torch\rfrom torch.autograd import Variable\rx = Variable(torch.zeros(3), volatile=True)\rlambda:A \\\r\r",
        b"import torch\rx = torch.zeros(3)\rlambda:A \\\r\r",
    ),
]


@pytest.mark.parametrize("src", NO_EDIT)
def test_no_edit_returns_the_input_object(src):
    for source in (src, src.decode()):
        result = migrate(source)
        assert result.edits == [] and result.failure is None
        assert result.new_source is source and not result.changed


@pytest.mark.parametrize("src, expected", EDITED)
def test_bytes_outside_edits_are_kept(src, expected):
    result = migrate(src)
    assert result.failure is None and result.edits
    assert result.new_source == expected
    text_result = migrate(src.decode("utf-8-sig"))
    assert text_result.new_source == expected.decode("utf-8-sig")


@pytest.mark.parametrize("src", NO_EDIT)
def test_check_and_apply_leave_unedited_file_alone(tmp_path, src):
    f = tmp_path / "t.py"
    f.write_bytes(src)
    r = tu("check", f)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == b"" and b"1 unchanged" in r.stderr
    before = f.stat().st_mtime_ns
    r = tu("apply", f)
    assert r.returncode == 0 and b"0 changed" in r.stderr
    assert f.read_bytes() == src and f.stat().st_mtime_ns == before


@pytest.mark.parametrize("src, expected", EDITED)
def test_apply_keeps_trailing_bytes(tmp_path, src, expected):
    f = tmp_path / "t.py"
    f.write_bytes(src)
    r = tu("apply", f)
    assert r.returncode == 0, r.stderr
    assert f.read_bytes() == expected


def test_merge3_replays_edits_onto_original():
    original = "a\nb\nc\n\n    "
    roundtrip = "a\nb\nc\n    "
    assert merge3(original, roundtrip, "a\nB\nc\n    ") == "a\nB\nc\n\n    "
    assert merge3(original, roundtrip, "X\na\nb\nc\n    ") == "X\na\nb\nc\n\n    "
    # an edit inside the changed region is merged character by character
    assert merge3("a\rb\r", "a\rb", "a\rbb") == "a\rbb\r"
    # unchanged round trip: the new text as it is
    assert merge3("a\n", "a\n", "b\n") == "b\n"


def test_merge3_refuses_overlapping_changes():
    # the round trip rewrote "b" to "x"; the edit rewrote "x" to "y": they cannot be told apart
    assert merge3("a\nb\n", "a\nx\n", "a\ny\n") is None
