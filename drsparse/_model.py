"""The typed model of a DRS response: frozen, slotted attrs classes.

The model does not know how it is parsed: plain constructors, no conversions; ``_typed.py``
does the typing. Every class is a value: frozen, compared by content, and it pickles and
copies equal to itself (``--jobs`` hands responses between processes). Two views of a response
live side by side:

* the typed view (``reference``, ``domain``, ``result``, ``sub_results``, ``nameservers``,
  ``contacts``) with the interpretation of every code (``info``, fixed when the response is
  made, against the code table it was parsed with), which is what equality compares;
* the faithful view (``fields``: every pair as sent, in the order sent, with its line number) and
  the diagnostics (``warnings``), kept out of equality like positions are: the robot says the
  order of its lines "is not relevant and can change at any time", so two blocks with the same
  content in another order, or with other comments and blanks, are equal responses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Literal

from attrs import Factory, field, frozen

from drsparse._codes import DEFAULT_CODES, CodeInfo

__all__ = [
    "Contact",
    "Data",
    "DataValue",
    "Field",
    "Nameserver",
    "Origin",
    "Response",
    "Result",
    "Status",
    "SubResult",
]

#: What a response means for the request, decided on ``result.code`` alone.
Status = Literal["succeeded", "pending", "failed"]


@frozen
class Field:
    """One ``key: value`` line of a block, as sent."""

    key: str
    value: str
    #: 1-based line number in the parsed text; a position, so not compared.
    line: int = field(eq=False)


def _shipped_info(self: Result) -> CodeInfo:
    return DEFAULT_CODES.explain(self.code)


@frozen
class Result:
    """The overall result of a response (``result.code`` and ``result.msg``)."""

    code: int
    msg: str | None = None
    #: What ``code`` means, by the code table the response was parsed with (the shipped one
    #: when the Result is made by hand without it).
    info: CodeInfo = field(default=Factory(_shipped_info, takes_self=True))


#: A value of a sub-result's nested data: a timestamp, or the text as sent.
DataValue = str | dt.datetime


class Data(Mapping[str, DataValue]):
    """The nested ``data.M.key`` / ``data.M.value`` pairs of a sub-result, in M order.

    Read-only, so that a frozen SubResult cannot be changed through its data; unlike a
    ``MappingProxyType`` it pickles and copies. Equal to any mapping with the same items.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, DataValue] | None = None) -> None:
        self._items = dict(items or {})

    def __getitem__(self, key: str) -> DataValue:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Data({self._items!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (Data, (self._items,))

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))


def _data(value: Mapping[str, DataValue]) -> Data:
    return value if isinstance(value, Data) else Data(value)


def _sub_info(self: SubResult) -> CodeInfo | None:
    return None if self.code is None else DEFAULT_CODES.explain(self.code)


@frozen
class SubResult:
    """One ``result.N.*`` group: an erroneous template field or a further condition."""

    code: int | None = None
    msg: str | None = None
    #: The application form's section the sub-result refers to.
    section: int | None = None
    #: ``result.N.key`` and ``result.N.value``: the offending field and value.
    key: str | None = None
    value: str | None = None
    #: ``result.N.line.no``: the line in the application (not in the response).
    line_no: int | None = None
    #: The double-indexed ``result.N.key.M`` and ``result.N.value.M``, in M order.
    keys: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    #: The nested ``result.N.data.M.key`` / ``.value`` pairs, in M order. Timestamps are
    #: timezone-aware ``datetime`` objects, everything else ``str``.
    data: Data = field(factory=Data, converter=_data)
    #: What ``code`` means (``None`` without a code), by the table the response was parsed with.
    info: CodeInfo | None = field(default=Factory(_sub_info, takes_self=True))

    @property
    def expire_date(self) -> dt.datetime | None:
        """``data['expire.date']``: the .de deadline to fix an undelegated domain (23300)."""
        value = self.data.get("expire.date")
        return value if isinstance(value, dt.datetime) else None

    @property
    def deadline(self) -> dt.datetime | None:
        """``data['deadline']``: until when an outgoing transfer can be answered (10300)."""
        value = self.data.get("deadline")
        return value if isinstance(value, dt.datetime) else None


@frozen
class Nameserver:
    """One ``ns.N.*`` group."""

    name: str | None = None
    id: str | None = None
    role: str | None = None


@frozen
class Contact:
    """One ``contact.N.*`` group (types seen: registrant, admin, tech, zone)."""

    type: str | None = None
    id: str | None = None


@frozen
class Origin:
    """Where a response was found. Filled in by the mail reader; ``None`` for a bare text."""

    #: The input's label: a path, ``path#N`` for the N-th message of an mbox, ``-`` for stdin.
    source: str | None = None
    message_id: str | None = None
    #: The raw ``Date``, ``From`` and ``Subject`` headers, decoded to text.
    date: str | None = None
    sender: str | None = None
    subject: str | None = None
    #: The MIME part path, like ``2`` or ``3.1`` (``None`` for a single-part message).
    part: str | None = None
    #: True for a response found in a quoted copy (``> `` lines), or in the robot's echo of
    #: an application (a part after the response part): not the sender's own words.
    quoted: bool = False
    #: True: DKIM-signed by a trusted domain, False: evidence against it, None: no evidence.
    authentic: bool | None = None
    #: True for a response found inside an attached message (``message/rfc822``, at any
    #: depth): a copy someone sent on. ``authentic`` is then the forwarding message's verdict.
    forwarded: bool = False
    #: The date of the topmost ``Received`` header, as text: what follows its last ``;``,
    #: unfolded (RFC 5321, section 4.4; RFC 5322, section 3.6.7): when the message reached
    #: the last server on its way, a time to go by when the ``Date`` header is missing.
    received: str | None = None


@frozen
class Response:
    """One ``### DRS Response`` block."""

    result: Result
    #: The reseller's reference from the application, echoed; absent for unrequested notices.
    reference: str | None = None
    #: ``domain.name`` as sent (ACE form for IDNs).
    domain: str | None = None
    sub_results: tuple[SubResult, ...] = ()
    nameservers: tuple[Nameserver, ...] = ()
    contacts: tuple[Contact, ...] = ()
    #: Every pair as sent, in the order sent, unknown keys included.
    fields: tuple[Field, ...] = field(default=(), eq=False)
    warnings: tuple[str, ...] = field(default=(), eq=False)
    origin: Origin | None = field(default=None, eq=False)

    @property
    def status(self) -> Status:
        """``succeeded``, ``pending`` (the final result follows later) or ``failed``."""
        info = self.result.info
        if info.pending:
            return "pending"
        return "succeeded" if info.success else "failed"

    @property
    def attention(self) -> tuple[SubResult, ...]:
        """The sub-results a person must act on, even under an overall success.

        A 10000 with a 23300 sub-result is a .de domain registered but not delegated: it must
        be fixed before ``expire.date`` or the domain is released.
        """
        return tuple(
            sub
            for sub in self.sub_results
            if (info := sub.info) is not None and info.needs_attention
        )

    @property
    def quoted(self) -> bool:
        return self.origin is not None and self.origin.quoted

    @property
    def authentic(self) -> bool | None:
        return None if self.origin is None else self.origin.authentic
