"""The block stage: where in a text do responses start, and where can they end at the latest.

A plain regular-expression scan over the whole text; only the stretches it finds go through the
(much slower) Lark parser, so the prose of an e-mail costs almost nothing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import NamedTuple

from drsparse._grammar import terminal_regexp

__all__ = ["Segment", "may_hold_blocks", "normalize_newlines", "segments"]

_LINE_BREAK = re.compile(r"\r\n?")


class Segment(NamedTuple):
    """The text from one block header to the latest point where the block can end."""

    #: Normalized to "\n" line endings, always ending with "\n".
    text: str
    #: The 1-based line number of the header in the whole text.
    first_line: int


def normalize_newlines(text: str) -> str:
    """CRLF and bare CR become LF; one line break stays one, so line numbers are kept."""
    return _LINE_BREAK.sub("\n", text) if "\r" in text else text


def may_hold_blocks(text: str) -> bool:
    """False for a text that cannot hold a block header: most texts, told in two C searches.

    Every header contains "###" and "DRS"; "DRS" alone is not enough, the robot's own prose
    names its "DRS-Robot".
    """
    return "DRS" in text and "###" in text


@functools.cache
def _boundaries() -> re.Pattern[str]:
    # Anchored whole-line matches of the grammar's own header and signature terminals. Both are
    # simple sequences of character classes: no nested quantifiers, so no catastrophic
    # backtracking whatever the text.
    header = terminal_regexp("HEADER_LINE")
    signature = terminal_regexp("SIGNATURE")
    return re.compile(rf"^(?:(?P<header>{header})|(?P<signature>{signature}))$", re.MULTILINE)


def segments(text: str) -> Iterator[Segment]:
    """Yield every block of ``text`` (already normalized), in order.

    "The block ends at the next block header, at a signature separator line (`-- `), or at the
    end of the text." Where exactly it ends within that stretch (the prose after it) is for the
    parser and the model to say.
    """
    # Most texts hold no response: they are spared the regular expression (and the parser).
    if not may_hold_blocks(text):
        return
    start: int | None = None
    line = 1
    counted_to = 0
    for match in _boundaries().finditer(text):
        if start is not None:
            yield _segment(text, start, match.start(), line)
            start = None
        if match.group("header") is not None:
            line += text.count("\n", counted_to, match.start())
            counted_to = match.start()
            start = match.start()
    if start is not None:
        yield _segment(text, start, len(text), line)


def _segment(text: str, start: int, end: int, first_line: int) -> Segment:
    body = text[start:end]
    if not body.endswith("\n"):
        body += "\n"
    return Segment(body, first_line)
