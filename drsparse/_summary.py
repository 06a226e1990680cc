"""The summary of ``drsparse scan``: what is in a mailbox, counted message by message."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from drsparse._writers import columns, printable

if TYPE_CHECKING:
    from drsparse._batch import Message, Parsed
    from drsparse._codes import CodeTable
    from drsparse._model import Response

__all__ = ["Summary", "summary_text"]


class Summary:
    """What ``scan`` counts, message by message."""

    def __init__(self, codes: CodeTable) -> None:
        self.codes_table = codes
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

    def add(self, item: Message, parsed: Parsed) -> None:
        self.messages += 1
        self.bytes += item.size
        if not isinstance(parsed, list):
            self.failed += 1
            self.errors[type(parsed).__name__] += 1
            return
        self.with_responses += bool(parsed)
        for response in parsed:
            self._response(response)

    def _response(self, response: Response) -> None:
        info = response.result.info
        self.responses += 1
        self.quoted += response.quoted
        self.codes[response.result.code] += 1
        self.categories[info.category] += 1
        self.status[response.status] += 1
        self.authentic[{True: "true", False: "false", None: "none"}[response.authentic]] += 1
        self.attention.update(sub.code for sub in response.attention if sub.code is not None)
        for code_info in (info, *(sub.info for sub in response.sub_results)):
            if code_info is not None and not code_info.known:
                self.unknown_codes[code_info.code] += 1
        self.unknown_keys.update(_unknown_keys(response))
        self.warning_count += len(response.warnings)
        # "line 12: unknown key ..." and "line 40: unknown key ..." are one kind of warning.
        self.warnings.update(_LINE_PREFIX.sub("", text) for text in response.warnings)

    def as_dict(self, seconds: float) -> dict[str, Any]:
        """The summary as JSON-able data (what ``scan --json`` prints)."""

        def code_rows(counts: Counter[int]) -> list[dict[str, Any]]:
            rows = []
            for code, count in sorted(counts.items()):
                info = self.codes_table.explain(code)
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


def _unknown_keys(response: Response) -> list[str]:
    """The keys of a response's fields that the model does not know, indexes as ``N``."""
    from drsparse._typed import key_slot

    # A known key with a bad index would have failed the response: key_slot does not raise.
    return [_INDEX.sub("N", f.key) for f in response.fields if key_slot(f.key) is None]


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
    parts = [columns(totals)]

    def section(title: str, rows: list[tuple[str, ...]]) -> None:
        if rows:
            # Keys and warnings come from the messages: no control characters to a terminal.
            cells = [("", *map(printable, row)) for row in rows]
            parts.append(f"\n{title}\n" + columns(cells, numbers_right=True))

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
