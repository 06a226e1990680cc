"""The fake robot's e-mails: responses in, the bytes of a whole message out.

Every shape in which robot mail reaches a reseller's mailbox (:data:`SHAPES`):

* ``multipart``: what Knipp documents ("All DRS robot responses are encoded as Content-Type:
  multipart/mixed"): German prose (ISO-8859-1, quoted-printable), the response (US-ASCII,
  7bit) and the application echoed (UTF-8, base64, an attachment);
* ``base64`` and ``quoted-printable``: the same, with the response part in that transfer
  encoding, as some mail servers re-encode it;
* ``plain``: one text/plain part, prose around the block and a signature after it;
* ``html``: one text/html part (what some mail programs make of a message they pass on);
* ``alternative``: multipart/alternative, the plain text and the HTML;
* ``forwarded``: a colleague's message with the robot mail attached (message/rfc822);
* ``quoted``: a colleague's reply quoting the robot mail with ``>``.

and every verdict of the authenticity check (:data:`AUTHS`): ``signed`` (the receiving
server's ``Authentication-Results`` shows ``dkim=pass header.d=knipp.de``, From in knipp.de),
``spoofed`` (``dkim=fail``, a look-alike sender, and a forged "pass" header further down,
which must not count) and ``unsigned`` (no ``Authentication-Results`` at all).

The MIME is written by hand, not with ``email.mime``: the layout is the robot's, and the
boundaries and Message-IDs come from the caller's ``random.Random``, so that one seed always
gives the same bytes (the standard library draws boundaries from the global generator).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import random
from email.utils import format_datetime
from typing import Literal, NamedTuple, get_args

from attrs import field, frozen

from drsparse import Response
from drsparse.testing import _mime as mime
from drsparse.testing import _values
from drsparse.testing._responses import block

__all__ = [
    "AUTHS",
    "DEFAULT_DATE",
    "SHAPES",
    "Auth",
    "Mail",
    "Shape",
    "make_mail",
    "robot_mail",
]

Shape = Literal[
    "multipart", "base64", "quoted-printable", "plain", "html", "alternative", "forwarded", "quoted"
]
Auth = Literal["signed", "spoofed", "unsigned"]

#: The shapes of robot mail :func:`robot_mail` writes (see the module documentation).
SHAPES: tuple[Shape, ...] = get_args(Shape)
#: The authenticity evidence a robot mail can carry.
AUTHS: tuple[Auth, ...] = get_args(Auth)

#: The Date of a mail when none is given: an afternoon in Dortmund, in summer time.
DEFAULT_DATE = dt.datetime(2024, 10, 23, 14, 2, 16, tzinfo=dt.timezone(dt.timedelta(hours=2)))

ROBOT = "drs@knipp.de"
_HOST = "drs.knipp.de"
_ROBOT_HOP = ("mail.knipp.de", "195.253.6.50")
_LOOKALIKES = ("knipp-de.net", "knipp.de-drs.com", "kn1pp.de", "knipp-robot.de")

# Where the responses are in each shape (the MIME part path of drsparse.Origin.part).
_PART: dict[str, str | None] = {
    "multipart": "2",
    "base64": "2",
    "quoted-printable": "2",
    "plain": None,
    "html": None,
    "alternative": "1",
    "forwarded": "2.2",
    "quoted": None,
}
_WRAPPED = frozenset({"forwarded", "quoted"})


@frozen
class Mail:
    """One e-mail of the fake robot (or foreign mail), with what drsparse must read from it.

    ``responses`` are what ``drsparse.parse_message(data, include_quoted=True)`` returns,
    compared with ``==`` (the typed view); ``()`` for foreign mail.
    """

    #: The whole message, LF line endings, as a mailbox stores it (shown by its size only).
    data: bytes = field(repr=lambda data: f"<{len(data)} bytes>")
    #: The message's Date header, as a value.
    date: dt.datetime
    message_id: str
    #: A shape of :data:`SHAPES`, or a kind of :data:`FOREIGN` for mail that is not the robot's.
    kind: str
    responses: tuple[Response, ...] = ()
    #: The evidence of :data:`AUTHS` the mail carries; ``None`` for foreign mail.
    auth: Auth | None = None
    #: What the mail was made from, if anything: a flow of :data:`drsparse.testing.FLOWS`
    #: (:func:`~drsparse.testing.conversation`) or a documented example of
    #: :data:`drsparse.testing.DOCUMENTED` (:func:`~drsparse.testing.mail_stream`).
    scenario: str | None = None

    @property
    def part(self) -> str | None:
        """The MIME part path of the responses, as in ``Origin.part``."""
        return _PART.get(self.kind)

    @property
    def quoted(self) -> bool:
        """The responses are a quoted copy: read only with ``include_quoted=True``."""
        return self.kind == "quoted"

    @property
    def authentic(self) -> bool | None:
        """The verdict of ``origin.authentic`` on the responses.

        A forwarded or quoted copy is judged by the colleague's message that carries it:
        signed by the reseller's domain, not by Knipp's, so ``False``; ``None`` for
        ``unsigned``, where no message carries evidence.
        """
        if not self.responses or self.auth == "unsigned":
            return None
        if self.kind in _WRAPPED:
            return False
        return self.auth == "signed"


def robot_mail(
    *responses: Response,
    shape: Shape = "multipart",
    auth: Auth = "signed",
    date: dt.datetime = DEFAULT_DATE,
    message_id: str | None = None,
    to: str = "hostmaster@reseller.example",
    rnd: random.Random | None = None,
) -> bytes:
    """The bytes of a robot e-mail carrying ``responses`` (usually one), in ``shape``.

    ``date`` is the Date of the message as delivered (for ``forwarded`` and ``quoted``, the
    colleague's; the robot's mail is an hour older), and ``message_id`` its Message-ID
    (default: one made from the date and the responses). ``rnd`` varies the prose, the
    application echoed and the way through the mail servers; without it they are always the
    same. See :func:`make_mail` for the message with what drsparse must read from it.
    """
    return make_mail(
        *responses, shape=shape, auth=auth, date=date, message_id=message_id, to=to, rnd=rnd
    ).data


def make_mail(
    *responses: Response,
    shape: Shape = "multipart",
    auth: Auth = "signed",
    date: dt.datetime = DEFAULT_DATE,
    message_id: str | None = None,
    to: str = "hostmaster@reseller.example",
    rnd: random.Random | None = None,
) -> Mail:
    """Like :func:`robot_mail`, as a :class:`Mail`: the bytes and what they must parse to."""
    if not responses:
        raise ValueError("a robot mail needs at least one response")
    for item in responses:
        if not isinstance(item, Response):
            raise TypeError(f"responses must be Response values, not {type(item).__name__}")
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}; not {shape!r}")
    if auth not in AUTHS:
        raise ValueError(f"auth must be one of {', '.join(AUTHS)}; not {auth!r}")
    date = mime.checked_date(date, "date")
    if not isinstance(to, str) or to.count("@") != 1:
        raise ValueError(f"to must be one e-mail address, not {to!r}")
    rnd = mime.random_from(rnd)
    text = block(*responses)
    first = responses[0]
    if message_id is None:
        message_id = mime.message_id(rnd, date, None if shape in _WRAPPED else _HOST, text)
    envelope = _Envelope(rnd, auth, date, message_id, to)
    if shape in _WRAPPED:
        # The robot's mail, as the colleague received it a little earlier.
        sent = date - dt.timedelta(minutes=rnd.randint(5, 120))
        original = envelope._replace(date=sent, message_id=mime.message_id(rnd, sent, _HOST, text))
        if shape == "forwarded":
            inner = _robot_message(original, first, text, "multipart")
            data = _forward(envelope, first, inner)
        else:
            data = _reply(envelope, first, text, original)
    else:
        data = _robot_message(envelope, first, text, shape)
    # The Date header has no fraction of a second.
    return Mail(data, date.replace(microsecond=0), message_id, shape, tuple(responses), auth)


class _Envelope(NamedTuple):
    """What every part of one message is written with."""

    rnd: random.Random
    auth: str
    date: dt.datetime
    message_id: str
    to: str


# ---------------------------------------------------------------------------------------------
# The robot's message
# ---------------------------------------------------------------------------------------------


def _subject(first: Response) -> str:
    words = ["DRS:"]
    if first.domain:
        words.append(f"{first.domain}:")
    words.append(first.result.msg or str(first.result.code))
    if first.reference:
        words.append(f"[{first.reference}]")
    return " ".join(words)


def delivery(
    rnd: random.Random, date: dt.datetime, to: str, hop: tuple[str, str], verdict: str | None
) -> mime.Headers:
    """The headers a message gets on its way to ``to``'s mailbox, the last hop's on top.

    ``hop``: the sending server's name and address. ``verdict``: what the receiving server
    writes into its ``Authentication-Results`` header (none if ``None``), which it adds just
    above its own ``Received`` header.
    """
    hops = _values.received(rnd, date, to, hop)
    headers: mime.Headers = [("Received", value) for value in hops[:-1]]
    if verdict is not None:
        headers.append(("Authentication-Results", f"mx.{to.rpartition('@')[2]}; {verdict}"))
    headers.append(("Received", hops[-1]))
    return headers


def _auth_headers(envelope: _Envelope, sender: str) -> mime.Headers:
    """The headers of the robot's message on its way, with the evidence ``auth`` asks for."""
    rnd, auth, date, _, to = envelope
    signature = base64.b64encode(rnd.randbytes(24)).decode()
    dkim_signature = (
        "v=1; a=rsa-sha256; c=relaxed/relaxed; d=knipp.de; s=drs2024;\n"
        f"\tt={int(date.timestamp())}; h=from:to:subject:date:message-id;\n"
        f"\tbh={base64.b64encode(rnd.randbytes(32)).decode()};\n\tb={signature}"
    )
    if auth == "signed":
        verdict = (
            "dkim=pass (2048-bit key)\n\theader.d=knipp.de header.i=@knipp.de "
            f"header.s=drs2024 header.b={signature[:8]};\n\tspf=pass (domain of {ROBOT} "
            f"designates {_ROBOT_HOP[1]} as permitted sender)\n\tsmtp.mailfrom={ROBOT};\n"
            "\tdmarc=pass (p=REJECT) header.from=knipp.de"
        )
        return [
            ("Return-Path", f"<{ROBOT}>"),
            *delivery(rnd, date, to, _ROBOT_HOP, verdict),
            ("DKIM-Signature", dkim_signature),
        ]
    if auth == "spoofed":
        lookalike = sender.rpartition("@")[2]
        address = f"203.0.113.{rnd.randint(1, 254)}"
        verdict = (
            "dkim=fail (signature verification failed)\n\theader.d=knipp.de "
            f"header.s=drs2024 header.b={signature[:8]};\n\tspf=softfail (domain of "
            f"{lookalike} does not designate {address} as permitted sender)\n"
            f"\tsmtp.mailfrom=bounce@{lookalike}; dmarc=none header.from={lookalike}"
        )
        return [
            ("Return-Path", f"<bounce@{lookalike}>"),
            *delivery(rnd, date, to, (f"mail.{lookalike}", address), verdict),
            # Written by the sender, below the receiving server's: it must never count.
            (
                "Authentication-Results",
                f"mx.{to.rpartition('@')[2]}; dkim=pass header.d=knipp.de;\n"
                "\tdmarc=pass header.from=knipp.de",
            ),
            ("DKIM-Signature", dkim_signature),
        ]
    # Unsigned: a server that checks nothing (or a message delivered locally).
    return delivery(rnd, date, to, _ROBOT_HOP, None)


def _robot_message(envelope: _Envelope, first: Response, text: str, shape: str) -> bytes:
    rnd = envelope.rnd
    sender = ROBOT if envelope.auth != "spoofed" else f"drs@{rnd.choice(_LOOKALIKES)}"
    headers = _auth_headers(envelope, sender)
    headers += [
        ("Date", format_datetime(envelope.date)),
        ("From", f"DRS Robot <{sender}>"),
        ("To", envelope.to),
        ("Subject", mime.header_value(_subject(first))),
        ("Message-ID", envelope.message_id),
        ("MIME-Version", "1.0"),
    ]
    code, name = first.result.code, first.domain
    if shape in ("multipart", "base64", "quoted-printable"):
        prose = _values.german_prose(rnd, code, first.result.msg, name)
        if shape == "multipart":
            response_part = mime.text_part(text, extra=[("Content-Disposition", "inline")])
        elif shape == "base64":
            response_part = mime.text_part(text, charset="utf-8", encoding="base64")
        else:
            charset = "iso-8859-1" if _fits(text, "iso-8859-1") else "utf-8"
            response_part = mime.text_part(text, charset=charset, encoding="quoted-printable")
        application = _values.application(rnd, code, name, first.reference)
        parts = [
            mime.text_part(prose, charset="iso-8859-1", encoding="quoted-printable"),
            response_part,
            mime.text_part(
                application,
                charset="utf-8",
                encoding="base64",
                extra=[("Content-Disposition", 'attachment; filename="application.txt"')],
            ),
        ]
        boundary = mime.boundary(rnd, "----=_Part_", parts)
        headers.append(("Content-Type", mime.multipart_type("mixed", boundary)))
        return mime.head(headers) + b"\n" + mime.multipart(boundary, parts)
    before, after = _values.english_prose(rnd, code, name)
    plain = before + text + after
    if shape == "plain":
        part = mime.text_part(plain)
    elif shape == "html":
        part = mime.text_part(
            _html(before, text, after), subtype="html", charset="utf-8", encoding="quoted-printable"
        )
    else:  # alternative
        parts = [
            mime.text_part(plain),
            mime.text_part(
                _html(before, text, after),
                subtype="html",
                charset="utf-8",
                encoding="quoted-printable",
            ),
        ]
        boundary = mime.boundary(rnd, "----=_Alt_", parts)
        headers.append(("Content-Type", mime.multipart_type("alternative", boundary)))
        return mime.head(headers) + b"\n" + mime.multipart(boundary, parts)
    # A single-part message: the part's own headers join the message's.
    return mime.head(headers) + part


def _fits(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def _html(before: str, text: str, after: str) -> str:
    """The HTML a mail program makes: prose in paragraphs, the block kept in ``<pre>``."""

    def paragraphs(prose: str) -> str:
        return "".join(
            f"<p>{html.escape(chunk).replace(chr(10), '<br>' + chr(10))}</p>\n"
            for chunk in prose.strip("\n").split("\n\n")
        )

    return (
        '<html><head><meta charset="utf-8"><style>.drs { color: #333; }</style></head>\n'
        f'<body>\n{paragraphs(before)}<pre class="drs">{html.escape(text, quote=False)}</pre>\n'
        f"{paragraphs(after)}</body></html>\n"
    )


# ---------------------------------------------------------------------------------------------
# A colleague's forward and reply
# ---------------------------------------------------------------------------------------------


def _colleague_headers(envelope: _Envelope) -> tuple[mime.Headers, str]:
    rnd, auth, date, _, to = envelope
    reseller = to.rpartition("@")[2]
    name, local = rnd.choice(_values.COLLEAGUES)
    sender = f"{local}@{reseller}"
    # The reseller's own server checked the colleague's mail: signed, but not by Knipp.
    verdict = None
    if auth != "unsigned":
        verdict = (
            f"dkim=pass header.d={reseller} header.s=mail;\n\tdmarc=pass header.from={reseller}"
        )
    headers = delivery(rnd, date, to, (f"smtp.{reseller}", "10.0.0.10"), verdict)
    headers += [
        ("Date", format_datetime(date)),
        ("From", mime.address(name, sender)),
        ("To", to),
    ]
    return headers, name.split()[0]


def _forward(envelope: _Envelope, first: Response, inner: bytes) -> bytes:
    headers, signature = _colleague_headers(envelope)
    about = f"zu {first.domain}" if first.domain else "von heute"
    note = f"FYI: die Robot-Mail {about}, siehe Anhang.\n\nGrüße\n{signature}\n"
    filename = f"DRS {first.domain or 'Antwort'}.eml"
    attachment = (
        mime.head(
            [
                ("Content-Type", f'message/rfc822; name="{filename}"'),
                ("Content-Disposition", f'attachment; filename="{filename}"'),
            ]
        )
        + b"\n"
        + inner
    )
    parts = [mime.text_part(note, charset="utf-8", encoding="8bit"), attachment]
    boundary = mime.boundary(envelope.rnd, "------------fwd", parts)
    headers += [
        ("Subject", mime.header_value("Fwd: " + _subject(first))),
        ("Message-ID", envelope.message_id),
        ("MIME-Version", "1.0"),
        ("Content-Type", mime.multipart_type("mixed", boundary)),
    ]
    return mime.head(headers) + b"\n" + mime.multipart(boundary, parts)


def _reply(envelope: _Envelope, first: Response, text: str, original: _Envelope) -> bytes:
    """A colleague's answer that quotes the robot's mail ``original`` below a line of text."""
    rnd = envelope.rnd
    headers, signature = _colleague_headers(envelope)
    before, after = _values.english_prose(rnd, first.result.code, first.domain)
    quoted = "".join(
        f"> {line}".rstrip(" ") + "\n" for line in (before + text + after).splitlines()
    )
    ask = rnd.choice(
        (
            "das ist durch, bitte in der Abrechnung nachtragen.",
            "kannst du dir das bitte ansehen?",
            "siehe unten, ich kümmere mich darum.",
        )
    )
    body = (
        f"Hallo,\n\n{ask}\n\nAm {original.date:%d.%m.%Y um %H:%M} schrieb DRS Robot <{ROBOT}>:\n"
        f"{quoted}\nGrüße,\n{signature}\n"
    )
    headers += [
        ("Subject", mime.header_value("Re: " + _subject(first))),
        ("Message-ID", envelope.message_id),
        ("In-Reply-To", original.message_id),
        ("References", original.message_id),
        ("MIME-Version", "1.0"),
    ]
    return mime.head(headers) + mime.text_part(body, charset="utf-8", encoding="8bit")
