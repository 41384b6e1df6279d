"""A file's migration as hunks: the changed regions of its text, grouped per statement, each with
the engine's edits and notes on those lines. Shared by ``review``, the output formats and the
reports.

A file is seen as *segments*: a Python file is one segment; a notebook is one segment per code
cell (``cli.notebook``). Engine line numbers are 1-based lines of the text the engine migrated
(for a notebook: the code cells joined); ``Segment.offset`` maps them to lines of the segment.
"""
from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from torchupgrade.codemods import Edit, Note, Result
from torchupgrade.codemods.source import decode

_ASYNC_KWARG = re.compile(r"\basync(\s*=(?!=))")
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def split_lines(text: str) -> List[str]:
    """Lines with their endings, split where Python's tokenizer splits (\\n, \\r\\n, \\r)."""
    return _LINES.findall(text)


@dataclass
class Segment:
    """A piece of a file whose lines the engine numbered ``offset + 1 ...``."""

    label: Optional[str]  # None for a whole file; "cell 4" for a notebook cell
    old: str
    new: str
    offset: int = 0  # engine line = offset + line in the segment
    cell: Optional[int] = None  # 1-based cell number (notebooks)


@dataclass
class Hunk:
    segment: Segment
    old_start: int  # 1-based line of the segment where the region starts
    old_lines: List[str]
    new_start: int
    new_lines: List[str]
    edits: List[Edit] = field(default_factory=list)
    notes: List[Note] = field(default_factory=list)

    @property
    def old_end(self) -> int:
        """Last line of the region in the original segment (old_start - 1 for a pure insertion)."""
        return self.old_start + len(self.old_lines) - 1

    @property
    def engine_lines(self) -> range:
        """The region's lines in the engine's numbering (at least one line, also for an insertion)."""
        start = self.segment.offset + self.old_start
        return range(start, max(start, self.segment.offset + self.old_end) + 1)

    @property
    def rules(self) -> List[str]:
        return sorted({e.rule for e in self.edits})

    def key(self) -> Tuple:
        return (self.segment.cell, self.old_start, tuple(self.old_lines), tuple(self.new_lines))


def text_of(source) -> str:
    if isinstance(source, str):
        return source
    text, _, _ = decode(source)
    return text or ""


def segments_of(result: Result) -> List[Segment]:
    custom = getattr(result, "segments", None)
    if callable(custom):
        return custom()
    return [Segment(None, text_of(result.source), text_of(result.new_source))]


def _statement_spans(text: str) -> List[Tuple[int, int]]:
    """(first, last) line of every statement; a compound statement with a body: its header."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        try:  # `f(x, async=True)` (what TU030 repairs): the statements are where they are
            tree = ast.parse(_ASYNC_KWARG.sub(r"_sync\1", text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return []
    except (ValueError, RecursionError, MemoryError):
        return []
    spans = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        start = node.lineno
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.decorator_list:
            start = min(d.lineno for d in node.decorator_list)
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            end = max(start, body[0].lineno - 1)
            if body[0].lineno == node.lineno:  # `if x: y` on one line
                end = node.end_lineno or start
        else:
            end = node.end_lineno or start
        spans.append((start, end))
    return spans


def _expand(first: int, last: int, spans: Sequence[Tuple[int, int]]) -> Tuple[int, int]:
    """Grow [first, last] to whole statements: each line joins the innermost statement holding it."""
    changed = True
    while changed:
        changed = False
        for line in range(first, last + 1):
            holding = [s for s in spans if s[0] <= line <= s[1]]
            if not holding:
                continue
            a, b = min(holding, key=lambda s: s[1] - s[0])
            if a < first or b > last:
                first, last = min(first, a), max(last, b)
                changed = True
                break
    return first, last


def hunks_of(result: Result) -> List[Hunk]:
    """The file's changed regions in file order, each grown to whole statements and merged with
    the regions its edits touch, with the edits and notes on its lines. Regions without an edit
    (imports added or dropped as a consequence) are hunks with no edits."""
    out: List[Hunk] = []
    edits = list(result.edits) if result.changed else []
    notes = list(result.notes)
    for seg in segments_of(result):
        if seg.old == seg.new:
            continue
        a, b = split_lines(seg.old), split_lines(seg.new)
        spans = _statement_spans(seg.old)
        new_spans = _statement_spans(seg.new)
        # regions: [i1, i2, j1, j2], 0-based half-open line ranges of the old and new text
        regions: List[List[int]] = []
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if tag == "equal":
                continue
            regions.extend(_split(i1, i2, j1, j2, spans, new_spans, a, b))
        grown = []
        for i1, i2, j1, j2 in regions:
            if i2 > i1:
                first, last = _expand(i1 + 1, i2, spans)
                g1, g2 = first - 1, last
                grown.append([g1, g2, j1 - (i1 - g1), j2 + (g2 - i2)])
            else:
                grown.append([i1, i2, j1, j2])
        local = [e for e in edits if seg.offset < e.line <= seg.offset + len(a)]
        for e in local:  # an edit spanning several regions joins them
            lo, hi = e.line - seg.offset - 1, max(e.line, e.end_line) - seg.offset
            touching = [r for r in grown if r[0] < hi and max(r[1], r[0] + 1) > lo]
            if len(touching) > 1:
                grown = [r for r in grown if r not in touching] + [_union(touching)]
        grown.sort()
        merged: List[List[int]] = []
        for r in grown:  # regions grown over the same statement merge
            if merged and r[0] < merged[-1][1]:
                merged[-1] = _union([merged[-1], r])
            else:
                merged.append(list(r))
        seg_hunks = [Hunk(seg, i1 + 1, a[i1:i2], j1 + 1, b[j1:j2]) for i1, i2, j1, j2 in merged]
        for e in local:
            target = _nearest(seg_hunks, e.line - seg.offset, max(e.line, e.end_line) - seg.offset)
            if target is not None:
                target.edits.append(e)
        for n in notes:
            if seg.offset < n.line <= seg.offset + len(a):
                target = _nearest(seg_hunks, n.line - seg.offset, max(n.line, n.end_line) - seg.offset, touching_only=True)
                if target is not None:
                    target.notes.append(n)
        out.extend(seg_hunks)
    return out


def _union(regions: Sequence[List[int]]) -> List[int]:
    return [min(r[0] for r in regions), max(r[1] for r in regions), min(r[2] for r in regions), max(r[3] for r in regions)]


def _tiling(first: int, last: int, spans: Sequence[Tuple[int, int]]) -> Optional[List[Tuple[int, int]]]:
    """Lines first..last (1-based) as consecutive whole statements, or None."""
    out = []
    line = first
    while line <= last:
        fits = [s for s in spans if s[0] == line and s[1] <= last]
        if not fits:
            return None
        end = max(s[1] for s in fits)
        out.append((line, end))
        line = end + 1
    return out


def _split(i1: int, i2: int, j1: int, j2: int, spans, new_spans, a: Sequence[str] = (), b: Sequence[str] = ()) -> List[List[int]]:
    """A changed stretch of several statements, split into one region per statement: paired one
    to one when both sides are the same number of whole statements, else aligned by similarity
    (a statement that disappears, such as an import dropped because it became unused, is a region
    of its own)."""
    if i2 - i1 < 1 or j2 - j1 < 1 or (i2 - i1 == 1 and j2 - j1 == 1):
        return [[i1, i2, j1, j2]]
    old = _tiling(i1 + 1, i2, spans)
    new = _tiling(j1 + 1, j2, new_spans)
    if not old or not new or (len(old) == 1 and len(new) == 1):
        return [[i1, i2, j1, j2]]
    if len(old) == len(new):
        return [[o[0] - 1, o[1], n[0] - 1, n[1]] for o, n in zip(old, new)]
    texts_old = ["".join(a[s - 1:e]) for s, e in old]
    texts_new = ["".join(b[s - 1:e]) for s, e in new]
    n, m = len(old), len(new)
    sim = [[difflib.SequenceMatcher(None, texts_old[x], texts_new[y]).ratio() for y in range(m)] for x in range(n)]
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for x in range(1, n + 1):
        for y in range(1, m + 1):
            best = max(score[x - 1][y], score[x][y - 1])
            if sim[x - 1][y - 1] > 0.4:
                best = max(best, score[x - 1][y - 1] + sim[x - 1][y - 1])
            score[x][y] = best
    pairs = []
    x, y = n, m
    while x and y:
        if sim[x - 1][y - 1] > 0.4 and score[x][y] == score[x - 1][y - 1] + sim[x - 1][y - 1]:
            pairs.append((x - 1, y - 1))
            x, y = x - 1, y - 1
        elif score[x][y] == score[x - 1][y]:
            x -= 1
        else:
            y -= 1
    pairs.reverse()
    if not pairs:
        return [[i1, i2, j1, j2]]
    regions = []
    po, pn = 0, 0  # next unpaired old / new statement
    for ox, ny in pairs + [(n, m)]:
        new_pos = new[pn][0] - 1 if pn < m else j2
        if po < ox:  # old statements with no counterpart: deleted
            regions.append([old[po][0] - 1, old[ox - 1][1], new_pos, new_pos])
        if pn < ny:  # new statements with no counterpart: inserted
            at = old[ox][0] - 1 if ox < n else i2
            regions.append([at, at, new[pn][0] - 1, new[ny - 1][1]])
        if ox < n:
            regions.append([old[ox][0] - 1, old[ox][1], new[ny][0] - 1, new[ny][1]])
        po, pn = ox + 1, ny + 1
    return sorted(regions)


def _nearest(hunks: List[Hunk], lo: int, hi: int, touching_only: bool = False) -> Optional[Hunk]:
    best, best_distance = None, None
    for h in hunks:
        first, last = h.old_start, max(h.old_end, h.old_start)
        distance = 0 if first <= hi and last >= lo else min(abs(first - hi), abs(lo - last))
        if best_distance is None or distance < best_distance:
            best, best_distance = h, distance
    if touching_only and best_distance:
        return None
    return best


def location(result: Result, line: int) -> Tuple[Optional[int], int]:
    """(cell number or None, line in the cell or file) of an engine line."""
    where = getattr(result, "where", None)
    if callable(where):
        return where(line)
    return None, line


def label(result: Result, line: int, name: Optional[str] = None) -> str:
    """``path:line``, or ``path:cell 4:12`` in a notebook."""
    cell, ln = location(result, line)
    name = name or result.path
    return f"{name}:cell {cell}:{ln}" if cell is not None else f"{name}:{ln}"
