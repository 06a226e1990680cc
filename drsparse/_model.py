"""The typed model of a DRS response: frozen, slotted attrs classes.

The model does not know how it is parsed: plain constructors, no conversions; the parser
(``_build``) does the typing. Two views of a response live side by side:

* the typed view (``reference``, ``domain``, ``result``, ``sub_results``, ``nameservers``,
  ``contacts``), which is what equality compares;
* the faithful view (``fields``: every pair as sent, in the order sent, with its line number) and
  the diagnostics (``warnings``), kept out of equality like positions are: the robot says the
  order of its lines "is not relevant and can change at any time", so two blocks with the same
  content in another order, or with other comments and blanks, are equal responses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

from attrs import field, frozen

# Imported with the model, not at each .info: the import statement would cost more than the
# lookup it leads to (the table itself is read at the first lookup).
from drsparse._codes import CodeInfo, explain

__all__ = [
    "Contact",
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


@frozen
class Result:
    """The overall result of a response (``result.code`` and ``result.msg``)."""

    code: int
    msg: str | None = None

    @property
    def info(self) -> CodeInfo:
        """The DRS code table's interpretation of ``code``."""
        return explain(self.code)


def _frozen_mapping(value: Mapping[str, object]) -> Mapping[str, object]:
    # A read-only view, so that a frozen SubResult cannot be changed through its data.
    return MappingProxyType(dict(value))


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
    data: Mapping[str, object] = field(factory=dict, converter=_frozen_mapping, hash=False)

    @property
    def info(self) -> CodeInfo | None:
        """The DRS code table's interpretation of ``code``, ``None`` without a code."""
        return None if self.code is None else explain(self.code)

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
    #: True for a response found in a quoted copy (``> `` lines).
    quoted: bool = False
    #: True: DKIM-signed by a trusted domain, False: evidence against it, None: no evidence.
    authentic: bool | None = None


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
