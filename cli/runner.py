"""Running the engine over many files, in parallel worker processes."""
from __future__ import annotations

import os
import stat
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence

from torchupgrade.codemods import Failure, Result, migrate


@dataclass(frozen=True)
class Options:
    select: Optional[tuple] = None
    ignore: Optional[tuple] = None
    unsafe: bool = False


def process_file(path: str, options: Options) -> Result:
    """Read one file and migrate it (runs in a worker process)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return Result(path=path, source=b"", new_source=b"", failure=Failure("io", 0, f"cannot read: {exc.strerror or exc}"))
    result = migrate(data, path=path, select=options.select, ignore=options.ignore, unsafe=options.unsafe)
    return result


def _process(args):
    return process_file(*args)


def run(paths: Sequence[Path], options: Options, jobs: int) -> Iterator[Result]:
    """Yield one Result per path, in order. Uses ``jobs`` worker processes when it pays off."""
    work = [(str(p), options) for p in paths]
    if jobs <= 1 or len(work) < 4:
        for item in work:
            yield _process(item)
        return
    chunk = max(1, min(16, len(work) // (jobs * 4)))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(_process, work, chunksize=chunk)


def write_atomic(path: str, data: bytes, expected_old: bytes) -> Optional[str]:
    """Replace ``path`` with ``data`` atomically, keeping its mode (and owner when possible).

    Returns an error message instead of writing when the file changed since it was read."""
    target = os.path.realpath(path)
    try:
        with open(target, "rb") as fh:
            if fh.read() != expected_old:
                return "file changed while it was being processed; not written"
        st = os.stat(target)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target) or ".", prefix=".torchupgrade-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except (PermissionError, AttributeError, OSError):
                pass
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError as exc:
        return f"cannot write: {exc.strerror or exc}"
    return None


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)
