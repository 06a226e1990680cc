"""Many conversations at once: a reseller's portfolio, and an endless stream of robot mail.

In: a seed (and a number of domains). Out: :class:`Mail` values, deterministic from the seed
alone (one ``random.Random(seed)`` draws everything, so the same seed gives the same bytes).

* :func:`portfolio`: N domains, each with one flow in a realistic mix (mostly .de and generic
  registrations and incoming transfers, some ccTLDs, outgoing transfers and failures), the
  conversations interleaved by date over three months; between them foreign mail
  (newsletters, bounces, colleagues), now and then a colleague's forward or reply quoting a
  robot mail, and rarely a spoofed robot mail. Sorted by date, as a mailbox holds them.
* :func:`mail_stream`: the documented examples with fresh values, one robot mail after the
  other, foreign mail between at a given rate: for corpora of any size (the benchmark's).
  Mail ``i`` depends only on the mails before it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence

from attrs import evolve

from drsparse.testing import _mime as mime
from drsparse.testing import _values
from drsparse.testing._flows import Flow, conversation
from drsparse.testing._foreign import FOREIGN, foreign_mail
from drsparse.testing._mails import AUTHS, SHAPES, Auth, Mail, Shape, make_mail
from drsparse.testing._responses import documented

__all__ = ["mail_stream", "portfolio"]

# How often each flow starts, per hundred domains: what a reseller's robot mail is made of.
_FLOW_WEIGHTS: dict[Flow, int] = {
    "registration-de": 30,
    "not-delegated": 4,
    "registration-cctld": 8,
    "transfer-in-completed": 15,
    "transfer-in-rejected": 3,
    "transfer-out-completed": 6,
    "transfer-out-rejected": 3,
    "transfer-out-canceled": 2,
    "syntax-error": 4,
    "object-exists": 5,
    "invalid-authinfo": 3,
    "pending-transfer": 2,
}
# The shapes in which the robot's own mail arrives: nearly always as Knipp sends it.
_SHAPE_WEIGHTS: dict[Shape, int] = {
    "multipart": 80,
    "base64": 5,
    "quoted-printable": 5,
    "plain": 4,
    "html": 3,
    "alternative": 3,
}
_COPIES: tuple[Shape, ...] = ("forwarded", "quoted")
_FOREIGN_WEIGHTS = (3, 2, 4)  # newsletter, bounce, personal
#: Foreign mails per domain of a portfolio.
_FOREIGN_PER_DOMAIN = 0.6
_COPY_RATE = 0.05  # a colleague forwards or answers a robot mail
_SPOOF_RATE = 0.04  # per domain: a robot mail from a look-alike sender
_PERIOD = dt.timedelta(days=90)
#: Where a portfolio starts when no start is given.
PORTFOLIO_START = dt.datetime(2024, 9, 2, 8, 0, tzinfo=dt.UTC)


def _tlds(flow: str) -> tuple[str, ...]:
    if flow in ("registration-de", "not-delegated"):
        return ("de",)
    if flow == "registration-cctld":
        return _values.CC_TLDS
    if flow == "syntax-error":
        return ("de", *_values.GENERIC_TLDS)
    return _values.GENERIC_TLDS


def portfolio(
    domains: int = 20,
    *,
    seed: int = 0,
    start: dt.datetime = PORTFOLIO_START,
    to: str = "hostmaster@reseller.example",
) -> list[Mail]:
    """The mailbox of a reseller with ``domains`` domains in flight, sorted by date.

    Every domain gets one flow (:data:`~drsparse.testing.FLOWS`) starting within three
    months of ``start``; foreign mail, colleagues' copies and the odd spoofed robot mail lie
    between (see the module documentation). Deterministic: one ``seed``, one list of bytes.
    """
    if isinstance(domains, bool) or not isinstance(domains, int):
        raise TypeError(f"domains must be an int, not {type(domains).__name__}")
    if domains < 0:
        raise ValueError(f"domains must be 0 or more, not {domains}")
    start = mime.checked_date(start, "start")
    rnd = random.Random(seed)
    flows = list(_FLOW_WEIGHTS)
    shapes = list(_SHAPE_WEIGHTS)
    names: set[str] = set()
    mails: list[Mail] = []
    for _ in range(domains):
        flow = rnd.choices(flows, weights=list(_FLOW_WEIGHTS.values()))[0]
        name = _values.domain(rnd, _tlds(flow))
        while name in names:
            name = _values.domain(rnd, _tlds(flow))
        names.add(name)
        begin = start + dt.timedelta(seconds=rnd.randrange(int(_PERIOD.total_seconds())))
        for sent in conversation(flow, name, start=begin, to=to, rnd=rnd):
            shape = rnd.choices(shapes, weights=list(_SHAPE_WEIGHTS.values()))[0]
            # The same response, as it arrived through a server that re-encodes.
            mail = sent if shape == "multipart" else _again(sent, rnd, to, shape=shape)
            mails.append(mail)
            if rnd.random() < _COPY_RATE:
                later = mail.date + dt.timedelta(seconds=rnd.randint(10 * 60, 26 * 3600))
                copy = rnd.choice(_COPIES)
                mails.append(_again(mail, rnd, to, shape=copy, date=later))
        if rnd.random() < _SPOOF_RATE:
            when = begin + dt.timedelta(seconds=rnd.randrange(int(_PERIOD.total_seconds())))
            fake = documented("transfer-out-completed", domain=name)
            spoofed = make_mail(fake, auth="spoofed", date=_values.berlin(when), to=to, rnd=rnd)
            mails.append(evolve(spoofed, scenario="transfer-out-completed"))
    for _ in range(round(domains * _FOREIGN_PER_DOMAIN)):
        kind = rnd.choices(FOREIGN, weights=_FOREIGN_WEIGHTS)[0]
        when = start + dt.timedelta(seconds=rnd.randrange(int(_PERIOD.total_seconds())))
        mails.append(foreign_mail(kind, date=_values.berlin(when), to=to, rnd=rnd))
    # Stable: mails of one date keep the order in which they were made.
    mails.sort(key=lambda mail: mail.date)
    return mails


def _again(
    mail: Mail,
    rnd: random.Random,
    to: str,
    *,
    shape: Shape,
    date: dt.datetime | None = None,
) -> Mail:
    """``mail``'s responses in another shape (and at another date, for a copy)."""
    again = make_mail(
        *mail.responses,
        shape=shape,
        auth=mail.auth or "signed",
        date=date or mail.date,
        to=to,
        rnd=rnd,
    )
    return evolve(again, scenario=mail.scenario)


# How often each documented example occurs in a stream, per hundred robot mails.
_EXAMPLE_WEIGHTS = {
    "syntax-error": 6,
    "registration-success": 20,
    "registration-object-exists": 8,
    "registration-not-delegated": 6,
    "transfer-in-initiated": 6,
    "transfer-in-pending-transfer": 3,
    "transfer-in-invalid-authinfo": 3,
    "transfer-in-completed": 4,
    "transfer-in-rejected": 2,
    "de-registration-initiated": 4,
    "de-registration-completed": 5,
    "cctld-command-received": 3,
    "cctld-registration-initiated": 4,
    "cctld-registration-completed": 3,
    "transfer-out-initiated": 3,
    "transfer-out-completed": 2,
    "transfer-out-rejected": 2,
    "transfer-out-canceled": 2,
}

# From the robot's documented examples (2003) to today.
_FIRST = dt.datetime(2003, 1, 1, tzinfo=dt.UTC)
_SPAN = 22 * 365 * 86400


def mail_stream(
    seed: int = 0,
    *,
    foreign: float = 0.05,
    shapes: Sequence[Shape] = ("multipart",),
    auths: Sequence[Auth] = ("signed",),
    to: str = "hostmaster@reseller.example",
) -> Iterator[Mail]:
    """An endless stream of robot mail: documented examples with fresh values.

    Each robot mail carries one documented example (:data:`~drsparse.testing.DOCUMENTED`,
    in a realistic mix; its name is the mail's ``scenario``) with its own domain, reference
    and dates between 2003 and today, in one of ``shapes`` with one of ``auths``; a share
    ``foreign`` of the mails are foreign mail. Mail ``i`` depends only on ``seed`` and the
    mails before it, so any prefix of a longer stream is the shorter stream.
    """
    if not 0 <= foreign <= 1:
        raise ValueError(f"foreign must be a share between 0 and 1, not {foreign!r}")
    if not shapes or not set(shapes) <= set(SHAPES):
        raise ValueError(f"shapes must be some of {', '.join(SHAPES)}; not {shapes!r}")
    if not auths or not set(auths) <= set(AUTHS):
        raise ValueError(f"auths must be some of {', '.join(AUTHS)}; not {auths!r}")
    rnd = random.Random(seed)
    names = list(_EXAMPLE_WEIGHTS)
    weights = list(_EXAMPLE_WEIGHTS.values())
    while True:
        when = _values.berlin(_FIRST + dt.timedelta(seconds=rnd.randrange(_SPAN)))
        if rnd.random() < foreign:
            yield foreign_mail(
                rnd.choices(FOREIGN, weights=_FOREIGN_WEIGHTS)[0], date=when, to=to, rnd=rnd
            )
            continue
        name = rnd.choices(names, weights=weights)[0]
        mail = _example(name, rnd, date=when, to=to, shapes=shapes, auths=auths)
        yield evolve(mail, scenario=name)


def _example(
    name: str,
    rnd: random.Random,
    *,
    date: dt.datetime,
    to: str,
    shapes: Sequence[Shape],
    auths: Sequence[Auth],
) -> Mail:
    """A mail of the documented example ``name``, its values drawn afresh."""
    example = documented(name)
    # A domain under the example's kind of TLD; "Object exists" names one in a sub-result.
    shown = example.domain or ("ixpos.com" if name == "registration-object-exists" else None)
    domain = None
    if shown is not None:
        if shown.endswith(".de"):
            tlds: tuple[str, ...] = ("de",)
        elif shown.endswith(".co.uk"):
            tlds = _values.CC_TLDS
        else:
            tlds = _values.GENERIC_TLDS
        domain = _values.domain(rnd, tlds)
    reference = _values.reference(rnd, date) if example.reference is not None else None
    # The dates of 23300 (a month ahead) and 10300 (five days ahead), in milliseconds.
    days = 30 if name == "registration-not-delegated" else 5
    ahead = date + dt.timedelta(days=days, milliseconds=rnd.randrange(1000))
    item = documented(name, domain=domain, reference=reference, date=ahead)
    shape, auth = rnd.choice(shapes), rnd.choice(auths)
    return make_mail(item, shape=shape, auth=auth, date=date, to=to, rnd=rnd)
