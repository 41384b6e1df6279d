"""Text rules: token-level repairs that run before the libcst parse (see ``engine._migrate_text``).

A text rule makes a file that Python 3 cannot parse parseable (e.g. ``x.cuda(async=True)``). It
has the same metadata as ``Rule`` (code, name, summary, safety, description, examples, needles)
and ``stage = "text"``. The engine constructs it as ``cls(path=..., unsafe=...)``, calls
``transform(text) -> text`` and then reads ``edits``, ``notes`` and ``failure`` (a ``Failure``
means the file is reported and left untouched).

Text rules must edit the original string by position only, so that everything they do not
rewrite stays byte-identical (line endings, tabs, comments).
"""
from __future__ import annotations

from typing import ClassVar, List, Optional, Tuple

from .model import Edit, Example, Failure, Note


class TextRule:
    stage: ClassVar[str] = "text"
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    safety: ClassVar[str] = "safe"
    description: ClassVar[str] = ""
    examples: ClassVar[Tuple[Example, ...]] = ()
    needles: ClassVar[Tuple[str, ...]] = ()

    def __init__(self, path: str = "<string>", unsafe: bool = False):
        self.path = path
        self.unsafe = unsafe
        self.edits: List[Edit] = []
        self.notes: List[Note] = []
        self.failure: Optional[Failure] = None

    @classmethod
    def applies_to(cls, text: str) -> bool:
        return not cls.needles or any(n in text for n in cls.needles)

    def transform(self, text: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError


def line_offsets(text: str) -> List[int]:
    """Offset of the start of each line, lines split at ``\\n`` only (as ``io.StringIO`` reads
    them, so that tokenize's (row, col) pairs map back to offsets in ``text``)."""
    offsets = [0]
    pos = text.find("\n")
    while pos != -1:
        offsets.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return offsets
