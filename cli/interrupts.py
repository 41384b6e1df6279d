"""Ctrl-C and SIGTERM: stop cleanly between files, never in the middle of a write.

The main process installs ``handle_signals()``: SIGINT and SIGTERM raise ``Interrupted`` (a
``KeyboardInterrupt``), except inside ``critical()`` sections (writing a file and counting it),
where the signal is remembered and raised when the section ends. Worker processes ignore SIGINT
(the parent stops them) and exit as soon as the parent process is gone (``die_with_parent``).
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator, Optional

RECURSION_LIMIT = 10000  # libcst recurses once per nesting level: 100 nested blocks need ~3000


class Interrupted(KeyboardInterrupt):
    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


_depth = 0
_pending: Optional[int] = None


def _handler(signum, frame) -> None:
    global _pending
    if _depth:
        _pending = signum
        return
    raise Interrupted(signum)


def handle_signals() -> None:
    """In the main process: SIGINT and SIGTERM raise ``Interrupted`` between critical sections."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)


@contextmanager
def critical() -> Iterator[None]:
    """Defer SIGINT/SIGTERM until the block is done (a file written and counted)."""
    global _depth, _pending
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if not _depth and _pending is not None:
            signum, _pending = _pending, None
            raise Interrupted(signum)


def raise_recursion_limit() -> None:
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)


def worker_init(parent_pid: int) -> None:
    """Initializer of a worker process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise_recursion_limit()
    die_with_parent(parent_pid)


def die_with_parent(parent_pid: int, interval: float = 0.5) -> None:
    """Exit when process ``parent_pid`` is gone (killed, even by SIGKILL): at once through
    PR_SET_PDEATHSIG on Linux, else within ``interval`` seconds through a watchdog thread."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    first_parent = os.getppid()

    def gone() -> bool:
        if os.getppid() != first_parent:
            return True
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
        return False

    if gone():
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(interval)
            if gone():
                os._exit(1)

    threading.Thread(target=watch, name="torchupgrade-parent-watch", daemon=True).start()
