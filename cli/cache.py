"""The result cache (like ruff's): a file whose bytes, options, tool and project did not change
since the last run is not migrated again.

* Where: ``$TORCHUPGRADE_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/torchupgrade`` (by
  default ``~/.cache/torchupgrade``): outside the project, so that ``diff`` and ``check`` still
  write nothing into the tree they read (entries are keyed by absolute path, so one cache serves
  every project). ``--no-cache`` bypasses it (nothing is read or written).
* Key of a file's entry: sha256 of the cache format, the tool (the size and
  mtime of every module of the package, so an edited rule invalidates everything), the file's
  options (rule selection, ``--unsafe``, per-file ignores, strict suppressions), its absolute
  path, its bytes, and the project-index digest of the run: a digest of the path and bytes of
  every file the index read. An edit to any file of the project so invalidates the entries of
  the whole run (the simplest choice that is safe: a file's result may depend on any summary).
* An entry is ``MAGIC``, the sha256 of the payload, the payload (a pickle); it is written to a
  temporary file in the same folder and renamed into place, so concurrent runs never see half an
  entry. An entry that is short, has another magic, a wrong checksum or does not unpickle to a
  Result is ignored (and rewritten), never trusted. Any OSError disables the cache for the run.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import stat
import tempfile
from pathlib import Path
from typing import Iterable, Optional, Tuple

MAGIC = b"TUC1"
_FORMAT = "1"
_SAME = "same"  # stored in place of new_source when the file is unchanged


def default_dir() -> Optional[Path]:
    explicit = os.environ.get("TORCHUPGRADE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    try:
        return (Path(xdg) if xdg else Path.home() / ".cache") / "torchupgrade"
    except RuntimeError:  # no home directory: no cache
        return None


_FINGERPRINT: Optional[str] = None


def tool_fingerprint() -> str:
    """The (path, size, mtime) of every module of the package: an edit or reinstall of any of them
    invalidates the cache (a version bump alone changes no result)."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        import torchupgrade

        h = hashlib.sha256()
        import torchupgrade.cli as cli_pkg
        import torchupgrade.codemods as codemods_pkg

        roots = [Path(torchupgrade.__file__).parent, Path(codemods_pkg.__file__).parent, Path(cli_pkg.__file__).parent]
        for root in roots:
            for folder, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in sorted(files):
                    if name.endswith(".py"):
                        p = os.path.join(folder, name)
                        st = os.stat(p)
                        h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        _FINGERPRINT = h.hexdigest()
    return _FINGERPRINT


def digest_files(paths: Iterable[str]) -> str:
    """Digest of the paths and bytes of ``paths`` (unreadable ones and those that are not regular
    files, such as a FIFO named ``x.py``, which would block, count by name)."""
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.encode("utf-8", "surrogateescape") + b"\0")
        try:
            if not stat.S_ISREG(os.stat(p).st_mode):
                h.update(b"!")
                continue
            with open(p, "rb") as fh:
                h.update(hashlib.sha256(fh.read()).digest())
        except OSError:
            h.update(b"?")
    return h.hexdigest()


class Cache:
    def __init__(self, directory: Path, salt: str):
        self.directory = Path(directory)
        self.salt = salt  # tool fingerprint + project digest of the run
        self.enabled = True
        self.hits = self.misses = 0

    def key(self, path: str, data: bytes, options) -> str:
        h = hashlib.sha256()
        h.update(f"{_FORMAT}\0{self.salt}\0{options!r}\0{os.path.abspath(path)}\0".encode("utf-8", "surrogateescape"))
        h.update(data)
        return h.hexdigest()

    def _file(self, key: str) -> Path:
        return self.directory / key[:2] / key[2:]

    def load(self, key: str, data: bytes):
        """The Result stored under ``key`` (its source set to ``data``), or None."""
        from torchupgrade.codemods import Result

        if not self.enabled:
            return None
        try:
            with open(self._file(key), "rb") as fh:
                blob = fh.read()
        except OSError:
            return None
        if len(blob) < len(MAGIC) + 32 or not blob.startswith(MAGIC):
            return None
        digest, payload = blob[len(MAGIC) : len(MAGIC) + 32], blob[len(MAGIC) + 32 :]
        if hashlib.sha256(payload).digest() != digest:
            return None
        try:
            result = pickle.loads(payload)
        except Exception:
            return None
        if not isinstance(result, Result):
            return None
        result.source = data
        if isinstance(result.new_source, str) and result.new_source == _SAME:
            result.new_source = data
        self.hits += 1
        return result

    def store(self, key: str, result) -> None:
        if not self.enabled:
            return
        import copy

        stored = copy.copy(result)
        same = result.new_source is result.source or result.new_source == result.source
        stored.source = b""
        stored.new_source = _SAME if same else result.new_source
        try:
            payload = pickle.dumps(stored, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            return
        target = self._file(key)
        try:
            self._prepare(target.parent)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(MAGIC + hashlib.sha256(payload).digest() + payload)
                os.replace(tmp, target)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:
            self.enabled = False  # a read-only or full disk: run without the cache
        self.misses += 1

    def _prepare(self, folder: Path) -> None:
        if folder.is_dir():
            return
        top = self.directory
        new_top = not top.exists()
        folder.mkdir(parents=True, exist_ok=True)
        if new_top:
            try:  # keep git (and torchupgrade's discovery, which skips hidden folders) out of it
                (top / ".gitignore").write_text("# created by torchupgrade\n*\n")
                (top / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n# torchupgrade's cache\n")
            except OSError:
                pass


def open_cache(directory: Optional[Path], salt_parts: Tuple[str, ...]) -> Optional[Cache]:
    if directory is None:
        return None
    return Cache(directory, "\0".join((tool_fingerprint(),) + salt_parts))
