"""Plain data returned by the engine: edits, notes, failures, per-file results, rule examples."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Optional, Tuple, Union

Source = Union[str, bytes]


@dataclass(frozen=True)
class Edit:
    """A change the engine made: which rule, on which (1-based, original) line, and what."""

    rule: str
    line: int
    message: str


@dataclass(frozen=True)
class Note:
    """Something a person must look at: code left alone, or an unsafe fix that was not applied."""

    rule: str
    line: int
    message: str


@dataclass(frozen=True)
class Failure:
    """Why a file could not be processed. The file is never modified when this is set.

    kind: "syntax" (not valid Python 3, e.g. Python 2), "decode", "binary" or "internal".
    """

    kind: str
    line: int
    message: str


@dataclass
class Result:
    """Outcome of migrating one file. ``new_source`` has the same type as the input source."""

    path: str
    source: Source
    new_source: Source
    edits: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    failure: Optional[Failure] = None

    @property
    def changed(self) -> bool:
        return self.failure is None and self.new_source != self.source


@dataclass(frozen=True)
class Example:
    """A before/after pair declared by a rule; run as a test and printed by ``explain``.

    ``after=None`` means the rule must leave ``before`` untouched (a "valid" example).
    ``also`` lists other rule codes that run together with the rule for this example.
    ``unsafe`` runs the example with unsafe fixes enabled.
    """

    before: str
    after: Optional[str] = None
    title: str = ""
    unsafe: bool = False
    also: Tuple[str, ...] = ()

    @property
    def before_code(self) -> str:
        return textwrap.dedent(self.before).lstrip("\n")

    @property
    def after_code(self) -> str:
        return self.before_code if self.after is None else textwrap.dedent(self.after).lstrip("\n")
