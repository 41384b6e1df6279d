"""The ``torchupgrade`` command line (click). No transformation logic lives here."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Optional, Tuple

import click

from torchupgrade.codemods import all_rules, get_rule, migrate, select_rules

from .discovery import discover
from .render import Reporter, unified_diff, use_color
from .runner import Options, default_jobs, run, write_atomic

EXIT_HELP = """
\b
Exit codes:
  0  nothing to do, or everything applied cleanly
  1  `check` found files that would change, or some file could not be processed
  2  usage error (bad option, unknown rule code, missing path)
"""


def _codes(values: Tuple[str, ...]) -> Optional[tuple]:
    codes = tuple(c.strip() for v in values for c in v.split(",") if c.strip())
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
    ]
    for option in reversed(options):
        f = option(f)
    return f


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_HELP)
@click.version_option(package_name="torchupgrade")
def main():
    """Migrate legacy PyTorch (0.1-0.3 era) code to modern PyTorch.

    Preview with `diff`, rewrite with `apply`, guard CI with `check`. PATHS are files or
    directories (walked recursively for *.py, honouring .gitignore); `-` reads standard input.
    """


def _run(command: str, paths, select, ignore, unsafe, jobs, exclude, no_color, quiet) -> int:
    try:
        select_rules(_codes(select), _codes(ignore))
    except ValueError as exc:
        raise click.UsageError(str(exc))
    options = Options(select=_codes(select), ignore=_codes(ignore), unsafe=unsafe)
    reporter = Reporter(no_color=no_color, quiet=quiet)
    if "-" in paths:
        if len(paths) != 1:
            raise click.UsageError("`-` (standard input) cannot be combined with other paths")
        return _run_stdin(command, options, reporter)
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise click.UsageError(f"path does not exist: {missing[0]}")
    files = list(discover(paths, exclude))
    would_change = False
    verb = {"diff": "would change", "check": "would change", "apply": "changed"}[command]
    for result in run(files, options, jobs or default_jobs()):
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
                error = write_atomic(result.path, result.new_source, result.source)
                if error:
                    reporter.failure(result.path, 0, error)
                    reporter.record(result, False, failed=True)
                    continue
        reporter.notes(result)
        reporter.record(result, changed)
    reporter.summary(verb)
    if reporter.failures:
        return 1
    if command == "check" and would_change:
        return 1
    return 0


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


@main.command(epilog=EXIT_HELP)
@common_options
def diff(**kw):
    """Show the migration as a unified diff; write nothing."""
    sys.exit(_run("diff", **kw))


@main.command(epilog=EXIT_HELP)
@common_options
def apply(**kw):
    """Rewrite files in place (atomically). With `-`, write the migrated source to stdout."""
    sys.exit(_run("apply", **kw))


@main.command(epilog=EXIT_HELP)
@common_options
def check(**kw):
    """Exit 1 if any file would change (for CI); write nothing."""
    sys.exit(_run("check", **kw))


@main.command()
@click.option("--no-color", is_flag=True, help="Plain output even on a terminal.")
def rules(no_color):
    """List the rules: code, name, fix class, summary."""
    rows = [(r.code, r.name, r.label(), r.summary) for r in all_rules()]
    if not use_color(sys.stdout, no_color):
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


@main.command()
@click.argument("code")
@click.option("--no-color", is_flag=True, help="Plain output even on a terminal.")
def explain(code, no_color):
    """Show a rule's documentation and its before/after examples."""
    try:
        rule = get_rule(code)
    except KeyError:
        raise click.UsageError(f"unknown rule: {code} (see `torchupgrade rules`)")
    color = use_color(sys.stdout, no_color)
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


if __name__ == "__main__":  # pragma: no cover
    main()
