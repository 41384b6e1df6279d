"""Writing migrated files safely: atomically, under a per-file lock, keeping mode, owner and links.

``write_file`` is the only function that changes a user's file. For each file it

* refuses a read-only file (no write bit in its mode, or not writable by this user) unless
  ``force``, and a file whose directory does not let it create the temporary file, naming the
  directory;
* takes an exclusive ``flock`` on the file (re-opened until the lock is on the inode the path
  names), so that two runs never both write it; under the lock it checks the content again: the
  bytes it migrated -> write; already the migrated bytes -> "already migrated" (another run did
  it); anything else -> "changed while it was being processed", not written;
* writes a file with one link through a temporary file in the same directory
  (``.torchupgrade-<pid>-<random>.<name>.tmp``, created with ``O_EXCL``), flushed to disk, given
  the file's owner and then its whole mode (setuid/setgid bits included, which a chown after a
  chmod would clear), and renamed over the file;
* writes a file with several hard links (or whose owner a new file could not keep) in place, so
  that every link sees the new content: not atomic against SIGKILL or power loss;
* and ``clean_stale_temps`` removes temporary files of earlier runs that were killed before
  they could clean up (their process is gone), in the folders a run writes to.
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import time
from dataclasses import dataclass
from typing import List, Optional, Set

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

TEMP_PREFIX = ".torchupgrade-"
TEMP_SUFFIX = ".tmp"
# ours: .torchupgrade-<pid>-<token>.<name>.tmp; older releases: .torchupgrade-<8 random>.tmp
_TEMP = re.compile(r"^\.torchupgrade-(?:(?P<pid>\d+)-[0-9a-f]+\..*|[A-Za-z0-9_]{8})\.tmp$")
# a temp file older than this is stale even if its pid is alive (the pid was reused)
STALE_AFTER = 3600.0

WRITTEN = "written"
ALREADY = "already migrated"
REFUSED = "refused"


@dataclass(frozen=True)
class WriteResult:
    status: str  # WRITTEN, ALREADY or REFUSED
    message: str = ""


def is_temp_name(name: str) -> bool:
    """True for the names of torchupgrade's own temporary files."""
    return bool(_TEMP.match(name))


def temp_name(target: str) -> str:
    return f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}.{os.path.basename(target)}{TEMP_SUFFIX}"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temps(directory: str) -> int:
    """Remove torchupgrade temporary files left in ``directory`` by killed runs; returns how many."""
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        match = _TEMP.match(entry.name)
        if not match:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                continue
            pid = match.group("pid")
            old = now - st.st_mtime > STALE_AFTER
            if pid is None:
                stale = now - st.st_mtime > 60  # an older release's name: no pid to ask
            else:
                stale = old or not _pid_alive(int(pid))
            if stale:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def read_only(st: os.stat_result, path: str) -> bool:
    """No write bit at all in the mode (also for root, who could write anyway), or not writable
    by this user."""
    return not (st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) or not os.access(path, os.W_OK)


def _owner_kept(st: os.stat_result) -> bool:
    """Whether a new file of ours can be given ``st``'s owner and group."""
    if os.geteuid() == 0:
        return True
    return st.st_uid == os.geteuid() and (st.st_gid == os.getegid() or st.st_gid in os.getgroups())


def _lock(target: str) -> Optional[int]:
    """An fd of ``target`` holding an exclusive flock on the inode ``target`` names now."""
    for _ in range(100):
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        if fcntl is None:
            return fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            a, b = os.fstat(fd), os.stat(target)
        except BaseException:
            os.close(fd)
            raise
        if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
            return fd
        os.close(fd)  # replaced by another run while we waited: lock the new file
    return None


def _read_fd(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks: List[bytes] = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def write_file(path: str, data: bytes, expected_old: bytes, force: bool = False) -> WriteResult:
    """Replace ``path``'s content ``expected_old`` with ``data`` (see the module docstring)."""
    target = os.path.realpath(path)
    try:
        st = os.stat(target)
    except OSError as exc:
        return WriteResult(REFUSED, f"cannot write: {exc.strerror or exc}")
    if read_only(st, target) and not force:
        return WriteResult(REFUSED, "read-only file: not written (use --force to write it anyway)")
    in_place = st.st_nlink > 1 or not _owner_kept(st)
    directory = os.path.dirname(target) or "."
    if not in_place and not os.access(directory, os.W_OK | os.X_OK):
        return WriteResult(REFUSED, f"directory is not writable: {directory}; not written (a file is replaced through a temporary file in its directory)")
    try:
        fd = _lock(target)
    except OSError as exc:
        return WriteResult(REFUSED, f"cannot write: {exc.strerror or exc}")
    if fd is None:
        return WriteResult(REFUSED, "file keeps being replaced by another process; not written")
    try:
        current = _read_fd(fd)
        if current == data:
            return WriteResult(ALREADY, "already migrated (by another run); not written again")
        if current != expected_old:
            return WriteResult(REFUSED, "file changed while it was being processed; not written")
        st = os.fstat(fd)
        if in_place:
            _write_in_place(target, data)
        else:
            _replace(target, directory, data, st)
    except OSError as exc:
        where = f" (in {directory})" if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) and not in_place else ""
        return WriteResult(REFUSED, f"cannot write{where}: {exc.strerror or exc}")
    finally:
        os.close(fd)
    return WriteResult(WRITTEN)


def _write_in_place(target: str, data: bytes) -> None:
    fd = os.open(target, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        view = memoryview(data)
        offset = 0
        while offset < len(data):
            offset += os.write(fd, view[offset:])
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(target: str, directory: str, data: bytes, st: os.stat_result) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    tmp = os.path.join(directory, temp_name(target))
    fd = os.open(tmp, flags, 0o600)
    try:
        try:
            view = memoryview(data)
            offset = 0
            while offset < len(data):
                offset += os.write(fd, view[offset:])
            os.fsync(fd)
            try:
                os.fchown(fd, st.st_uid, st.st_gid)  # before the chmod: chown clears setuid/setgid
            except OSError:
                pass
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


class TempCleaner:
    """Cleans each folder a run writes to once, before its first write."""

    def __init__(self) -> None:
        self.seen: Set[str] = set()
        self.removed = 0

    def before_write(self, path: str) -> None:
        directory = os.path.dirname(os.path.realpath(path)) or "."
        if directory not in self.seen:
            self.seen.add(directory)
            self.removed += clean_stale_temps(directory)
