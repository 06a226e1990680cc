"""The record stage: responses and errors as JSON-able records (schema 1).

A record is the contract between drsparse and the scripts downstream (``jq``, a database
loader): every key is always present, ``null`` where absent, dates are ISO 8601 strings with
their offset. ``drsparse/data/record.schema.json`` publishes it; a change that breaks a consumer
needs a new schema number.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from drsparse._errors import DrsParseError
from drsparse._model import Response

if TYPE_CHECKING:
    from drsparse._codes import CodeInfo

__all__ = ["SCHEMA", "domain_unicode", "error_record", "response_record", "valid_utf8"]

SCHEMA = 1

# The parts of a CodeInfo that a record carries beside each code.
_CODE_KEYS = ("known", "category", "success", "pending", "retryable", "epp")


def domain_unicode(domain: str | None) -> str | None:
    """The domain for people: ACE labels (``xn--...``) decoded, everything else as sent.

    A label that does not decode, or decodes to characters no domain name holds (controls,
    bidirectional overrides such as U+202E, unassigned code points), is shown as sent: the
    decoded form would show people something other than what the name is.
    """
    if domain is None or "xn--" not in domain.lower():
        return domain
    labels = []
    for label in domain.split("."):
        if not label.lower().startswith("xn--"):
            labels.append(label)
            continue
        try:
            decoded = label[4:].encode("ascii").decode("punycode")
        except (UnicodeError, ValueError):
            return domain  # not valid ACE: show it as sent rather than guess
        if _foreign_character(decoded) is not None:
            return domain
        labels.append(decoded)
    return ".".join(labels)


# Unicode categories that no domain name holds (IDNA2008 disallows them): controls, format
# characters (the bidirectional overrides among them), surrogates, private use, unassigned,
# and separators.
_NOT_IN_NAMES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def _foreign_character(text: str) -> str | None:
    """The first character of ``text`` that no domain name holds, as ``U+XXXX``."""
    import unicodedata  # only for ACE labels: not on the start of every mail pipe

    for char in text:
        if unicodedata.category(char) in _NOT_IN_NAMES:
            return f"U+{ord(char):04X}"
    return None


# Control characters (but tab) and the bidirectional controls: they can move a terminal's
# cursor or turn a line around for whoever reads the value (the table shows them escaped).
# A pattern, compiled (and cached by re) at its first use: most runs never need it.
_CONTROL = "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"


def _control_warnings(response: Response) -> list[str]:
    """A warning for each value of the typed view that holds such a character."""
    values = [
        ("reference", response.reference),
        ("domain.name", response.domain),
        ("result.msg", response.result.msg),
    ]
    for n, sub in enumerate(response.sub_results, 1):
        for name in ("msg", "key", "value"):
            value = getattr(sub, name)
            if value is not None and not value.isprintable():  # named only where it matters
                values.append((f"result.{n}.{name}", value))
    warnings = []
    for key, value in values:
        # Every such character is unprintable: most values need no search.
        if value is None or value.isprintable():
            continue
        if (found := re.search(_CONTROL, value)) is not None:
            warnings.append(
                f"{key} holds U+{ord(found.group()):04X}, a control or bidirectional character "
                "(shown as an escape in tables)"
            )
    return warnings


def _domain_warnings(domain: str | None) -> list[str]:
    if domain is None or "xn--" not in domain.lower() or domain_unicode(domain) != domain:
        return []
    for label in domain.split("."):
        if label.lower().startswith("xn--"):
            try:
                found = _foreign_character(label[4:].encode("ascii").decode("punycode"))
            except (UnicodeError, ValueError):
                continue
            if found is not None:
                return [
                    f"domain.name {domain!r} decodes to {found}, which no domain name holds: "
                    "domain_unicode is the name as sent"
                ]
    return []


def _code(info: CodeInfo | None) -> dict[str, Any]:
    if info is None:
        return dict.fromkeys(_CODE_KEYS)
    # The attributes themselves: as_dict() (attrs.asdict) copies every field first, and this
    # is done for every code of every record.
    return {key: getattr(info, key) for key in _CODE_KEYS}


def _json_value(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def response_record(response: Response) -> dict[str, Any]:
    """The schema-1 record of one response."""
    origin = response.origin
    return {
        "type": "response",
        "schema": SCHEMA,
        "source": origin.source if origin else None,
        "message_id": origin.message_id if origin else None,
        "part": origin.part if origin else None,
        "quoted": origin.quoted if origin else False,
        "authentic": origin.authentic if origin else None,
        "reference": response.reference,
        "domain": response.domain,
        "domain_unicode": domain_unicode(response.domain),
        "result": {
            "code": response.result.code,
            "msg": response.result.msg,
            **_code(response.result.info),
        },
        "sub_results": [
            {
                "code": sub.code,
                "msg": sub.msg,
                "section": sub.section,
                "key": sub.key,
                "value": sub.value,
                "line_no": sub.line_no,
                "keys": list(sub.keys),
                "values": list(sub.values),
                "data": {key: _json_value(value) for key, value in sub.data.items()},
                **_code(sub.info),
            }
            for sub in response.sub_results
        ],
        "nameservers": [
            {"name": ns.name, "id": ns.id, "role": ns.role} for ns in response.nameservers
        ],
        "contacts": [{"type": c.type, "id": c.id} for c in response.contacts],
        "fields": [[f.key, f.value, f.line] for f in response.fields],
        "warnings": [
            *response.warnings,
            *_domain_warnings(response.domain),
            *_control_warnings(response),
        ],
    }


def error_record(error: DrsParseError) -> dict[str, Any]:
    """The schema-1 record of an error, in the same stream as the responses."""
    return {
        "type": "error",
        "schema": SCHEMA,
        "source": error.source,
        "line": error.line,
        "column": error.column,
        "error": type(error).__name__,
        "message": error.msg,
    }


# A lone surrogate: no character, and not encodable as UTF-8. A file name that is not UTF-8
# reaches Python as surrogate escapes (U+DC80 to U+DCFF, one per byte); a part in UTF-7 or a
# text handed to the library may carry others. Compiled (and cached by re) at its first use:
# only text that is not ASCII is searched, and the compile of the range is slow.
_SURROGATE = "[\ud800-\udfff]"


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def valid_utf8(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with every lone surrogate written as an escape (``\\xff`` for a byte of a
    file name that is not UTF-8, ``\\ud800`` for others), and a note saying so: output is
    always valid UTF-8, and says where it had to change the text.

    The note is a warning of a response record, and ends the message of an error record.
    """
    changed: list[str] = []

    def clean(value: Any, where: str) -> Any:
        if isinstance(value, str):
            if value.isascii() or re.search(_SURROGATE, value) is None:
                return value
            if where not in changed:
                changed.append(where)
            return re.sub(_SURROGATE, _escape_surrogate, value)
        if isinstance(value, dict):
            return {
                key: clean(item, key if not where else f"{where}.{key}")
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [clean(item, where) for item in value]
        return value

    cleaned: dict[str, Any] = clean(record, "")
    if changed:
        note = (
            f"not valid UTF-8 in {', '.join(changed)}: lone surrogates (bytes of a file name "
            "that is not UTF-8, or text that decoded to no characters) written as escapes"
        )
        if cleaned.get("type") == "error":
            cleaned["message"] = f"{cleaned['message']} ({note})"
        else:
            cleaned["warnings"] = [*cleaned.get("warnings", []), note]
    return cleaned
