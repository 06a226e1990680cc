"""The writers of the command: responses and errors out as JSON Lines, one JSON array, CSV
rows or a table for people.

The JSON formats write the schema-1 records of ``_records.py``; CSV and the table lay out a
few of their fields and the decisions (status, attention). Text meant for a terminal goes
through :func:`printable`, so that a hostile message cannot move or recolour the terminal of
the person reading it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

from drsparse._records import domain_unicode, error_record, response_record, valid_utf8

if TYPE_CHECKING:
    from collections.abc import Sequence

    from drsparse._errors import DrsParseError
    from drsparse._model import Response

__all__ = [
    "CSV_COLUMNS",
    "Output",
    "OutputError",
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
    import io

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


class Output:
    """Records out in one format; flushed after every message, so a pipe sees them as they
    come (a consumer of ``drsparse parse ~/Maildir | ...`` does not wait for the end).

    Every method raises :class:`OutputError` when the stream cannot be written. The text
    written is always valid UTF-8: a record holding lone surrogates (a file name that is not
    UTF-8) is written again with them escaped, and a note saying so (see ``valid_utf8``).
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.pending = False

    def response(self, response: Response) -> None:
        self.pending = True
        try:
            self._response(response)
        except OSError as exc:
            raise OutputError.of(exc) from exc

    def error(self, error: DrsParseError) -> None:
        self.pending = True
        try:
            self._error(error)
        except OSError as exc:
            raise OutputError.of(exc) from exc

    def _response(self, response: Response) -> None:
        self._record(response_record(response))

    def _error(self, error: DrsParseError) -> None:
        self._record(error_record(error))

    def _record(self, record: dict[str, Any]) -> None:
        # A str that cannot be encoded is refused before anything of it is written.
        try:
            self._write(record)
        except UnicodeEncodeError:
            self._write(valid_utf8(record))

    def _write(self, record: dict[str, Any]) -> None:
        raise NotImplementedError

    def end_message(self) -> None:
        if self.pending:
            self.flush()
            self.pending = False

    def close(self) -> None:
        self.flush()

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            raise OutputError.of(exc) from exc


class _JsonLines(Output):
    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        import json

        self.dumps = json.dumps

    def _write(self, record: dict[str, Any]) -> None:
        self.stream.write(self.dumps(record, ensure_ascii=False) + "\n")


class _JsonArray(_JsonLines):
    """One JSON array, written as it goes: the text ``json.dumps(records, indent=2)`` gives,
    without holding the records (the format of the samples' expected files)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.count = 0

    def _write(self, record: dict[str, Any]) -> None:
        text = self.dumps(record, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        self.stream.write(("[\n  " if self.count == 0 else ",\n  ") + text)
        self.count += 1

    def close(self) -> None:
        try:
            self.stream.write("\n]\n" if self.count else "[]\n")
        except OSError as exc:
            raise OutputError.of(exc) from exc
        super().close()


class _Csv(Output):
    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        import csv
        import io

        # Each row is made in a buffer with the RFC's "\r\n", so that csv quotes every cell
        # holding a CR as well as an LF (with "\n" it leaves a CR bare, and a header made of
        # "\r" splits the row for a reader); it is written with "\n": the rows go to cut, grep
        # and sort as often as to a spreadsheet, and every spreadsheet reads both.
        self.buffer = io.StringIO()
        self.rows = csv.writer(self.buffer, lineterminator="\r\n")
        try:
            self._line(CSV_COLUMNS)
        except OSError as exc:
            raise OutputError.of(exc) from exc

    def _line(self, cells: Sequence[str]) -> None:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.rows.writerow(cells)
        # One write per row: a cell that cannot be encoded leaves no half row.
        self.stream.write(self.buffer.getvalue()[:-2] + "\n")

    def _write(self, record: dict[str, Any]) -> None:
        values = dict(record)
        if record["type"] == "response":
            result = record["result"]
            values.update({key: result[key] for key in ("code", "msg", "category")})
            values.update({key: result[key] for key in ("success", "pending", "retryable")})
            values["warnings"] = len(record["warnings"])
        self._line([csv_cell(values.get(column)) for column in CSV_COLUMNS])

    def _response(self, response: Response) -> None:
        self._record(
            {
                **response_record(response),
                "status": response.status,
                "sub_codes": " ".join(
                    str(sub.code) for sub in response.sub_results if sub.code is not None
                ),
                "attention": _attention(response),
            }
        )


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

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.rows: list[tuple[str, ...]] = []

    def _error(self, error: DrsParseError) -> None:
        where = ":".join(str(part) for part in (error.source, error.line, error.column) if part)
        self._add((where, "", "error", type(error).__name__, "", "", error.msg))

    def _response(self, response: Response) -> None:
        info = response.result.info
        status: str = response.status
        if info.category != status:
            status = f"{status} ({info.category})"
        origin = response.origin
        self._add(
            (
                origin.source if origin else None,
                domain_unicode(response.domain),
                response.result.code,
                status,
                _attention(response),
                _AUTHENTIC[response.authentic],
                response.reference,
            )
        )

    def _add(self, row: tuple[object, ...]) -> None:
        self.rows.append(tuple(printable("-" if cell is None else str(cell)) for cell in row))

    def end_message(self) -> None:
        self.pending = False  # nothing is written before the end

    def close(self) -> None:
        if self.rows:
            try:
                self.stream.write(columns([_TABLE_HEAD, *self.rows]))
            except OSError as exc:
                raise OutputError.of(exc) from exc
        super().close()


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
