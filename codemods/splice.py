"""Keeping the input's bytes outside the edited code (called once, at the end of ``migrate``).

libcst's printing of an unmodified module is not always the input: it drops a whitespace-only
last line after a blank line, the last ``\\r`` of a CR-only file, and similar details at the end of
a file. Printing the migrated module then changes those bytes too, although no rule touched them.

``finish`` guarantees, for every file:

* no edit, no change: the result's ``new_source`` is the input object itself;
* with edits, the output equals the input outside the code the rules changed. When libcst's
  round trip of the unmodified module (``ctx.module.code``) differs from the text it parsed
  (``ctx.text``), the changes from the round trip to the migrated text are replayed onto the
  original text (a three-way merge: line pieces first, characters where a piece is both edited
  and printed differently); if that is impossible, the file is reported (``Failure("internal")``)
  and left untouched;
* ``bytes`` in, ``bytes`` out in the input's encoding (BOM kept); a file whose decoded text does
  not encode back to exactly its bytes is reported rather than rewritten.
"""
from __future__ import annotations

import ast
import difflib
import re
from typing import List, Optional, Sequence, Tuple

from .model import Failure, Result

# A line's content and its terminator are separate pieces, so that a terminator libcst dropped
# (the last ``\r`` of a CR-only file) does not make the line's edited content a conflict.
_PIECE = re.compile(r"\r\n|\r|\n|[^\r\n]+")


def finish(result: Result, text: Optional[str], new_text: str, encoding: Optional[str], ctx) -> Result:
    """Set ``result.new_source`` from the migrated text (see the module docstring)."""
    if not result.edits or new_text == text or text is None:
        return result  # new_source is still the input object
    base, roundtrip = _base_and_roundtrip(ctx, text)
    if roundtrip is not None and roundtrip != base:
        merged = merge3(base, roundtrip, new_text)
        if merged is None or not _parses(merged):
            line = _first_difference_line(base, roundtrip)
            result.failure = Failure(
                "internal", line,
                "internal error: libcst prints this file differently from its bytes near this line, and the edits "
                "cannot be kept apart from that; file left unchanged",
            )
            return result
        new_text = merged
        if new_text == text:
            return result
    if encoding is None:
        result.new_source = new_text
        return result
    source = result.source
    try:
        if text.encode(encoding) != source:
            result.failure = Failure("decode", 1, f"the file's bytes do not survive decoding and re-encoding as {encoding}; left unchanged")
            return result
        result.new_source = new_text.encode(encoding)
    except UnicodeEncodeError as exc:
        line = new_text[: exc.start].count("\n") + 1
        result.failure = Failure("internal", line, f"internal error: output not encodable as {encoding}: {exc.reason}")
    return result


def _base_and_roundtrip(ctx, text: str) -> Tuple[str, Optional[str]]:
    """The text libcst parsed (after text rules) and its printing of the unmodified module."""
    base = getattr(ctx, "text", None)
    module = getattr(ctx, "module", None)
    if not isinstance(base, str) or module is None:
        return text, None
    from .cstutil import printed

    try:
        return base, printed(module)
    except Exception:  # a module that cannot be printed: no repair possible, keep libcst's output
        return base, None


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def _first_difference_line(a: str, b: str) -> int:
    n = 0
    limit = min(len(a), len(b))
    while n < limit and a[n] == b[n]:
        n += 1
    return a[:n].count("\n") + 1


# -- three-way merge ------------------------------------------------------------------------------
def merge3(original: str, roundtrip: str, new: str) -> Optional[str]:
    """Replay the changes ``roundtrip -> new`` onto ``original`` (``roundtrip`` is libcst's printing
    of the unmodified ``original``). None when a change overlaps a place where ``roundtrip`` and
    ``original`` differ in a way that cannot be separated even character by character."""
    if roundtrip == original:
        return new
    if roundtrip == new:
        return original
    merged = _merge(_PIECE.findall(original), _PIECE.findall(roundtrip), _PIECE.findall(new), fallback=True)
    return None if merged is None else "".join(merged)


def _opcodes(a: Sequence[str], b: Sequence[str]) -> Sequence[Tuple[str, int, int, int, int]]:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()


def _map(ops, p: int) -> int:
    """Map position ``p`` of the first sequence to the second (``p`` at the edge of or inside an
    equal run)."""
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal" and i1 <= p <= i2:
            return j1 + (p - i1)
        if p == i1:
            return j1
        if p == i2:
            return j2
    return ops[-1][4] if ops else 0


def _within_equal(ops, i1: int, i2: int) -> Optional[int]:
    """Start, in the second sequence, of ``[i1, i2)`` of the first if it lies in one equal run."""
    for tag, a1, a2, b1, _ in ops:
        if tag == "equal" and a1 <= i1 and i2 <= a2:
            return b1 + (i1 - a1)
    return None


def _merge(o: Sequence[str], r: Sequence[str], n: Sequence[str], fallback: bool) -> Optional[List[str]]:
    ro = _opcodes(r, o)
    rn = _opcodes(r, n)
    gaps = [(i1, i2) for tag, i1, i2, _, _ in ro if tag != "equal"]
    hunks = [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in rn if tag != "equal"]
    out: List[str] = []
    pos = 0  # next position of ``o`` to copy
    done = 0  # end, in ``r``, of the last hunk merged
    k = 0
    while k < len(hunks):
        i1, i2, j1, j2 = hunks[k]
        start = _within_equal(ro, i1, i2)
        if start is not None:
            q1, q2 = start, start + (i2 - i1)
            if q1 < pos:
                return None
            out.extend(o[pos:q1])
            out.extend(n[j1:j2])
            pos, done = q2, i2
            k += 1
            continue
        if not fallback:
            return None
        # A conflict: grow the region over every gap and hunk it touches, then merge it by characters.
        s, e = i1, i2
        k2 = k + 1
        grown = True
        while grown:
            grown = False
            for g1, g2 in gaps:
                if g1 <= e and s <= g2 and (g1 < s or g2 > e):
                    s, e, grown = min(s, g1), max(e, g2), True
            while k2 < len(hunks) and hunks[k2][0] <= e:
                e = max(e, hunks[k2][1])
                k2 += 1
                grown = True
        qs, qe = _map(ro, s), _map(ro, e)
        ns, ne = _map(rn, s), _map(rn, e)
        if s < done or qs < pos or qe < qs or ne < ns:
            return None
        sub = _merge("".join(o[qs:qe]), "".join(r[s:e]), "".join(n[ns:ne]), fallback=False)
        if sub is None:
            return None
        out.extend(o[pos:qs])
        out.append("".join(sub))
        pos, done = qe, e
        k = k2
    out.extend(o[pos:])
    return out
