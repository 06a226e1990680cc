"""The ledger's fold: events in, cases out. Pure: no I/O, no clock, no global state.

(:meth:`Event.from_response` reads the code table once, as it makes the event: whether a
code is pending is then part of the event, and :func:`fold` reads nothing else.)

An :class:`Event` is one response as the ledger sees it: what was decided (the code, the
reference, the domain, the dates to act by) and where it came from (the message's time and
identity). :func:`fold` turns any collection of events into a :class:`State`: the cases of the
conversation held with the robot, and the suspect events. :func:`attention` says, at a given
moment, what a person must look at first.

The fold is deterministic whatever order the events come in: they are sorted by the time of
their message (the ``Date`` header, else the date of the topmost ``Received`` header) with a
stable tiebreak, and the same message delivered twice counts once. Events without a time keep
the order given (``seq``), after the dated ones.

The rules, from the robot's documented conversations:

* ``kind``: registration (10320, 10360), transfer-in (10310, 23302), transfer-out (10300,
  10302, 10303, 10304), request (anything else: answered at once).
* A request case is keyed by reference and domain (the robot reuses references across
  domains). A pending code (``CodeInfo.pending``) keeps it open; any other code closes it. A
  follow-up whose reference matches no open case joins the one open case of its domain, when
  there is exactly one, with a note (the ccTLD example sends 10320 with another reference);
  10360 and 10310, always the first answer to an application, never join that way.
* An outgoing transfer is keyed by domain: 10300 opens it, with the ``deadline`` of its
  sub-result as ``due``; 10302, 10303 or 10304 closes it and clears ``due``.
* A 23300 sub-result sets ``due`` to its ``expire.date``, kept after the case closes: the
  domain still needs delegating.
* An event whose message is not authentic (``authentic is False``) never opens, advances or
  closes a case: it is kept as a suspect and marks the case it would have touched.
* Copies are ignored: a quoted response, or one forwarded in an attached message
  (``Origin.forwarded``). Signed by the colleague who sent it on, or not signed at all, a copy
  is not the robot's message: it neither moves a case nor marks one suspect.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal

from attrs import field, frozen

if TYPE_CHECKING:
    from drsparse import Response

__all__ = [
    "KINDS",
    "Attention",
    "Case",
    "Event",
    "Kind",
    "State",
    "Status",
    "attention",
    "event_order",
    "fold",
    "kind_of",
    "message_time",
    "partition_of",
    "status",
]

Kind = Literal["registration", "transfer-in", "transfer-out", "request"]
KINDS: tuple[Kind, ...] = ("registration", "transfer-in", "transfer-out", "request")

_KIND_OF_CODE: dict[int, Kind] = {
    10320: "registration",
    10360: "registration",
    10310: "transfer-in",
    23302: "transfer-in",
    10300: "transfer-out",
    10302: "transfer-out",
    10303: "transfer-out",
    10304: "transfer-out",
}
TRANSFER_OUT_OPEN = 10300
#: Rejected, completed, canceled (the robot's example page sends 10303 for a cancel too).
TRANSFER_OUT_END = frozenset({10302, 10303, 10304})
NOT_DELEGATED = 23300

# Within one second (the resolution of a Date header) the earlier steps of a conversation
# come first: received (10360), then initiated, then the final result.
_STEP = {10360: 0, 10320: 1, 10310: 1, 10300: 1}
_FINAL_STEP = 2
#: The first answer to an application, never a follow-up: they join no case by domain alone.
_STARTS = frozenset({10360, 10310})


def kind_of(code: int) -> Kind:
    """The kind of case a result code belongs to (``request`` for the codes answered at once)."""
    return _KIND_OF_CODE.get(code, "request")


def message_time(date: str | None, received: str | None = None) -> dt.datetime | None:
    """When a message was sent, as an aware UTC datetime; ``None`` when unknown.

    Its ``Date`` header, else ``received``: the date of its topmost ``Received`` header, when
    the last server on its way got it (a message that lost its Date on the way still has
    one). A date that is absent or unreadable counts as absent; one without a zone is UTC.
    """
    moment = _date_time(date)
    return moment if moment is not None else _date_time(received)


def _date_time(date: str | None) -> dt.datetime | None:
    if not date:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000": the time is UTC, the sender's zone unknown (RFC 5322)
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _domain_name(name: str | None) -> str | None:
    # Domain names compare without case and without a final dot.
    if name is None:
        return None
    name = name.strip().rstrip(".").lower()
    return name or None


@frozen
class Event:
    """One response as the ledger sees it.

    Build it with :meth:`from_response`; the fields are what the fold decides on.
    """

    #: The identity: the same message delivered twice gives the same key (see ``from_response``).
    key: str
    code: int
    reference: str | None = None
    #: ``domain.name``, else the ``domain.name`` of a sub-result's data; lowercase.
    domain: str | None = None
    #: When the message was sent (its ``Date`` header, else its topmost ``Received``
    #: header's date), UTC; ``None`` when unknown.
    time: dt.datetime | None = None
    msg: str | None = None
    #: The code table says the final result follows later (10310, 10320, 10360).
    pending: bool = False
    #: A 10300's ``deadline``: acknowledge or decline the transfer before it.
    deadline: dt.datetime | None = None
    #: A 23300's ``expire.date``: delegate the domain before it.
    expire_date: dt.datetime | None = None
    #: ``Origin.authentic`` of the message: ``False`` makes the event a suspect (unless a copy).
    authentic: bool | None = None
    #: ``Origin.quoted`` and ``Origin.forwarded``: a copy, kept but never acted on.
    quoted: bool = False
    forwarded: bool = False
    #: Where the message came from (a path, ``path#N``, ``-``); for people, not compared.
    source: str | None = field(default=None, eq=False)
    #: The order given; orders only the events without a time. Not compared.
    seq: int = field(default=0, eq=False)

    @classmethod
    def from_response(
        cls,
        response: Response,
        *,
        message: bytes | None = None,
        index: int = 0,
        seq: int = 0,
        pending: bool | None = None,
    ) -> Event:
        """The event of ``response``, the ``index``-th response of its message.

        The identity is the message's ``Message-ID`` with the response's MIME part and
        ``index``; without a Message-ID, a hash of the ``message`` bytes; without those, a hash
        of the response's own lines. A message that is not authentic gets an identity of its
        own, so that a forged copy of a Message-ID can never stand in for the genuine message.
        ``pending`` defaults to the code table's word (``response.result.info.pending``).
        """
        origin = response.origin
        if origin is not None and origin.message_id:
            base = "mid:" + " ".join(origin.message_id.split())
        elif message is not None:
            base = "sha256:" + hashlib.sha256(message).hexdigest()
        else:
            lines = "\n".join(f"{f.key}: {f.value}" for f in response.fields)
            base = "response:" + hashlib.sha256(lines.encode("utf-8", "replace")).hexdigest()
        authentic = None if origin is None else origin.authentic
        part = (origin.part if origin is not None else None) or "-"
        key = f"{base}/{part}/{index}" + ("/suspect" if authentic is False else "")

        domain = response.domain
        deadline = expire_date = None
        for sub in response.sub_results:
            if domain is None:
                found = sub.data.get("domain.name")
                if isinstance(found, str):
                    domain = found
            if deadline is None:
                deadline = sub.deadline
            if expire_date is None and sub.code == NOT_DELEGATED:
                expire_date = sub.expire_date
        return cls(
            key=key,
            code=response.result.code,
            reference=response.reference,
            domain=_domain_name(domain),
            time=None if origin is None else message_time(origin.date, origin.received),
            msg=response.result.msg,
            pending=response.result.info.pending if pending is None else pending,
            deadline=_utc(deadline),
            expire_date=_utc(expire_date),
            authentic=authentic,
            quoted=origin is not None and origin.quoted,
            forwarded=origin is not None and origin.forwarded,
            source=None if origin is None else origin.source,
            seq=seq,
        )

    @property
    def kind(self) -> Kind:
        return kind_of(self.code)

    @property
    def is_copy(self) -> bool:
        """A quoted or forwarded copy of a response: the fold ignores it."""
        return self.quoted or self.forwarded

    @property
    def suspect(self) -> bool:
        """The message is not authentic, and no copy: the event changes no case but marks it.

        A copy is judged by the message that carries it, a colleague's: not the robot's
        signature, and no sign of a forgery either.
        """
        return self.authentic is False and not self.is_copy


def event_order(event: Event) -> tuple[object, ...]:
    """The sort key: time, then the step of the conversation, then identity and content."""
    if event.time is not None:
        when: tuple[int, float] = (0, event.time.timestamp())
    else:  # "else the order given": after every dated event
        when = (1, float(event.seq))
    step = _STEP.get(event.code, _FINAL_STEP)
    return (*when, step, event.key, event.code, event.reference or "", event.domain or "")


def partition_of(event: Event) -> str:
    """The part of the ledger an event can touch: its domain, else its reference, else itself.

    No rule of the fold crosses partitions, so each can be folded alone (the store refolds
    only the partition a new event falls in).
    """
    if event.domain is not None:
        return "domain:" + event.domain
    if event.reference is not None:
        return "reference:" + event.reference
    return "event:" + event.key


@frozen
class Case:
    """One conversation with the robot: a request and its answers, or a transfer away."""

    #: The identity of the event that opened it.
    id: str
    kind: Kind
    reference: str | None
    domain: str | None
    open: bool
    #: The code that closed it; ``None`` while open.
    final_code: int | None
    #: The result codes in time order, suspect ones excluded.
    codes: tuple[int, ...]
    #: When the reseller must act next: an open transfer's deadline, a 23300's expire.date.
    due: dt.datetime | None
    #: A message that is not authentic would have touched it.
    suspect: bool = False
    #: The times of its first and last (trusted) events.
    opened: dt.datetime | None = None
    updated: dt.datetime | None = None
    #: The identities of its events in time order, suspect ones included.
    events: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """The case as in ``drsparse status --json``."""
        return {
            "kind": self.kind,
            "reference": self.reference,
            "domain": self.domain,
            "open": self.open,
            "final_code": self.final_code,
            "codes": list(self.codes),
            "due": None if self.due is None else self.due.isoformat(),
            "suspect": self.suspect,
        }


@frozen
class State:
    """What the fold gives: every case, and the suspect events (in time order)."""

    cases: tuple[Case, ...] = ()
    suspects: tuple[Event, ...] = ()


class _Draft:
    """A case while the fold builds it."""

    __slots__ = (
        "codes",
        "domain",
        "due",
        "events",
        "final_code",
        "id",
        "kind",
        "notes",
        "open",
        "opened",
        "reference",
        "suspect",
        "updated",
    )

    def __init__(self, event: Event) -> None:
        self.id = event.key
        self.kind = event.kind
        self.reference = event.reference
        self.domain = event.domain
        self.codes: list[int] = []
        self.events: list[str] = []
        self.notes: list[str] = []
        self.open = True
        self.final_code: int | None = None
        self.due: dt.datetime | None = None
        self.suspect = False
        self.opened = event.time
        self.updated = event.time
        self.advance(event)

    @property
    def transfer_out(self) -> bool:
        return self.kind == "transfer-out"

    def advance(self, event: Event) -> None:
        self.codes.append(event.code)
        self.events.append(event.key)
        if event.time is not None:
            self.updated = event.time
        if self.kind == "request":  # a follow-up says what the case really was
            self.kind = event.kind
        if self.transfer_out:
            if event.code in TRANSFER_OUT_END:
                self.open, self.final_code, self.due = False, event.code, None
            elif event.code == TRANSFER_OUT_OPEN:
                self.due = event.deadline
            return
        if event.expire_date is not None:
            self.due = event.expire_date
        if not event.pending:
            self.open, self.final_code = False, event.code

    def touch(self, event: Event) -> None:
        """A suspect event that would have touched this case."""
        self.suspect = True
        self.events.append(event.key)

    def case(self) -> Case:
        return Case(
            id=self.id,
            kind=self.kind,
            reference=self.reference,
            domain=self.domain,
            open=self.open,
            final_code=self.final_code,
            codes=tuple(self.codes),
            due=self.due,
            suspect=self.suspect,
            opened=self.opened,
            updated=self.updated,
            events=tuple(self.events),
            notes=tuple(self.notes),
        )


def _target(drafts: Sequence[_Draft], event: Event) -> tuple[_Draft | None, str | None]:
    """The open case ``event`` belongs to, and a note when it joins by its domain only."""
    if event.domain is not None and event.kind == "transfer-out":
        for draft in drafts:
            if draft.open and draft.transfer_out and draft.domain == event.domain:
                return draft, None
        return None, None
    requests = [draft for draft in drafts if draft.open and not draft.transfer_out]
    for draft in requests:
        if draft.reference == event.reference and draft.domain == event.domain:
            return draft, None
    if event.domain is not None and event.code not in _STARTS:
        same_domain = [draft for draft in requests if draft.domain == event.domain]
        if len(same_domain) == 1:
            draft = same_domain[0]
            note = (
                f"{event.code} with reference {event.reference or '(none)'} joined the only "
                f"open case of {event.domain} (reference {draft.reference or '(none)'})"
            )
            return draft, note
    return None, None


def _fold_sorted(events: Sequence[Event]) -> tuple[list[_Draft], list[Event]]:
    drafts: list[_Draft] = []
    suspects: list[Event] = []
    for event in events:
        target, note = _target(drafts, event)
        if event.suspect:
            suspects.append(event)
            if target is not None:
                target.touch(event)
            continue
        if target is None:
            drafts.append(_Draft(event))
            continue
        target.advance(event)
        if note is not None:
            target.notes.append(note)
    return drafts, suspects


def fold(events: Iterable[Event]) -> State:
    """The cases and suspects of ``events``, whatever their order and repetitions.

    Copies (quoted or forwarded events) are ignored; events with the same ``key`` count once.
    """
    unique: dict[str, Event] = {}
    for event in events:
        if event.is_copy:
            continue
        known = unique.get(event.key)
        if known is None or event_order(event) < event_order(known):
            unique[event.key] = event
    partitions: dict[str, list[Event]] = {}
    for event in unique.values():
        partitions.setdefault(partition_of(event), []).append(event)
    drafts: list[_Draft] = []
    suspects: list[Event] = []
    for part in partitions.values():
        part.sort(key=event_order)
        found, doubtful = _fold_sorted(part)
        drafts += found
        suspects += doubtful
    cases = sorted((draft.case() for draft in drafts), key=_case_order)
    return State(tuple(cases), tuple(sorted(suspects, key=event_order)))


def _case_order(case: Case) -> tuple[object, ...]:
    when = (0, case.opened.timestamp()) if case.opened is not None else (1, 0.0)
    return (*when, case.id)


# -------------------------------------------------------------------------------------------
# What needs attention
# -------------------------------------------------------------------------------------------


@frozen
class Attention:
    """One thing a person must look at, with why."""

    reason: str
    kind: Kind
    domain: str | None
    reference: str | None
    #: The code that asks for it: the case's last code, or the suspect event's.
    code: int | None
    due: dt.datetime | None = None
    #: Since when it waits: the case's last event, or the suspect message's time.
    since: dt.datetime | None = None
    #: Where the message came from, for a suspect one.
    source: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The item as in ``drsparse status --json``."""
        return {
            "domain": self.domain,
            "reference": self.reference,
            "code": self.code,
            "due": None if self.due is None else self.due.isoformat(),
            "reason": self.reason,
            "kind": self.kind,
            "since": None if self.since is None else self.since.isoformat(),
            "source": self.source,
        }


def attention(
    cases: Iterable[Case],
    suspects: Iterable[Event],
    *,
    as_of: dt.datetime,
    pending_after: dt.timedelta,
) -> tuple[Attention, ...]:
    """What needs a person at ``as_of``, most urgent first.

    Open outgoing transfers (answer before the deadline) and 23300 domains whose expire.date
    has not passed come first, by ``due``; then suspect messages, by time; then cases pending
    for longer than ``pending_after`` without a final result, the oldest first.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be an aware datetime (with a time zone)")
    due_items: list[Attention] = []
    waiting: list[Attention] = []
    for case in cases:
        last = case.codes[-1] if case.codes else None
        item = _case_attention(case, last, as_of, pending_after)
        if item is not None:
            (due_items if item.due is not None else waiting).append(item)
    doubtful = [
        Attention(
            reason=f"not authentic: this message claiming {event.code} did not come from "
            "the robot; do not act on it",
            kind=event.kind,
            domain=event.domain,
            reference=event.reference,
            code=event.code,
            since=event.time,
            source=event.source,
        )
        for event in sorted(suspects, key=event_order)
        if not event.is_copy
    ]
    never = dt.datetime.max.replace(tzinfo=dt.UTC)
    due_items.sort(key=lambda item: (item.due or never, item.domain or "", item.reference or ""))
    waiting.sort(key=lambda item: (item.since or never, item.domain or "", item.reference or ""))
    return (*due_items, *doubtful, *waiting)


def _case_attention(
    case: Case, last: int | None, as_of: dt.datetime, pending_after: dt.timedelta
) -> Attention | None:
    def item(reason: str, due: dt.datetime | None) -> Attention:
        return Attention(
            reason=reason,
            kind=case.kind,
            domain=case.domain,
            reference=case.reference,
            code=last,
            due=due,
            since=case.updated,
        )

    if case.open and case.kind == "transfer-out":
        if case.due is None:
            return item("outgoing transfer: acknowledge or decline it", None)
        if case.due < as_of:
            return item("outgoing transfer: the deadline has passed, it is acknowledged", case.due)
        return item("outgoing transfer: acknowledge or decline it before the deadline", case.due)
    if case.due is not None and case.due >= as_of:
        return item("not delegated: fix the name servers before this date", case.due)
    if case.open and case.updated is not None and case.updated + pending_after <= as_of:
        return item(f"pending since {case.updated:%Y-%m-%d %H:%M} UTC, no final result", None)
    return None


@frozen
class Status:
    """The cases to show and what needs attention, as ``drsparse status`` prints them."""

    cases: tuple[Case, ...]
    attention: tuple[Attention, ...]

    def as_dict(self) -> dict[str, object]:
        """The JSON contract of ``drsparse status --json``."""
        return {
            "cases": [case.as_dict() for case in self.cases],
            "attention": [item.as_dict() for item in self.attention],
        }


def status(
    state: State,
    *,
    as_of: dt.datetime,
    pending_after: dt.timedelta,
    include_closed: bool = False,
) -> Status:
    """The open cases of ``state`` (every case with ``include_closed``) and its attention list."""
    cases = state.cases if include_closed else tuple(case for case in state.cases if case.open)
    needs = attention(state.cases, state.suspects, as_of=as_of, pending_after=pending_after)
    return Status(cases, needs)
