"""TU030 async-non-blocking: a token-level repair before the parse."""
import ast
import textwrap
import warnings

import pytest

from torchupgrade.codemods import migrate


def m(src, **kw):
    return migrate(textwrap.dedent(src).lstrip("\n"), select=["TU030"], **kw)


def test_bytes_crlf_tabs_and_comments_survive_byte_for_byte():
    src = b"import torch\r\n# async=True in a comment\r\nif x:\r\n\ty = x.cuda(async=True)  # keep\r\n\tz = s.replace('async=', '')\r\n"
    r = migrate(src, select=["TU030"])
    assert r.failure is None
    assert r.new_source == src.replace(b"cuda(async=True)", b"cuda(non_blocking=True)")
    assert [(e.rule, e.line) for e in r.edits] == [("TU030", 4)]


def test_multiline_call_and_nested_brackets():
    r = m("""
        out = f(g(a)[0],
                async=flag and {1: 2}[1],
        )
        y = [x.cuda(async=True) for x in xs]
        """)
    assert "non_blocking=flag" in r.new_source and "x.cuda(non_blocking=True)" in r.new_source
    ast.parse(r.new_source)


@pytest.mark.parametrize(
    "src, what, line",
    [
        ("def __init__(self, device=None, async=False):\n    self.async = async\n", "parameter", 1),
        ("class T:\n    def go(self):\n        return x.cuda(async=self.async)\n", "attribute", 3),
        ("x = 1\nasync = True\n", "variable", 2),
        ("f = lambda async=False: async\n", "parameter", 1),
        ("x.cuda(async)\n", "variable", 1),
    ],
)
def test_async_as_a_name_is_reported_not_corrupted(src, what, line):
    r = migrate(src, select=["TU030"])
    assert r.failure is not None and r.failure.kind == "syntax"
    assert what in r.failure.message and r.failure.line == line
    assert r.new_source == src and not r.edits


def test_python2_file_with_async_is_reported_as_python2_and_untouched():
    src = "print 'hello'\nx = x.cuda(async=True)\n"
    r = migrate(src)
    assert r.failure is not None and "Python 2" in r.failure.message
    assert r.new_source == src


def test_async_keyword_uses_are_not_touched():
    src = "async def f(xs):\n    async with lock:\n        async for x in xs:\n            await x\n"
    r = migrate(src, select=["TU030"])
    assert r.failure is None and not r.changed


def test_file_repaired_then_migrated_by_the_other_rules():
    src = "import torch.nn as nn\nx = x.cuda(async=True)\nnn.init.normal(w)\n"
    r = migrate(src)
    assert r.failure is None
    assert r.new_source == "import torch.nn as nn\nx = x.cuda(non_blocking=True)\nnn.init.normal_(w)\n"
    assert {e.rule for e in r.edits} == {"TU030", "TU031"}


def test_migrated_code_runs_like_non_blocking():
    torch = pytest.importorskip("torch")
    src = "y = x.to('cpu', torch.float64, async=True)\nz = torch.zeros(3)\nz.copy_(x, async=True)\n"
    with pytest.raises(SyntaxError):
        ast.parse(src)
    r = migrate(src, select=["TU030"])
    ns = {"torch": torch, "x": torch.randn(3)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(r.new_source, ns)
    assert torch.equal(ns["y"], ns["x"].double()) and torch.equal(ns["z"], ns["x"])


# -- TU030: async= as a dictionary key --------------------------------------------------------

@pytest.mark.parametrize("src", [
    "opts = dict(async=True, lr=1)\n",
    "from collections import OrderedDict\nopts = OrderedDict(lr=1, async=True)\n",
    "opts = {}\nopts.update(async=True)\n",
    "s = '{async}'.format(async=1)\n",
])
def test_tu030_async_as_a_key_is_reported_not_renamed(src):
    r = migrate(src)
    assert r.failure is not None and "key" in r.failure.message
    assert r.new_source == src
    assert not r.edits


def test_tu030_calls_still_renamed_next_to_dict_literal():
    src = "opts = {'async': True}\ny = x.cuda(async=opts['async'])\n"
    r = migrate(src, select=["TU030"])
    assert r.failure is None
    assert r.new_source == "opts = {'async': True}\ny = x.cuda(non_blocking=opts['async'])\n"
