"""Terminal output: unified diffs (coloured with rich on a terminal, plain when piped), notes,
failures and the end-of-run summary. Diffs go to stdout; everything else to stderr."""
from __future__ import annotations

import difflib
import os
import re
import sys
from collections import Counter
from typing import Iterator, List, Optional, TextIO

from rich.console import Console
from rich.text import Text

from torchupgrade.codemods import Result
from torchupgrade.codemods.source import decode


def write_bytes(stream: TextIO, data: bytes) -> None:
    """Write raw bytes to a text stream's binary buffer, after what was written as text."""
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a stream without a binary layer (e.g. captured in tests)
        stream.write(data.decode("utf-8", "backslashreplace"))
    else:
        buffer.write(data)
        buffer.flush()


def use_color(stream: TextIO, no_color: bool) -> bool:
    if no_color or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def _encoding(source) -> str:
    if isinstance(source, str):
        return "utf-8"
    _, encoding, _ = decode(source)
    return encoding or "utf-8"


_LINE = re.compile(rb"[^\n]*\n|[^\n]+")
_NO_NEWLINE = b"\\ No newline at end of file\n"


def _quote_name(name: str) -> bytes:
    """A file name for a ``---``/``+++`` line, C-quoted the way git writes it when it holds a
    space, quote, backslash, control character or bytes that are not UTF-8 (git apply and GNU
    patch both read that form)."""
    raw = os.fsencode(name)
    try:
        raw.decode("utf-8")
        plain = True
    except UnicodeDecodeError:
        plain = False
    if plain and not re.search(rb'[\x00-\x20"\\\x7f]', raw):
        return raw
    out = bytearray(b'"')
    escapes = {ord("\\"): b"\\\\", ord('"'): b'\\"', ord("\t"): b"\\t", ord("\n"): b"\\n"}
    for byte in raw:
        if byte in escapes:
            out += escapes[byte]
        elif byte < 0x20 or byte >= 0x7F:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    out += b'"'
    return bytes(out)


def _range(start: int, stop: int) -> str:
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def patch_bytes(old: bytes, new: bytes, name: str, context: int = 3) -> bytes:
    """A unified diff of two byte strings that ``git apply -p0`` and ``patch -p0`` turn ``old``
    into exactly ``new``: lines are split at ``\\n`` only and kept byte for byte (CRLF, CR,
    any encoding), a last line without newline is marked ``\\ No newline at end of file``."""
    a = _LINE.findall(old)
    b = _LINE.findall(new)
    quoted = _quote_name(name)
    out = [b"--- " + quoted + b"\n", b"+++ " + quoted + b"\n"]
    for group in difflib.SequenceMatcher(None, a, b).get_grouped_opcodes(context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@\n".encode("ascii"))
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                out.extend(_hunk_lines(b" ", a[a1:a2]))
                continue
            if tag in ("replace", "delete"):
                out.extend(_hunk_lines(b"-", a[a1:a2]))
            if tag in ("replace", "insert"):
                out.extend(_hunk_lines(b"+", b[b1:b2]))
    if len(out) == 2:
        return b""
    return b"".join(out)


def _hunk_lines(prefix: bytes, lines: List[bytes]) -> Iterator[bytes]:
    for line in lines:
        if line.endswith(b"\n"):
            yield prefix + line
        else:
            yield prefix + line + b"\n" + _NO_NEWLINE


def _as_bytes(source) -> bytes:
    return source.encode("utf-8") if isinstance(source, str) else source


def result_patch(result: Result, label: Optional[str] = None) -> bytes:
    """The patch from ``result.source`` to ``result.new_source``, in the file's own bytes."""
    return patch_bytes(_as_bytes(result.source), _as_bytes(result.new_source), label or result.path)


def unified_diff(result: Result, label: Optional[str] = None) -> str:
    """The same patch as text (for ``explain`` and for display)."""
    return result_patch(result, label).decode(_encoding(result.source), "replace")


class Reporter:
    def __init__(self, no_color: bool = False, quiet: bool = False):
        self.out_color = use_color(sys.stdout, no_color)
        self.err_color = use_color(sys.stderr, no_color)
        self.out = Console(file=sys.stdout, highlight=False, force_terminal=self.out_color, no_color=not self.out_color, soft_wrap=True)
        self.err = Console(file=sys.stderr, highlight=False, force_terminal=self.err_color, no_color=not self.err_color, soft_wrap=True)
        self.quiet = quiet
        self.via_console = False  # a progress bar is shown: print stderr lines through its console
        self.counts: Counter[str] = Counter()
        self.edits: Counter[str] = Counter()
        self.failures: List[str] = []

    # -- per file ------------------------------------------------------------------------------
    def diff(self, result: Result, label: Optional[str] = None) -> None:
        custom = getattr(result, "patch", None)  # a notebook: a diff per cell
        patch = custom(label) if callable(custom) else result_patch(result, label)
        if not self.out_color:
            write_bytes(sys.stdout, patch)
            return
        styled = Text()
        encoding = _encoding(result.source)
        lines = patch.splitlines(keepends=True)
        text_lines = [line.decode("utf-8", "replace") for line in lines[:2]] + [line.decode(encoding, "replace") for line in lines[2:]]
        for line in text_lines:
            if line.startswith(("+++", "---")):
                style = "bold"
            elif line.startswith("@@"):
                style = "cyan"
            elif line.startswith("+"):
                style = "green"
            elif line.startswith("-"):
                style = "red"
            else:
                style = ""
            styled.append(line, style=style)
        self.out.print(styled, end="")

    def line(self, message: str, style: str = "") -> None:
        if self.out_color:
            self.out.print(Text(message, style=style))
        else:
            sys.stdout.write(message + "\n")

    def _err(self, message: str, style: str = "") -> None:
        if self.via_console:
            self.progress_console.print(Text(message, style=style if self.err_color else ""))
        elif self.err_color:
            self.err.print(Text(message, style=style))
        else:
            sys.stderr.write(message + "\n")

    def notes(self, result: Result, label: Optional[str] = None) -> None:
        if self.quiet:
            return
        from .hunks import label as where

        for note in result.notes:
            self._err(f"{where(result, note.line, label)}: {note.rule} note: {note.message}", "yellow")

    def warning(self, message: str) -> None:
        self._err(f"warning: {message}", "yellow")

    def interrupted(self, signal_name: str, writes: bool, total: int) -> None:
        c = self.counts
        written = f"{c['changed']} file{'s' if c['changed'] != 1 else ''} written" if writes else "nothing written"
        self._err(f"interrupted by {signal_name}: {written}, {c['scanned']} of {total} files processed; no file is half-written", "bold red")

    def progress_console_for_bar(self) -> Console:
        """The console a progress bar draws on (stderr is a terminal); stderr lines go through it."""
        self.progress_console = Console(file=sys.stderr, highlight=False, force_terminal=True, no_color=not self.err_color, soft_wrap=True)
        self.via_console = True
        return self.progress_console

    def info(self, message: str) -> None:
        self._err(message)

    def failure(self, path: str, line: int, message: str, label: Optional[str] = None) -> None:
        self.failures.append(path)
        self._err(f"{label or f'{path}:{line}'}: error: {message}", "bold red")

    def record(self, result: Result, changed: bool, failed: bool = False) -> None:
        self.counts["scanned"] += 1
        if result.failure or failed:
            self.counts["failed"] += 1
        elif result.skipped:
            self.counts["skipped"] += 1
        elif changed:
            self.counts["changed"] += 1
        else:
            self.counts["unchanged"] += 1
        if not (result.failure or failed):
            self.counts["notes"] += len(result.notes)
            if changed:
                self.edits.update(e.rule for e in result.edits)

    # -- end of run ----------------------------------------------------------------------------
    def summary(self, verb: str) -> None:
        c = self.counts
        skipped = [f"{c['skipped']} skipped"] if c["skipped"] else []
        parts = [
            f"{c['scanned']} file{'s' if c['scanned'] != 1 else ''} scanned",
            f"{c['changed']} {verb}",
            f"{c['unchanged']} unchanged",
            f"{c['failed']} failed",
            *skipped,
            f"{c['notes']} note{'s' if c['notes'] != 1 else ''}",
        ]
        self._err(", ".join(parts), "bold")
        if self.edits:
            self._err("edits per rule: " + ", ".join(f"{rule} {n}" for rule, n in sorted(self.edits.items())))
