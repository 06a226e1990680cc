"""The one error family of drsparse.

Every bad input surfaces as a :class:`DrsParseError` (a :class:`ValueError`), carrying where it
happened as data (``source``, ``line``, ``column``) and not only inside the message, so that
callers can report it, pin it in a test or write it as a JSON record. Foreign exceptions (lark,
dateutil, codecs, the e-mail package) are translated into this family once, at the boundary
where they can occur, with ``raise ... from``.
"""

from __future__ import annotations

__all__ = [
    "DrsParseError",
    "DuplicateKeyError",
    "InternalError",
    "InvalidValueError",
    "LimitExceededError",
    "MalformedLineError",
    "MissingKeyError",
    "NoResponseError",
    "SeveralResponsesError",
    "UnreadableInputError",
]


class DrsParseError(ValueError):
    """Something in the input is not a valid DRS response, or cannot be read.

    ``line`` and ``column`` are 1-based positions in the parsed text, ``None`` where they mean
    nothing (no response at all, an unreadable file). ``source`` names the input (a path,
    ``path#3`` for the third message of an mbox, ``-`` for standard input) once known.
    """

    def __init__(
        self,
        msg: str,
        *,
        line: int | None = None,
        column: int | None = None,
        source: str | None = None,
    ) -> None:
        self.msg = msg
        self.line = line
        self.column = column
        self.source = source
        super().__init__(msg)

    def __str__(self) -> str:
        where = ":".join(
            str(part) for part in (self.source, self.line, self.column) if part is not None
        )
        return f"{where}: {self.msg}" if where else self.msg

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries (scan --jobs); keyword-only arguments need help.
        return (_rebuild, (type(self), self.msg, self.line, self.column, self.source))


def _rebuild(
    cls: type[DrsParseError], msg: str, line: int | None, column: int | None, source: str | None
) -> DrsParseError:
    return cls(msg, line=line, column=column, source=source)


class NoResponseError(DrsParseError):
    """The text holds no ``### DRS Response`` block."""


class SeveralResponsesError(DrsParseError):
    """:func:`drsparse.parse` was given a text with more than one response."""


class MalformedLineError(DrsParseError):
    """A line inside a block is neither a ``key: value`` pair, a comment nor blank."""


class MissingKeyError(DrsParseError):
    """A key every response must have (``result.code``) is absent."""


class InvalidValueError(DrsParseError):
    """A value or an index has the wrong type: a non-numeric code, an impossible date, ..."""


class DuplicateKeyError(DrsParseError):
    """The same key appears twice with different values; both lines are named."""


class LimitExceededError(DrsParseError):
    """The input goes beyond one of the configured :class:`drsparse.Limits`."""


class UnreadableInputError(DrsParseError):
    """The input could not be read at all: a missing file, a broken mailbox, an I/O error."""


class InternalError(DrsParseError):
    """A bug in drsparse, met while reading one message.

    Reported like a bad message (an error record, a line on standard error, the message
    quarantined), so that a sweep over years of mail does not end at the first bug; the
    traceback goes to standard error. ``--mda`` exits 70 (EX_SOFTWARE) on it: the same message
    would meet the same bug at every retry. A worker process of ``--jobs`` that dies twice on
    a message (killed, out of memory) gives one too, naming how the process ended.
    """
