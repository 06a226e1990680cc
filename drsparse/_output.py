"""The output stage of the command: records written as JSON Lines, JSON, CSV or a table, and
the summary of ``scan``.

The records themselves come from ``_records.py``; this module only lays them out. Text meant
for a terminal goes through :func:`printable`, so that a hostile message cannot move or
recolour the terminal of the person reading it.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Sequence

    from drsparse._run import Found, Outcome

__all__ = ["CSV_COLUMNS", "Output", "Summary", "printable", "summary_text", "utf8", "writer"]


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
_TABLE_HEAD = ("SOURCE", "DOMAIN", "CODE", "STATUS", "ATTENTION", "REFERENCE")


def utf8(stream: TextIO, errors: str = "strict") -> None:
    # JSON is UTF-8 (RFC 8259) whatever the locale says; a table is for the terminal's locale.
    import io

    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(encoding="utf-8" if errors == "strict" else None, errors=errors)


def writer(name: str) -> Output:
    stream = sys.stdout
    if name == "table":
        utf8(stream, errors="backslashreplace")
        return _Table(stream)
    utf8(stream)
    return {"jsonl": _JsonLines, "json": _JsonArray, "csv": _Csv}[name](stream)


class Output:
    """Records out in one format; flushed after every message, so a pipe sees them as they
    come (a consumer of ``drsparse parse ~/Maildir | ...`` does not wait for the end)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.pending = False

    def write(self, record: dict[str, Any], found: Found | None) -> None:
        """One record; ``found`` carries the decisions of a response, ``None`` for an error."""
        self.pending = True
        self._write(record, found)

    def _write(self, record: dict[str, Any], found: Found | None) -> None:
        raise NotImplementedError

    def end_message(self) -> None:
        if self.pending:
            self.stream.flush()
            self.pending = False

    def close(self) -> None:
        self.stream.flush()


class _JsonLines(Output):
    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        import json

        self.dumps = json.dumps

    def _write(self, record: dict[str, Any], found: Found | None) -> None:
        self.stream.write(self.dumps(record, ensure_ascii=False) + "\n")


class _JsonArray(_JsonLines):
    """One JSON array, written as it goes: the text ``json.dumps(records, indent=2)`` gives,
    without holding the records (the format of the samples' expected files)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.count = 0

    def _write(self, record: dict[str, Any], found: Found | None) -> None:
        text = self.dumps(record, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        self.stream.write(("[\n  " if self.count == 0 else ",\n  ") + text)
        self.count += 1

    def close(self) -> None:
        self.stream.write("\n]\n" if self.count else "[]\n")
        super().close()


class _Csv(Output):
    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        import csv

        # "\n", not the RFC's "\r\n": the rows go to cut, grep and sort as often as to a
        # spreadsheet, and every spreadsheet reads both.
        self.rows = csv.writer(stream, lineterminator="\n")
        self.rows.writerow(CSV_COLUMNS)

    def _write(self, record: dict[str, Any], found: Found | None) -> None:
        self.rows.writerow([_csv_cell(value) for value in _csv_values(record, found)])


def _csv_values(record: dict[str, Any], found: Found | None) -> list[object]:
    if found is None:
        values: dict[str, object] = {
            key: record[key] for key in ("type", "source", "error", "line", "column", "message")
        }
    else:
        result = record["result"]
        values = {key: record[key] for key in CSV_COLUMNS[:9]}
        values.update({key: result[key] for key in ("code", "msg", "category")})
        values.update({key: result[key] for key in ("success", "pending", "retryable")})
        values["status"] = found.status
        values["sub_codes"] = " ".join(
            str(sub["code"]) for sub in record["sub_results"] if sub["code"] is not None
        )
        values["attention"] = " ".join(map(str, found.attention))
        values["warnings"] = len(record["warnings"])
    return [values.get(column) for column in CSV_COLUMNS]


def _csv_cell(value: object) -> str:
    # The JSON vocabulary (true, false; null as an empty cell), not Python's True and None.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Table(Output):
    """Aligned columns for people: held until the end, when the widths are known."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.rows: list[tuple[str, ...]] = []

    def _write(self, record: dict[str, Any], found: Found | None) -> None:
        if found is None:
            where = ":".join(
                str(record[key]) for key in ("source", "line", "column") if record[key] is not None
            )
            row: tuple[object, ...] = (where, "", "error", record["error"], "", record["message"])
        else:
            result = record["result"]
            category = result["category"]
            status = found.status if category == found.status else f"{found.status} ({category})"
            attention = " ".join(map(str, found.attention))
            domain = record["domain_unicode"]
            row = (record["source"], domain, result["code"], status, attention, record["reference"])
        self.rows.append(tuple(printable("-" if cell is None else str(cell)) for cell in row))

    def end_message(self) -> None:
        self.pending = False  # nothing is written before the end

    def close(self) -> None:
        if self.rows:
            self.stream.write(_columns([_TABLE_HEAD, *self.rows]))
        super().close()


def _columns(rows: Sequence[Sequence[str]], *, numbers_right: bool = False) -> str:
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


# Control characters (C0, DEL, C1) written as \xNN: a hostile message must not be able to
# move the cursor or recolour the terminal of the person reading a table or an error line.
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))}


def printable(text: str) -> str:
    return text.translate(_CONTROL)


# -------------------------------------------------------------------------------------------
# The summary of scan
# -------------------------------------------------------------------------------------------


class Summary:
    """What ``scan`` counts, message by message."""

    def __init__(self) -> None:
        from collections import Counter

        self.messages = self.with_responses = self.failed = 0
        self.responses = self.quoted = self.bytes = self.warning_count = 0
        self.errors: Counter[str] = Counter()
        self.codes: Counter[int] = Counter()
        self.categories: Counter[str] = Counter()
        self.status: Counter[str] = Counter({"succeeded": 0, "pending": 0, "failed": 0})
        self.authentic: Counter[str] = Counter({"true": 0, "false": 0, "none": 0})
        self.attention: Counter[int] = Counter()
        self.unknown_codes: Counter[int] = Counter()
        self.unknown_keys: Counter[str] = Counter()
        self.warnings: Counter[str] = Counter()

    def add(self, outcome: Outcome) -> None:
        self.messages += 1
        self.bytes += outcome.size
        if outcome.error is not None:
            self.failed += 1
            self.errors[type(outcome.error).__name__] += 1
            return
        self.with_responses += bool(outcome.found)
        for found in outcome.found:
            self._response(found)

    def _response(self, found: Found) -> None:
        record = found.record
        result = record["result"]
        self.responses += 1
        self.quoted += record["quoted"]
        self.codes[result["code"]] += 1
        self.categories[result["category"]] += 1
        self.status[found.status] += 1
        self.authentic[{True: "true", False: "false", None: "none"}[record["authentic"]]] += 1
        self.attention.update(found.attention)
        for info in (result, *record["sub_results"]):
            if info["code"] is not None and info["known"] is False:
                self.unknown_codes[info["code"]] += 1
        self.unknown_keys.update(_unknown_keys(record["fields"]))
        self.warning_count += len(record["warnings"])
        # "line 12: unknown key ..." and "line 40: unknown key ..." are one kind of warning.
        self.warnings.update(_LINE_PREFIX.sub("", text) for text in record["warnings"])

    def as_dict(self, seconds: float) -> dict[str, Any]:
        """The summary as JSON-able data (what ``scan --json`` prints)."""
        from drsparse._codes import explain

        def code_rows(counts: Counter[int]) -> list[dict[str, Any]]:
            rows = []
            for code, count in sorted(counts.items()):
                info = explain(code)
                rows.append(
                    {"code": code, "msg": info.msg, "category": info.category, "count": count}
                )
            return rows

        megabytes = self.bytes / 1_000_000
        return {
            "messages": self.messages,
            "messages_with_responses": self.with_responses,
            "failed_messages": self.failed,
            "responses": self.responses,
            "quoted": self.quoted,
            "status": dict(self.status),
            "authentic": dict(self.authentic),
            "codes": code_rows(self.codes),
            "categories": dict(self.categories.most_common()),
            "attention": code_rows(self.attention),
            "errors": dict(self.errors.most_common()),
            "unknown_codes": code_rows(self.unknown_codes),
            "unknown_keys": dict(self.unknown_keys.most_common()),
            "warnings": {
                "total": self.warning_count,
                "top": [
                    {"text": text, "count": count}
                    for text, count in self.warnings.most_common(_TOP_WARNINGS)
                ],
            },
            "bytes": self.bytes,
            "seconds": round(seconds, 3),
            "messages_per_second": round(self.messages / seconds, 1) if seconds else None,
            "mb_per_second": round(megabytes / seconds, 2) if seconds else None,
        }


_TOP_WARNINGS = 5


# A warning's line number, so that warnings of one kind count together.
_LINE_PREFIX = re.compile(r"^line [0-9]+: ")
# An index segment of a key: "foo.3.bar" and "foo.4.bar" are one unknown key, "foo.N.bar".
_INDEX = re.compile(r"(?<=\.)[0-9]+(?=\.|$)")


def _unknown_keys(fields: list[list[Any]]) -> list[str]:
    """The keys of a record's fields that the model does not know, indexes as ``N``."""
    from drsparse._build import key_slot
    from drsparse._errors import DrsParseError

    unknown = []
    for key, _value, _line in fields:
        try:
            if key_slot(key) is not None:
                continue
        except DrsParseError:  # a known key with a bad index; such a response failed already
            continue
        unknown.append(_INDEX.sub("N", key))
    return unknown


def summary_text(figures: dict[str, Any]) -> str:
    """The summary for people: totals first, then a table per kind of count."""
    status, authentic = figures["status"], figures["authentic"]
    rate = figures["messages_per_second"]
    totals = [
        (
            "messages",
            f"{figures['messages']} read: {figures['messages_with_responses']} with "
            f"responses, {figures['failed_messages']} failed ({figures['bytes'] / 1e6:.1f} MB)",
        ),
        (
            "responses",
            f"{figures['responses']} ({figures['quoted']} quoted): "
            f"{status['succeeded']} succeeded, {status['pending']} pending, "
            f"{status['failed']} failed",
        ),
        (
            "authentic",
            f"{authentic['true']} true, {authentic['false']} false, {authentic['none']} unknown",
        ),
        ("warnings", str(figures["warnings"]["total"])),
        (
            "time",
            f"{figures['seconds']:.2f} s"
            + (f": {rate} messages/s, {figures['mb_per_second']} MB/s" if rate else ""),
        ),
    ]
    parts = [_columns(totals)]

    def section(title: str, rows: list[tuple[str, ...]]) -> None:
        if rows:
            # Keys and warnings come from the messages: no control characters to a terminal.
            cells = [("", *map(printable, row)) for row in rows]
            parts.append(f"\n{title}\n" + _columns(cells, numbers_right=True))

    def codes(key: str) -> list[tuple[str, ...]]:
        return [
            (str(row["code"]), row["category"], str(row["count"]), row["msg"] or "(unknown)")
            for row in figures[key]
        ]

    section("result codes", codes("codes"))
    section("categories", [(str(n), name) for name, n in figures["categories"].items()])
    section("sub-results needing attention", codes("attention"))
    section("errors", [(str(n), name) for name, n in figures["errors"].items()])
    section("unknown codes", codes("unknown_codes"))
    section("unknown keys", [(str(n), key) for key, n in figures["unknown_keys"].items()])
    section(
        "most frequent warnings",
        [(str(row["count"]), row["text"]) for row in figures["warnings"]["top"]],
    )
    return "".join(parts).rstrip("\n")
