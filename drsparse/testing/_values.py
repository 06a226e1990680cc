"""Realistic values for the fake robot's mail, drawn from a ``random.Random``.

In: a ``random.Random`` (never the global one, so that a seed gives the same bytes on every
run). Out: domain names, references, handles, dates in the robot's range, the prose people
read in the robot's mail, the application form the robot echoes, and the ``Received`` headers
of the way to the reseller's mailbox.
"""

from __future__ import annotations

import datetime as dt
import random
from email.utils import format_datetime

__all__ = [
    "CC_TLDS",
    "COLLEAGUES",
    "GENERIC_TLDS",
    "application",
    "berlin",
    "domain",
    "english_prose",
    "german_prose",
    "handle",
    "received",
    "reference",
]

_SYLLABLES = (
    "ix", "pos", "acme", "net", "shop", "data", "web", "haus", "bau", "tech", "sonne", "berg",
    "wald", "stadt", "markt", "kontor", "media", "werk", "blick", "feld", "info", "mobil",
)  # fmt: skip
# Labels with non-ASCII letters, sent in ACE form ("domain.name as sent (ACE form for IDNs)").
_IDN_LABELS = ("bäckerei-müller", "münchen-reisen", "grüße", "straßenbau", "öko-laden", "köln24")
GENERIC_TLDS = ("com", "net", "org", "info", "biz")
CC_TLDS = ("co.uk", "at", "ch", "nl", "be", "it", "fr", "eu")
NS_PROVIDERS = ("myns.de", "dns-hosting.net", "knipp.de", "nameserver.eu", "resellerdns.com")

#: Colleagues at the reseller who forward and answer robot mail: name and mailbox.
COLLEAGUES = (("Anna Kowalski", "anna"), ("Jens Hartmann", "jens"), ("Grete Weiß", "grete"))
NAMES = ("Jürgen Müller", "Grete Weiß", "Łukasz Nowak", "Hans Schäfer", "Anna Großmann")
_CITIES = (
    ("80331", "München"), ("50667", "Köln"), ("40213", "Düsseldorf"), ("23552", "Lübeck"),
    ("44227", "Dortmund"), ("10115", "Berlin"),
)  # fmt: skip
_STREETS = ("Hauptstraße", "Bahnhofstraße", "Schloßallee", "Königsweg", "Mühlengasse")


def domain(rnd: random.Random, tlds: tuple[str, ...] = GENERIC_TLDS) -> str:
    """A domain name under one of ``tlds``; one in twenty is an IDN, in ACE form."""
    if rnd.random() < 0.05:
        label = rnd.choice(_IDN_LABELS).encode("idna").decode("ascii")
    else:
        label = "".join(rnd.choice(_SYLLABLES) for _ in range(rnd.randint(1, 3)))
        if rnd.random() < 0.2:
            label += f"-{rnd.randint(1, 99)}"
    return f"{label}.{rnd.choice(tlds)}"


def reference(rnd: random.Random, when: dt.datetime) -> str:
    """A reference for an application that reached the robot at ``when``.

    Mostly the robot-made forms of the documented examples (``TemplateEMailProcessor-`` and
    the milliseconds since the epoch, ``WebInterface-`` and the local date and time), now and
    then a reseller's own.
    """
    kind = rnd.choices(("template", "web", "own"), weights=(6, 3, 1))[0]
    if kind == "template":
        return f"TemplateEMailProcessor-{int(when.timestamp() * 1000) + rnd.randrange(1000)}"
    if kind == "web":
        return f"WebInterface-{when:%Y%m%d-%H%M%S}-{rnd.randint(1, 999)}"
    return f"{rnd.choice(('ORD', 'order', 'kd'))}-{rnd.randrange(10**5, 10**7)}"


def handle(rnd: random.Random, prefix: str) -> str:
    """A contact (``C-``) or host (``HOST-``) handle."""
    return f"{prefix}-{rnd.randrange(10_000, 1_000_000)}"


# ---------------------------------------------------------------------------------------------
# The prose around a block
# ---------------------------------------------------------------------------------------------

_MORE_GERMAN = (
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
    # A paragraph that starts a line with "From ": an mbox writer has to escape it.
    "From now on, responses can also be retrieved in the web interface under 'Aufträge'.",
)
_PENDING = frozenset({10300, 10310, 10320, 10360})


def german_prose(rnd: random.Random, code: int, msg: str | None, name: str | None) -> str:
    """The robot's German text for people, for a response of ``code`` about domain ``name``."""
    about = f"die Domain {name}" if name else "Ihren Auftrag"
    if code in _PENDING:
        outcome = (
            "Der Auftrag ist in Bearbeitung; das endgültige Ergebnis erhalten Sie in einer "
            "weiteren Nachricht mit derselben Referenz."
        )
    elif code < 20000:
        outcome = "Der Auftrag wurde erfolgreich ausgeführt."
    else:
        outcome = (
            "Leider konnte der Auftrag nicht ausgeführt werden. Bitte prüfen Sie die Angaben im "
            "Antragsformular und senden Sie es erneut."
        )
    paragraphs = [
        "Sehr geehrte Damen und Herren,",
        f"der DRS-Robot der Knipp Medien und Kommunikation GmbH hat {about} bearbeitet. Das "
        "Ergebnis in maschinenlesbarer Form finden Sie im zweiten Teil dieser Nachricht; der "
        "dritte Teil enthält zur Kontrolle Ihr ursprüngliches Antragsformular.",
        f"Ergebnis: {code} ({msg or 'siehe unten'}). {outcome}",
        *rnd.sample(_MORE_GERMAN, rnd.randint(1, 4)),
        "-- \nMit freundlichen Grüßen\nIhr DRS-Team\nKnipp Medien und Kommunikation GmbH\n"
        "Martin-Schmeißer-Weg 9, 44227 Dortmund",
    ]
    return "\n\n".join(paragraphs) + "\n"


_MORE_ENGLISH = (
    "Changes to name servers can take up to 24 hours to be visible everywhere.",
    "The fees for this order will be charged with your next monthly invoice.",
    "This message was generated automatically. Replies to this address are not read.",
)


def english_prose(rnd: random.Random, code: int, name: str | None) -> tuple[str, str]:
    """The text before and after the block of a single-part robot mail (ASCII only).

    Neither holds a ``key: value`` line after the block: prose there may end a block, but a
    pair after it would be read as part of it.
    """
    about = f"the domain {name}" if name else "your application"
    later = " The final result follows in a separate message." if code in _PENDING else ""
    before = (
        f"Dear customer,\n\nthe DRS robot has processed {about}.{later}\n"
        "The result in machine-readable form follows.\n\n"
    )
    after = (
        f"\n{rnd.choice(_MORE_ENGLISH)}\n\nKind regards,\nyour DRS team\n-- \n"
        "Knipp Medien und Kommunikation GmbH\nMartin-Schmeisser-Weg 9, 44227 Dortmund\n"
    )
    return before, after


def application(rnd: random.Random, code: int, name: str | None, reference_: str | None) -> str:
    """The e-mail application form as the reseller sent it, which the robot echoes.

    ``key: value`` lines and ``#`` comments, an empty value included (templates have
    ``authinfo:``), but no ``### DRS Response`` header: no reader may take it for a response.
    """
    name = name or domain(rnd)
    person = rnd.choice(NAMES)
    postal, city = rnd.choice(_CITIES)
    provider = rnd.choice(NS_PROVIDERS)
    action = "transfer" if code in (10310, 22002, 23000, 23302) else "create"
    lines = [
        "# DRS Antragsformular / application form, version 2.4",
        "# Bitte die Abschnitte nicht umstellen. Do not reorder the sections.",
        "",
        "# section 1: request",
        f"action: {action}",
        f"reference: {reference_ or 'ORD-' + str(rnd.randrange(10**5, 10**7))}",
        f"domain.name: {name}",
        "authinfo:",
        "",
        "# section 2: registrant",
        f"name: {person}",
        f"organization: {person.split()[-1]} {rnd.choice(('GmbH', 'KG', 'e.K.', 'AG'))}",
        f"street: {rnd.choice(_STREETS)} {rnd.randint(1, 120)}",
        f"postal.code: {postal}",
        f"city: {city}",
        "country: DE",
        f"phone: +49.{rnd.randrange(200, 9999)}{rnd.randrange(100_000, 9_999_999)}",
        "fax:",
        f"email: hostmaster@{name}",
        "",
        "# section 3: name servers",
        f"ns.1.name: ns1.{provider}",
        f"ns.2.name: ns2.{provider}",
        "",
        "# section 4: contacts",
        f"contact.admin: {handle(rnd, 'C')}",
        f"contact.tech: {handle(rnd, 'C')}",
        f"contact.zone: {handle(rnd, 'C')}",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# The way to the mailbox
# ---------------------------------------------------------------------------------------------


def received(
    rnd: random.Random, sent: dt.datetime, to: str, first_hop: tuple[str, str]
) -> list[str]:
    """The ``Received`` headers, topmost (last hop) first, each a few seconds after the last.

    ``first_hop`` is the sending server's name and address.
    """
    reseller = to.rpartition("@")[2]
    source, address = first_hop
    hops = [
        (source, address, f"mx{rnd.randint(1, 3)}.{reseller}", "ESMTPS"),
        (f"mx1.{reseller}", "10.0.0.25", f"filter.{reseller}", "ESMTP"),
        (f"filter.{reseller}", "10.0.0.26", f"imap.{reseller}", "LMTP"),
        (f"imap.{reseller}", "10.0.0.27", f"store{rnd.randint(1, 9)}.{reseller}", "LMTP"),
    ][: rnd.randint(2, 4)]
    headers = []
    when = sent
    for source, address, target, protocol in hops:
        when += dt.timedelta(seconds=rnd.randint(0, 4))
        queue_id = f"{rnd.getrandbits(40):010X}"
        tls = "\n\t(version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256)" * (protocol == "ESMTPS")
        headers.append(
            f"from {source} ({source} [{address}])\n\tby {target} (Postfix) with {protocol} "
            f"id {queue_id}{tls}\n\tfor <{to}>; {format_datetime(when)}"
        )
    headers.reverse()
    return headers


def berlin(moment: dt.datetime) -> dt.datetime:
    """``moment`` in the robot's local time (Dortmund): CET, or CEST in summer.

    The EU rule, written out so that no time zone database is needed: summer time from the
    last Sunday of March to the last Sunday of October, at 01:00 UTC.
    """
    utc = moment.astimezone(dt.UTC)

    def last_sunday(month: int) -> dt.datetime:
        day = dt.datetime(utc.year, month, 31, 1, tzinfo=dt.UTC)
        return day - dt.timedelta(days=(day.weekday() + 1) % 7)

    summer = last_sunday(3) <= utc < last_sunday(10)
    return utc.astimezone(dt.timezone(dt.timedelta(hours=2 if summer else 1)))
