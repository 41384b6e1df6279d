"""The ``torchupgrade`` command line (click). No transformation logic lives here."""
from __future__ import annotations

import os
import re
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Tuple

import click

from . import outdir, progress
from .config import ConfigError, discover_config
from .discovery import discover, path_problem
from .formats import FORMATS, concise_lines, diagnostics, failure_dict, github_lines, json_document, sarif_document
from .hunks import label
from .interrupts import critical, handle_signals, raise_recursion_limit
from .report import CHANGED, FAILED, SKIPPED, UNCHANGED, WOULD_CHANGE, Collector
from .runner import Options, default_jobs, run
from .writer import ALREADY, WRITTEN, TempCleaner, write_file

if TYPE_CHECKING:
    from .render import Reporter as ReporterType


# the engine (libcst, the rules) and rich load on first use: `--version` and `--help` start fast
def all_rules(*args, **kw):
    from torchupgrade.codemods import all_rules

    return all_rules(*args, **kw)


def get_rule(*args, **kw):
    from torchupgrade.codemods import get_rule

    return get_rule(*args, **kw)


def migrate(*args, **kw):
    from torchupgrade.codemods import migrate

    return migrate(*args, **kw)


def select_rules(*args, **kw):
    from torchupgrade.codemods import select_rules

    return select_rules(*args, **kw)


def Reporter(*args, **kw):  # the class of render.py
    from .render import Reporter

    return Reporter(*args, **kw)


def unified_diff(*args, **kw):
    from .render import unified_diff

    return unified_diff(*args, **kw)


def use_color(*args, **kw):
    from .render import use_color

    return use_color(*args, **kw)


EXIT_HELP = """
\b
Exit codes:
  0  nothing to do, or everything applied cleanly
  1  `check` found files that would change, or some file could not be processed
  2  usage error (bad option, unknown rule code, missing path, not a Python file,
     bad configuration, --out-dir inside the input, review without a terminal)
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
        click.option("--unsafe/--no-unsafe", default=None, help="Also apply the unproven fixes (right only under an assumption the tool cannot prove; a note otherwise; see `explain`)."),
        click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, metavar="N", help="Worker processes (default: number of CPUs)."),
        click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching this pattern (gitignore syntax); repeatable."),
        click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), default=None, metavar="FILE",
                     help="Read [tool.torchupgrade] from this pyproject.toml (default: the nearest one above the first path)."),
        click.option("--report", type=click.Path(dir_okay=False, writable=True), default=None, metavar="FILE",
                     help="Write a migration report: Markdown, or JSON with --report-format json (or a .json name)."),
        click.option("--report-format", type=click.Choice(["markdown", "json"]), default=None, help="Format of --report (default: from the file name)."),
        click.option("--no-color", is_flag=True, help="Plain output even on a terminal."),
        click.option("--quiet", "-q", is_flag=True, help="Do not print notes or a progress bar (errors and the summary are still printed)."),
        click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True)),
        click.pass_context,
    ]
    for option in reversed(options):
        f = option(f)
    return f


def format_option(f):
    return click.option("--output-format", type=click.Choice(FORMATS), default=None,
                        help="full (diffs/lines, default), json, github (workflow annotations), sarif (2.1.0) or concise.")(f)


def cache_option(f):
    return click.option("--no-cache", is_flag=True,
                        help="Do not read or write the result cache ($TORCHUPGRADE_CACHE_DIR, else $XDG_CACHE_HOME/torchupgrade or ~/.cache/torchupgrade).")(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_HELP)
@click.version_option(package_name="torchupgrade")
@click.option("--no-color", is_flag=True, help="Plain output even on a terminal (for every command).")
@click.pass_context
def cli(ctx, no_color):
    """Migrate legacy PyTorch (0.1-0.3 era) code to modern PyTorch.

    Preview with `diff`, review change by change with `review`, rewrite with `apply`, guard CI
    with `check`. PATHS are files or directories (walked recursively for *.py and *.ipynb,
    honouring .gitignore); `-` reads standard input. Options can be set in pyproject.toml
    under [tool.torchupgrade].
    """
    ctx.obj = {"no_color": no_color}


def _no_color(ctx, no_color: bool) -> bool:
    return no_color or bool((ctx.find_root().obj or {}).get("no_color"))


class Run:
    """The settings of one diff/apply/check/review run: command line over configuration."""

    def __init__(self, command: str, ctx, paths, select, ignore, unsafe, jobs, exclude, config_file=None, strict_suppressions=False):
        try:
            self.config = discover_config(list(paths), config_file)
        except ConfigError as exc:
            raise click.UsageError(str(exc)) from None
        cfg = self.config
        self.select = _codes(select, "--select") or cfg.select or None
        self.ignore = _codes(ignore, "--ignore") or cfg.ignore or None
        for codes in [self.select, self.ignore, *cfg.per_file_ignores.values()]:
            if not codes:
                continue  # nothing to validate (and the rules need not be loaded)
            try:
                select_rules(codes, None)
            except ValueError as exc:
                where = f" (in {cfg.path})" if cfg.path and codes not in (_codes(select), _codes(ignore)) else ""
                raise click.UsageError(f"{exc}{where}") from None
        self.unsafe = bool(cfg.unsafe) if unsafe is None else unsafe
        self.jobs = jobs or cfg.jobs or default_jobs()
        self.exclude = tuple(exclude)
        self.rooted = []
        if cfg.root is not None:
            patterns = list(cfg.exclude or ()) if not exclude else []
            patterns += list(cfg.extend_exclude)
            if patterns:
                self.rooted.append((cfg.root, patterns))
        self.options = Options(select=self.select, ignore=self.ignore, unsafe=self.unsafe, strict_suppressions=strict_suppressions)
        self._per_file = []
        if cfg.per_file_ignores and cfg.root is not None:
            import pathspec

            for pattern, codes in cfg.per_file_ignores.items():
                self._per_file.append((pathspec.PathSpec.from_lines("gitwildmatch", [pattern]), codes))

    def options_for(self, path) -> Options:
        if not self._per_file:
            return self.options
        assert self.config.root is not None  # per-file ignores are read only for a rooted configuration
        try:
            rel = Path(os.path.abspath(path)).relative_to(self.config.root).as_posix()
        except ValueError:
            return self.options
        extra = tuple(c for spec, codes in self._per_file if spec.match_file(rel) for c in codes)
        if not extra:
            return self.options
        return replace(self.options, ignore=tuple(self.options.ignore or ()) + extra)

    def option_summary(self) -> dict:
        return {"select": list(self.select or []), "ignore": list(self.ignore or []), "unsafe": self.unsafe}

    def files(self, paths, reporter) -> list:
        for p in paths:
            problem = path_problem(p)
            if problem:
                raise click.UsageError(problem)
        empty: list = []
        files = list(discover(paths, self.exclude, empty, rooted=self.rooted))
        for directory in empty:
            reporter.warning(f"no Python files found in {directory} (nor notebooks)")
        return files


def _report_format(report: str, report_format: Optional[str]) -> str:
    if report_format:
        return report_format
    return "json" if report.endswith(".json") else "markdown"


def _run(command: str, ctx, paths, select, ignore, unsafe, jobs, exclude, no_color, quiet, force=False, output_format=None,
         report=None, report_format=None, config_file=None, strict_suppressions=False, out_dir=None, no_cache=False) -> int:
    settings = Run(command, ctx, paths, select, ignore, unsafe, jobs, exclude, config_file, strict_suppressions)
    fmt = output_format or (settings.config.output_format if command in ("diff", "check") else None) or "full"
    options = settings.options
    reporter = Reporter(no_color=_no_color(ctx, no_color), quiet=quiet or fmt != "full")
    collector = Collector(command, settings.option_summary())
    if "-" in paths:
        if len(paths) != 1:
            raise click.UsageError("`-` (standard input) cannot be combined with other paths")
        if out_dir:
            raise click.UsageError("--out-dir cannot be used with `-` (standard input)")
        code = _run_stdin(command, options, reporter, fmt, collector)
        _write_report(collector, report, report_format)
        return code
    mirror = None
    if out_dir:
        problem = outdir.problem(paths, out_dir)
        if problem:
            raise click.UsageError(problem)
    files = settings.files(paths, reporter)
    if out_dir:
        mirror = outdir.Mirror(paths, out_dir)
    would_change = False
    verb = {"diff": "would change", "check": "would change", "apply": "changed"}[command]
    cleaner = TempCleaner()
    # the bar draws on stderr; lines streamed to the same terminal on stdout would tear it
    streams = command in ("diff", "check") and fmt in ("full", "github", "concise")
    show_progress = progress.wanted(len(files), quiet) and not (streams and sys.stdout.isatty())
    bar: progress.NoProgress = progress.NoProgress()
    need_diagnostics = fmt != "full" or bool(report)  # (they cost a diff per changed file)
    all_diags: list = []
    failures: list = []
    results = run(files, options, settings.jobs, settings.options_for, cache_dir=None if no_cache else _cache_dir())
    try:
        if show_progress:
            bar = progress.Progress(reporter.progress_console_for_bar(), len(files))  # type: ignore[assignment]
        for result in results:
            bar.advance(result.path)
            if command == "apply" and mirror is None:
                cleaner.before_write(result.path)
            if result.failure:
                reporter.failure(result.path, result.failure.line, result.failure.message, label=label(result, result.failure.line) if result.failure.line else None)
                reporter.record(result, False)
                failures.append(failure_dict(result))
                collector.add(result, FAILED)
                continue
            for sup in getattr(result, "unused_suppressions", ()):
                where = label(result, sup.line) if sup.line else f"{result.path}:1"
                what = "skip-file" if sup.line == 0 else ("ignore" if sup.codes is None else f"ignore[{','.join(sup.codes)}]")
                reporter.failure(result.path, sup.line, f"unused suppression `# torchupgrade: {what}`: nothing to suppress on this statement", label=where)
                failures.append({**failure_dict(result, message=f"unused suppression ({what})", line=sup.line), "kind": "suppression"})
            changed = result.changed
            diags = diagnostics(result) if need_diagnostics else []
            if fmt != "full":
                shown = diags if changed else [d for d in diags if d["kind"] == "note"]
                all_diags.extend(shown)
                if fmt in ("github", "concise"):
                    lines = (github_lines if fmt == "github" else concise_lines)(shown, [])
                    for line in lines:
                        reporter.line(line)
            if result.skipped:
                reporter.record(result, False)
                collector.add(result, SKIPPED, diags=[])
                continue
            if changed:
                would_change = True
                if command == "diff":
                    if fmt == "full":
                        reporter.diff(result)
                    collector.add(result, WOULD_CHANGE, diags=diags)
                elif command == "check":
                    if fmt == "full":
                        reporter.line(f"would change: {result.path} ({len(result.edits)} edit{'s' if len(result.edits) != 1 else ''})")
                    collector.add(result, WOULD_CHANGE, diags=diags)
                elif command == "apply":
                    if mirror is not None:
                        with critical():
                            try:
                                mirror.write(result.path, result.new_source)
                            except OSError as exc:
                                reporter.failure(result.path, 0, f"cannot write {mirror.target(result.path)}: {exc.strerror or exc}")
                                reporter.record(result, False, failed=True)
                                collector.add(result, FAILED, failure_message=f"cannot write the copy: {exc.strerror or exc}")
                                continue
                            reporter.notes(result)
                            reporter.record(result, True)
                            collector.add(result, CHANGED, diags=diags)
                        continue
                    with critical():  # an interrupt waits until the file is written and counted
                        outcome = write_file(result.path, result.new_source, result.source, force=force)
                        if outcome.status == WRITTEN:
                            reporter.notes(result)
                            reporter.record(result, True)
                            collector.add(result, CHANGED, diags=diags)
                    if outcome.status == ALREADY:
                        reporter.warning(f"{result.path}: {outcome.message}")
                        reporter.record(result, False)
                        collector.add(result, UNCHANGED, diags=diags)
                    elif outcome.status != WRITTEN:
                        reporter.failure(result.path, 0, outcome.message)
                        reporter.record(result, False, failed=True)
                        collector.add(result, FAILED, failure_message=outcome.message)
                    continue
            else:
                collector.add(result, UNCHANGED, diags=diags)
            reporter.notes(result)
            reporter.record(result, changed)
        if mirror is not None:
            with critical():
                copied = mirror.copy_rest(_written(collector))
            reporter.info(f"wrote {mirror.written} migrated file{'s' if mirror.written != 1 else ''} and copied {copied} other{'s' if copied != 1 else ''} to {out_dir}")
    except KeyboardInterrupt as exc:
        results.close()  # kills the workers
        bar.stop()
        reporter.interrupted(getattr(exc, "name", "SIGINT"), command == "apply", len(files))
        _write_report(collector, report, report_format)
        _flush_and_exit(getattr(exc, "exit_code", 130))
    bar.stop()
    if fmt == "json":
        sys.stdout.write(json_document(all_diags, failures, collector.summary()))
    elif fmt == "sarif":
        sys.stdout.write(sarif_document(all_diags, failures))
    elif fmt in ("github", "concise"):
        for line in (github_lines if fmt == "github" else concise_lines)([], failures):
            reporter.line(line)
    if cleaner.removed:
        reporter.warning(f"removed {cleaner.removed} stale temporary file{'s' if cleaner.removed != 1 else ''} of an interrupted run")
    reporter.summary(verb)
    _write_report(collector, report, report_format)
    if reporter.failures:
        return 1
    if command == "check" and would_change:
        return 1
    return 0


def _cache_dir() -> Optional[Path]:
    from .cache import default_dir

    return default_dir()


def _written(collector: Collector) -> list:
    return [f.path for f in collector.files if f.status == CHANGED]


def _write_report(collector: Collector, report: Optional[str], report_format: Optional[str]) -> None:
    if not report:
        return
    text = collector.to_json() if _report_format(report, report_format) == "json" else collector.to_markdown()
    try:
        Path(report).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write the report {report}: {exc.strerror or exc}") from None


def _flush_and_exit(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)  # do not wait for anything else (the workers are already gone)


def _run_stdin(command: str, options: Options, reporter: ReporterType, fmt: str = "full", collector: Optional[Collector] = None) -> int:
    data = sys.stdin.buffer.read()
    result = migrate(data, path="<stdin>", select=options.select, ignore=options.ignore, unsafe=options.unsafe)
    if result.failure:
        reporter.failure("<stdin>", result.failure.line, result.failure.message)
        if collector is not None:
            collector.add(result, FAILED)
        if command == "apply":
            sys.stdout.buffer.write(data)  # a filter must not swallow its input
        elif fmt == "json":
            sys.stdout.write(json_document([], [failure_dict(result)], {}))
        elif fmt == "sarif":
            sys.stdout.write(sarif_document([], [failure_dict(result)]))
        elif fmt in ("github", "concise"):
            for line in (github_lines if fmt == "github" else concise_lines)([], [failure_dict(result)]):
                reporter.line(line)
        return 1
    diags = diagnostics(result)
    if collector is not None:
        collector.add(result, (CHANGED if command == "apply" else WOULD_CHANGE) if result.changed else UNCHANGED, diags=diags)
    reporter.notes(result)
    if command == "apply":
        sys.stdout.buffer.write(result.new_source)
        sys.stdout.flush()
        return 0
    if fmt == "json":
        sys.stdout.write(json_document(diags, [], collector.summary() if collector else {}))
    elif fmt == "sarif":
        sys.stdout.write(sarif_document(diags, []))
    elif fmt in ("github", "concise"):
        for line in (github_lines if fmt == "github" else concise_lines)(diags, []):
            reporter.line(line)
    elif command == "diff" and result.changed:
        reporter.diff(result, label="<stdin>")
    elif command == "check" and result.changed:
        reporter.line(f"would change: <stdin> ({len(result.edits)} edits)")
    if command == "check" and result.changed:
        return 1
    return 0


@cli.command(epilog=EXIT_HELP)
@common_options
@cache_option
@format_option
def diff(ctx, **kw):
    """Show the migration as a unified diff; write nothing.

    The diff is a patch in the files' own bytes: `torchupgrade diff src | git apply -p0` (or
    `patch -p0`), run in the same directory, writes what `apply` would. Notebooks are shown as
    a diff per changed cell (`nb.ipynb:cell 4`), which is not a patch.
    """
    sys.exit(_run("diff", ctx, **kw))


@cli.command(epilog=EXIT_HELP)
@common_options
@cache_option
@click.option("--force", is_flag=True, help="Also rewrite read-only files (keeping their mode).")
@click.option("--out-dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Write a migrated copy of the input tree to DIR (other files copied as they are); the input is not changed.")
def apply(ctx, **kw):
    """Rewrite files in place (atomically). With `-`, write the migrated source to stdout."""
    sys.exit(_run("apply", ctx, **kw))


@cli.command(epilog=EXIT_HELP)
@common_options
@cache_option
@format_option
@click.option("--strict-suppressions", is_flag=True, help="Also fail on suppression comments that suppress nothing.")
def check(ctx, **kw):
    """Exit 1 if any file would change (for CI); write nothing."""
    sys.exit(_run("check", ctx, **kw))


@cli.command(epilog=EXIT_HELP)
@common_options
@click.option("--force", is_flag=True, help="Also rewrite read-only files (keeping their mode).")
def review(ctx, paths, select, ignore, unsafe, jobs, exclude, config_file, report, report_format, no_color, quiet, force):
    """Go through the changes one by one (y/n/a/d/q/e/?) and write the accepted ones.

    Each change is shown as a coloured hunk with its rule code, message and fix class; a
    rejected change leaves its statement byte-identical (the rest of the file still migrates
    consistently). Each file is written atomically once its changes are answered. Needs a
    terminal: use `diff` to preview and `apply` to write everything without asking.
    """
    from . import review as review_mod

    review_mod.require_terminal()
    settings = Run("review", ctx, paths, select, ignore, unsafe, jobs, exclude, config_file)
    if "-" in paths:
        raise click.UsageError("review cannot read standard input (it is the terminal that answers); give files or directories")
    reporter = Reporter(no_color=_no_color(ctx, no_color), quiet=quiet)
    collector = Collector("review", settings.option_summary())
    files = settings.files(paths, reporter)
    try:
        written, with_changes = review_mod.review(settings, files, reporter.out_color, collector, force=force, quiet=quiet)
    except KeyboardInterrupt as exc:
        reporter.info("")
        reporter._err(f"interrupted by {getattr(exc, 'name', 'SIGINT')}: {_count_files(collector)} written; no file is half-written", "bold red")
        _write_report(collector, report, report_format)
        _flush_and_exit(getattr(exc, "exit_code", 130))
    failed = sum(1 for f in collector.files if f.status == FAILED)
    reporter._err(f"{len(files)} file{'s' if len(files) != 1 else ''} scanned, {with_changes} with changes, {written} written, {failed} failed", "bold")
    _write_report(collector, report, report_format)
    sys.exit(1 if failed else 0)


def _count_files(collector: Collector) -> str:
    n = sum(1 for f in collector.files if f.status == CHANGED)
    return f"{n} file{'s' if n != 1 else ''}"


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
    header, body, examples = _explain_sections(rule)
    if color:
        from rich.console import Console
        from rich.markdown import Markdown

        console = Console()
        console.print(Markdown(header + "\n" + body))
        console.print(examples, highlight=False, markup=False)
    else:
        click.echo(header + "\n" + body + "\n" + examples)


_CLASS_MEANING = {
    "exact": "same behaviour on torch 0.3 and today; applied by default",
    "restoring": "torch changed the meaning; the fix restores what the code did on torch 0.3 (applied by default, listed as such)",
    "unproven": "right only under an assumption the tool cannot prove; applied with --unsafe, otherwise a note",
}


def _explain_sections(rule) -> Tuple[str, str, str]:
    """``explain``'s fixed sections: what it does, why (the description), fix safety, options,
    then the examples with the notes each produces."""
    from torchupgrade.codemods import Result, RuleKind

    description = textwrap.dedent(rule.description).strip()
    paragraphs = re.split(r"\n\s*\n", description)
    safety = [p for p in paragraphs if p.startswith("Fix safety:")]
    why = "\n\n".join(p for p in paragraphs if p not in safety)
    header = f"{rule.code} {rule.name} ({rule.label()})\n\n## What it does\n\n{rule.summary}\n"
    parts = [f"## Why\n\n{why}\n"]
    classes = [] if rule.kind is RuleKind.ADVISORY else [c.value for c in rule.classes()]
    lines = "".join(f"- {c}: {_CLASS_MEANING[c]}\n" for c in classes) or "- advisory: notes only, never an edit\n"
    parts.append("## Fix safety\n\n" + lines + ("\n" + "\n\n".join(safety) + "\n" if safety else ""))
    options = [f"- `--select {rule.code}` / `--ignore {rule.code}` (or `{rule.name}`): run only this rule / skip it",
               f"- `# torchupgrade: ignore[{rule.code}]` on a line: this rule leaves that statement alone"]
    if "unproven" in classes:
        options.insert(0, "- `--unsafe`: also apply the unproven fixes (each is a note otherwise)")
    parts.append("## Options\n\n" + "\n".join(options) + "\n")
    out = ["## Examples\n"]
    for i, ex in enumerate(rule.examples, 1):
        title = ex.title or f"example {i}"
        flags = " [--unsafe]" if ex.unsafe else ""
        if ex.after is None:
            out.append(f"-- {title}{flags}: left unchanged\n" + textwrap.indent(ex.before_code, "    "))
        else:
            d = unified_diff(Result("example.py", ex.before_code, ex.after_code), label="example.py")
            body_lines = "".join(d.splitlines(keepends=True)[2:])
            out.append(f"-- {title}{flags}:\n" + textwrap.indent(body_lines, "    "))
        for name, text in ex.modules:  # the other project modules it is indexed with (not migrated)
            out.append(f"    with {name}.py in the project (indexed, not migrated by the run):\n" + textwrap.indent(textwrap.dedent(text).strip("\n") + "\n", "        "))
        if ex.notes:
            from torchupgrade.codemods import run_example

            result = run_example(rule, ex)
            notes = [n for n in result.notes if n.rule == rule.code] or []
            out.append("".join(f"    note, line {n.line}: {n.message}\n" for n in notes))
    return header, "\n".join(parts), "\n".join(out)


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
        # not click's standalone mode, which turns Ctrl-C anywhere (during discovery, say) into
        # "Aborted!" and exit code 1: an interrupt is exit code 130 (143 for SIGTERM) everywhere
        code = cli.main(args=argv, prog_name="torchupgrade", standalone_mode=False)
    except click.Abort as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, KeyboardInterrupt):
            sys.stderr.write(f"interrupted by {getattr(cause, 'name', 'SIGINT')}\n")
            _flush_and_exit(getattr(cause, "exit_code", 130))
        sys.stderr.write("Aborted!\n")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
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
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
