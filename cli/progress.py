"""A progress bar on stderr (rich) for runs over many files: files done / total, elapsed time and
the current file. Only when stderr is a terminal and the run is not quiet; nothing when piped."""
from __future__ import annotations

import os
import sys
from typing import Optional

MIN_FILES = 8  # fewer files finish before a bar would help


def wanted(total: int, quiet: bool, stream=None) -> bool:
    stream = stream or sys.stderr
    if quiet or total < int(os.environ.get("TORCHUPGRADE_PROGRESS_MIN", MIN_FILES)):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


class Progress:
    """``advance(path)`` after each file; ``stop()`` before the summary (also on Ctrl-C)."""

    def __init__(self, console, total: int):
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self._progress = RichProgress(
            TextColumn("[bold]torchupgrade"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[current]}", markup=False),
            console=console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task = self._progress.add_task("files", total=total, current="")
        self._progress.start()
        self._stopped = False

    def advance(self, path: Optional[str]) -> None:
        name = str(path or "")
        if len(name) > 60:
            name = "..." + name[-57:]
        self._progress.update(self._task, advance=1, current=name)

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._progress.stop()


class NoProgress:
    def advance(self, path: Optional[str]) -> None:
        pass

    def stop(self) -> None:
        pass
