"""The writers of the command: responses and errors out as JSON Lines, one JSON array, CSV
rows or a table for people.

The JSON formats write the schema-1 records of ``_records.py``; CSV and the table lay out a
few of their fields and the decisions (status, attention). Text meant for a terminal goes
through :func:`printable`, so that a hostile message cannot move or recolour the terminal of
the person reading it.
"""

from __future__ import annotations

import io
import json
import sys
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from drsparse._records import domain_unicode, error_record, response_record, valid_utf8

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from drsparse._errors import DrsParseError
    from drsparse._model import Response

__all__ = [
    "CSV_COLUMNS",
    "Format",
    "Output",
    "OutputError",
    "Rendered",
    "columns",
    "csv_cell",
    "printable",
    "utf8",
    "writer",
]


#: The columns of ``--format csv``: a response or an error per row (``type`` says which).
CSV_COLUMNS = (
    "type",
    "source",
    "message_id",
    "part",
    "quoted",
    "authentic",
    "reference",
    "domain",
    "domain_unicode",
    "code",
    "msg",
    "category",
    "status",
    "success",
    "pending",
    "retryable",
    "sub_codes",
    "attention",
    "warnings",
    "error",
    "line",
    "column",
    "message",
)
_TABLE_HEAD = ("SOURCE", "DOMAIN", "CODE", "STATUS", "ATTENTION", "AUTHENTIC", "REFERENCE")
# The table says in words whether a response may be acted on: a spoofed mail must not look
# like the robot's.
_AUTHENTIC = {True: "yes", False: "NO (spoofed?)", None: "unknown"}


def utf8(stream: TextIO, errors: str = "strict") -> None:
    # JSON is UTF-8 (RFC 8259) whatever the locale says; a table is for the terminal's locale.
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(encoding="utf-8" if errors == "strict" else None, errors=errors)


class OutputError(Exception):
    """Standard output cannot be written: a full disk, a closed pipe, a closed stream."""

    def __init__(self, reason: str, *, broken_pipe: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        #: The reader has gone (``drsparse parse | head``): not a failure to report.
        self.broken_pipe = broken_pipe

    @classmethod
    def of(cls, exc: OSError) -> OutputError:
        return cls(exc.strerror or str(exc), broken_pipe=isinstance(exc, BrokenPipeError))


def stdout() -> TextIO:
    """Standard output, or :class:`OutputError` when the command was started without one."""
    if sys.stdout is None:
        raise OutputError("standard output is closed")
    return sys.stdout


def writer(name: str) -> Output:
    stream = stdout()
    if name == "table":
        utf8(stream, errors="backslashreplace")
        return _Table(stream)
    utf8(stream)
    return {"jsonl": _JsonLines, "json": _JsonArray, "csv": _Csv}[name](stream)


#: What a record becomes for its output: a line of text (JSON, CSV) or a table row.
Piece = str | tuple[str, ...]


class Rendered(NamedTuple):
    """One message's records as its output writes them, made where the message was parsed:
    with ``--jobs``, in the worker process, so that a few strings cross back to the main
    process instead of typed values (which cost more to pickle and unpickle than to write).
    """

    pieces: tuple[Piece, ...]
    #: How many responses ``--require-authentic`` left out, and their verdicts: "False|None".
    skipped: int = 0
    verdicts: str = ""


class Format:
    """How the responses of a message become records: the output format and whether only
    authentic responses are written. Called with a message's responses; it pickles, and is
    called in each worker process with ``--jobs``."""

    __slots__ = ("name", "require_authentic")

    def __init__(self, name: str, require_authentic: bool = False) -> None:
        self.name = name
        self.require_authentic = require_authentic

    def __call__(self, responses: list[Response]) -> Rendered:
        skipped = 0
        verdicts = ""
        if self.require_authentic:
            left_out = [response for response in responses if response.authentic is not True]
            if left_out:
                skipped = len(left_out)
                verdicts = "|".join(sorted({str(response.authentic) for response in left_out}))
                responses = [response for response in responses if response.authentic is True]
        render = _RESPONSE_PIECES[self.name]
        return Rendered(tuple(render(response) for response in responses), skipped, verdicts)

    def error(self, error: DrsParseError) -> Piece:
        return _ERROR_PIECES[self.name](error)


class Output:
    """Records out in one format; flushed after every message (with ``--jobs``, whenever the
    command waits for the next results), so a pipe sees them as they come (a consumer of
    ``drsparse parse ~/Maildir | ...`` does not wait for the end).

    Every method raises :class:`OutputError` when the stream cannot be written. The text
    written is always valid UTF-8: a record holding lone surrogates (a file name that is not
    UTF-8) is made again with them escaped, and a note saying so (see ``valid_utf8``).
    """

    #: The format's name, as ``--format`` spells it.
    name = ""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        #: Whether every message's records are flushed at once; else the caller flushes
        #: (with ``--jobs``, when it waits for the next results).
        self.flush_each = True

    def write(self, rendered: Rendered) -> None:
        """One message's records (see :class:`Format`)."""
        if not rendered.pieces:
            return
        try:
            for piece in rendered.pieces:
                self._put(piece)
            if self.flush_each:
                self._end_message()
        except OSError as exc:
            raise OutputError.of(exc) from exc

    def error(self, error: DrsParseError) -> None:
        self.write(Rendered((Format(self.name).error(error),)))

    def _put(self, piece: Piece) -> None:
        assert isinstance(piece, str)
        self.stream.write(piece)

    def _end_message(self) -> None:
        self.stream.flush()

    def close(self) -> None:
        self.flush()

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            raise OutputError.of(exc) from exc


def _text(record: dict[str, Any], text: Callable[[dict[str, Any]], str]) -> str:
    """``text(record)``, made again from ``valid_utf8(record)`` if it cannot be encoded: a
    str that cannot be written is refused before anything of it is written."""
    made = text(record)
    if not made.isascii():
        try:
            made.encode("utf-8")
        except UnicodeEncodeError:
            made = text(valid_utf8(record))
    return made


# A record is a tree made for the occasion: the check for cycles would find none.
_JSON_LINE = json.JSONEncoder(ensure_ascii=False, check_circular=False)


def _json_line(record: dict[str, Any]) -> str:
    return _JSON_LINE.encode(record) + "\n"


def _json_item(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, indent=2).replace("\n", "\n  ")


class _JsonLines(Output):
    name = "jsonl"


class _JsonArray(Output):
    """One JSON array, written as it goes: the text ``json.dumps(records, indent=2)`` gives,
    without holding the records (the format of the samples' expected files)."""

    name = "json"

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.count = 0

    def _put(self, piece: Piece) -> None:
        assert isinstance(piece, str)
        self.stream.write(("[\n  " if self.count == 0 else ",\n  ") + piece)
        self.count += 1

    def close(self) -> None:
        try:
            self.stream.write("\n]\n" if self.count else "[]\n")
        except OSError as exc:
            raise OutputError.of(exc) from exc
        super().close()


class _Csv(Output):
    name = "csv"

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        try:
            self.stream.write(_csv_line(CSV_COLUMNS))
        except OSError as exc:
            raise OutputError.of(exc) from exc


def _csv_line(cells: Sequence[str]) -> str:
    # The row is made with the RFC's "\r\n", so that csv quotes every cell holding a CR as
    # well as an LF (with "\n" it leaves a CR bare, and a header made of "\r" splits the row
    # for a reader); it is written with "\n": the rows go to cut, grep and sort as often as
    # to a spreadsheet, and every spreadsheet reads both.
    import csv  # only for this format

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()[:-2] + "\n"


def _csv_record(record: dict[str, Any]) -> str:
    values = dict(record)
    if record["type"] == "response":
        result = record["result"]
        values.update({key: result[key] for key in ("code", "msg", "category")})
        values.update({key: result[key] for key in ("success", "pending", "retryable")})
        values["warnings"] = len(record["warnings"])
    return _csv_line([csv_cell(values.get(column)) for column in CSV_COLUMNS])


def _csv_response(response: Response) -> str:
    record = {
        **response_record(response),
        "status": response.status,
        "sub_codes": " ".join(
            str(sub.code) for sub in response.sub_results if sub.code is not None
        ),
        "attention": _attention(response),
    }
    return _text(record, _csv_record)


def _attention(response: Response) -> str:
    return " ".join(str(sub.code) for sub in response.attention if sub.code is not None)


# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection"): a cell of the
# message's text such as "=HYPERLINK(...)" must stay text when the file is opened.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A value as a CSV cell: ``true``/``false`` and an empty cell for null (the JSON
    vocabulary, not Python's), and text that a spreadsheet would run as a formula with a
    leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_STARTS) else value
    return str(value)


class _Table(Output):
    """Aligned columns for people: held until the end, when the widths are known."""

    name = "table"

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.rows: list[tuple[str, ...]] = []

    def _put(self, piece: Piece) -> None:
        assert isinstance(piece, tuple)
        self.rows.append(piece)

    def _end_message(self) -> None:
        pass  # nothing is written before the end

    def close(self) -> None:
        if self.rows:
            try:
                self.stream.write(columns([_TABLE_HEAD, *self.rows]))
            except OSError as exc:
                raise OutputError.of(exc) from exc
        super().close()


def _table_row(*cells: object) -> tuple[str, ...]:
    return tuple(printable("-" if cell is None else str(cell)) for cell in cells)


def _table_response(response: Response) -> tuple[str, ...]:
    info = response.result.info
    status: str = response.status
    if info.category != status:
        status = f"{status} ({info.category})"
    origin = response.origin
    return _table_row(
        origin.source if origin else None,
        domain_unicode(response.domain),
        response.result.code,
        status,
        _attention(response),
        _AUTHENTIC[response.authentic],
        response.reference,
    )


def _table_error(error: DrsParseError) -> tuple[str, ...]:
    where = ":".join(str(part) for part in (error.source, error.line, error.column) if part)
    return _table_row(where, "", "error", type(error).__name__, "", "", error.msg)


_RESPONSE_PIECES: dict[str, Callable[[Response], Piece]] = {
    "jsonl": lambda response: _text(response_record(response), _json_line),
    "json": lambda response: _text(response_record(response), _json_item),
    "csv": _csv_response,
    "table": _table_response,
}
_ERROR_PIECES: dict[str, Callable[[DrsParseError], Piece]] = {
    "jsonl": lambda error: _text(error_record(error), _json_line),
    "json": lambda error: _text(error_record(error), _json_item),
    "csv": lambda error: _text(error_record(error), _csv_record),
    "table": _table_error,
}


def columns(rows: Sequence[Sequence[str]], *, numbers_right: bool = False) -> str:
    """Rows as aligned text columns; the last column is not padded.

    With ``numbers_right``, cells of digits are aligned right (counts), the others left.
    """
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if numbers_right and cell.isdigit() else cell.ljust(width)
            for cell, width in zip(row, widths, strict=False)
        ]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines) + "\n"


# Control characters (C0, DEL, C1) written as \xNN, and the bidirectional controls (U+202E
# shows the rest of a line backwards) as \uNNNN: a hostile message must not be able to move
# the cursor, recolour the terminal or reorder the text of the person reading a table or an
# error line.
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))}
_CONTROL.update(
    {
        code: f"\\u{code:04x}"
        for code in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
    }
)


def printable(text: str) -> str:
    """``text`` with control and bidirectional characters written as escapes."""
    return text.translate(_CONTROL)
