"""Responses the fake robot can send, and their blocks in the robot's layout.

In: what a test asks for (a code, a domain, a reference, sub-results, dates) or the name of a
documented example. Out: :class:`drsparse.Response` values, which are what ``drsparse`` must
read back from the mail (they compare by their typed view), and block texts
(``### DRS Response`` / ``###``, a blank line, then ``key: value`` lines).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import drsparse
from drsparse import Contact, Nameserver, Response, Result, SubResult
from drsparse._model import DataValue
from drsparse.testing._documented import EXAMPLES

__all__ = [
    "DOCUMENTED",
    "HEADER",
    "block",
    "documented",
    "not_delegated",
    "outgoing_deadline",
    "response",
    "timestamp",
]

#: The two lines that start every block, and the blank line the robot writes after them.
HEADER = "### DRS Response\n###\n\n"

#: The names of the documented examples, in the order of Knipp's "Robot Responses" page.
DOCUMENTED: tuple[str, ...] = tuple(EXAMPLES)

_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")


def _aware(moment: object, name: str) -> dt.datetime:
    if not isinstance(moment, dt.datetime):
        raise TypeError(f"{name} must be a datetime, not {type(moment).__name__}")
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, not the naive {moment}")
    return moment


def timestamp(moment: dt.datetime) -> str:
    """``moment`` the way the robot writes dates: ``2003-11-04T11:10:24.546Z`` (UTC, a ``Z``).

    The fraction keeps every digit ``moment`` has, but at least one, so that the date reads
    back as the same instant.
    """
    utc = _aware(moment, "moment").astimezone(dt.UTC)
    fraction = f"{utc.microsecond:06d}".rstrip("0") or "0"
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{fraction}Z"


def response(
    code: int,
    *,
    domain: str | None = None,
    reference: str | None = None,
    msg: str | None = None,
    sub_results: Iterable[SubResult] = (),
    nameservers: Iterable[Nameserver] = (),
    contacts: Iterable[Contact] = (),
) -> Response:
    """A response with these values; ``msg`` defaults to the code table's text for ``code``.

    >>> response(10320, domain="acme.de", reference="ORD-1").result.msg
    'Registration initiated'
    """
    if isinstance(code, bool) or not isinstance(code, int):
        raise TypeError(f"code must be an int, not {type(code).__name__}")
    if not 0 <= code <= 99999:
        raise ValueError(f"code must be a result code of at most five digits, not {code}")
    domain = _one_line(domain, "domain")
    reference = _one_line(reference, "reference")
    msg = drsparse.explain(code).msg if msg is None else _one_line(msg, "msg")
    return Response(
        Result(code, msg),
        reference=reference,
        domain=domain,
        sub_results=tuple(sub_results),
        nameservers=tuple(nameservers),
        contacts=tuple(contacts),
    )


def not_delegated(expire_date: dt.datetime, *, domain: str | None = None) -> SubResult:
    """The 23300 sub-result of a .de domain registered but not delegated (under a 10000).

    ``expire_date`` is the date by which the name servers must be fixed; the robot names the
    domain in the sub-result's data too.
    """
    data: dict[str, DataValue] = {"expire.date": _aware(expire_date, "expire_date")}
    if domain is not None:
        data["domain.name"] = domain
    return SubResult(23300, "Object not delegated", data=data)


def outgoing_deadline(deadline: dt.datetime) -> SubResult:
    """The 10300 sub-result of an outgoing transfer: answer it before ``deadline``."""
    return SubResult(
        10300, "Outgoing transfer initiated", data={"deadline": _aware(deadline, "deadline")}
    )


def documented(
    name: str,
    *,
    domain: str | None = None,
    reference: str | None = None,
    date: dt.datetime | None = None,
) -> Response:
    """The documented example ``name`` (one of :data:`DOCUMENTED`), with values of your own.

    ``domain`` replaces the example's domain wherever it appears (``domain.name``, the
    sub-results' data, the double-indexed value of "Object exists"); ``reference`` replaces
    its reference; ``date`` its date (``expire.date`` of 23300, ``deadline`` of 10300). An
    argument left ``None`` keeps the example's value; a domain or reference given for an
    example without one is added. The response keeps the page's order of lines in its
    ``fields``, and :func:`block` writes them in that order.
    """
    try:
        pairs = EXAMPLES[name]
    except (KeyError, TypeError):
        raise ValueError(f"name must be one of {', '.join(DOCUMENTED)}; not {name!r}") from None
    domain = _one_line(domain, "domain")
    reference = _one_line(reference, "reference")
    written = timestamp(date) if date is not None else None
    # The example's domain: its domain.name, or the value that "Object exists" names.
    old_domain = dict(pairs).get("domain.name") or dict(pairs).get("result.1.value.1")

    def value_of(key: str, value: str) -> str:
        if key == "reference" and reference is not None:
            return reference
        if value == old_domain and domain is not None:
            return domain
        if written is not None and _TIMESTAMP.fullmatch(value):
            return written
        return value

    lines = [f"{key}: {value_of(key, value)}\n" for key, value in pairs]
    if domain is not None and old_domain is None:
        lines.insert(0, f"domain.name: {domain}\n")
    if reference is not None and "reference" not in dict(pairs):
        lines.insert(0, f"reference: {reference}\n")
    return drsparse.parse(HEADER + "".join(lines))


def _one_line(value: str | None, name: str) -> str | None:
    """``value`` if a block line can carry it as it is (the parser would change it else)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value or "\n" in value or "\r" in value or value != value.strip(" \t"):
        raise ValueError(f"{name} must be one line without blanks at its ends, not {value!r}")
    return value


def block(*responses: Response) -> str:
    """The text of ``responses`` as the robot writes them: each a block, a blank line between.

    A response that keeps the lines it was read from (``documented`` ones do) is written in
    their order; any other one in the robot's usual order (that of :func:`drsparse.format`).
    """
    if not responses:
        raise ValueError("block() needs at least one response")
    texts = []
    for item in responses:
        if not isinstance(item, Response):
            raise TypeError(f"block() takes Response values, not {type(item).__name__}")
        texts.append(_text(item))
    return "\n".join(texts)


def _text(item: Response) -> str:
    if item.fields:
        text = HEADER + "".join(f"{f.key}: {f.value}\n" for f in item.fields)
        # Fields left behind by attrs.evolve() no longer say what the typed view says.
        try:
            if drsparse.parse(text) == item:
                return text
        except drsparse.DrsParseError:
            pass
    return drsparse.format(item)
