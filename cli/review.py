"""``torchupgrade review``: go through the migration change by change and write what you accept.

Each hunk (the engine's edits grouped per statement, in file order) is shown as a coloured diff
with its rule codes, messages and fix classes, and the notes on its lines; the answer is one of

    y  apply this change            n  leave this statement as it is
    a  apply this and the rest of the file
    d  leave this and the rest of the file (done with the file)
    q  quit: leave the rest of this file and the files after it
    e  edit the new code of this change in $EDITOR, then apply it
    ?  help, and the documentation of the hunk's rules (`explain`)

A rejected hunk is honoured by migrating the file again with its statements suppressed (as if they
carried ``# torchupgrade: ignore``): they stay byte-identical and the rest migrates consistently
(imports are kept while something still uses them). When that changes the other hunks (a change
that depended on a rejected one disappears, or a new one appears), the new hunks are asked too,
until the set is stable. Each file is then written atomically (``writer.write_file``).
"""
from __future__ import annotations

import ast
import sys
import textwrap
from typing import Dict, List, Optional, Set, Tuple

import click
from rich.console import Console
from rich.text import Text

from torchupgrade.codemods import Result, get_rule
from torchupgrade.codemods.source import decode

from .hunks import Hunk, hunks_of, label, split_lines
from .interrupts import critical
from .runner import Options, build_project, migrate_path, run
from .writer import ALREADY, WRITTEN, write_file

HELP = """\
y - apply this change
n - do not apply it (the statement stays as it is)
a - apply this change and all later changes in the file
d - do not apply this change or any later change in the file (done with the file)
q - quit: do not apply this change or any later one; files already answered are written
e - edit the new code of this change, then apply it
? - print this help and the documentation of the change's rules"""

NOT_A_TERMINAL = (
    "`torchupgrade review` asks about each change and needs a terminal on standard input "
    "(standard input is not a terminal). Use `torchupgrade diff PATH` to preview the changes "
    "or `torchupgrade apply PATH` to write them all."
)

MAX_ROUNDS = 6


class Quit(Exception):
    pass


class Reviewer:
    def __init__(self, options_for, project, color: bool, console: Optional[Console] = None, quiet: bool = False):
        self.quiet = quiet
        self.options_for = options_for
        self.project = project
        self.color = color
        self.console = console or Console(file=sys.stdout, highlight=False, force_terminal=color, no_color=not color, soft_wrap=True)
        self.written: List[str] = []
        self.kept: List[str] = []

    # -- showing a hunk --------------------------------------------------------------------------
    def show(self, result: Result, hunk: Hunk, index: int, total: int) -> None:
        where = label(result, hunk.segment.offset + hunk.old_start)
        header = Text()
        header.append(f"\n{where}", style="bold")
        header.append(f"  ({index}/{total})", style="dim")
        self.console.print(header)
        for e in hunk.edits:
            line = Text("  ")
            line.append(e.rule, style="bold magenta")
            line.append(f" {_name(e.rule)}: {e.message} ")
            line.append(f"[{e.fix_class.label}]", style="yellow" if e.fix_class.value != "exact" else "green")
            self.console.print(line)
        old_lines = split_lines(hunk.segment.old)
        before = old_lines[max(0, hunk.old_start - 1 - 2):hunk.old_start - 1]
        after_start = hunk.old_start - 1 + len(hunk.old_lines)
        after = old_lines[after_start:after_start + 2]
        body = Text()
        for ln in before:
            body.append("  " + _show(ln), style="dim")
        for ln in hunk.old_lines:
            body.append("- " + _show(ln), style="red")
        for ln in hunk.new_lines:
            body.append("+ " + _show(ln), style="green")
        for ln in after:
            body.append("  " + _show(ln), style="dim")
        self.console.print(body, end="")
        for n in () if self.quiet else hunk.notes:
            note = Text("  note ", style="yellow")
            note.append(f"{n.rule}: {n.message}")
            self.console.print(note)

    def explain(self, hunk: Hunk) -> None:
        self.console.print(HELP, markup=False, highlight=False)
        for code in hunk.rules:
            try:
                rule = get_rule(code)
            except KeyError:
                continue
            self.console.print(Text(f"\n{rule.code} {rule.name} ({rule.label()})", style="bold"))
            self.console.print(rule.summary, markup=False, highlight=False)
            self.console.print(textwrap.dedent(rule.description).strip(), markup=False, highlight=False)

    def ask(self, question: str, allowed: str = "ynadqe?") -> str:
        while True:
            try:
                answer = click.prompt(click.style(question, fg="blue", bold=True) if self.color else question,
                                      default="", show_default=False, prompt_suffix=" ")
            except click.Abort as exc:
                if isinstance(exc.__context__, KeyboardInterrupt):  # Ctrl-C (click turns it into Abort)
                    raise exc.__context__ from None
                raise Quit() from None  # end of input
            answer = answer.strip().lower()[:1]
            if answer and answer in allowed:
                return answer
            self.console.print(HELP, markup=False, highlight=False)

    # -- one file ----------------------------------------------------------------------------------
    def review_file(self, result: Result) -> Tuple[Optional[Result], bool]:
        """Ask about each hunk; returns (the result to write or None, quit?)."""
        data = result.source
        assert isinstance(data, bytes)
        options = self.options_for(result.path)
        decided: Dict[Tuple, bool] = {}
        edited: Dict[Tuple, str] = {}
        rejected_lines: Set[int] = set()
        rejected: List[Hunk] = []
        rest: Optional[bool] = None  # a/d: the answer for the rest of the file
        quit_ = False
        current = result
        for _round in range(MAX_ROUNDS):
            pending = [h for h in hunks_of(current) if h.edits and h.key() not in decided]
            if not pending:
                break
            for i, hunk in enumerate(pending, 1):
                if rest is not None or quit_:
                    decided[hunk.key()] = bool(rest) and not quit_
                    continue
                self.show(current, hunk, i, len(pending))
                while True:
                    notebook = hasattr(current, "pieces")
                    answer = self.ask(f"Apply this change to {current.path} [y,n,a,d,q,{'' if notebook else 'e,'}?]?")
                    if answer == "?":
                        self.explain(hunk)
                        continue
                    if answer == "e":
                        if notebook:
                            self.console.print("editing is not available in notebooks: answer y or n", markup=False)
                            continue
                        text = click.edit("".join(hunk.new_lines), extension=".py", require_save=True)
                        if text is None:
                            self.console.print("no change saved; asking again", markup=False)
                            continue
                        if hunk.new_lines and hunk.new_lines[-1].endswith("\n") and not text.endswith("\n"):
                            text += "\n"
                        edited[hunk.key()] = text
                        answer = "y"
                    break
                if answer == "q":
                    quit_ = True
                    decided[hunk.key()] = False
                elif answer in ("a", "d"):
                    rest = answer == "a"
                    decided[hunk.key()] = rest
                else:
                    decided[hunk.key()] = answer == "y"
            # migrate again with the rejected statements suppressed, until they stay as they are
            for h in hunks_of(current):
                if h.edits and decided.get(h.key()) is False:
                    rejected_lines.update(h.engine_lines)
                    rejected.append(h)
            current = self._resolve(result, options, rejected_lines)
            if current.failure:
                self.console.print(Text(f"{result.path}: cannot honour the answers ({current.failure.message}); file left unchanged", style="bold red"))
                return None, quit_
            if quit_ or rest is not None:
                break
        final = current
        if not final.changed:
            return None, quit_
        kept_changing = _unhonoured(rejected, final)
        if kept_changing:
            for h in kept_changing:
                why = ("without it the file does not parse (`async` is a keyword since Python 3.7)" if h.rules == ["TU030"]
                       else f"{', '.join(h.rules)} change{'s' if len(h.rules) == 1 else ''} it together with other statements of the file")
                self.console.print(Text(f"{label(final, h.segment.offset + h.old_start)}: cannot be left as it is: {why}", style="yellow"))
            if self.ask(f"Write {final.path} with these changes anyway [y,n]?", "yn") != "y":
                self.kept.append(final.path)
                return None, quit_
        if edited:
            final = self._apply_edits(final, edited)
            if final is None:
                return None, quit_
        return final, quit_

    def _resolve(self, original: Result, options: Options, rejected_lines: Set[int]) -> Result:
        data = original.source
        suppress: Dict[int, None] = {line: None for line in rejected_lines}
        for _ in range(MAX_ROUNDS):
            current = migrate_path(data, original.path, options, self.project, suppress=dict(suppress)) if suppress else original
            if current.failure:
                return current
            # a rejected region that still changes (a rule acting from another statement): leave
            # the statements of the hunk that changes it too
            grow = set()
            for h in hunks_of(current):
                lines = set(h.engine_lines)
                if lines & rejected_lines and not lines <= set(suppress):
                    grow |= lines
            if not grow:
                return current
            suppress.update({line: None for line in grow})
        return current

    def _apply_edits(self, final: Result, edited: Dict[Tuple, str]) -> Optional[Result]:
        text, encoding, failure = decode(final.new_source)
        if failure or text is None:
            return final
        lines = split_lines(text)
        hunks = {h.key(): h for h in hunks_of(final)}
        for key in sorted(edited, key=lambda k: -(hunks[k].new_start if k in hunks else 0)):
            h = hunks.get(key)
            if h is None:
                self.console.print("an edited change was replaced by your other answers; your edit was not used", markup=False)
                continue
            start = h.new_start - 1
            lines[start:start + len(h.new_lines)] = split_lines(edited[key])
        new_text = "".join(lines)
        try:
            ast.parse(new_text)
        except SyntaxError as exc:
            self.console.print(Text(f"{final.path}: your edit does not parse (line {exc.lineno}: {exc.msg}); the file was not written", style="bold red"))
            return None
        final.new_source = new_text.encode(encoding or "utf-8")
        return final

    # -- writing ---------------------------------------------------------------------------------------
    def write(self, result: Result, force: bool = False) -> bool:
        with critical():
            outcome = write_file(result.path, result.new_source, result.source, force=force)
        if outcome.status == WRITTEN:
            self.written.append(result.path)
            self.console.print(Text(f"wrote {result.path}", style="green"))
            return True
        style = "yellow" if outcome.status == ALREADY else "bold red"
        self.console.print(Text(f"{result.path}: {outcome.message}", style=style))
        return False


def _unhonoured(rejected: List[Hunk], final: Result) -> List[Hunk]:
    """The rejected hunks whose original lines ``final`` still changes."""
    changed = hunks_of(final)
    out = []
    for h in rejected:
        for c in changed:
            if c.segment.cell == h.segment.cell and c.old_start <= max(h.old_end, h.old_start) and max(c.old_end, c.old_start) >= h.old_start:
                out.append(h)
                break
    return out


def _name(code: str) -> str:
    try:
        return get_rule(code).name
    except KeyError:
        return ""


def _show(line: str) -> str:
    body = line.rstrip("\r\n")
    return body + "\n"


def review(settings, files, color: bool, collector=None, force: bool = False, quiet: bool = False) -> Tuple[int, int]:
    """Run the review over ``files``; returns (files written, files with changes)."""
    from .report import CHANGED, FAILED, UNCHANGED

    project = build_project(files) if files else None
    reviewer = Reviewer(settings.options_for, project, color, quiet=quiet)
    with_changes = 0
    results = run(files, settings.options, settings.jobs, settings.options_for, project=project)
    try:
        for result in results:
            if result.failure:
                reviewer.console.print(Text(f"{label(result, result.failure.line)}: error: {result.failure.message}", style="bold red"))
                if collector is not None:
                    collector.add(result, FAILED)
                continue
            if not result.changed:
                if collector is not None:
                    collector.add(result, UNCHANGED)
                continue
            with_changes += 1
            final, quit_ = reviewer.review_file(result)
            if final is not None and reviewer.write(final, force=force):
                if collector is not None:
                    collector.add(final, CHANGED)
            elif collector is not None:
                collector.add(result, UNCHANGED)
            if quit_:
                break
    except Quit:
        pass
    finally:
        results.close()
    return len(reviewer.written), with_changes


def require_terminal() -> None:
    stdin = sys.stdin
    if stdin is None or stdin.closed or not (hasattr(stdin, "isatty") and stdin.isatty()):
        raise click.UsageError(NOT_A_TERMINAL)
