"""Jupyter notebooks (``.ipynb``): the code cells are migrated as one script, the file's bytes are
kept outside the ``source`` of the cells that changed.

* The code cells are joined in order, each after a boundary comment (``# torchupgrade-cell N``),
  so imports and helpers of earlier cells count for later ones; the migrated script is split at
  those comments again (a migration that would move code across cells fails the notebook).
* IPython syntax (``%matplotlib inline``, ``!pip install ...``, ``x?``, cell magics such as
  ``%%bash``) is replaced by a placeholder statement before migrating (only in a cell that does
  not parse as Python) and put back afterwards.
* The notebook is never re-serialised: each changed cell's ``source`` value is replaced in the
  original text, written in the layout of the original (a list of lines or one string, the same
  indentation, ``\\u`` escapes only if the file used them). Outputs, metadata, cell ids, key
  order and whitespace stay byte for byte (``tests/test_notebooks.py`` measures nbformat's
  round trip against this).
* Line numbers are ``cell N:line`` (N counts every cell, markdown included, from 1).
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]  # public in the module, missing from typeshed
from typing import Any, Dict, List, Optional, Tuple

from torchupgrade.codemods import Failure, Result, migrate

from .hunks import Segment, split_lines

BOUNDARY = "# torchupgrade-cell {}\n"
_BOUNDARY = re.compile(r"^# torchupgrade-cell (\d+)\r?\n", re.M)
_PLACEHOLDER = "pass  # torchupgrade-magic {}"
_PLACEHOLDER_RE = re.compile(r"^([ \t]*)pass  # torchupgrade-magic (\d+)[ \t]*$")
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug"}


class NotebookError(Exception):
    def __init__(self, kind: str, message: str, cell: Optional[int] = None, line: int = 0):
        super().__init__(message)
        self.kind, self.message, self.cell, self.line = kind, message, cell, line


@dataclass
class Cell:
    number: int  # 1-based among all cells
    source: str
    start: int  # span of the JSON value of "source" in the text
    end: int
    is_list: bool


@dataclass
class Piece:
    """A code cell inside the joined script."""

    cell: Cell
    offset: int  # script line = offset + line in the cell
    lines: int
    code: str  # the cell's code as migrated (magics replaced)
    magics: Dict[int, str]  # placeholder id -> original line
    newline_added: bool


@dataclass
class NotebookResult(Result):
    pieces: List[Piece] = field(default_factory=list)
    new_cells: Dict[int, str] = field(default_factory=dict)  # cell number -> new source

    def where(self, line: int) -> Tuple[Optional[int], int]:
        for p in self.pieces:
            if p.offset < line <= p.offset + p.lines:
                return p.cell.number, line - p.offset
            if line == p.offset:  # the boundary comment
                return p.cell.number, 1
        return None, line

    def segments(self) -> List[Segment]:
        out = []
        for p in self.pieces:
            old = p.cell.source
            new = self.new_cells.get(p.cell.number, old)
            if old and not old.endswith(("\n", "\r")) and not new.endswith(("\n", "\r")):
                old, new = old + "\n", (new + "\n" if new else new)  # a cell's last line has no newline
            out.append(Segment(f"cell {p.cell.number}", old, new, p.offset, p.cell.number))
        return out

    def patch(self, label: Optional[str] = None) -> bytes:
        """A readable per-cell diff (``--- nb.ipynb:cell 4``); not a patch of the JSON file."""
        from .render import patch_bytes

        name = label or self.path
        out = []
        for seg in self.segments():
            if seg.old != seg.new:
                body = patch_bytes(seg.old.encode("utf-8"), seg.new.encode("utf-8"), "x").split(b"\n", 2)[2]
                header = f"--- {name}:{seg.label}\n+++ {name}:{seg.label}\n".encode("utf-8", "surrogateescape")
                out.append(header + body)
        return b"".join(out)


# -- reading the JSON with the positions of the cell sources ---------------------------------------
_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


def _ws(s: str, i: int) -> int:
    return _WS.match(s, i).end()  # type: ignore[union-attr]


def _value_end(s: str, i: int) -> int:
    """Index after the JSON value starting at ``i`` (the text is known to be valid JSON)."""
    c = s[i]
    if c == '"':
        return scanstring(s, i + 1)[1]
    if c in "[{":
        close = "]" if c == "[" else "}"
        i = _ws(s, i + 1)
        if s[i] == close:
            return i + 1
        while True:
            if c == "{":
                i = _ws(s, scanstring(s, i + 1)[1])
                i = _ws(s, i + 1)  # the colon
            i = _ws(s, _value_end(s, i))
            if s[i] == close:
                return i + 1
            i = _ws(s, i + 1)  # the comma
    m = _SCALAR.match(s, i)
    if not m:
        raise ValueError(f"bad JSON at {i}")
    return m.end()


def _members(s: str, i: int):
    """(key, value start, value end) of the object starting at ``i``."""
    i = _ws(s, i + 1)
    if s[i] == "}":
        return
    while True:
        key, i = scanstring(s, i + 1)
        i = _ws(s, i)
        i = _ws(s, i + 1)
        end = _value_end(s, i)
        yield key, i, end
        i = _ws(s, end)
        if s[i] == "}":
            return
        i = _ws(s, i + 1)


def _elements(s: str, i: int):
    i = _ws(s, i + 1)
    if s[i] == "]":
        return
    while True:
        end = _value_end(s, i)
        yield i, end
        i = _ws(s, end)
        if s[i] == "]":
            return
        i = _ws(s, i + 1)


def read_cells(text: str) -> Tuple[Dict[str, Any], List[Tuple[str, Optional[Cell]]]]:
    """The notebook document and, per cell, (cell_type, Cell with the span of its source)."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise NotebookError("notebook", f"not a valid notebook: invalid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise NotebookError("notebook", "not a valid notebook: no list of cells (nbformat 4 is supported)")
    if doc.get("nbformat", 4) < 4:
        raise NotebookError("notebook", f"nbformat {doc.get('nbformat')} notebooks are not supported (convert with `jupyter nbconvert --to notebook`)")
    start = _ws(text, 0)
    cells_span = next(((a, b) for k, a, b in _members(text, start) if k == "cells"), None)
    assert cells_span is not None
    out: List[Tuple[str, Optional[Cell]]] = []
    for number, ((a, _b), cell) in enumerate(zip(_elements(text, cells_span[0]), doc["cells"]), 1):
        if not isinstance(cell, dict):
            raise NotebookError("notebook", f"not a valid notebook: cell {number} is not an object", number)
        kind = cell.get("cell_type")
        if kind != "code":
            out.append((str(kind), None))
            continue
        span = next(((x, y) for k, x, y in _members(text, a) if k == "source"), None)
        source = cell.get("source", "")
        if span is None or not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(x, str) for x in source))):
            raise NotebookError("notebook", f"not a valid notebook: cell {number} has no source text", number)
        joined = source if isinstance(source, str) else "".join(source)
        out.append(("code", Cell(number, joined, span[0], span[1], isinstance(source, list))))
    return doc, out


# -- IPython syntax -----------------------------------------------------------------------------------
def _is_magic(stripped: str) -> bool:
    if not stripped or stripped.startswith("#"):
        return False
    return stripped[0] in "%!?" or (stripped.endswith("?") and not stripped.endswith("??=") and re.match(r"^[\w.]+\?\??$", stripped) is not None)


def _mask_magics(cell: Cell, counter: List[int]) -> Tuple[str, Dict[int, str]]:
    """The cell's code with IPython lines replaced by placeholders (only if it does not parse)."""
    code = cell.source
    try:
        ast.parse(code)
        return code, {}
    except (SyntaxError, ValueError):
        pass
    lines = split_lines(code)
    magics: Dict[int, str] = {}
    out = []
    whole_cell = bool(lines) and lines[0].startswith("%%") and lines[0][2:].split()[0:1] and lines[0][2:].split()[0] not in _PYTHON_CELL_MAGICS
    continued = False
    for index, line in enumerate(lines):
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        stripped = body.strip()
        if whole_cell or continued or _is_magic(stripped) or (index == 0 and stripped.startswith("%%")):
            counter[0] += 1
            magics[counter[0]] = body
            indent = "" if whole_cell else body[: len(body) - len(body.lstrip())]
            out.append(indent + _PLACEHOLDER.format(counter[0]) + ending)
            continued = body.endswith("\\") and not whole_cell
        else:
            out.append(line)
    return "".join(out), magics


def _unmask(code: str, magics: Dict[int, str]) -> Optional[str]:
    if not magics:
        return code
    seen = set()
    out = []
    for line in split_lines(code):
        body = line.rstrip("\r\n")
        m = _PLACEHOLDER_RE.match(body)
        if m:
            ident = int(m.group(2))
            if ident not in magics or ident in seen:
                return None
            seen.add(ident)
            original = magics[ident]
            out.append(m.group(1) + original.lstrip() + line[len(body):] if original.strip() else original + line[len(body):])
        else:
            out.append(line)
    return "".join(out) if seen == set(magics) else None


# -- writing one cell's source back ----------------------------------------------------------------
def _render_source(text: str, cell: Cell, new: str, ensure_ascii: bool) -> str:
    original = text[cell.start:cell.end]
    if not cell.is_list:
        return json.dumps(new, ensure_ascii=ensure_ascii)
    lines = new.splitlines(keepends=True) if new else []
    if not lines:
        return "[]"
    items = [json.dumps(x, ensure_ascii=ensure_ascii) for x in lines]
    elements = list(_elements(original, 0))
    if elements:
        open_ws = original[1:elements[0][0]]
        close_ws = original[elements[-1][1]:-1]
    else:
        line_start = text.rfind("\n", 0, cell.start) + 1
        key_indent = re.match(r"[ \t]*", text[line_start:]).group(0)  # type: ignore[union-attr]
        first = re.search(r"\n([ \t]*)\"", text)
        unit = first.group(1) if first else " "
        open_ws, close_ws = "\n" + key_indent + unit, "\n" + key_indent
    if len(elements) > 1:
        sep = original[elements[0][1]:elements[1][0]]
    else:
        sep = "," + (open_ws if "\n" in open_ws else " ")
    return "[" + open_ws + sep.join(items) + close_ws + "]"


def _uses_ascii_escapes(text: str) -> bool:
    if any(ord(c) > 127 for c in text):
        return False
    return re.search(r"\\u(?:00[89a-fA-F]|0[1-9a-fA-F]|[1-9a-fA-F])[0-9a-fA-F]{2}", text) is not None


# -- migrating -------------------------------------------------------------------------------------------
def _failed(path: str, data: bytes, kind: str, line: int, message: str, pieces=()) -> NotebookResult:
    return NotebookResult(path=path, source=data, new_source=data, failure=Failure(kind, line, message), pieces=list(pieces))


def script_of(data: bytes, path: str = "<notebook>") -> Tuple[str, List[Piece], str]:
    """(joined script, pieces, notebook text); raises NotebookError."""
    try:
        text = data.decode("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError("decode", f"not a valid notebook: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    _, cells = read_cells(text)
    counter = [0]
    parts: List[str] = []
    pieces: List[Piece] = []
    line = 0
    for _kind, cell in cells:
        if cell is None:
            continue
        code, magics = _mask_magics(cell, counter)
        try:
            ast.parse(code)
        except SyntaxError as exc:
            raise NotebookError("syntax", f"cell {cell.number} does not parse (line {exc.lineno}): {exc.msg}; notebook left unchanged", cell.number, exc.lineno or 0) from None
        except ValueError as exc:
            raise NotebookError("syntax", f"cell {cell.number} does not parse: {exc}; notebook left unchanged", cell.number) from None
        added = bool(code) and not code.endswith(("\n", "\r"))
        if added:
            code += "\n"
        parts.append(BOUNDARY.format(cell.number))
        line += 1
        n = len(split_lines(code))
        pieces.append(Piece(cell, line, n, code, magics, added))
        parts.append(code)
        line += n
    return "".join(parts), pieces, text


def migrate_notebook(data: bytes, *, path: str = "<notebook>", **options) -> NotebookResult:
    """Migrate a notebook's code cells (``options`` as for ``migrate``)."""
    try:
        script, pieces, text = script_of(data, path)
    except NotebookError as exc:
        result = _failed(path, data, exc.kind, exc.line, exc.message)
        if exc.cell is not None:
            result.failure = Failure(exc.kind, exc.line, exc.message)
            result.pieces = [Piece(Cell(exc.cell, "", 0, 0, True), 0, 10**9, "", {}, False)]
        return result
    result = NotebookResult(path=path, source=data, new_source=data, pieces=pieces)
    if not pieces:
        return result
    engine = migrate(script, path=path, **options)
    result.edits, result.notes, result.suppressions, result.skipped = engine.edits, engine.notes, engine.suppressions, engine.skipped
    if engine.failure:
        result.failure = engine.failure  # its line names a cell through where()
        return result
    if not engine.changed:
        return result
    new_script = engine.new_source
    assert isinstance(new_script, str)
    marks = list(_BOUNDARY.finditer(new_script))
    numbers = [int(m.group(1)) for m in marks]
    if numbers != [p.cell.number for p in pieces]:
        result.failure = Failure("internal", 0, "the migration would move code across cells (a cell boundary was lost); notebook left unchanged")
        return result
    ensure_ascii = _uses_ascii_escapes(text)
    replacements = []
    for k, (piece, mark) in enumerate(zip(pieces, marks)):
        head = new_script[: mark.start()] if k == 0 else ""
        end = marks[k + 1].start() if k + 1 < len(marks) else len(new_script)
        code = head + new_script[mark.end():end]
        if code == piece.code:
            continue
        restored = _unmask(code, piece.magics)
        if restored is None:
            result.failure = Failure("internal", 0, f"cell {piece.cell.number}: the migration touched an IPython line; notebook left unchanged")
            return result
        if piece.newline_added and restored.endswith("\n"):
            restored = restored[:-1]
        if restored == piece.cell.source:
            continue
        result.new_cells[piece.cell.number] = restored
        replacements.append((piece.cell, _render_source(text, piece.cell, restored, ensure_ascii)))
    if not replacements:
        return result
    out, last = [], 0
    for cell, rendered in replacements:
        out.append(text[last:cell.start])
        out.append(rendered)
        last = cell.end
    out.append(text[last:])
    new_text = "".join(out)
    check = json.loads(new_text)  # the new file is valid JSON and holds the new sources
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    result.new_source = bom + new_text.encode("utf-8")
    for cell, _ in replacements:
        src = check["cells"][cell.number - 1]["source"]
        assert ("".join(src) if isinstance(src, list) else src) == result.new_cells[cell.number]
    return result


def is_notebook(path: str) -> bool:
    return str(path).endswith(".ipynb")


def migrate_file(data: bytes, path: str, **options) -> Result:
    """``migrate`` for a Python file, ``migrate_notebook`` for a notebook."""
    if is_notebook(path):
        return migrate_notebook(data, path=path, **options)
    return migrate(data, path=path, **options)
