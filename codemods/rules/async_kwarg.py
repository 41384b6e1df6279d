"""TU030 async-non-blocking: ``x.cuda(async=True)`` -> ``x.cuda(non_blocking=True)`` (a text rule)."""
from __future__ import annotations

import io
import keyword
import tokenize
from typing import List, Tuple

from ..cstutil import line_offsets
from ..model import Example, Failure
from ..rule import TextRule

_OPEN = {"(": ")", "[": "]", "{": "}"}
# Callees whose keyword arguments become dictionary keys, attribute names or format fields: an
# ``async=`` there is data (``dict(async=True)`` has the key "async"), not torch's argument.
_KEY_CALLEES = {"dict", "OrderedDict", "defaultdict", "update", "format", "Namespace", "SimpleNamespace", "set_defaults", "_replace", "namedtuple"}
_CLOSE = {")", "]", "}"}


class _Group:
    """One open bracket: what it belongs to, and lambdas whose ``:`` has not been seen yet."""

    __slots__ = ("kind", "lambdas", "callee")

    def __init__(self, kind: str, callee: str = ""):
        self.kind = kind  # "call", "def", "class", "other"
        self.lambdas = 0
        self.callee = callee  # the called name for ``name(`` / ``.name(``, else ""


class AsyncNonBlocking(TextRule):
    code = "TU030"
    owns = ("kwarg:async=",)
    name = "async-non-blocking"
    summary = "`async=` keyword arguments (a SyntaxError since Python 3.7) -> `non_blocking=`"
    needles = ("async",)
    description = """
PyTorch 0.3 spelled asynchronous host-to-device copies `x.cuda(async=True)` (also `.to()`,
`.type()`, `.copy_()`, and helpers that forward to them). `async` became a keyword in Python
3.7, so such a file does not even parse: the module cannot be imported. PyTorch 0.4 renamed the
argument `non_blocking` (PR #4999), a pure rename.

The rule works on tokens, before the file is parsed (Python's `tokenize` still reads `async` as
a name): a NAME `async` directly followed by `=`, directly after `(` or `,` inside the
parentheses of a call, is a keyword argument and becomes `non_blocking`. Only those characters
change; the rest of the file is byte-identical (comments, line endings).

Any other use of `async` as a name (`self.async = async`, a parameter `def f(async=False)`, an
attribute `opts.async`, `lambda async=1: ...`) cannot be renamed mechanically, because the name
is also used by callers elsewhere: the file is reported with the line and left untouched.
The same holds for `async=` in a call that turns keywords into data: `dict(async=True)`
(the key "async"), `OrderedDict(...)`, `d.update(...)`, `"{async}".format(...)`,
`Namespace(...)`, `parser.set_defaults(...)`: renaming would change the key, so the file is
reported.
`async def`, `async for` and `async with` are the keyword and are left alone.

Fix safety: exact. The original file does not parse on Python >= 3.7, so nothing can depend on
its current behaviour; `non_blocking=` is what `async=` meant for every torch function (and a
helper that forwards `**kwargs` to one). If a callee defined in another, unmigrated file takes a
parameter literally named `async`, that file does not parse either and must be renamed by hand.
"""
    examples = (
        Example(
            title="keyword arguments in calls, on one line or several",
            before="""
            x = x.cuda(async=True)
            y = y.cuda(0, async=True)  # async copy
            z = to_gpu(z,
                       async = pinned)
            """,
            after="""
            x = x.cuda(non_blocking=True)
            y = y.cuda(0, non_blocking=True)  # async copy
            z = to_gpu(z,
                       non_blocking = pinned)
            """,
        ),
        Example(
            title="async def / async for and strings are not arguments",
            before="""
            async def fetch(session):
                async for row in session.rows(mode="async=True"):
                    await row.cuda(non_blocking=True)
            """,
        ),
    )

    def transform(self, text: str) -> str:
        if "async" not in text:
            return text
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        except (tokenize.TokenError, SyntaxError):
            return text  # not tokenizable (e.g. Python 2): the parser reports why
        hits = self._scan(tokens)
        if self.failure or not hits:
            return text
        offsets = line_offsets(text)
        out: List[str] = []
        last = 0
        for row, col in hits:
            start = offsets[row - 1] + col
            if text[start:start + 5] != "async":  # defensive: never write a wrong position
                self.failure = Failure("internal", row, "internal error: token positions do not match the text; file left unchanged")
                return text
            out.append(text[last:start])
            out.append("non_blocking")
            last = start + 5
        out.append(text[last:])
        for row, _ in hits:
            self.edit(row, "async= -> non_blocking= (async is a keyword since Python 3.7)")
        return "".join(out)

    def _scan(self, tokens) -> List[Tuple[int, int]]:
        significant = [t for t in tokens if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)]
        stack: List[_Group] = [_Group("other")]
        hits: List[Tuple[int, int]] = []
        for i, tok in enumerate(significant):
            prev = significant[i - 1] if i else None
            nxt = significant[i + 1] if i + 1 < len(significant) else None
            if tok.type == tokenize.OP and tok.string in _OPEN:
                kind = self._bracket_kind(tok, significant, i)
                callee = significant[i - 1].string if kind == "call" and significant[i - 1].type == tokenize.NAME else ""
                stack.append(_Group(kind, callee))
                continue
            if tok.type == tokenize.OP and tok.string in _CLOSE:
                if len(stack) > 1:
                    stack.pop()
                continue
            if tok.type == tokenize.NAME and tok.string == "lambda":
                stack[-1].lambdas += 1
                continue
            if tok.type == tokenize.OP and tok.string == ":" and stack[-1].lambdas:
                stack[-1].lambdas -= 1
                continue
            if tok.type != tokenize.NAME or tok.string != "async":
                continue
            if nxt is not None and nxt.type == tokenize.NAME and nxt.string in ("def", "for", "with"):
                continue  # the keyword
            group = stack[-1]
            row = tok.start[0]
            if (
                nxt is not None and nxt.type == tokenize.OP and nxt.string == "="
                and prev is not None and prev.type == tokenize.OP and prev.string in ("(", ",")
                and group.kind == "call" and not group.lambdas
            ):
                if group.callee in _KEY_CALLEES:
                    self.failure = Failure(
                        "syntax", row,
                        f"`async=` in a call to `{group.callee}(...)` on line {row}: there it names a key or field "
                        "(\"async\"), and renaming it to `non_blocking=` would change that key; rename it by hand "
                        "(`async` is a keyword since Python 3.7)",
                    )
                    return []
                hits.append(tok.start)
                continue
            if prev is not None and prev.type == tokenize.OP and prev.string == ".":
                what = "as an attribute name (`.async`)"
            elif group.kind == "def" or group.lambdas:
                what = "as a parameter name"
            else:
                what = "as a variable name"
            self.failure = Failure(
                "syntax", row,
                f"`async` used {what} on line {row}: a keyword since Python 3.7; rename it by hand "
                "(only `async=` keyword arguments in calls are rewritten)",
            )
            return []
        return hits

    @staticmethod
    def _bracket_kind(tok, tokens, i) -> str:
        if tok.string != "(" or i == 0:
            return "other"
        prev = tokens[i - 1]
        if prev.type == tokenize.NAME:
            before = tokens[i - 2] if i >= 2 else None
            if before is not None and before.type == tokenize.NAME and before.string in ("def", "class"):
                return before.string
            if keyword.iskeyword(prev.string):
                return "other"
            return "call"
        if prev.type == tokenize.OP and prev.string in (")", "]"):
            return "call"
        return "other"
