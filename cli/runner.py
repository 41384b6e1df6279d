"""Running the engine over many files, in parallel worker processes."""
from __future__ import annotations

import os
import stat
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence

from torchupgrade.codemods import Failure, Result, migrate
from torchupgrade.codemods.project import ProjectIndex, files_to_index

from .interrupts import raise_recursion_limit, worker_init


@dataclass(frozen=True)
class Options:
    select: Optional[tuple] = None
    ignore: Optional[tuple] = None
    unsafe: bool = False
    project: bool = True  # analyse the files together (the project index)


# the project index of the run, set in each worker once (not sent with every file)
_PROJECT: Optional[ProjectIndex] = None


def build_project(paths: Sequence[Path]) -> ProjectIndex:
    """The project index over the files of a run and the modules they work with (their package,
    or the sibling modules a script imports)."""
    return ProjectIndex.build(files_to_index([str(p) for p in paths]))


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
    result = migrate(data, path=path, select=options.select, ignore=options.ignore, unsafe=options.unsafe, project=_PROJECT)
    return result


def _process(args):
    return process_file(*args)


def run(paths: Sequence[Path], options: Options, jobs: int) -> Iterator[Result]:
    """Yield one Result per path, in order. Uses ``jobs`` worker processes when it pays off.

    Workers ignore Ctrl-C and exit when this process dies; when the consumer stops early (an
    interrupt, an error), closing this generator kills them at once instead of waiting for the
    work already queued."""
    global _PROJECT
    work = [(str(p), options) for p in paths]
    project = build_project(paths) if options.project and work else None
    if jobs <= 1 or len(work) < 4:
        raise_recursion_limit()
        _PROJECT = project
        try:
            for item in work:
                yield _process(item)
        finally:
            _PROJECT = None
        return
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
