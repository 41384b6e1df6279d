"""``apply --out-dir DIR``: write a migrated copy of the input tree instead of changing it.

The input paths are mirrored under DIR relative to their longest common directory (one directory
given: its content). Files that the migration does not change are copied as they are, keeping
their mode (``shutil.copy2``); migrated files get the mode of their original. Nothing is written
inside the input: an out-dir inside (or equal to) an input directory is refused."""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Iterator, Optional, Sequence

from .writer import is_temp_name

SKIP_COPY = {".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


def problem(paths: Sequence[str], out_dir: str) -> Optional[str]:
    out = Path(os.path.realpath(out_dir))
    for p in paths:
        real = Path(os.path.realpath(p))
        base = real if real.is_dir() else real.parent
        if real.is_dir() and (out == base or base in out.parents):
            return f"--out-dir {out_dir} is inside the input {p}: choose a directory outside it (nothing is ever written inside the input)"
        if out.exists() and not out.is_dir():
            return f"--out-dir {out_dir} exists and is not a directory"
    if out.exists() and any(out == Path(os.path.realpath(p)) or out in Path(os.path.realpath(p)).parents for p in paths):
        return f"--out-dir {out_dir} contains an input path: choose an empty or new directory"
    return None


class Mirror:
    def __init__(self, paths: Sequence[str], out_dir: str):
        self.out = Path(out_dir)
        reals = [os.path.abspath(p) for p in paths]
        bases = [r if os.path.isdir(r) else os.path.dirname(r) for r in reals]
        self.root = Path(os.path.commonpath(bases)) if bases else Path.cwd()
        self.paths = reals
        self.written = 0
        self.copied = 0

    def target(self, path: str) -> Path:
        return self.out / Path(os.path.abspath(path)).relative_to(self.root)

    def write(self, path: str, data: bytes) -> None:
        """Write a migrated file atomically (temporary file + rename) with the original's mode."""
        target = self.target(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = stat.S_IMODE(os.stat(path).st_mode)
        tmp = target.with_name(f".torchupgrade-{os.getpid()}.{target.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        self.written += 1

    def copy_rest(self, done: Sequence[str]) -> int:
        """Copy every other file of the inputs (symlinks as symlinks); returns how many."""
        skip = {os.path.abspath(p) for p in done}
        n = 0
        for src in self._files():
            if os.path.abspath(src) in skip:
                continue
            target = self.target(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            if os.path.islink(src):
                if os.path.lexists(target):
                    os.unlink(target)
                os.symlink(os.readlink(src), target)
            else:
                shutil.copy2(src, target)
            n += 1
        self.copied += n
        return n

    def _files(self) -> Iterator[str]:
        for p in self.paths:
            if not os.path.isdir(p):
                yield p
                continue
            for dirpath, dirnames, filenames in os.walk(p):
                links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
                dirnames[:] = sorted(d for d in dirnames if d not in SKIP_COPY and d not in links)
                for d in sorted(links):  # a symlinked directory is copied as the symlink
                    yield os.path.join(dirpath, d)
                for f in sorted(filenames):
                    full = os.path.join(dirpath, f)
                    if is_temp_name(f) or not (os.path.islink(full) or stat.S_ISREG(os.lstat(full).st_mode)):
                        continue
                    yield full
