"""Running the engine over many files, in parallel worker processes."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Generator, List, Optional, Sequence

from torchupgrade.codemods import Failure, Result, Suppression

from .interrupts import raise_recursion_limit, worker_init

if TYPE_CHECKING:  # the project index and the pool load when a run needs them (fast start)
    from concurrent.futures import ProcessPoolExecutor

    from torchupgrade.codemods.project import ProjectIndex


@dataclass(frozen=True)
class Options:
    select: Optional[tuple] = None
    ignore: Optional[tuple] = None
    unsafe: bool = False
    project: bool = True  # analyse the files together (the project index)
    strict_suppressions: bool = False  # find the suppression comments that suppress nothing


# the project index of the run, set in each worker once (not sent with every file)
_PROJECT: Optional[ProjectIndex] = None


def build_project(paths: Sequence[Path]) -> ProjectIndex:
    """The project index over the files of a run and the modules they work with (their package,
    or the sibling modules a script imports)."""
    from torchupgrade.codemods.project import ProjectIndex, files_to_index

    files = [str(p) for p in paths if not str(p).endswith(".ipynb")]
    return ProjectIndex.build(files_to_index(files), targets=files)


def _worker_init(parent_pid: int, project: Optional[ProjectIndex]) -> None:
    global _PROJECT
    _PROJECT = project
    worker_init(parent_pid)


def process_file(path: str, options: Options) -> Result:
    """Read one file and migrate it (runs in a worker process)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or device named *.py would block or never end
            return Result(path=path, source=b"", new_source=b"", failure=Failure("io", 0, "not a regular file; skipped"))
        data = Path(path).read_bytes()
    except OSError as exc:
        return Result(path=path, source=b"", new_source=b"", failure=Failure("io", 0, f"cannot read: {exc.strerror or exc}"))
    return migrate_path(data, path, options, _PROJECT)


def migrate_path(data: bytes, path: str, options: Options, project: Optional[ProjectIndex] = None, **extra) -> Result:
    """``migrate`` (a notebook: ``migrate_notebook``) with the run's options; with
    ``strict_suppressions``, the unused suppressions go to ``result.unused_suppressions``."""
    from .notebook import migrate_file

    kw = dict(select=options.select, ignore=options.ignore, unsafe=options.unsafe, project=project, **extra)
    result = migrate_file(data, path, **kw)
    if options.strict_suppressions and not result.failure:
        result.unused_suppressions = unused_suppressions(result, data, path, kw)
    return result


def unused_suppressions(result: Result, data: bytes, path: str, kw: dict) -> List[Suppression]:
    """The file's suppression comments with no edit or note on the statement lines they
    suppress when the file is migrated without them (``honor_suppressions=False``).
    ``# torchupgrade: skip-file`` is unused (a Suppression on line 0) when that migration has no
    edit and no note."""
    from torchupgrade.codemods import find_suppressions

    from .hunks import _statement_spans, text_of
    from .notebook import NotebookError, is_notebook, migrate_file, script_of

    try:
        text = script_of(data, path)[0] if is_notebook(path) else text_of(data)
        skip, suppressions = find_suppressions(text)
    except (NotebookError, ValueError):
        return []
    if not skip and not suppressions:
        return []
    full = migrate_file(data, path, **{**kw, "honor_suppressions": False})
    if full.failure:
        return []
    found = list(full.edits) + list(full.notes)
    if skip:
        return [] if found else [Suppression(0, None)]
    spans = _statement_spans(text)
    unused = []
    for sup in suppressions:
        holding = [s for s in spans if s[0] <= sup.line <= s[1]]
        first, last = min(holding, key=lambda s: s[1] - s[0]) if holding else (sup.line, sup.line)
        used = any(d.line <= last and max(d.line, d.end_line) >= first and (sup.codes is None or d.rule in sup.codes) for d in found)
        if not used:
            unused.append(sup)
    return unused


def _process(args):
    return process_file(*args)


def run(
    paths: Sequence[Path],
    options: Options,
    jobs: int,
    options_for: Optional[Callable[[Path], Options]] = None,
    project: Optional[ProjectIndex] = None,
    cache_dir: Optional[Path] = None,
) -> Generator[Result, None, None]:
    """Yield one Result per path, in order. Uses ``jobs`` worker processes when it pays off.

    Workers ignore Ctrl-C and exit when this process dies; when the consumer stops early (an
    interrupt, an error), closing this generator kills them at once instead of waiting for the
    work already queued. ``options_for(path)``: the options of one file (per-file ignores);
    ``project``: an index already built for these paths (else built here); ``cache_dir``: the
    result cache (``cache.py``; None: no cache)."""
    from torchupgrade.codemods.project import ProjectIndex, files_to_index

    work = [(str(p), options_for(p) if options_for else options) for p in paths]
    index_files: Optional[List[str]] = None
    if project is None and options.project and work:
        index_files = files_to_index([w[0] for w in work if not w[0].endswith(".ipynb")])
    cache = None
    if cache_dir is not None and work:
        from .cache import digest_files, open_cache

        if project is not None:
            digest = "built:" + "".join(sorted(f"{m.path}:{m.sha1};" for m in project.modules.values()))
        else:
            digest = digest_files(index_files or [])
        # a file's result depends on which files the run migrates too (a helper keeps its
        # parameter when a caller's file is not migrated)
        targets = "".join(sorted(os.path.abspath(w[0]) + ";" for w in work))
        cache = open_cache(cache_dir, (digest, targets))
    if cache is None:
        if project is None and index_files is not None:
            project = ProjectIndex.build(index_files, targets=[w[0] for w in work])
        yield from _run(work, jobs, project)
        return
    hits: dict = {}
    for i, (path, opts) in enumerate(work):
        data = _read_for_cache(path)
        if data is not None:
            found = cache.load(cache.key(path, data, opts), data)
            if found is not None:
                found.path = path  # as this run names it (the entry is keyed by absolute path)
                hits[i] = found
    misses = [item for i, item in enumerate(work) if i not in hits]
    if misses and project is None and index_files is not None:
        project = ProjectIndex.build(index_files, targets=[w[0] for w in work])
    computed = _run(misses, jobs, project) if misses else iter(())
    try:
        for i, (path, opts) in enumerate(work):
            if i in hits:
                yield hits[i]
                continue
            result: Result = next(computed)
            if isinstance(result.source, bytes) and not (result.failure and result.failure.kind == "io"):
                cache.store(cache.key(path, result.source, opts), result)
            yield result
    finally:
        close = getattr(computed, "close", None)
        if close is not None:
            close()


def _read_for_cache(path: str) -> Optional[bytes]:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def _run(work: List[tuple], jobs: int, project: Optional[ProjectIndex]) -> Generator[Result, None, None]:
    global _PROJECT
    if jobs <= 1 or len(work) < 4:
        raise_recursion_limit()
        _PROJECT = project
        try:
            for item in work:
                yield _process(item)
        finally:
            _PROJECT = None
        return
    from concurrent.futures import ProcessPoolExecutor

    chunk = max(1, min(16, len(work) // (jobs * 4)))
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init, initargs=(os.getpid(), project))
    try:
        yield from pool.map(_process, work, chunksize=chunk)
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown()


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's workers now (queued and running work is abandoned)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        try:
            process.terminate()
        except (OSError, ValueError, AttributeError):
            pass
    for process in processes:
        try:
            process.join(2)
            if process.is_alive():
                process.kill()
                process.join(1)
        except (OSError, ValueError, AttributeError, AssertionError):
            pass


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)
