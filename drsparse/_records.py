"""The record stage: responses and errors as JSON-able records (schema 1).

A record is the contract between drsparse and the scripts downstream (``jq``, a database
loader): every key is always present, ``null`` where absent, dates are ISO 8601 strings with
their offset. ``drsparse/data/record.schema.json`` publishes it; a change that breaks a consumer
needs a new schema number.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from drsparse._errors import DrsParseError
from drsparse._model import Response

if TYPE_CHECKING:
    from drsparse._codes import CodeInfo

__all__ = ["SCHEMA", "domain_unicode", "error_record", "response_record"]

SCHEMA = 1

# The parts of a CodeInfo that a record carries beside each code.
_CODE_KEYS = ("known", "category", "success", "pending", "retryable", "epp")


def domain_unicode(domain: str | None) -> str | None:
    """The domain for people: ACE labels (``xn--...``) decoded, everything else as sent."""
    if domain is None or "xn--" not in domain.lower():
        return domain
    labels = []
    for label in domain.split("."):
        if not label.lower().startswith("xn--"):
            labels.append(label)
            continue
        try:
            labels.append(label[4:].encode("ascii").decode("punycode"))
        except (UnicodeError, ValueError):
            return domain  # not valid ACE: show it as sent rather than guess
    return ".".join(labels)


def _code(info: CodeInfo | None) -> dict[str, Any]:
    if info is None:
        return dict.fromkeys(_CODE_KEYS)
    full = info.as_dict()
    return {key: full[key] for key in _CODE_KEYS}


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
        "warnings": list(response.warnings),
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
