"""The library API for scripted batch refactors: ``torchupgrade.migrate_paths``.

It runs what the command line runs (discovery with .gitignore and excludes, the
``[tool.torchupgrade]`` configuration, the project index, worker processes, notebooks) and
yields one result per file, in order::

    import torchupgrade

    for result in torchupgrade.migrate_paths(["src/"], select=["TU0"], write=True):
        if result.failure:
            print(result.path, result.failure.message)
        elif result.changed:
            print(result.path, [e.rule for e in result.edits])
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence, Union

from torchupgrade.codemods import Failure, Result

from .config import discover_config
from .discovery import discover, path_problem
from .runner import Options, default_jobs, run
from .writer import WRITTEN, write_file

FileResult = Result  # a notebook's result is a ``cli.notebook.NotebookResult`` (cells in ``where``)


def migrate_paths(
    paths: Union[str, Path, Iterable[Union[str, Path]]],
    *,
    select: Optional[Sequence[str]] = None,
    ignore: Optional[Sequence[str]] = None,
    unsafe: Optional[bool] = None,
    exclude: Sequence[str] = (),
    jobs: Optional[int] = None,
    config: Union[bool, str] = True,
    write: bool = False,
    force: bool = False,
) -> Iterator[Result]:
    """Migrate files and directories (``*.py`` and ``*.ipynb``, as the CLI finds them).

    ``select``/``ignore``/``unsafe``/``exclude``/``jobs`` as the CLI options, over the
    configuration (``config=True``: the nearest ``pyproject.toml`` with ``[tool.torchupgrade]``;
    a path: that file; ``False``: none). ``write=True`` writes each changed file atomically, as
    ``apply`` does; a file that could not be written gets ``failure.kind == "write"``.
    Raises ValueError for a missing path or an unknown rule code (the CLI's usage errors)."""
    names = [str(paths)] if isinstance(paths, (str, Path)) else [str(p) for p in paths]
    for p in names:
        problem = path_problem(p)
        if problem:
            raise ValueError(problem)
    cfg = discover_config(names, config if isinstance(config, str) else None) if config else None
    from torchupgrade.codemods import select_rules

    select = tuple(select) if select else (cfg.select if cfg else None)
    ignore = tuple(ignore) if ignore else (cfg.ignore if cfg else None)
    select_rules(select, ignore)  # ValueError for an unknown code
    options = Options(select=select, ignore=ignore, unsafe=bool(unsafe if unsafe is not None else (cfg.unsafe if cfg else False)))
    rooted = []
    if cfg is not None and cfg.root is not None:
        patterns = list(cfg.exclude or ()) if not exclude else []
        patterns += list(cfg.extend_exclude)
        if patterns:
            rooted.append((cfg.root, patterns))
    files = list(discover(names, exclude, None, rooted=rooted))
    options_for = None
    if cfg is not None and cfg.per_file_ignores and cfg.root is not None:
        import pathspec

        specs = [(pathspec.PathSpec.from_lines("gitwildmatch", [p]), codes) for p, codes in cfg.per_file_ignores.items()]
        root = cfg.root

        def options_for(path):
            try:
                rel = Path(path).resolve().relative_to(root.resolve()).as_posix()
            except ValueError:
                return options
            extra = tuple(c for spec, codes in specs if spec.match_file(rel) for c in codes)
            from dataclasses import replace

            return replace(options, ignore=tuple(options.ignore or ()) + extra) if extra else options

    results = run(files, options, jobs or (cfg.jobs if cfg and cfg.jobs else None) or default_jobs(), options_for)
    try:
        for result in results:
            if write and result.changed:
                outcome = write_file(result.path, result.new_source, result.source, force=force)
                if outcome.status != WRITTEN:
                    result.failure = Failure("write", 0, outcome.message)
            yield result
    finally:
        results.close()
