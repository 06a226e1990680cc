"""The text format: a text in, the blocks of ``key: value`` pairs it holds out.

This module owns the DRS response format as text, and is the only one that knows it:

* where a block starts ("A response is a block that starts with the lines `### DRS Response`
  and `###`") and where it can end at the latest (the next block header, a signature separator
  line, the end of the text);
* how the lines of a block are tokenized: by the Lark grammar ``grammar/drs.lark``, through
  the parser generated from it (``_drs_parser.py``, see ``grammar/generate.py``);
* the rule that decides where among those lines the block really ends, and the limits on
  lines and pairs;
* the quoted copies of blocks in replies (``> `` lines).

Every problem is raised here as a :class:`~drsparse.DrsParseError` with its line and column in
the text; nothing of lark leaves this module. The pairs become a typed response in
``_typed.py``.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from drsparse._errors import LimitExceededError, MalformedLineError
from drsparse._limits import Limits

__all__ = ["Block", "Pair", "blocks", "may_hold_blocks", "normalize_newlines", "quoted_copies"]


# -------------------------------------------------------------------------------------------
# The lines that delimit blocks, as regular-expression pieces (each written once)
# -------------------------------------------------------------------------------------------
#
# All are simple sequences of character classes, without nested quantifiers: linear time on
# any text. The pair, comment and prose lines inside a block are the grammar's business.

# "Whitespace (spaces, tabs) ... at the start of a line" is no part of anything.
_BLANKS = r"[ \t]*"
# The first header line; blanks around and between its words are tolerated.
_HEADER_LINE = rf"{_BLANKS}###{_BLANKS}DRS[ \t]+Response{_BLANKS}"
# The second header line. Blank lines between the two are tolerated.
_HASHES_LINE = rf"{_BLANKS}###{_BLANKS}"
# "-- " alone on a line: the signature separator of RFC 3676 (also without its blank, which
# some mail programs strip). A block ends there at the latest.
_SIGNATURE_LINE = r"--[ ]?"
# The quote markers of a reply: blanks, then one or more ">", each perhaps followed by one
# blank ("> > text", ">> text", ">text"). Possessive: nothing follows it in the pattern, so
# a long run of markers is never backtracked through.
_QUOTE_MARKERS = r"[ \t]*+(?:>[ \t]?+)++"

_BOUNDARY = re.compile(rf"^(?:(?P<header>{_HEADER_LINE})|{_SIGNATURE_LINE})$", re.MULTILINE)
_BLANK_LINES = re.compile(rf"(?:{_BLANKS}\n)*+")
_BLANKS_ONLY = re.compile(_BLANKS)
_HASHES = re.compile(rf"{_HASHES_LINE}(?:\n|\Z)")
_QUOTE = re.compile(_QUOTE_MARKERS)
_LINE_BREAK = re.compile(r"\r\n?")


def normalize_newlines(text: str) -> str:
    """CRLF and bare CR become LF; one line break stays one, so line numbers are kept."""
    return _LINE_BREAK.sub("\n", text) if "\r" in text else text


def may_hold_blocks(text: str) -> bool:
    """False for a text that cannot hold a block header: most texts, told in two C searches.

    Every header contains "###" and "DRS"; "DRS" alone is not enough, the robot's own prose
    names its "DRS-Robot".
    """
    return "DRS" in text and "###" in text


# -------------------------------------------------------------------------------------------
# Blocks
# -------------------------------------------------------------------------------------------


class Pair(NamedTuple):
    """A ``key: value`` line, split at its first colon, blanks around the parts removed."""

    key: str
    value: str
    line: int
    #: 1-based columns where the key and the value start (where errors are reported).
    key_column: int
    value_column: int


class Block(NamedTuple):
    """The pairs of one block, in the order sent."""

    #: The line of the block's header in the text.
    first_line: int
    pairs: list[Pair]
    #: What the text stage noticed about the block's text (a byte-order mark).
    warnings: tuple[str, ...] = ()


def blocks(
    text: str, limits: Limits, *, first_line: int = 1, quoted: bool = False
) -> Iterator[Block]:
    """Every block of ``text``, in order; line numbers count from ``first_line``.

    "Lines that hold only whitespace, and lines beginning with `#`, are comments and are
    ignored." A line that is none of pair, comment or blank ends the block when no pair
    follows it (prose after the block); when a pair does follow, it is a malformed line.
    In a quoted copy (``quoted``) such a line always ends the block: a mail program quotes
    all the text parts of a message one after the other, so the robot's echo of the
    application (pairs too) follows the response's prose in a reply.

    Raises :class:`MalformedLineError` for a header without its '###' line or a malformed
    line, :class:`LimitExceededError` for a line or a block beyond ``limits``.
    """
    if not may_hold_blocks(text):  # most texts: spared the regular expression and the parser
        return
    # A byte-order mark is invisible in an editor but would hide a header on the first line.
    bom = text.startswith("\ufeff")
    text = normalize_newlines(text[1:] if bom else text)
    warnings = (_BOM_NOTE,) if bom else ()
    header: re.Match[str] | None = None
    line = first_line
    counted_to = 0
    # Each block ends at the next boundary line, or (None) at the end of the text.
    for match in itertools.chain(_BOUNDARY.finditer(text), (None,)):
        end = len(text) if match is None else match.start()
        if header is not None:
            yield _block(text, header, end, line, limits=limits, quoted=quoted, warnings=warnings)
            header, warnings = None, ()
        if match is not None and match.group("header") is not None:
            line += text.count("\n", counted_to, end)
            counted_to = end
            header = match


_BOM_NOTE = "a byte-order mark before line 1 was ignored (columns of line 1 count without it)"


def _block(
    text: str,
    header: re.Match[str],
    end: int,
    line: int,
    *,
    limits: Limits,
    quoted: bool,
    warnings: tuple[str, ...],
) -> Block:
    """The block whose header ``header`` is at ``line``, ending at ``end`` at the latest."""
    blanks = _BLANK_LINES.match(text, min(header.end() + 1, end), end)
    assert blanks is not None  # it matches the empty string
    hashes = _HASHES.match(text, blanks.end(), end)
    if hashes is None:
        if _BLANKS_ONLY.fullmatch(text, blanks.end(), end):
            raise MalformedLineError(
                f"the text ends after the block header at line {line}, before its '###' line",
                line=line,
                column=header.end() - header.start() + 1,
            )
        raise MalformedLineError(
            f"the block header at line {line} is not followed by a '###' line",
            line=line + text.count("\n", header.start(), blanks.end()),
            column=1,
        )
    body = text[hashes.end() : end]
    # A text that ends inside a line (no line break after it) may have been cut there.
    unterminated = bool(body) and not body.endswith("\n") and end == len(text)
    if body and not body.endswith("\n"):
        body += "\n"
    body_line = line + text.count("\n", header.start(), hashes.end())
    pairs = _pairs(body, body_line, line, limits, quoted)
    if unterminated and pairs and pairs[-1].line == body_line + body.count("\n") - 1:
        last = pairs[-1]
        warnings = (
            *warnings,
            f"line {last.line}: the text ends inside this line, without a line break: "
            f"{last.key} {last.value!r} may be cut off",
        )
    return Block(line, pairs, warnings)


@functools.cache
def _parser() -> tuple[Any, type[Exception]]:
    """The grammar's parser and the base class of its errors, made at the first block: a text
    without one (most e-mails) never pays for them."""
    # The generated module is lark's standalone code: its own copies of lark's classes.
    from drsparse import _drs_parser

    return _drs_parser.Lark_StandAlone(), _drs_parser.UnexpectedInput  # type: ignore[no-untyped-call]


def _pairs(body: str, body_line: int, first_line: int, limits: Limits, quoted: bool) -> list[Pair]:
    """The pairs of a block's lines (``body``, from ``body_line`` on), by the rule above."""
    parser, unexpected = _parser()
    try:
        tree = parser.parse(body) if body else None
    except unexpected as exc:  # pragma: no cover - the grammar takes any line
        raise MalformedLineError(
            f"a line of the block that starts at line {first_line} cannot be read",
            line=body_line + (getattr(exc, "line", 1) or 1) - 1,
            column=getattr(exc, "column", 1) or 1,
        ) from None
    if tree is None:
        return []
    offset = body_line - 1
    pairs: list[Pair] = []
    prose: Any = None
    # The tree is flat, one token per line or run of pair lines, so a loop does what a lark
    # Transformer would, without its visitor machinery. Every token is whole lines.
    for token in tree.children:
        kind = token.type
        if kind == "PROSE":
            if quoted:
                break
            prose = prose or token
        elif kind == "PAIRS":
            start = token.line + offset
            if prose is not None:
                raise _malformed(prose, offset, first_line, start)
            # With max_pairs, the lines stop one pair beyond it: enough to report the limit,
            # and a hostile block of a million pairs never becomes a million objects.
            # The last piece is what follows the final line break (nothing) or the rest.
            room = limits.max_pairs + 1 - len(pairs)
            pieces = str(token).split("\n", room)[:-1]
            pairs += [_pair(text, number, limits) for number, text in enumerate(pieces, start)]
            if len(pairs) > limits.max_pairs:
                raise LimitExceededError(
                    f"the block that starts at line {first_line} has more than "
                    f"{limits.max_pairs} pairs, beyond the limit max_pairs={limits.max_pairs}",
                    line=pairs[limits.max_pairs].line,
                )
    return pairs


def _pair(text: str, line: int, limits: Limits) -> Pair:
    """One pair line (without its line break), which starts at column 1 of ``line``."""
    if len(text) > limits.max_line_length:
        raise LimitExceededError(
            f"line of {len(text)} characters, beyond the limit "
            f"max_line_length={limits.max_line_length}",
            line=line,
            column=1,
        )
    raw_key, _, raw_value = text.partition(":")
    value = raw_value.strip(" \t")
    key_start = len(raw_key) - len(raw_key.lstrip(" \t"))
    # Where the value starts: after the key, the colon and the blanks that follow it.
    value_start = len(raw_key) + 1 + (len(raw_value) - len(raw_value.lstrip(" \t")))
    return Pair(raw_key.strip(" \t"), value, line, 1 + key_start, 1 + value_start)


def _malformed(prose: Any, offset: int, first_line: int, pair_line: int) -> MalformedLineError:
    raw = str(prose)[:-1]
    text = raw.strip(" \t")
    excerpt = repr(text if len(text) <= 40 else text[:37] + "...")
    return MalformedLineError(
        f"malformed line in the block that starts at line {first_line}: {excerpt} is not a "
        f"'key: value' pair, a comment or blank, and a pair follows at line {pair_line}",
        line=prose.line + offset,
        column=1 + len(raw) - len(raw.lstrip(" \t")),
    )


# -------------------------------------------------------------------------------------------
# Quoted copies
# -------------------------------------------------------------------------------------------


def quoted_copies(text: str) -> Iterator[tuple[int, str]]:
    """The quoted stretches of ``text`` that may hold a block: the line each starts at, and its
    text with the quote markers removed.

    A stretch is a run of lines quoted at the same depth: a quoted block ends where the quoting
    ends or changes depth, and a reply quoting a reply nests copies. Quoted lines start with
    ">", so they never look like a block header in the text as it is: only this finds them.
    """
    start, depth = 1, 0
    contents: list[str] = []
    for number, line in enumerate(normalize_newlines(text).split("\n"), start=1):
        marker = _QUOTE.match(line)
        level = marker.group().count(">") if marker else 0
        if level != depth:
            yield from _stretch(start, contents)
            start, depth, contents = number, level, []
        if marker is not None:
            contents.append(line[marker.end() :])
    yield from _stretch(start, contents)


def _stretch(start: int, contents: list[str]) -> Iterator[tuple[int, str]]:
    text = "\n".join(contents)
    if contents and may_hold_blocks(text):
        yield start, text + "\n"
