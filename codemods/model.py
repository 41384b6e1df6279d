"""Plain data returned by the engine: fix classes, edits, notes, failures, per-file results, rule examples."""
from __future__ import annotations

import enum
import textwrap
from dataclasses import dataclass, field
from typing import List, Optional, Tuple, Union

Source = Union[str, bytes]


class FixClass(str, enum.Enum):
    """How a fix relates to the program its author ran on torch <= 0.3 (the reference).

    * ``EXACT``: same behaviour on 0.3 and on today's torch (a rename, ``reduction=``,
      ``Variable(x.data)`` -> ``x.detach()``).
    * ``RESTORING``: torch changed the meaning of the legacy code; the fix makes the migrated code
      do on today's torch what the original did on 0.3 (volatile -> ``no_grad`` regions,
      ``.item()`` where 0.3 gave a Python number). Applied by default and listed as such: a
      reader comparing old and new code on *today's* torch sees a difference.
    * ``UNPROVEN``: right only under an assumption the tool cannot prove (a rank, a caller it
      cannot see). Applied only with ``unsafe=True`` (``--unsafe``); otherwise a note says why.
    """

    EXACT = "exact"
    RESTORING = "restoring"
    UNPROVEN = "unproven"

    def __str__(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        return {"exact": "exact", "restoring": "restores 0.3 behaviour", "unproven": "unproven (--unsafe)"}[self.value]


class RuleKind(str, enum.Enum):
    """A ``FIX`` rule rewrites code; an ``ADVISORY`` rule only reports (notes, never edits)."""

    FIX = "fix"
    ADVISORY = "advisory"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Edit:
    """A change the engine made: rule, 1-based original line (and column, end), message, fix class."""

    rule: str
    line: int
    message: str
    fix_class: FixClass = FixClass.EXACT
    column: int = 0  # 0-based, of the original node the edit is about
    end_line: int = 0
    end_column: int = 0


@dataclass(frozen=True)
class Note:
    """Something a person must look at: code left alone (and why), an unproven fix that was not
    applied, or an advisory. ``key`` names the reason (stable across runs, for reports)."""

    rule: str
    line: int
    message: str
    key: str = ""
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    # set when the note stands for a fix that was not applied (an unproven fix without --unsafe)
    fix_class: Optional[FixClass] = None


@dataclass(frozen=True)
class Failure:
    """Why a file could not be processed. The file is never modified when this is set.

    kind: "syntax" (not valid Python 3, e.g. Python 2), "decode", "binary", "io" or "internal".
    """

    kind: str
    line: int
    message: str


@dataclass(frozen=True)
class Suppression:
    """An inline ``# torchupgrade: ignore[...]`` / ``# noqa: TU...`` comment found in a file.

    ``codes`` is None for "every rule"."""

    line: int
    codes: Optional[Tuple[str, ...]]


@dataclass
class Result:
    """Outcome of migrating one file. ``new_source`` has the same type as the input source."""

    path: str
    source: Source
    new_source: Source
    edits: List[Edit] = field(default_factory=list)
    notes: List[Note] = field(default_factory=list)
    failure: Optional[Failure] = None
    suppressions: List[Suppression] = field(default_factory=list)
    skipped: bool = False  # the file asked to be skipped (``# torchupgrade: skip-file``)

    @property
    def changed(self) -> bool:
        return self.failure is None and self.new_source != self.source


ExpectedNote = Tuple[int, str, str]  # (line in the *before* code, rule code, substring of the message)


@dataclass(frozen=True)
class Example:
    """A before/after pair declared by a rule; run as a test and printed by ``explain``.

    ``after=None`` means the rule must leave ``before`` untouched (a "no-op" example).
    ``also`` lists other rule codes that run together with the rule for this example.
    ``unsafe`` runs the example with unproven fixes enabled.
    ``notes`` are exactly the notes the run must produce: (line, rule code, message substring).
    ``modules`` are other files of the example's project, ``(module name, source)``: they are in
    the project index (``before`` is module ``example``) but the run migrates only ``before``.
    """

    before: str
    after: Optional[str] = None
    title: str = ""
    unsafe: bool = False
    also: Tuple[str, ...] = ()
    notes: Tuple[ExpectedNote, ...] = ()
    modules: Tuple[Tuple[str, str], ...] = ()

    @property
    def before_code(self) -> str:
        return textwrap.dedent(self.before).lstrip("\n")

    @property
    def after_code(self) -> str:
        return self.before_code if self.after is None else textwrap.dedent(self.after).lstrip("\n")
