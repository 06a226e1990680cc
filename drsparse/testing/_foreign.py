"""Mail that is not the robot's: what lies between its mail in a reseller's mailbox.

In: a kind (:data:`FOREIGN`), a date, a ``random.Random``. Out: a :class:`Mail` without
responses. Newsletters that talk about the DRS and its robot (with ``###`` headings),
bounces (multipart/report), and personal mail between colleagues about domains: none holds a
response, and a reader must find none.
"""

from __future__ import annotations

import datetime as dt
import html
import random
from email.utils import format_datetime
from typing import Literal, get_args

from drsparse.testing import _mime as mime
from drsparse.testing import _values
from drsparse.testing._mails import DEFAULT_DATE, Mail, delivery

__all__ = ["FOREIGN", "Foreign", "foreign_mail"]

Foreign = Literal["newsletter", "bounce", "personal"]
#: The kinds of mail that are not the robot's, found between its mail in a mailbox.
FOREIGN: tuple[Foreign, ...] = get_args(Foreign)


def foreign_mail(
    kind: Foreign,
    *,
    date: dt.datetime = DEFAULT_DATE,
    to: str = "hostmaster@reseller.example",
    rnd: random.Random | None = None,
) -> Mail:
    """A mail of ``kind`` (one of :data:`FOREIGN`) that holds no response, as a :class:`Mail`.

    Newsletters (multipart/alternative, mentioning the DRS and its robot), bounces
    (multipart/report with the headers of the returned mail) and personal mail between
    colleagues: what lies between the robot's mail in a reseller's mailbox.
    """
    if kind not in FOREIGN:
        raise ValueError(f"kind must be one of {', '.join(FOREIGN)}; not {kind!r}")
    date = mime.checked_date(date, "date")
    if not isinstance(to, str) or to.count("@") != 1:
        raise ValueError(f"to must be one e-mail address, not {to!r}")
    rnd = mime.random_from(rnd)
    reseller = to.rpartition("@")[2]
    message_id = mime.message_id(rnd, date, f"mail.{kind}.example", kind)
    builder = {"newsletter": _newsletter, "bounce": _bounce, "personal": _personal}[kind]
    data = builder(rnd, date, message_id, to, reseller)
    return Mail(data, date.replace(microsecond=0), message_id, kind)


def _newsletter(
    rnd: random.Random, date: dt.datetime, message_id: str, to: str, reseller: str
) -> bytes:
    issue = rnd.randint(1, 120)
    topics = rnd.sample(
        [
            "Neue Endungen im DRS: .berlin, .koeln und .ruhr sind ab sofort registrierbar.",
            "Wartungsfenster: Der DRS-Robot ist am Sonntag zwischen 2 und 4 Uhr nicht erreichbar; "
            "Anträge werden danach bearbeitet.",
            "Preisänderung für .eu-Domains zum nächsten Quartal.",
            "DNSSEC für .de-Domains jetzt auch über das Antragsformular.",
            "Tipp: Antworten des Robots lassen sich maschinell auswerten, siehe Dokumentation.",
        ],
        3,
    )
    plain = (
        f"Knipp Reseller-News, Ausgabe {issue}\n\n"
        + "".join(f"### {topic}\n\n" for topic in topics)
        + "Abmelden: https://news.knipp.example/unsubscribe\n"
    )
    markup = (
        "<html><body><h1>Knipp Reseller-News</h1>\n"
        + "".join(
            f"<h3>{html.escape(topic)}</h3>\n<p>Mehr dazu im Kundenbereich.</p>\n"
            for topic in topics
        )
        + '<p><a href="https://news.knipp.example/unsubscribe">Abmelden</a></p></body></html>\n'
    )
    parts = [
        mime.text_part(plain, charset="utf-8", encoding="quoted-printable"),
        mime.text_part(markup, subtype="html", charset="utf-8", encoding="quoted-printable"),
    ]
    boundary = mime.boundary(rnd, "=_news_", parts)
    verdict = (
        "dkim=pass header.d=news.knipp.example header.s=news;\n"
        "\tspf=pass smtp.mailfrom=bounces@news.knipp.example"
    )
    headers: mime.Headers = [
        ("Return-Path", "<bounces@news.knipp.example>"),
        *delivery(rnd, date, to, ("mailout.news.knipp.example", "198.51.100.7"), verdict),
        ("Date", format_datetime(date)),
        ("From", "Knipp Reseller-News <news@news.knipp.example>"),
        ("To", to),
        ("Subject", mime.header_value(f"Reseller-News {issue}: Neues aus dem DRS")),
        ("Message-ID", message_id),
        ("List-Unsubscribe", "<https://news.knipp.example/unsubscribe>"),
        ("Precedence", "bulk"),
        ("MIME-Version", "1.0"),
        ("Content-Type", mime.multipart_type("alternative", boundary)),
    ]
    return mime.head(headers) + b"\n" + mime.multipart(boundary, parts)


def _bounce(
    rnd: random.Random, date: dt.datetime, message_id: str, to: str, reseller: str
) -> bytes:
    customer = f"info@{_values.domain(rnd, ('de', *_values.GENERIC_TLDS))}"
    queue_id = f"{rnd.getrandbits(40):010X}"
    explanation = (
        f"This is the mail system at host mx.{reseller}.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n\n"
        f"<{customer}>: host mx.{customer.partition('@')[2]} said: 550 5.1.1 <{customer}>\n"
        "    recipient address rejected (in reply to RCPT TO command)\n"
    )
    status = (
        f"Reporting-MTA: dns; mx.{reseller}\nX-Postfix-Queue-ID: {queue_id}\n"
        f"Arrival-Date: {format_datetime(date - dt.timedelta(seconds=rnd.randint(2, 30)))}\n\n"
        f"Final-Recipient: rfc822; {customer}\nAction: failed\nStatus: 5.1.1\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{customer}>: recipient address rejected\n"
    )
    original = (
        f"From: {to}\nTo: {customer}\nSubject: Ihre Domain ist registriert\n"
        f"Date: {format_datetime(date - dt.timedelta(minutes=1))}\n"
        f"Message-ID: <{rnd.getrandbits(64):016x}@{reseller}>\n"
    )
    parts = [
        mime.text_part(explanation, extra=[("Content-Description", "Notification")]),
        mime.head([("Content-Type", "message/delivery-status")]) + b"\n" + status.encode(),
        mime.head([("Content-Type", "text/rfc822-headers")]) + b"\n" + original.encode(),
    ]
    boundary = mime.boundary(rnd, f"{queue_id}.", parts)
    headers: mime.Headers = [
        ("Return-Path", "<>"),
        # Made by the reseller's own server: it checks nothing of its own mail.
        *delivery(rnd, date, to, (f"mx1.{reseller}", "10.0.0.25"), None),
        ("Date", format_datetime(date)),
        ("From", f"MAILER-DAEMON@mx.{reseller} (Mail Delivery System)"),
        ("To", to),
        ("Subject", "Undelivered Mail Returned to Sender"),
        ("Message-ID", message_id),
        ("Auto-Submitted", "auto-replied"),
        ("MIME-Version", "1.0"),
        (
            "Content-Type",
            f'multipart/report; report-type=delivery-status;\n\tboundary="{boundary}"',
        ),
    ]
    return mime.head(headers) + b"\n" + mime.multipart(boundary, parts)


def _personal(
    rnd: random.Random, date: dt.datetime, message_id: str, to: str, reseller: str
) -> bytes:
    name, local = rnd.choice(_values.COLLEAGUES)
    domain = _values.domain(rnd, ("de", *_values.GENERIC_TLDS))
    body = rnd.choice(
        (
            f"Hallo,\n\nder Kunde von {domain} hat angerufen: er wartet noch auf die Bestätigung\n"
            "vom DRS. Kannst du bitte nachsehen, ob der Robot schon geantwortet hat?\n\n",
            f"Hi,\n\nich habe den Transfer für {domain} heute früh angestoßen. Falls eine Mail\n"
            "mit Ergebnis 23302 kommt, bitte direkt mir weiterleiten.\n\n",
            "Hallo zusammen,\n\ndas Team-Meeting verschiebt sich auf Donnerstag, 10 Uhr.\n"
            "Themen: Rechnungslauf, Domain-Umzüge, Urlaubsplanung.\n\n",
        )
    )
    body += f"Danke und Grüße\n{name.split()[0]}\n"
    verdict = f"dkim=pass header.d={reseller} header.s=mail;\n\tdmarc=pass header.from={reseller}"
    headers: mime.Headers = [
        ("Return-Path", f"<{local}@{reseller}>"),
        *delivery(rnd, date, to, (f"smtp.{reseller}", "10.0.0.10"), verdict),
        ("Date", format_datetime(date)),
        ("From", mime.address(name, f"{local}@{reseller}")),
        ("To", to),
        ("Subject", mime.header_value(rnd.choice(("Rückfrage", "Kurze Frage", "Termin")))),
        ("Message-ID", message_id),
        ("MIME-Version", "1.0"),
    ]
    return mime.head(headers) + mime.text_part(body, charset="utf-8", encoding="quoted-printable")
