"""Terminal output: unified diffs (coloured with rich on a terminal, plain when piped), notes,
failures and the end-of-run summary. Diffs go to stdout; everything else to stderr."""
from __future__ import annotations

import difflib
import os
import sys
from collections import Counter
from typing import List, Optional, TextIO

from rich.console import Console
from rich.text import Text

from torchupgrade.codemods import Result
from torchupgrade.codemods.source import decode


def use_color(stream: TextIO, no_color: bool) -> bool:
    if no_color or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def _text(source) -> str:
    if isinstance(source, str):
        return source
    text, _, _ = decode(source)
    return text if text is not None else source.decode("utf-8", "replace")


def unified_diff(result: Result, label: Optional[str] = None) -> str:
    old = _text(result.source).splitlines()
    new = _text(result.new_source).splitlines()
    name = label or result.path
    lines = difflib.unified_diff(old, new, name, name, lineterm="")
    return "".join(line + "\n" for line in lines)


class Reporter:
    def __init__(self, no_color: bool = False, quiet: bool = False):
        self.out_color = use_color(sys.stdout, no_color)
        self.err_color = use_color(sys.stderr, no_color)
        self.out = Console(file=sys.stdout, highlight=False, force_terminal=self.out_color, no_color=not self.out_color, soft_wrap=True)
        self.err = Console(file=sys.stderr, highlight=False, force_terminal=self.err_color, no_color=not self.err_color, soft_wrap=True)
        self.quiet = quiet
        self.counts = Counter()
        self.edits = Counter()
        self.failures: List[str] = []

    # -- per file ------------------------------------------------------------------------------
    def diff(self, result: Result, label: Optional[str] = None) -> None:
        text = unified_diff(result, label)
        if not self.out_color:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        styled = Text()
        for line in text.splitlines(keepends=True):
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
        if self.err_color:
            self.err.print(Text(message, style=style))
        else:
            sys.stderr.write(message + "\n")

    def notes(self, result: Result, label: Optional[str] = None) -> None:
        if self.quiet:
            return
        name = label or result.path
        for note in result.notes:
            self._err(f"{name}:{note.line}: {note.rule} note: {note.message}", "yellow")

    def failure(self, path: str, line: int, message: str) -> None:
        self.failures.append(path)
        self._err(f"{path}:{line}: error: {message}", "bold red")

    def record(self, result: Result, changed: bool, failed: bool = False) -> None:
        self.counts["scanned"] += 1
        if result.failure or failed:
            self.counts["failed"] += 1
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
        parts = [
            f"{c['scanned']} file{'s' if c['scanned'] != 1 else ''} scanned",
            f"{c['changed']} {verb}",
            f"{c['unchanged']} unchanged",
            f"{c['failed']} failed",
            f"{c['notes']} note{'s' if c['notes'] != 1 else ''}",
        ]
        self._err(", ".join(parts), "bold")
        if self.edits:
            self._err("edits per rule: " + ", ".join(f"{rule} {n}" for rule, n in sorted(self.edits.items())))
