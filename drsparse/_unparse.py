"""A response written back as a block, the way the robot writes it.

Useful to tests and to anyone simulating the robot: ``parse(format(r)) == r``. The typed view is
written in the robot's order; pairs with keys the model does not know are written after it,
from ``fields``, so that nothing a parsed response holds is lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from drsparse._errors import InvalidValueError
from drsparse._model import Response
from drsparse._typed import key_slot

__all__ = ["format_response", "format_timestamp"]

HEADER = "### DRS Response\n###\n\n"


def format_timestamp(moment: dt.datetime) -> str:
    """``2003-11-28T23:00:00.0Z``: UTC, a ``Z``, at least one fraction digit, like the robot."""
    if moment.utcoffset() is None:
        raise InvalidValueError(f"cannot write the naive datetime {moment} as a UTC timestamp")
    try:
        utc = moment.astimezone(dt.UTC)
    except OverflowError:
        raise InvalidValueError(f"{moment} is out of the range of UTC timestamps") from None
    fraction = f"{utc.microsecond:06d}".rstrip("0") or "0"
    # Not strftime: its %Y does not pad years before 1000 on every platform.
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{fraction}Z"
    )


def format_response(response: Response) -> str:
    """The block of ``response``: header, pairs, one per line, LF line endings."""
    if not isinstance(response, Response):
        raise TypeError(f"format() takes a Response, not {type(response).__name__}")
    return HEADER + "".join(f"{key}: {_checked(key, value)}\n" for key, value in _pairs(response))


def _pairs(response: Response) -> Iterator[tuple[str, str]]:
    if response.reference is not None:
        yield "reference", response.reference
    if response.domain is not None:
        yield "domain.name", response.domain
    yield "result.code", str(response.result.code)
    if response.result.msg is not None:
        yield "result.msg", response.result.msg
    for n, sub in enumerate(response.sub_results, 1):
        prefix = f"result.{n}"
        for attr, value in (
            ("code", sub.code),
            ("msg", sub.msg),
            ("section", sub.section),
            ("key", sub.key),
            ("value", sub.value),
            ("line.no", sub.line_no),
        ):
            if value is not None:
                yield f"{prefix}.{attr}", str(value)
        for m, key in enumerate(sub.keys, 1):
            yield f"{prefix}.key.{m}", key
        for m, value in enumerate(sub.values, 1):
            yield f"{prefix}.value.{m}", value
        for m, (key, data) in enumerate(sub.data.items(), 1):
            yield f"{prefix}.data.{m}.key", key
            yield f"{prefix}.data.{m}.value", _data_text(data)
    for n, ns in enumerate(response.nameservers, 1):
        for attr in ("name", "id", "role"):
            value = getattr(ns, attr)
            if value is not None:
                yield f"ns.{n}.{attr}", value
    for n, contact in enumerate(response.contacts, 1):
        for attr in ("type", "id"):
            value = getattr(contact, attr)
            if value is not None:
                yield f"contact.{n}.{attr}", value
    written: set[str] = set()
    for field in response.fields:
        if field.key not in written and key_slot(field.key) is None:
            written.add(field.key)
            yield field.key, field.value


def _data_text(value: object) -> str:
    if isinstance(value, dt.datetime):
        return format_timestamp(value)
    return str(value)


def _checked(key: str, value: str) -> str:
    # A value that a block cannot carry as it is would come back different: refuse it.
    if "\n" in value or "\r" in value:
        raise InvalidValueError(f"the value of {key} contains a line break: {value!r}")
    if value != value.strip(" \t"):
        raise InvalidValueError(f"the value of {key} has blanks at its ends: {value!r}")
    return value
