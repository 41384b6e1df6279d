"""Reading source bytes faithfully and explaining why a file is not valid Python 3."""
from __future__ import annotations

import ast
import io
import re
import tokenize
from typing import Optional, Tuple

from .model import Failure


def decode(data: bytes) -> Tuple[Optional[str], str, Optional[Failure]]:
    """Decode like the interpreter does (BOM, PEP 263 cookie). Returns (text, encoding, failure)."""
    if b"\x00" in data:
        return None, "", Failure("binary", 1, "binary file (contains NUL bytes); skipped")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # unknown codec in the cookie
        return None, "", Failure("decode", 1, f"cannot read encoding declaration: {exc.msg if hasattr(exc, 'msg') else exc}")
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        line = data[: getattr(exc, "start", 0)].count(b"\n") + 1
        return None, encoding, Failure("decode", line, f"cannot decode as {encoding}: {exc.reason if hasattr(exc, 'reason') else exc}")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, encoding, None


_PY2_HINTS = [
    (re.compile(r"^\s*except\s+[^:]+,\s*\w+\s*:"), "`except X, e:`"),
    (re.compile(r"^\s*raise\s+[\w.]+\s*,"), "`raise E, msg`"),
    (re.compile(r"^\s*print\s*>>"), "print statement"),
    (re.compile(r"^\s*print(\s+[^(=\s]|\s*$)"), "print statement"),
    (re.compile(r"^\s*exec\s+[\"'\w]"), "exec statement"),
    (re.compile(r"`[^`]+`"), "backtick repr"),
    (re.compile(r"\b\d+[lL]\b"), "long integer literal (10L)"),
    (re.compile(r"<>"), "`<>` operator"),
    (re.compile(r"\bur[\"']"), "ur'' string prefix"),
]


def parse_python(text: str, path: str = "<string>") -> Tuple[Optional[ast.AST], Optional[Failure]]:
    """Python's own parse of ``text``: (tree, None), or (None, Failure with a plain reason)."""
    try:
        return ast.parse(text, filename=path), None
    except SyntaxError as exc:
        return None, Failure("syntax", exc.lineno or 1, _reason(exc, text))
    except (ValueError, RecursionError, MemoryError) as exc:  # e.g. NUL bytes, absurd nesting
        return None, Failure("syntax", 1, f"cannot parse: {exc}")


def _reason(exc: SyntaxError, text: str) -> str:
    msg = exc.msg or "invalid syntax"
    lines = text.splitlines()
    line = lines[exc.lineno - 1] if exc.lineno and 0 < exc.lineno <= len(lines) else ""
    if isinstance(exc, TabError) or "inconsistent use of tabs" in msg:
        return "Python 2 syntax: inconsistent use of tabs and spaces in indentation; run 2to3 (or reindent) first"
    if "Missing parentheses in call to 'print'" in msg:
        return "Python 2 syntax: print statement; run 2to3 first"
    if "Missing parentheses in call to 'exec'" in msg:
        return "Python 2 syntax: exec statement; run 2to3 first"
    if "leading zeros in decimal integer literals" in msg:
        return "Python 2 syntax: old octal literal (0777); run 2to3 first"
    if re.search(r"\basync\b", line) and "async" not in msg:
        return f"`async` used as a name (a keyword since Python 3.7): {msg}; rename it by hand"
    for pattern, what in _PY2_HINTS:
        if pattern.search(line):
            return f"Python 2 syntax: {what}; run 2to3 first"
    return f"not valid Python 3: {msg}"


def deepest_line(text: str) -> int:
    """The line of the most deeply nested code (for a "too deeply nested" failure): found without
    recursion, from Python's ast, or from the indentation where even ``ast`` gives up."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    if tree is not None:
        best_line, best_depth = 1, -1
        stack = [(tree, 0)]
        while stack:
            node, depth = stack.pop()
            line = getattr(node, "lineno", None)
            if line is not None and depth > best_depth:
                best_line, best_depth = line, depth
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
        return best_line
    best_line, best_width = 1, -1
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" \t")
        if stripped and not stripped.startswith("#"):
            width = len(line.expandtabs(8)) - len(stripped)
            if width > best_width:
                best_line, best_width = number, width
    return best_line
