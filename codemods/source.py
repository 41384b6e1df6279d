"""Reading source bytes faithfully and explaining why a file is not valid Python 3."""
from __future__ import annotations

import ast
import io
import tokenize
from collections import deque
from typing import Iterator, List, Optional, Tuple

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


def walk(tree: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk``: the same nodes in the same (breadth-first) order, without its two generators
    per node (``iter_child_nodes`` over ``iter_fields``), which cost more than the walk itself."""
    todo = deque([tree])
    pop, push = todo.popleft, todo.append
    node_type = ast.AST
    while todo:
        node = pop()
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, node_type):
                        push(item)
            elif isinstance(value, node_type):
                push(value)
        yield node


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
    if isinstance(exc, TabError) or "inconsistent use of tabs" in msg:
        return "Python 2 syntax: inconsistent use of tabs and spaces in indentation; run 2to3 (or reindent) first"
    if "Missing parentheses in call to 'print'" in msg:
        return "Python 2 syntax: print statement; run 2to3 first"
    if "Missing parentheses in call to 'exec'" in msg:
        return "Python 2 syntax: exec statement; run 2to3 first"
    if "leading zeros in decimal integer literals" in msg:
        return "Python 2 syntax: old octal literal (0777); run 2to3 first"
    tokens = _logical_line_tokens(text, exc.lineno or 1)
    if "async" not in msg and any(t.type == tokenize.NAME and t.string == "async" for t in tokens):
        return f"`async` used as a name (a keyword since Python 3.7): {msg}; rename it by hand"
    what = _py2_hint(tokens)
    if what:
        return f"Python 2 syntax: {what}; run 2to3 first"
    return f"not valid Python 3: {msg}"


_SKIP = (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING)


def _logical_line_tokens(text: str, lineno: int) -> list:
    """The code tokens (no comments) of the logical line that holds line ``lineno``, as far as
    Python's tokenizer gets; a character the tokenizer stops at becomes an ERRORTOKEN."""
    current: list = []

    def found() -> list:
        if current and current[0].start[0] <= lineno:
            return [t for t in current if not (t.type == tokenize.ERRORTOKEN and t.string.isspace())]
        return []

    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                if tok.start[0] >= lineno:
                    return found()
                current = []
            elif tok.type not in _SKIP:
                current.append(tok)
    except (tokenize.TokenError, SyntaxError) as exc:  # Python 3.12+ stops at a stray character
        row, col = getattr(exc, "lineno", None), getattr(exc, "offset", None)
        lines = text.splitlines()
        if row and col and 0 < row <= len(lines) and 0 < col <= len(lines[row - 1]):
            current.append(tokenize.TokenInfo(tokenize.ERRORTOKEN, lines[row - 1][col - 1], (row, col - 1), (row, col), ""))
    return found()


def _adjacent(a, b) -> bool:
    return a.end == b.start


def _py2_hint(tokens: list) -> Optional[str]:
    """Which Python 2 construct the tokens of the failing logical line show, if any."""
    if not tokens:
        return None
    first = tokens[0]
    if first.type == tokenize.NAME and first.string in ("except", "raise"):
        depth = 0
        for tok in tokens[1:]:
            if tok.string in ("(", "[", "{"):
                depth += 1
            elif tok.string in (")", "]", "}"):
                depth -= 1
            elif tok.string == "," and depth == 0:
                return "`except X, e:`" if first.string == "except" else "`raise E, msg`"
            elif first.string == "except" and tok.string == ":" and depth == 0:
                break
    if first.type == tokenize.NAME and first.string in ("print", "exec") and len(tokens) > 1:
        nxt = tokens[1]
        if nxt.type in (tokenize.NAME, tokenize.NUMBER, tokenize.STRING) or nxt.string in (">>", "-", "~", "`"):
            return f"{first.string} statement"
    for a, b in zip(tokens, tokens[1:]):
        if a.type == tokenize.NUMBER and b.type == tokenize.NAME and b.string in ("l", "L") and _adjacent(a, b):
            return "long integer literal (10L)"
        if a.string == "<" and b.string == ">" and _adjacent(a, b):
            return "`<>` operator"
        if a.type == tokenize.NAME and a.string.lower() in ("ur", "bu") and b.type == tokenize.STRING and _adjacent(a, b):
            return "ur'' string prefix"
    if any(t.type == tokenize.ERRORTOKEN and t.string == "`" for t in tokens):
        return "backtick repr"
    return None


def deepest_line(text: Optional[str]) -> int:
    """The line of the most deeply nested code (for a "too deeply nested" failure): found without
    recursion, from Python's ast, or from the indentation where even ``ast`` gives up."""
    if not text:
        return 1
    tree: Optional[ast.AST]
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    if tree is not None:
        best_line, best_depth = 1, -1
        stack: List[Tuple[ast.AST, int]] = [(tree, 0)]
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
