"""Text in, responses out: the blocks, grammar and model stages put together.

This is the boundary of the text-level API: the grammar stage's one error is translated here
into the DrsParseError family (no lark type leaves that stage).
"""

from __future__ import annotations

from collections.abc import Callable

from attrs import evolve

from drsparse._blocks import normalize_newlines, segments
from drsparse._build import build_response
from drsparse._codes import check_msg
from drsparse._errors import MalformedLineError, NoResponseError, SeveralResponsesError
from drsparse._grammar import BlockSyntaxError, Pair, Prose, parse_lines
from drsparse._limits import DEFAULT_LIMITS, Limits
from drsparse._model import Origin, Response

__all__ = ["parse", "parse_all", "responses_in"]


def parse_all(text: str, *, limits: Limits = DEFAULT_LIMITS) -> list[Response]:
    """Every response in ``text`` (a message body, a part, a file's text), in order.

    Prose around and between the blocks is fine; a text without any block gives ``[]``.
    Line and column numbers in errors, warnings and ``fields`` count from the start of
    ``text``; LF, CRLF and bare CR line endings all count as one line break.

    Raises :class:`DrsParseError` for the first block that is not a valid response.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_all() takes text (str), not {type(text).__name__}")
    return responses_in(text, limits)


def responses_in(
    text: str, limits: Limits, origin: Callable[[], Origin] | None = None
) -> list[Response]:
    """:func:`parse_all` for the mail stage, which knows where the responses of ``text`` come
    from before parsing it: each is built once, with its origin, rather than built and copied.

    ``origin`` is called at the first block, so a text without one (a reply's prose that quotes
    a block) costs no origin: the message's headers are read for the responses only.
    """
    # A byte-order mark is invisible in an editor but would hide a header on the first line.
    bom = text.startswith("\ufeff")
    responses: list[Response] = []
    where: Origin | None = None
    for segment in segments(normalize_newlines(text[1:] if bom else text)):
        lines = _lines(segment.text, segment.first_line, limits.max_pairs)
        if where is None and origin is not None:
            where = origin()
        responses.append(build_response(lines, segment.first_line, limits, check_msg, where))
    if bom and responses:
        first = responses[0]
        note = "a byte-order mark before line 1 was ignored (columns of line 1 count without it)"
        responses[0] = evolve(first, warnings=(note, *first.warnings))
    return responses


def parse(text: str, *, limits: Limits = DEFAULT_LIMITS) -> Response:
    """The one response in ``text``; prose around it is fine.

    Raises :class:`NoResponseError` when there is none, :class:`SeveralResponsesError` when
    there are several (use :func:`parse_all` for those), and the other :class:`DrsParseError`
    subclasses when the block is not a valid response.
    """
    responses = parse_all(text, limits=limits)
    if not responses:
        raise NoResponseError("no '### DRS Response' block found")
    if len(responses) > 1:
        second = responses[1].fields[0].line if responses[1].fields else None
        raise SeveralResponsesError(
            f"{len(responses)} responses found where one was expected; use parse_all()",
            line=second,
        )
    return responses[0]


def _lines(block: str, first_line: int, max_pairs: int) -> list[Pair | Prose]:
    try:
        return parse_lines(block, first_line, max_pairs)
    except BlockSyntaxError as exc:
        # The grammar accepts any line after the header, so only the header can fail: the
        # '###' line after '### DRS Response' is missing, or the text ends after the header.
        if exc.detail:  # pragma: no cover - defensive: see Parser.lines
            raise MalformedLineError(exc.detail, line=first_line) from None
        if exc.at_end:
            header = block.partition("\n")[0]
            raise MalformedLineError(
                f"the text ends after the block header at line {first_line}, before its '###' line",
                line=first_line,
                column=len(header) + 1,
            ) from None
        raise MalformedLineError(
            f"the block header at line {first_line} is not followed by a '###' line",
            line=first_line + exc.line - 1,
            column=exc.column,
        ) from None
