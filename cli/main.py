"""The ``torchupgrade`` command line (click). No transformation logic lives here."""
from __future__ import annotations

import os
import sys
import textwrap
from typing import Optional, Tuple

import click

from torchupgrade.codemods import all_rules, get_rule, migrate, select_rules

from .discovery import discover, path_problem
from .interrupts import critical, handle_signals, raise_recursion_limit
from .render import Reporter, unified_diff, use_color
from .runner import Options, default_jobs, run
from .writer import ALREADY, WRITTEN, TempCleaner, write_file

EXIT_HELP = """
\b
Exit codes:
  0  nothing to do, or everything applied cleanly
  1  `check` found files that would change, or some file could not be processed
  2  usage error (bad option, unknown rule code, missing path, not a Python file)
  130  interrupted (Ctrl-C; 143 for SIGTERM): files already written stay written
"""


def _codes(values: Tuple[str, ...], option: str = "--select") -> Optional[tuple]:
    codes = tuple(c.strip() for v in values for c in v.split(",") if c.strip())
    if values and not codes:
        raise click.UsageError(f"{option} needs at least one rule code or name (got {', '.join(map(repr, values))})")
    return codes or None


def common_options(f):
    options = [
        click.option("--select", multiple=True, metavar="CODES", help="Only these rules (comma-separated codes or prefixes, e.g. TU001,TU02)."),
        click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rules (codes or prefixes)."),
        click.option("--unsafe", is_flag=True, help="Also apply fixes marked unsafe (they change what the code does today; see `explain`)."),
        click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, metavar="N", help="Worker processes (default: number of CPUs)."),
        click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching this pattern (gitignore syntax); repeatable."),
        click.option("--no-color", is_flag=True, help="Plain output even on a terminal."),
        click.option("--quiet", "-q", is_flag=True, help="Do not print notes (errors and the summary are still printed)."),
        click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True)),
        click.pass_context,
    ]
    for option in reversed(options):
        f = option(f)
    return f


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_HELP)
@click.version_option(package_name="torchupgrade")
@click.option("--no-color", is_flag=True, help="Plain output even on a terminal (for every command).")
@click.pass_context
def cli(ctx, no_color):
    """Migrate legacy PyTorch (0.1-0.3 era) code to modern PyTorch.

    Preview with `diff`, rewrite with `apply`, guard CI with `check`. PATHS are files or
    directories (walked recursively for *.py, honouring .gitignore); `-` reads standard input.
    """
    ctx.obj = {"no_color": no_color}


def _no_color(ctx, no_color: bool) -> bool:
    return no_color or bool((ctx.find_root().obj or {}).get("no_color"))


def _run(command: str, ctx, paths, select, ignore, unsafe, jobs, exclude, no_color, quiet, force=False) -> int:
    select_codes, ignore_codes = _codes(select, "--select"), _codes(ignore, "--ignore")
    try:
        select_rules(select_codes, ignore_codes)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    options = Options(select=select_codes, ignore=ignore_codes, unsafe=unsafe)
    reporter = Reporter(no_color=_no_color(ctx, no_color), quiet=quiet)
    if "-" in paths:
        if len(paths) != 1:
            raise click.UsageError("`-` (standard input) cannot be combined with other paths")
        return _run_stdin(command, options, reporter)
    for p in paths:
        problem = path_problem(p)
        if problem:
            raise click.UsageError(problem)
    empty: list = []
    files = list(discover(paths, exclude, empty))
    for directory in empty:
        reporter.warning(f"no Python files found in {directory}")
    would_change = False
    verb = {"diff": "would change", "check": "would change", "apply": "changed"}[command]
    cleaner = TempCleaner()
    results = run(files, options, jobs or default_jobs())
    try:
        for result in results:
            if command == "apply":
                cleaner.before_write(result.path)
            if result.failure:
                reporter.failure(result.path, result.failure.line, result.failure.message)
                reporter.record(result, False)
                continue
            changed = result.changed
            if changed:
                would_change = True
                if command == "diff":
                    reporter.diff(result)
                elif command == "check":
                    reporter.line(f"would change: {result.path} ({len(result.edits)} edit{'s' if len(result.edits) != 1 else ''})")
                elif command == "apply":
                    with critical():  # an interrupt waits until the file is written and counted
                        outcome = write_file(result.path, result.new_source, result.source, force=force)
                        if outcome.status == WRITTEN:
                            reporter.notes(result)
                            reporter.record(result, True)
                    if outcome.status == ALREADY:
                        reporter.warning(f"{result.path}: {outcome.message}")
                        reporter.record(result, False)
                    elif outcome.status != WRITTEN:
                        reporter.failure(result.path, 0, outcome.message)
                        reporter.record(result, False, failed=True)
                    continue
            reporter.notes(result)
            reporter.record(result, changed)
    except KeyboardInterrupt as exc:
        results.close()  # kills the workers
        reporter.interrupted(getattr(exc, "name", "SIGINT"), command == "apply", len(files))
        _flush_and_exit(getattr(exc, "exit_code", 130))
    if cleaner.removed:
        reporter.warning(f"removed {cleaner.removed} stale temporary file{'s' if cleaner.removed != 1 else ''} of an interrupted run")
    reporter.summary(verb)
    if reporter.failures:
        return 1
    if command == "check" and would_change:
        return 1
    return 0


def _flush_and_exit(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)  # do not wait for anything else (the workers are already gone)


def _run_stdin(command: str, options: Options, reporter: Reporter) -> int:
    data = sys.stdin.buffer.read()
    result = migrate(data, path="<stdin>", select=options.select, ignore=options.ignore, unsafe=options.unsafe)
    if result.failure:
        reporter.failure("<stdin>", result.failure.line, result.failure.message)
        if command == "apply":
            sys.stdout.buffer.write(data)  # a filter must not swallow its input
        return 1
    reporter.notes(result)
    if command == "apply":
        sys.stdout.buffer.write(result.new_source)
        sys.stdout.flush()
    elif command == "diff" and result.changed:
        reporter.diff(result, label="<stdin>")
    elif command == "check" and result.changed:
        reporter.line(f"would change: <stdin> ({len(result.edits)} edits)")
        return 1
    return 0


@cli.command(epilog=EXIT_HELP)
@common_options
def diff(ctx, **kw):
    """Show the migration as a unified diff; write nothing.

    The diff is a patch in the files' own bytes: `torchupgrade diff src | git apply -p0` (or
    `patch -p0`), run in the same directory, writes what `apply` would.
    """
    sys.exit(_run("diff", ctx, **kw))


@cli.command(epilog=EXIT_HELP)
@common_options
@click.option("--force", is_flag=True, help="Also rewrite read-only files (keeping their mode).")
def apply(ctx, **kw):
    """Rewrite files in place (atomically). With `-`, write the migrated source to stdout."""
    sys.exit(_run("apply", ctx, **kw))


@cli.command(epilog=EXIT_HELP)
@common_options
def check(ctx, **kw):
    """Exit 1 if any file would change (for CI); write nothing."""
    sys.exit(_run("check", ctx, **kw))


@cli.command()
@click.option("--no-color", is_flag=True, help="Plain output even on a terminal.")
@click.pass_context
def rules(ctx, no_color):
    """List the rules: code, name, fix class, summary."""
    rows = [(r.code, r.name, r.label(), r.summary) for r in all_rules()]
    if not use_color(sys.stdout, _no_color(ctx, no_color)):
        width = max(len(r[1]) for r in rows)
        for code, name, safety, summary in rows:
            click.echo(f"{code}  {name:<{width}}  {safety:<17}  {summary}")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="torchupgrade rules")
    for col in ("code", "name", "fix class", "summary"):
        table.add_column(col)
    for code, name, safety, summary in rows:
        table.add_row(code, name, f"[{'yellow' if 'unproven' in safety else 'green'}]{safety}", summary.replace("[", r"\["))
    Console().print(table)


@cli.command()
@click.argument("code")
@click.option("--no-color", is_flag=True, help="Plain output even on a terminal.")
@click.pass_context
def explain(ctx, code, no_color):
    """Show a rule's documentation and its before/after examples (CODE: a code, a name, or a
    prefix such as TU03, which lists the rules it selects)."""
    try:
        rule = get_rule(code)
    except KeyError:
        try:
            matching = select_rules([code])
        except ValueError:
            raise click.UsageError(f"unknown rule: {code} (see `torchupgrade rules`)") from None
        if len(matching) != 1:
            click.echo(f"{code} matches {len(matching)} rules (`--select {code}` runs them all); explain one of them:")
            width = max(len(r.name) for r in matching)
            for r in matching:
                click.echo(f"  {r.code}  {r.name:<{width}}  {r.label():<17}  {r.summary}")
            return
        rule = matching[0]
    color = use_color(sys.stdout, _no_color(ctx, no_color))
    header = f"{rule.code} {rule.name} ({rule.label()})\n\n{rule.summary}\n"
    body = textwrap.dedent(rule.description).strip() + "\n"
    parts = [header, body, "Examples\n"]
    for i, ex in enumerate(rule.examples, 1):
        title = ex.title or f"example {i}"
        flags = " [--unsafe]" if ex.unsafe else ""
        if ex.after is None:
            parts.append(f"-- {title}{flags}: left unchanged\n" + textwrap.indent(ex.before_code, "    "))
        else:
            from torchupgrade.codemods import Result

            d = unified_diff(Result("example.py", ex.before_code, ex.after_code), label="example.py")
            body_lines = "".join(d.splitlines(keepends=True)[2:])
            parts.append(f"-- {title}{flags}:\n" + textwrap.indent(body_lines, "    "))
    text = "\n".join(parts)
    if color:
        from rich.console import Console
        from rich.markdown import Markdown

        console = Console()
        console.print(Markdown(header + "\n" + body))
        console.print("\n".join(parts[2:]), highlight=False, markup=False)
    else:
        click.echo(text)


def _safe_streams() -> None:
    """Never crash on output the terminal's encoding cannot show (e.g. an ASCII-only stdout)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def main(argv=None) -> None:
    """The console entry point."""
    _safe_streams()
    raise_recursion_limit()
    handle_signals()
    try:
        cli.main(args=argv, prog_name="torchupgrade")
    except KeyboardInterrupt as exc:  # before or after the files were processed
        sys.stderr.write(f"interrupted by {getattr(exc, 'name', 'SIGINT')}\n")
        _flush_and_exit(getattr(exc, "exit_code", 130))
    except BrokenPipeError:
        # the reader went away (`torchupgrade diff . | head`): stop quietly, like other filters
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        _flush_and_exit(141)


if __name__ == "__main__":  # pragma: no cover
    main()
