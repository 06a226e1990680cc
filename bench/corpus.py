"""A deterministic corpus of realistic DRS robot e-mails, for the benchmark and its test.

Every message is what Knipp documents: "All DRS robot responses are encoded as Content-Type:
multipart/mixed in MIME standard ... The 3rd section is optional." Here the three parts are

1. prose for people: German text/plain, ISO-8859-1, quoted-printable (umlauts, soft breaks);
2. the response: text/plain us-ascii 7bit with one ``### DRS Response`` block, built from the
   documented examples (samples/knipp/) with varied references, domains and codes;
3. the application echoed: text/plain UTF-8 base64, ``key: value`` lines of an application form
   (which is *not* a response block, so a parser must not report it).

Messages carry several Received headers, a Message-ID, a Date, ``From: robot@drs.knipp.de`` and
a Subject: a few KB each, like the real ones. They are built with the stdlib ``email`` package
so they are valid MIME, and from a ``random.Random(seed)`` only (boundaries and Message-IDs
included), so one seed always gives the same bytes. Message ``i`` depends only on the messages
before it: ``make_corpus(seed, 4 * n)[:n] == make_corpus(seed, n)``.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.charset import BASE64, Charset
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
from pathlib import Path

__all__ = [
    "HEADER",
    "KINDS",
    "Case",
    "iter_cases",
    "make_case",
    "make_cases",
    "make_corpus",
    "make_message",
    "write_mbox",
]

HEADER = "### DRS Response\n###\n\n"
ROBOT = "robot@drs.knipp.de"

Pairs = list[tuple[str, str]]


@dataclass(frozen=True)
class Case:
    """One generated e-mail and what the generator put into its response block."""

    #: The whole e-mail, as it would be stored in a mailbox (LF line endings).
    data: bytes
    #: The response part's text: the bare block.
    block: str
    #: The block's ``key: value`` lines, in the order written.
    pairs: tuple[tuple[str, str], ...]
    #: Which documented example the block was made from (for failure messages).
    kind: str
    message_id: str


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------

_SYLLABLES = (
    "ix", "pos", "acme", "net", "shop", "data", "web", "haus", "bau", "tech", "sonne", "berg",
    "wald", "stadt", "markt", "kontor", "media", "werk", "blick", "feld", "info", "mobil",
)  # fmt: skip
# Labels with non-ASCII letters, sent in ACE form ("domain.name as sent (ACE form for IDNs)").
_IDN_LABELS = ("bäckerei-müller", "münchen-reisen", "grüße", "straßenbau", "öko-laden", "köln24")
_GENERIC_TLDS = ("com", "net", "org", "info", "biz")
_CC_TLDS = ("co.uk", "at", "ch", "nl", "be", "it", "fr", "eu")
_NS_PROVIDERS = ("myns.de", "dns-hosting.net", "knipp.de", "nameserver.eu", "resellerdns.com")

_NAMES = ("Jürgen Müller", "Grete Weiß", "Łukasz Nowak", "Hans Schäfer", "Anna Großmann")
_CITIES = (
    ("80331", "München"), ("50667", "Köln"), ("40213", "Düsseldorf"), ("23552", "Lübeck"),
    ("44227", "Dortmund"), ("10115", "Berlin"),
)  # fmt: skip
_STREETS = ("Hauptstraße", "Bahnhofstraße", "Schloßallee", "Königsweg", "Mühlengasse")

# Sub-results of a syntax error (20001): section, key, code, msg, offending value. The msg texts
# are the documented ones, the short "field missing" of the example included.
_TEMPLATE_ERRORS = (
    (2, "country", 20206, "invalid field content", "GERMANY"),
    (2, "phone", 20204, "field missing", None),
    (2, "email", 20206, "invalid field content", "info(at)example.de"),
    (1, "action", 20205, "invalid or misplaced field", "regster"),
    (2, "postal.code", 20204, "required field missing", None),
    (3, "ns.1.name", 20206, "invalid field content", "ns1..myns.de"),
    (1, "domain.name", 20207, "duplicate field", "acme.com"),
)


def _when(rnd: random.Random) -> dt.datetime:
    """A moment between 2003 (the documented examples) and 2025, in German local time."""
    seconds = rnd.randrange(0, 22 * 365 * 24 * 3600)
    zone = dt.timezone(dt.timedelta(hours=rnd.choice((1, 2))))
    return dt.datetime(2003, 1, 1, tzinfo=dt.UTC).astimezone(zone) + dt.timedelta(seconds=seconds)


def _timestamp(rnd: random.Random) -> str:
    # "Dates are ISO 8601 in UTC with a Z and one to three fraction digits."
    moment = _when(rnd).astimezone(dt.UTC)
    digits = rnd.randint(1, 3)
    fraction = str(rnd.randrange(10**digits)).zfill(digits)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{fraction}Z"


def _domain(rnd: random.Random, tlds: tuple[str, ...]) -> str:
    if rnd.random() < 0.05:
        label = rnd.choice(_IDN_LABELS).encode("idna").decode("ascii")
    else:
        label = "".join(rnd.choice(_SYLLABLES) for _ in range(rnd.randint(1, 3)))
        if rnd.random() < 0.2:
            label += f"-{rnd.randint(1, 99)}"
    return f"{label}.{rnd.choice(tlds)}"


def _reference(rnd: random.Random) -> str:
    # The robot-made forms of the documented examples, and now and then a reseller's own.
    kind = rnd.choices(("template", "web", "own"), weights=(6, 3, 1))[0]
    if kind == "template":
        return f"TemplateEMailProcessor-{rnd.randrange(1_000_000_000_000, 1_800_000_000_000)}"
    if kind == "web":
        return f"WebInterface-{_when(rnd):%Y%m%d-%H%M%S}-{rnd.randint(1, 999)}"
    return f"{rnd.choice(('ORD', 'order', 'kd'))}-{rnd.randrange(10**5, 10**7)}"


def _handle(rnd: random.Random, prefix: str) -> str:
    return f"{prefix}-{rnd.randrange(10_000, 1_000_000)}"


# ---------------------------------------------------------------------------------------------
# Blocks, one builder per documented example
# ---------------------------------------------------------------------------------------------


@dataclass
class _Block:
    pairs: Pairs
    domain: str | None
    reference: str | None
    code: int
    msg: str


_Builder = Callable[[random.Random], _Block]


def _top(
    rnd: random.Random, reference: str | None, domain: str | None, code: int, msg: str
) -> Pairs:
    pairs: Pairs = []
    if reference is not None:
        pairs.append(("reference", reference))
    if domain is not None:
        pairs.append(("domain.name", domain))
    # The examples have both orders: "The order of the lines is not relevant".
    result = [("result.code", str(code)), ("result.msg", msg)]
    if rnd.random() < 0.5:
        result.reverse()
    return pairs + result


def _simple(code: int, msg: str, tlds: tuple[str, ...], *, requested: bool = True) -> _Builder:
    def build(rnd: random.Random) -> _Block:
        domain = _domain(rnd, tlds)
        reference = _reference(rnd) if requested else None
        return _Block(_top(rnd, reference, domain, code, msg), domain, reference, code, msg)

    return build


def _registered(rnd: random.Random) -> _Block:
    # 02-registration-success and 08-transfer-in-completed: name servers and contact handles.
    domain, reference = _domain(rnd, (*_GENERIC_TLDS, "de")), _reference(rnd)
    msg = "Command completed successfully"
    pairs = _top(rnd, reference, domain, 10000, msg)
    provider = rnd.choice(_NS_PROVIDERS)
    for n in range(1, rnd.randint(2, 4) + 1):
        pairs += [(f"ns.{n}.name", f"ns{n}.{provider}"), (f"ns.{n}.id", _handle(rnd, "HOST"))]
        if n == 1 and rnd.random() < 0.7:
            pairs.append((f"ns.{n}.role", "primary"))
    handle = _handle(rnd, "C")
    types = ["registrant", "admin", "tech"] + (["zone"] if rnd.random() < 0.7 else [])
    for n, kind in enumerate(types, start=1):
        # Usually one handle for every role, as in the example; sometimes a separate one.
        owner = handle if rnd.random() < 0.7 else _handle(rnd, "C")
        pairs += [(f"contact.{n}.type", kind), (f"contact.{n}.id", owner)]
    return _Block(pairs, domain, reference, 10000, msg)


def _not_delegated(rnd: random.Random) -> _Block:
    # 04-registration-not-delegated: 10000 with a 23300 sub-result and its expire.date.
    domain, reference = _domain(rnd, ("de",)), _reference(rnd)
    msg = "Command completed successfully"
    pairs = _top(rnd, reference, domain, 10000, msg)
    pairs += [
        ("result.1.code", "23300"),
        ("result.1.msg", "Object not delegated"),
        ("result.1.data.1.key", "expire.date"),
        ("result.1.data.1.value", _timestamp(rnd)),
        ("result.1.data.2.key", "domain.name"),
        ("result.1.data.2.value", domain),
    ]
    return _Block(pairs, domain, reference, 10000, msg)


def _exists(rnd: random.Random) -> _Block:
    # 03-registration-object-exists: no domain.name, the domain in a double-indexed value.
    domain, reference = _domain(rnd, _GENERIC_TLDS), _reference(rnd)
    pairs = _top(rnd, reference, None, 23002, "Object exists")
    pairs += [
        ("result.1.code", "23002"),
        ("result.1.msg", "Object exists"),
        ("result.1.value.1", domain),
        ("result.1.key.1", "domain"),
    ]
    return _Block(pairs, None, reference, 23002, "Object exists")


def _syntax_error(rnd: random.Random) -> _Block:
    # 01-syntax-error: no reference, no domain, one sub-result per faulty field.
    msg = "Command syntax error"
    pairs = _top(rnd, None, None, 20001, msg)
    errors = rnd.sample(_TEMPLATE_ERRORS, rnd.randint(1, 3))
    for n, (section, key, code, text, value) in enumerate(errors, start=1):
        pairs += [
            (f"result.{n}.section", str(section)),
            (f"result.{n}.key", key),
            (f"result.{n}.code", str(code)),
            (f"result.{n}.msg", text),
        ]
        if value is not None:
            pairs += [
                (f"result.{n}.value", value),
                (f"result.{n}.line.no", str(rnd.randint(5, 60))),
            ]
    return _Block(pairs, None, None, 20001, msg)


def _with_domain_data(code: int, msg: str) -> _Builder:
    # 06-transfer-in-pending-transfer and 07-transfer-in-invalid-authinfo.
    def build(rnd: random.Random) -> _Block:
        domain, reference = _domain(rnd, _GENERIC_TLDS), _reference(rnd)
        pairs = _top(rnd, reference, domain, code, msg)
        pairs += [
            ("result.1.code", str(code)),
            ("result.1.msg", msg),
            ("result.1.data.1.key", "domain.name"),
            ("result.1.data.1.value", domain),
        ]
        return _Block(pairs, domain, reference, code, msg)

    return build


def _transfer_out_initiated(rnd: random.Random) -> _Block:
    # 15-transfer-out-initiated: an unrequested notice (no reference) with a deadline.
    domain, msg = _domain(rnd, _GENERIC_TLDS), "Outgoing transfer initiated"
    pairs = _top(rnd, None, domain, 10300, msg)
    pairs += [
        ("result.1.code", "10300"),
        ("result.1.msg", msg),
        ("result.1.data.1.key", "deadline"),
        ("result.1.data.1.value", _timestamp(rnd)),
    ]
    return _Block(pairs, domain, None, 10300, msg)


#: The documented examples by name, with how often each occurs in the corpus.
_KINDS: tuple[tuple[str, int, _Builder], ...] = (
    ("registered", 20, _registered),
    ("not-delegated", 6, _not_delegated),
    ("exists", 8, _exists),
    ("syntax-error", 6, _syntax_error),
    ("transfer-in-initiated", 6, _simple(10310, "Incoming transfer initiated", _GENERIC_TLDS)),
    ("pending-transfer", 3, _with_domain_data(23000, "Object pending transfer")),
    ("invalid-authinfo", 3, _with_domain_data(22002, "Invalid authorization information")),
    ("transfer-in-rejected", 2, _simple(23302, "Incoming transfer rejected", _GENERIC_TLDS)),
    ("registration-initiated", 8, _simple(10320, "Registration initiated", ("de", *_CC_TLDS))),
    (
        "completed",
        10,
        _simple(10000, "Command completed successfully", (*_GENERIC_TLDS, *_CC_TLDS)),
    ),
    ("command-received", 3, _simple(10360, "Command received", _CC_TLDS)),
    ("transfer-out-initiated", 3, _transfer_out_initiated),
    (
        "transfer-out-completed",
        2,
        _simple(10303, "Outgoing transfer completed", _GENERIC_TLDS, requested=False),
    ),
    (
        "transfer-out-rejected",
        2,
        _simple(10302, "Outgoing transfer rejected", _GENERIC_TLDS, requested=False),
    ),
    (
        "transfer-out-canceled",
        2,
        _simple(10304, "Outgoing transfer canceled", _GENERIC_TLDS, requested=False),
    ),
)


#: The names of the documented examples the blocks are made from.
KINDS = tuple(name for name, _, _ in _KINDS)


# ---------------------------------------------------------------------------------------------
# The other two parts
# ---------------------------------------------------------------------------------------------

_MORE_PROSE = (
    "Bitte beachten Sie, dass Änderungen an den Nameservern bis zu 24 Stunden benötigen, bis sie "
    "überall sichtbar sind.",
    "Die Gebühren für diesen Auftrag werden mit Ihrer nächsten Monatsrechnung abgerechnet. Eine "
    "Übersicht aller offenen Aufträge finden Sie jederzeit in der Weboberfläche.",
    "Ihre Daten werden gemäß der Datenschutz-Grundverordnung verarbeitet; Einzelheiten finden Sie "
    "in unseren Allgemeinen Geschäftsbedingungen.",
    "Für Rückfragen steht Ihnen unser Support montags bis freitags von 9 bis 17 Uhr zur Verfügung. "
    "Bitte geben Sie dabei stets die Referenz dieses Auftrags an.",
    "Diese Nachricht wurde automatisch erstellt. Antworten an diese Absenderadresse werden nicht "
    "gelesen.",
    # A paragraph that starts a line with "From ": the mbox writer has to escape it.
    "From now on, responses can also be retrieved in the web interface under 'Aufträge'.",
)


def _prose(rnd: random.Random, block: _Block) -> str:
    subject = f"die Domain {block.domain}" if block.domain else "Ihren Auftrag"
    if block.code < 20000 and block.code in (10310, 10320, 10360):
        outcome = (
            "Der Auftrag ist in Bearbeitung; das endgültige Ergebnis erhalten Sie in einer "
            "weiteren Nachricht mit derselben Referenz."
        )
    elif block.code < 20000:
        outcome = "Der Auftrag wurde erfolgreich ausgeführt."
    else:
        outcome = (
            "Leider konnte der Auftrag nicht ausgeführt werden. Bitte prüfen Sie die Angaben im "
            "Antragsformular und senden Sie es erneut."
        )
    paragraphs = [
        "Sehr geehrte Damen und Herren,",
        f"der DRS-Robot der Knipp Medien und Kommunikation GmbH hat {subject} bearbeitet. Das "
        "Ergebnis in maschinenlesbarer Form finden Sie im zweiten Teil dieser Nachricht; der "
        "dritte Teil enthält zur Kontrolle Ihr ursprüngliches Antragsformular.",
        f"Ergebnis: {block.code} ({block.msg}). {outcome}",
        *rnd.sample(_MORE_PROSE, rnd.randint(1, 4)),
        "-- \nMit freundlichen Grüßen\nIhr DRS-Team\nKnipp Medien und Kommunikation GmbH\n"
        "Martin-Schmeißer-Weg 9, 44227 Dortmund",
    ]
    return "\n\n".join(paragraphs) + "\n"


def _application(rnd: random.Random, block: _Block) -> str:
    # An e-mail application form as the reseller sent it: key: value lines and # comments,
    # including an empty value (templates have "authinfo:").
    domain = block.domain or _domain(rnd, _GENERIC_TLDS)
    name = rnd.choice(_NAMES)
    postal, city = rnd.choice(_CITIES)
    provider = rnd.choice(_NS_PROVIDERS)
    lines = [
        "# DRS Antragsformular / application form, version 2.4",
        "# Bitte die Abschnitte nicht umstellen. Do not reorder the sections.",
        "",
        "# section 1: request",
        f"action: {rnd.choice(('create', 'transfer', 'update'))}",
        f"reference: {block.reference or _reference(rnd)}",
        f"domain.name: {domain}",
        "authinfo:",
        "",
        "# section 2: registrant",
        f"name: {name}",
        f"organization: {name.split()[-1]} {rnd.choice(('GmbH', 'KG', 'e.K.', 'AG'))}",
        f"street: {rnd.choice(_STREETS)} {rnd.randint(1, 120)}",
        f"postal.code: {postal}",
        f"city: {city}",
        "country: DE",
        f"phone: +49.{rnd.randrange(200, 9999)}{rnd.randrange(100_000, 9_999_999)}",
        "fax:",
        f"email: hostmaster@{domain}",
        "",
        "# section 3: name servers",
        f"ns.1.name: ns1.{provider}",
        f"ns.2.name: ns2.{provider}",
        "",
        "# section 4: contacts",
        f"contact.admin: {_handle(rnd, 'C')}",
        f"contact.tech: {_handle(rnd, 'C')}",
        f"contact.zone: {_handle(rnd, 'C')}",
    ]
    return "\n".join(lines) + "\n"


def _received(rnd: random.Random, when: dt.datetime, to: str) -> list[str]:
    """The Received headers, topmost (last hop) first, each a few seconds after the one below."""
    reseller = to.partition("@")[2]
    hops = [
        ("drs.knipp.de", "mail.knipp.de", "ESMTP"),
        ("mail.knipp.de", f"mx{rnd.randint(1, 3)}.{reseller}", "ESMTPS"),
        (f"mx1.{reseller}", f"filter.{reseller}", "ESMTP"),
        (f"filter.{reseller}", f"imap.{reseller}", "LMTP"),
        (f"imap.{reseller}", f"store{rnd.randint(1, 9)}.{reseller}", "LMTP"),
    ][: rnd.randint(3, 5)]
    headers = []
    for source, target, protocol in hops:
        when += dt.timedelta(seconds=rnd.randint(0, 4))
        address = f"195.253.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
        queue_id = f"{rnd.getrandbits(40):010X}"
        tls = "\n\t(version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256)" * (protocol == "ESMTPS")
        headers.append(
            f"from {source} ({source} [{address}])\n\tby {target} (Postfix) with {protocol} "
            f"id {queue_id}{tls}\n\tfor <{to}>; {format_datetime(when)}"
        )
    headers.reverse()
    return headers


def _part(text: str, charset: str, *, base64: bool = False) -> MIMEText:
    if base64:
        encoding = Charset(charset)
        encoding.body_encoding = BASE64
        part = MIMEText(text, "plain", encoding)  # type: ignore[arg-type]  # Charset is accepted
    else:
        # iso-8859-1 defaults to quoted-printable, us-ascii to 7bit: what the robot sends.
        part = MIMEText(text, "plain", charset)
    # MIMEText marks every part as a message of its own; inside a multipart only the top has it.
    del part["MIME-Version"]
    return part


# ---------------------------------------------------------------------------------------------
# Messages and corpora
# ---------------------------------------------------------------------------------------------


def make_case(rnd: random.Random, i: int) -> Case:
    """The ``i``-th e-mail of a corpus, drawn from ``rnd``, with what went into its block."""
    names = [name for name, _, _ in _KINDS]
    weights = [weight for _, weight, _ in _KINDS]
    kind = rnd.choices(names, weights=weights)[0]
    block = {name: build for name, _, build in _KINDS}[kind](rnd)
    text = HEADER + "".join(f"{key}: {value}\n" for key, value in block.pairs)

    when = _when(rnd)
    to = f"domains@{rnd.choice(('reseller', 'webhosting', 'netzwerk'))}-{rnd.randint(1, 500)}.de"
    # The stdlib draws boundaries from the global random module: set one from rnd instead.
    boundary = f"----=_Part_{i}_{rnd.getrandbits(32)}.{rnd.getrandbits(40)}"
    message = MIMEMultipart("mixed", boundary=boundary)
    message.preamble = "This is a multi-part message in MIME format."
    message.attach(_part(_prose(rnd, block), "iso-8859-1"))
    message.attach(_part(text, "us-ascii"))
    message.attach(_part(_application(rnd, block), "utf-8", base64=True))

    # Received headers come first, as every mail server puts its own on top; MIMEMultipart has
    # already set MIME-Version and Content-Type, so those move below the others.
    content_type, mime_version = message["Content-Type"], message["MIME-Version"]
    del message["Content-Type"], message["MIME-Version"]
    for header in _received(rnd, when, to):
        message["Received"] = header
    message_id = f"<{int(when.timestamp() * 1000)}.{i}.{rnd.getrandbits(32):08x}@drs.knipp.de>"
    summary = " ".join(filter(None, (str(block.code), block.msg, block.domain)))
    for name, value in (
        ("Return-Path", f"<{ROBOT}>"),
        ("Message-ID", message_id),
        ("Date", format_datetime(when)),
        ("From", f"DRS Robot <{ROBOT}>"),
        ("To", to),
        ("Subject", f"DRS: {summary}" + (f" [{block.reference}]" if block.reference else "")),
        ("MIME-Version", mime_version),
        ("Content-Type", content_type),
    ):
        message[name] = value
    return Case(message.as_bytes(), text, tuple(block.pairs), kind, message_id)


def make_message(rnd: random.Random, i: int) -> bytes:
    """The bytes of the ``i``-th e-mail of a corpus, drawn from ``rnd``."""
    return make_case(rnd, i).data


def iter_cases(seed: int) -> Iterator[Case]:
    """The endless sequence of cases for ``seed``."""
    rnd = random.Random(seed)
    i = 0
    while True:
        yield make_case(rnd, i)
        i += 1


def make_cases(seed: int, n: int) -> list[Case]:
    """The first ``n`` cases for ``seed``."""
    cases = iter_cases(seed)
    return [next(cases) for _ in range(n)]


def make_corpus(seed: int, n: int) -> list[bytes]:
    """The first ``n`` e-mails for ``seed``, as bytes."""
    return [case.data for case in make_cases(seed, n)]


# mboxrd: a body line that starts with "From " (after any number of ">") gets one more ">".
# Readers that split at "From " lines (stdlib mailbox.mbox, the mboxo variant) need that too.
_FROM_LINE = re.compile(rb"^(>*From )", re.MULTILINE)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _separator(i: int) -> bytes:
    # "From sender asctime": the date written by hand, because strftime's names follow the locale.
    moment = dt.datetime(2003, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i)
    date = (
        f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:2d} "
        f"{moment:%H:%M:%S} {moment.year}"
    )
    return f"From {ROBOT} {date}\n".encode("ascii")


def write_mbox(path: str | Path, target_bytes: int, seed: int) -> int:
    """Write e-mails for ``seed`` to an mbox at ``path`` until it holds ``target_bytes``.

    Streams: one message at a time is in memory, whatever the size. Returns how many messages
    were written.
    """
    written = count = 0
    with open(path, "wb") as out:
        for case in iter_cases(seed):
            if written >= target_bytes:
                break
            body = _FROM_LINE.sub(rb">\1", case.data)
            if not body.endswith(b"\n"):
                body += b"\n"
            # A blank line before the next separator, as every mbox writer leaves.
            chunk = _separator(count) + body + b"\n"
            out.write(chunk)
            written += len(chunk)
            count += 1
    return count
