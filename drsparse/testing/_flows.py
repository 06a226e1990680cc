"""The robot's documented flows: one application (or one registry event) in, the mails out.

In: a flow's name (:data:`FLOWS`), a domain, when the application reached the robot, and a
``random.Random`` for the delays. Out: the :class:`Mail` values of that one conversation, in
the order the robot sends them, each dated as the robot would date it:

* ``registration-de``: 10320 "Registration initiated" within minutes, then 10000 hours later
  ("The .de registry completes domain registrations asynchronously");
* ``not-delegated``: the same, but the 10000 carries a 23300 sub-result whose ``expire.date``
  is a month later ("within a period of one month");
* ``registration-cctld``: 10360 "Command received", 10320 when the support staff has started
  the registration (hours to days: manual work), then 10000;
* ``transfer-in-completed`` / ``transfer-in-rejected``: 10310, then 10000 about five days
  later (the registries' acknowledgement period) or 23302 when the present registrar declines;
* ``transfer-out-rejected`` / ``-completed`` / ``-canceled``: the unrequested 10300 with a
  ``deadline`` five days ahead in its sub-result's data, then 10302 (declined before the
  deadline), 10303 (acknowledged at the deadline) or 10304 (the gaining registrar canceled);
* ``syntax-error``, ``object-exists``, ``invalid-authinfo``, ``pending-transfer``: the one
  failure the robot answers at once.

The blocks are the documented examples with the conversation's own values; the outgoing
transfer's cancellation carries 10304 as in the code table (the page shows 10303 there).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Literal, get_args

from attrs import evolve

from drsparse import Contact, Nameserver, Response
from drsparse.testing import _mime as mime
from drsparse.testing import _values
from drsparse.testing._mails import DEFAULT_DATE, Auth, Mail, Shape, make_mail
from drsparse.testing._responses import documented, response

__all__ = ["FLOWS", "Flow", "conversation"]

Flow = Literal[
    "registration-de",
    "not-delegated",
    "registration-cctld",
    "transfer-in-completed",
    "transfer-in-rejected",
    "transfer-out-rejected",
    "transfer-out-completed",
    "transfer-out-canceled",
    "syntax-error",
    "object-exists",
    "invalid-authinfo",
    "pending-transfer",
]
#: The documented flows :func:`conversation` plays.
FLOWS: tuple[Flow, ...] = get_args(Flow)

#: How long an outgoing transfer waits for the reseller's answer.
TRANSFER_OUT_PERIOD = dt.timedelta(days=5)
#: How long a .de domain registered but not delegated has to get working name servers.
DELEGATION_PERIOD = dt.timedelta(days=30)

_MINUTE, _HOUR, _DAY = 60, 3600, 86400


def _after(rnd: random.Random, moment: dt.datetime, low: int, high: int) -> dt.datetime:
    """``moment`` plus between ``low`` and ``high`` seconds, in the robot's local time."""
    return _values.berlin(moment + dt.timedelta(seconds=rnd.randint(low, high)))


def conversation(
    flow: Flow,
    domain: str,
    *,
    reference: str | None = None,
    start: dt.datetime = DEFAULT_DATE,
    shape: Shape = "multipart",
    auth: Auth = "signed",
    to: str = "hostmaster@reseller.example",
    rnd: random.Random | None = None,
) -> list[Mail]:
    """The robot's mails of one ``flow`` (see :data:`FLOWS`) about ``domain``, in order.

    ``start`` is when the application reached the robot (for an outgoing transfer, when the
    registry told it); the mails follow at the flow's realistic delays, drawn from ``rnd``.
    ``reference`` defaults to one the robot would make from ``start``; outgoing transfers are
    unrequested and carry none (giving one is a ``ValueError``). Each mail's ``scenario`` is
    ``flow``.
    """
    if flow not in FLOWS:
        raise ValueError(f"flow must be one of {', '.join(FLOWS)}; not {flow!r}")
    if not isinstance(domain, str) or not domain:
        raise ValueError(f"domain must be a domain name, not {domain!r}")
    start = mime.checked_date(start, "start")
    rnd = mime.random_from(rnd)
    if flow.startswith("transfer-out"):
        if reference is not None:
            raise ValueError(f"reference: {flow} is unrequested, the robot sends no reference")
    elif reference is None:
        reference = _values.reference(rnd, _values.berlin(start))
    steps = _steps(flow, domain, reference, start, rnd)
    return [
        evolve(make_mail(item, shape=shape, auth=auth, date=date, to=to, rnd=rnd), scenario=flow)
        for date, item in steps
    ]


def _steps(
    flow: str, domain: str, reference: str | None, start: dt.datetime, rnd: random.Random
) -> list[tuple[dt.datetime, Response]]:
    """The dates and responses of a flow."""

    def doc(name: str, date: dt.datetime | None = None) -> Response:
        return documented(name, domain=domain, reference=reference, date=date)

    answer = _after(rnd, start, _MINUTE, 3 * _MINUTE)  # the robot answers within minutes
    if flow in ("registration-de", "not-delegated"):
        final = _after(rnd, answer, 20 * _MINUTE, 8 * _HOUR)
        if flow == "registration-de":
            last = doc("de-registration-completed")
        else:
            last = doc("registration-not-delegated", _expire_date(final))
        return [(answer, doc("de-registration-initiated")), (final, last)]
    if flow == "registration-cctld":
        initiated = _after(rnd, answer, 2 * _HOUR, 3 * _DAY)
        final = _after(rnd, initiated, _HOUR, 2 * _DAY)
        return [
            (answer, doc("cctld-command-received")),
            (initiated, doc("cctld-registration-initiated")),
            (final, doc("cctld-registration-completed")),
        ]
    if flow.startswith("transfer-in"):
        if flow == "transfer-in-completed":
            final = _after(rnd, answer, 5 * _DAY, 5 * _DAY + 6 * _HOUR)
            last = _completed(rnd, domain, reference)
        else:
            final = _after(rnd, answer, _HOUR, 5 * _DAY)
            last = doc("transfer-in-rejected")
        return [(answer, doc("transfer-in-initiated")), (final, last)]
    if flow.startswith("transfer-out"):
        notice = _values.berlin(start)
        # The robot writes milliseconds: "2003-11-04T11:10:24.546Z".
        deadline = (start + TRANSFER_OUT_PERIOD).astimezone(dt.UTC)
        deadline = deadline.replace(microsecond=deadline.microsecond // 1000 * 1000)
        if flow == "transfer-out-completed":
            final = _after(rnd, deadline, _MINUTE, 90 * _MINUTE)
            last = doc("transfer-out-completed")
        elif flow == "transfer-out-rejected":
            final = _after(rnd, notice, _HOUR, 4 * _DAY)
            last = doc("transfer-out-rejected")
        else:
            final = _after(rnd, notice, _HOUR, 4 * _DAY)
            last = response(10304, domain=domain, reference=reference)
        return [(notice, doc("transfer-out-initiated", deadline)), (final, last)]
    name = {
        "syntax-error": "syntax-error",
        "object-exists": "registration-object-exists",
        "invalid-authinfo": "transfer-in-invalid-authinfo",
        "pending-transfer": "transfer-in-pending-transfer",
    }[flow]
    if name == "syntax-error":
        # The application could not be read: the robot names no domain.
        return [(answer, documented(name, reference=reference))]
    return [(answer, doc(name))]


def _expire_date(final: dt.datetime) -> dt.datetime:
    """Midnight, local time, a month after ``final``: "2003-11-28T23:00:00.0Z"."""
    day = _values.berlin(final).date() + DELEGATION_PERIOD + dt.timedelta(days=1)
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return midnight - (_values.berlin(midnight).utcoffset() or dt.timedelta())


def _completed(rnd: random.Random, domain: str, reference: str | None) -> Response:
    """The final 10000 of a transfer: the domain's name servers and contact handles."""
    provider = rnd.choice(_values.NS_PROVIDERS)
    nameservers = [
        Nameserver(f"ns{n}.{provider}", _values.handle(rnd, "HOST"), "primary" if n == 1 else None)
        for n in range(1, rnd.randint(2, 4) + 1)
    ]
    owner = _values.handle(rnd, "C")
    contacts = [
        Contact(kind, owner if rnd.random() < 0.7 else _values.handle(rnd, "C"))
        for kind in ("registrant", "admin", "tech", "zone")
    ]
    return response(
        10000, domain=domain, reference=reference, nameservers=nameservers, contacts=contacts
    )
