"""parse_message: real messages through the real parser, samples compared with their JSON."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import email
import email.utils
import itertools
import json
import quopri
from collections.abc import Iterator
from email.message import Message
from email.policy import compat32
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drsparse import (
    DrsParseError,
    LimitExceededError,
    Limits,
    MalformedLineError,
    MissingKeyError,
    Response,
    testing,
)
from drsparse._mail import DEFAULT_TRUST, Trust, parse_message
from drsparse._records import response_record
from tests.helpers import ROOT, SAMPLES, expect_json

MAIL = sorted((SAMPLES / "mail").glob("*.eml"))

# Line endings a sample is also tested with: the raw bytes rewritten, nothing else changed.
ENDINGS = {"lf": b"\n", "crlf": b"\r\n", "cr": b"\r"}

RESPONSE = b"### DRS Response\n###\n\ndomain.name: acme.com\nresult.code: 10000\n"


def with_endings(data: bytes, ending: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", ending)


def records(responses: list[Response]) -> list[dict[str, object]]:
    return [response_record(response) for response in responses]


def message(body: bytes, *headers: str, content_type: str = "text/plain") -> bytes:
    """A message with the given extra headers; ``body`` is used as it is."""
    head = [
        "From: DRS Robot <drs@knipp.de>",
        "Message-ID: <1@drs.knipp.de>",
        *headers,
        "MIME-Version: 1.0",
        f"Content-Type: {content_type}",
    ]
    return ("\n".join(head) + "\n\n").encode() + body


_BOUNDARIES = itertools.count(1)


def multipart(*parts: bytes, subtype: str = "mixed", headers: tuple[str, ...] = ()) -> bytes:
    """A multipart message of ``parts`` (each a part's headers, a blank line and its body)."""
    boundary = f"b0undary-{next(_BOUNDARIES)}".encode()
    body = b"".join(b"--" + boundary + b"\n" + part + b"\n" for part in parts)
    body += b"--" + boundary + b"--\n"
    content_type = f'multipart/{subtype}; boundary="{boundary.decode()}"'
    return message(body, *headers, content_type=content_type)


def part(body: bytes, content_type: str = "text/plain", *headers: str) -> bytes:
    head = [f"Content-Type: {content_type}", *headers]
    return ("\n".join(head) + "\n\n").encode() + body


# -------------------------------------------------------------------------------------------
# The samples
# -------------------------------------------------------------------------------------------


def test_samples_exist() -> None:
    assert len(MAIL) >= 10
    for sample in MAIL:
        assert sample.with_suffix(".json").is_file(), f"{sample.name} has no expected JSON"


@pytest.mark.parametrize("ending", list(ENDINGS))
@pytest.mark.parametrize("sample", MAIL, ids=[sample.stem for sample in MAIL])
def test_sample(sample: Path, ending: str) -> None:
    data = with_endings(sample.read_bytes(), ENDINGS[ending])
    source = sample.relative_to(ROOT).as_posix()
    found = records(parse_message(data, source=source))
    # DRSPARSE_REGEN=1 rewrites the expected file from the LF run (review the diff).
    expected = expect_json(sample.with_suffix(".json"), found) if ending == "lf" else None
    if expected is None:
        expected = json.loads(sample.with_suffix(".json").read_text(encoding="utf-8"))
    assert found == expected


@pytest.mark.parametrize("sample", MAIL, ids=[sample.stem for sample in MAIL])
def test_sample_as_message_object(sample: Path) -> None:
    data = sample.read_bytes()
    parsed = email.message_from_bytes(data, policy=compat32)
    source = sample.relative_to(ROOT).as_posix()
    assert records(parse_message(parsed, source=source)) == records(
        parse_message(data, source=source)
    )


@pytest.mark.parametrize(
    "sample", [s for s in MAIL if s.read_bytes().isascii()], ids=lambda s: s.stem
)
def test_ascii_sample_as_text(sample: Path) -> None:
    data = sample.read_bytes()
    assert records(parse_message(data.decode("ascii"))) == records(parse_message(data))


def test_text_message_keeps_its_8bit_text() -> None:
    # A str message is decoded already: its 8-bit part is used as it is, whatever charset
    # it declares (the bytes of this one are UTF-8, the declaration says Latin-1).
    text = message(
        "Grüße\n".encode() + RESPONSE, content_type="text/plain; charset=iso-8859-1"
    ).decode("utf-8")
    (response,) = parse_message(text)
    assert response.domain == "acme.com"
    assert response.warnings == ()


def test_robot_layout_origin_and_echoed_application() -> None:
    data = (SAMPLES / "mail" / "robot-multipart.eml").read_bytes()
    (response,) = parse_message(data, source="robot.eml")
    origin = response.origin
    assert origin is not None
    assert origin.source == "robot.eml"
    assert origin.message_id == "<20241023120216.7F3A2C0@drs.knipp.de>"
    assert origin.date == "Wed, 23 Oct 2024 14:02:16 +0200"
    assert origin.sender == "DRS Robot <drs@knipp.de>"
    assert origin.subject == "DRS: acme.de CREATE: Command completed successfully"
    assert (origin.part, origin.quoted, origin.authentic) == ("2", False, True)
    # The third part echoes the application: key: value lines, but no block.
    echo = email.message_from_bytes(data, policy=compat32).get_payload(2)
    assert isinstance(echo, Message)
    text = echo.get_payload()
    assert isinstance(text, str)
    assert "action: CREATE" in text
    assert parse_message(text) == []


def test_encoded_words_in_headers() -> None:
    data = (SAMPLES / "mail" / "idn-domain.eml").read_bytes()
    (response,) = parse_message(data)
    assert response.origin is not None
    assert response.origin.sender == "DRS Robot \N{EN DASH} Knipp <drs@knipp.de>"
    assert response.origin.subject == (
        "DRS: müller.de (xn--mller-kva.de) CREATE: Command completed successfully"
    )


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        (b"=?utf-8?q?M=C3=BCller?= =?utf-8?q?_AG?=", "Müller AG"),  # blank between words dropped
        (b"=?iso-8859-1?b?TfxsbGVy?= and co", "Müller and co"),
        (b"=?utf-8*de?Q?Gr=C3=BC=C3=9Fe?=", "Grüße"),  # RFC 2231 language
        (b"=?x-nonsense?q?M=C3=BCller?=", "Müller"),  # unknown charset: UTF-8
        (b"=?us-ascii?q?M=FCller?=", "Müller"),  # wrong charset: UTF-8, then Latin-1
        (b"=?utf-8?b?!!!?= plain", "=?utf-8?b?!!!?= plain"),  # broken word kept as sent
        (b"J\xc3\xb6rg", "Jörg"),  # raw UTF-8 (RFC 6532)
        (b"J\xf6rg", "Jörg"),  # raw Latin-1
        (b"folded\n  subject", "folded  subject"),
    ],
)
def test_header_decoding(raw: bytes, decoded: str) -> None:
    data = message(RESPONSE).replace(b"MIME-Version", b"Subject: " + raw + b"\nMIME-Version")
    (response,) = parse_message(data)
    assert response.origin is not None
    assert response.origin.subject == decoded


# -------------------------------------------------------------------------------------------
# Bare bodies
# -------------------------------------------------------------------------------------------


def test_bare_body_bytes() -> None:
    (response,) = parse_message(RESPONSE, source="-")
    assert response.domain == "acme.com"
    assert response.fields[0].line == 4
    assert response.origin is not None
    assert response.origin.source == "-"
    assert (response.origin.message_id, response.origin.part) == (None, None)
    assert response.origin.authentic is None


@pytest.mark.parametrize(
    "text",
    [
        "Dear customer,\nsee below.\n\n" + RESPONSE.decode(),
        "\n" + RESPONSE.decode(),  # a blank first line: no headers either
        "From the robot, with love:\n\n" + RESPONSE.decode(),  # not an mbox "From " line
        "Grüße vom Robot\n\n\n" + RESPONSE.decode(),
        "\ufeff" + RESPONSE.decode() + "\n\n\n",
    ],
)
def test_bare_body_counts_lines_from_its_start(text: str) -> None:
    start = text.removeprefix("\ufeff").index("domain.name")
    line = text.removeprefix("\ufeff").count("\n", 0, start) + 1
    for data in (text, text.encode("utf-8")):
        (response,) = parse_message(data)
        assert response.fields[0].line == line
        assert response.warnings == ()


def test_bare_body_latin1_warns() -> None:
    (response,) = parse_message("Grüße\n".encode("latin-1") + RESPONSE)
    assert response.warnings == ("the message body declares no charset; decoded as Latin-1",)


def test_bare_body_error_has_no_part() -> None:
    with pytest.raises(MissingKeyError) as caught:
        parse_message(b"### DRS Response\n###\ndomain.name: acme.com\n", source="x.txt")
    assert (caught.value.source, caught.value.line) == ("x.txt", 1)
    assert "part" not in caught.value.msg


# -------------------------------------------------------------------------------------------
# MIME
# -------------------------------------------------------------------------------------------


def test_alternative_reports_the_plain_text_once() -> None:
    html = b"<pre>" + RESPONSE + b"</pre>"
    data = multipart(part(html, "text/html"), part(RESPONSE), subtype="alternative")
    (response,) = parse_message(data)
    assert response.origin is not None
    assert response.origin.part == "2"


def test_alternative_falls_back_to_html() -> None:
    html = b"<p>### DRS Response<br>###<br>domain.name: acme.com<br>result.code: 10000</p>"
    data = multipart(part(b"See the HTML version."), part(html, "text/html"), subtype="alternative")
    (response,) = parse_message(data)
    assert response.origin is not None
    assert response.origin.part == "2"
    assert [(f.key, f.line) for f in response.fields] == [("domain.name", 3), ("result.code", 4)]


def test_html_conversion() -> None:
    html = (
        b"<html><head><title>### DRS Response</title><style>p {}</style></head><body>"
        b"<script>document.write('### DRS Response')</script>"
        b"<div>### DRS&nbsp;Response</div><div>###</div>"
        b"<table><tr><th>domain.name:</th><td>acme&#46;com</td></tr>"
        b"<tr><td>result.code:</td>\n<td>  10000 </td></tr></table>"
        b"<p>reference:\n   TemplateEMailProcessor-1</p></body></html>"
    )
    (response,) = parse_message(message(html, content_type="text/html"))
    assert [(f.key, f.value, f.line) for f in response.fields] == [
        ("domain.name", "acme.com", 3),
        ("result.code", "10000", 4),
        ("reference", "TemplateEMailProcessor-1", 5),
    ]


def test_forward_as_attachment_part_paths() -> None:
    inner_single = message(RESPONSE)
    inner_multi = multipart(part(b"prose"), part(RESPONSE))
    data = multipart(
        part(b"FYI"),
        part(inner_single, "message/rfc822"),
        part(inner_multi, "message/rfc822"),
        part(multipart(part(RESPONSE)), "message/rfc822"),
    )
    paths = [r.origin.part for r in parse_message(data) if r.origin is not None]
    assert paths == ["2.1", "3.2", "4.1"]


def test_a_response_in_an_attached_message_is_forwarded_at_any_depth() -> None:
    # The forward's own words beside the attachment are its own; what is attached is a copy,
    # and so is a copy attached to a copy, and a reply quoting the robot that is attached.
    copy = message(RESPONSE)
    copy_of_a_copy = multipart(part(RESPONSE), part(copy, "message/rfc822"))
    reply = b"> ### DRS Response\n> ###\n>\n> domain.name: acme.com\n> result.code: 10000\n"
    data = multipart(
        part(RESPONSE),
        part(copy, "message/rfc822"),
        part(copy_of_a_copy, "message/rfc822"),
        part(message(reply), "message/rfc822"),
    )
    found = [
        (r.origin.part, r.origin.quoted, r.origin.forwarded)
        for r in parse_message(data, include_quoted=True)
        if r.origin is not None
    ]
    assert found == [
        ("1", False, False),
        ("2.1", False, True),
        ("3.1", False, True),
        ("3.2.1", False, True),
        ("4.1", True, True),
    ]
    (single,) = parse_message(message(RESPONSE))
    assert single.origin is not None
    assert single.origin.forwarded is False


@pytest.mark.parametrize("shape", testing.SHAPES)
@pytest.mark.parametrize("auth", testing.AUTHS)
def test_the_kit_s_forwarded_mail_and_no_other_is_forwarded(shape: str, auth: str) -> None:
    mail = testing.make_mail(
        testing.documented("registration-success"),
        shape=cast(testing.Shape, shape),
        auth=cast(testing.Auth, auth),
    )
    found = parse_message(mail.data, include_quoted=True)
    assert found == list(mail.responses)
    for response in found:
        assert response.origin is not None
        assert response.origin.forwarded is (shape == "forwarded")
        # The forwarding message's verdict: a copy is never the robot's signed mail.
        assert response.origin.authentic is mail.authentic


def test_nested_multipart_part_path() -> None:
    inner = b'Content-Type: multipart/related; boundary="in"\n\n--in\n' + part(RESPONSE)
    inner += b"\n--in--\n"
    data = multipart(part(b"prose"), part(b"", "image/png") + b"iVBORw0K", inner)
    (response,) = parse_message(data)
    assert response.origin is not None
    assert response.origin.part == "3.1"


@pytest.mark.parametrize(
    ("content_type", "found"),
    [
        ("application/octet-stream", True),  # a response saved to a file and attached
        ("text/x-drs; charset=us-ascii", True),
        ("image/png", False),
        ("application/pdf", False),
        ("audio/basic", False),
    ],
)
def test_which_parts_are_read(content_type: str, found: bool) -> None:
    data = multipart(part(b"prose"), part(RESPONSE, content_type))
    assert len(parse_message(data)) == found


def test_delivery_status_is_skipped() -> None:
    status = b"Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; a@b\nAction: failed\n"
    data = multipart(part(b"bounce"), part(status, "message/delivery-status"), subtype="report")
    assert parse_message(data) == []


@pytest.mark.parametrize(
    ("charset", "body", "warning"),
    [
        ("utf-8", "Grüße\n".encode(), None),
        ("iso-8859-1", "Grüße\n".encode("latin-1"), None),
        ("utf-16", "Grüße\n".encode("utf-16"), None),
        (None, "Grüße\n".encode(), "MIME part 1 declares no charset; decoded as UTF-8"),
        ("x-klingon", "Grüße\n".encode(), "MIME part 1 declares the unknown charset 'x-klingon'"),
        ("base64", b"Gr\xfc\xdfe\n", "MIME part 1 declares the unknown charset 'base64'"),
        ("idna", b"Gr\xfc\xdfe\n", "MIME part 1 declares the unknown charset 'idna'"),
        ("utf-8", "Grüße\n".encode("latin-1"), "MIME part 1 is not valid 'utf-8' as it declares"),
        ("us-ascii", "Grüße\n".encode(), "MIME part 1 is not valid 'us-ascii' as it declares"),
    ],
)
def test_charsets(charset: str | None, body: bytes, warning: str | None) -> None:
    content_type = "text/plain" + (f"; charset={charset}" if charset else "")
    encoding = "utf-16" if charset == "utf-16" else "latin-1"
    text = body + RESPONSE.decode().encode(encoding)[2 if charset == "utf-16" else 0 :]
    data = multipart(part(text, content_type, "Content-Transfer-Encoding: 8bit"))
    (response,) = parse_message(data)
    assert response.domain == "acme.com"
    if warning is None:
        assert response.warnings == ()
    else:
        (got,) = response.warnings
        assert got.startswith(warning)
        assert got.endswith(("decoded as UTF-8", "decoded as Latin-1"))


def test_transfer_encodings() -> None:
    qp = b"Content-Transfer-Encoding: quoted-printable"
    b64 = b"Content-Transfer-Encoding: base64"
    long_value = "ä" * 60
    body = RESPONSE + f"reference: {long_value}\n".encode()
    for header, encoded in (
        (qp, quopri.encodestring(body)),
        (b64, base64.encodebytes(body)),
        (b"Content-Transfer-Encoding: 7bit", body),
        (b"Content-Transfer-Encoding: x-unheard-of", body),
    ):
        data = multipart(part(encoded, "text/plain; charset=utf-8", header.decode()))
        (response,) = parse_message(data)
        assert response.reference == long_value


# -------------------------------------------------------------------------------------------
# Quoted copies
# -------------------------------------------------------------------------------------------


def test_quoted_reply_sample() -> None:
    data = (SAMPLES / "mail" / "quoted-reply.eml").read_bytes()
    assert parse_message(data) == []
    (response,) = parse_message(data, include_quoted=True)
    assert response.origin is not None
    assert (response.origin.quoted, response.origin.part) == (True, None)
    assert response.quoted
    # Quoted at its own lines; the ">>" lines below (a quoted application) are not joined.
    assert [(f.key, f.line) for f in response.fields][:2] == [
        ("reference", 11),
        ("domain.name", 12),
    ]
    assert [f.key for f in response.fields][-1] == "ns.1.id"


def test_origin_received_is_the_date_of_the_topmost_received_header() -> None:
    data = (SAMPLES / "mail" / "robot-multipart.eml").read_bytes()
    (response,) = parse_message(data)
    assert response.origin is not None
    # One hop, folded over three lines; its date-time carries a comment, kept as sent.
    assert response.origin.received == "Wed, 23 Oct 2024 14:02:17 +0200 (CEST)"


def test_origin_received_of_the_kit_s_mail_is_its_last_hop() -> None:
    mail = testing.make_mail(testing.documented("registration-success"))
    (response,) = parse_message(mail.data)
    assert response.origin is not None
    received = response.origin.received
    assert received is not None
    # The hops follow the Date by a few seconds each; the topmost is the last and latest.
    hops = email.message_from_bytes(mail.data, policy=compat32).get_all("Received", [])
    dates = [email.utils.parsedate_to_datetime(value.rpartition(";")[2]) for value in hops]
    assert len(dates) >= 2
    assert email.utils.parsedate_to_datetime(received) == dates[0] == max(dates)
    assert mail.date <= dates[0] <= mail.date + dt.timedelta(seconds=16)


@pytest.mark.parametrize(
    ("headers", "received"),
    [
        # A ";" in a comment of the clauses: the date-time follows the last one. Folded
        # lines are unfolded; only the topmost header counts.
        (
            "Received: from a (a [10.0.0.1]; helo=x)\n\tby b with LMTP; Mon, 3 Nov\n"
            "\t2003 09:00:04 +0100\nReceived: from c by a; Mon, 3 Nov 2003 09:00:01 +0100",
            "Mon, 3 Nov\t2003 09:00:04 +0100",
        ),
        (
            "Received: from a by b; \n\tMon, 3 Nov 2003 09:00:04 -0000 ",
            "Mon, 3 Nov 2003 09:00:04 -0000",
        ),
        # No date-time to read.
        (
            "Received: from a by b with LMTP\n"
            "Received: from c by a; Mon, 3 Nov 2003 09:00:01 +0100",
            None,
        ),
        ("Received: from a by b;  ", None),
        ("X-Received: by b; Mon, 3 Nov 2003 09:00:04 +0100", None),
    ],
)
def test_origin_received_reads_the_topmost_header_only(headers: str, received: str | None) -> None:
    (response,) = parse_message(message(RESPONSE, *headers.split("\n")))
    assert response.origin is not None
    assert response.origin.received == received


def test_a_bare_body_has_no_received_date() -> None:
    (response,) = parse_message(RESPONSE)
    assert response.origin is not None
    assert response.origin.received is None


class _CountingHeaderReads(Message):
    """A stdlib message that counts how often its header list is read (drsparse reads the
    origin headers and the authenticity evidence through ``raw_items``)."""

    reads = 0

    def raw_items(self) -> Iterator[tuple[str, Any]]:
        _CountingHeaderReads.reads += 1
        return super().raw_items()


@pytest.mark.parametrize(("include_quoted", "responses"), [(False, 0), (True, 1)])
def test_the_headers_are_read_for_responses_only(include_quoted: bool, responses: int) -> None:
    # A reply quoting a robot response holds "###" and "DRS" but, unquoted, no block: its
    # headers (origin, authenticity) are not worth decoding. With the quoted copy, they are.
    data = (SAMPLES / "mail" / "quoted-reply.eml").read_bytes()
    message = email.message_from_bytes(data, _class=_CountingHeaderReads, policy=compat32)
    _CountingHeaderReads.reads = 0
    assert len(parse_message(message, include_quoted=include_quoted)) == responses
    assert (_CountingHeaderReads.reads > 0) == (responses > 0)


def test_fresh_and_quoted_in_one_part_in_line_order() -> None:
    quoted = b"".join(b"> " + line + b"\n" for line in RESPONSE.splitlines())
    body = b"Thanks!\n" + quoted.replace(b"acme.com", b"old.com") + b"\nNew one:\n" + RESPONSE
    data = message(body)
    (fresh,) = parse_message(data)
    assert (fresh.domain, fresh.quoted) == ("acme.com", False)
    both = parse_message(data, include_quoted=True)
    assert [(r.domain, r.quoted, r.fields[0].line) for r in both] == [
        ("old.com", True, 5),
        ("acme.com", False, 12),
    ]


@pytest.mark.parametrize("marker", [b">", b"> ", b"> > ", b">> ", b"  >\t"])
def test_quote_markers(marker: bytes) -> None:
    quoted = b"".join(marker + line + b"\n" for line in RESPONSE.splitlines())
    data = message(b"Hello\n" + quoted + marker + b"Kind regards\n" + marker + b"domain: x\n")
    assert parse_message(data) == []
    (response,) = parse_message(data, include_quoted=True)
    assert [(f.key, f.line) for f in response.fields] == [("domain.name", 5), ("result.code", 6)]


def test_html_blockquote_is_quoted() -> None:
    html = b"<p>Thanks</p><blockquote><pre>" + RESPONSE + b"</pre></blockquote>"
    data = message(html, content_type="text/html")
    assert parse_message(data) == []
    (response,) = parse_message(data, include_quoted=True)
    assert response.quoted


def test_error_in_quoted_copy_names_it() -> None:
    quoted = b"> ### DRS Response\n> ###\n> domain.name: acme.com\n"
    data = multipart(part(b"prose"), part(quoted))
    assert parse_message(data) == []
    with pytest.raises(MissingKeyError) as caught:
        parse_message(data, include_quoted=True, source="m.eml")
    assert caught.value.msg.endswith("(in a quoted copy in MIME part 2)")
    assert (caught.value.source, caught.value.line) == ("m.eml", 1)


# -------------------------------------------------------------------------------------------
# Errors
# -------------------------------------------------------------------------------------------


def test_error_in_a_part_names_line_column_and_part() -> None:
    bad = b"prose\n\n### DRS Response\n###\nresult.code: 10000\nthis is prose\nresult.msg: x\n"
    data = multipart(part(b"Dear customer"), part(bad))
    with pytest.raises(MalformedLineError) as caught:
        parse_message(data, source="box#3")
    err = caught.value
    assert (err.source, err.line, err.column) == ("box#3", 6, 1)
    assert err.msg.endswith("(in MIME part 2)")
    assert str(err).startswith("box#3:6:1: ")


def test_error_in_html_part() -> None:
    html = b"<p>x</p><pre>### DRS Response\n###\nresult.code: ten</pre>"
    with pytest.raises(DrsParseError) as caught:
        parse_message(message(html, content_type="text/html"))
    assert caught.value.line == 4
    assert "converted from HTML" in caught.value.msg


def test_not_a_message() -> None:
    with pytest.raises(TypeError):
        parse_message(42)  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------------
# Limits
# -------------------------------------------------------------------------------------------


def test_max_message_bytes() -> None:
    data = message(RESPONSE)
    assert parse_message(data, limits=Limits(max_message_bytes=len(data)))
    with pytest.raises(LimitExceededError, match="max_message_bytes"):
        parse_message(data, limits=Limits(max_message_bytes=len(data) - 1), source="big")
    with pytest.raises(LimitExceededError, match="max_message_bytes"):
        parse_message(data.decode(), limits=Limits(max_message_bytes=10))


def test_max_parts() -> None:
    data = multipart(*[part(b"x")] * 5, part(RESPONSE))
    assert parse_message(data, limits=Limits(max_parts=6))
    with pytest.raises(LimitExceededError, match="max_parts"):
        parse_message(data, limits=Limits(max_parts=5))


def nested(depth: int) -> bytes:
    data = RESPONSE
    for level in range(depth):
        data = (
            f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n'.encode()
            + data
            + f"\n--b{level}--\n".encode()
        )
    return b"From: x@y\n" + data


def test_max_depth() -> None:
    assert parse_message(nested(20))
    with pytest.raises(LimitExceededError, match="max_depth"):
        parse_message(nested(21))
    with pytest.raises(LimitExceededError, match="max_depth"):
        parse_message(nested(3), limits=Limits(max_depth=2))


def test_max_depth_of_attached_messages() -> None:
    data = message(RESPONSE)
    for _ in range(4):
        data = message(data, content_type="message/rfc822")
    assert parse_message(data)
    with pytest.raises(LimitExceededError, match="max_depth"):
        parse_message(data, limits=Limits(max_depth=3))


def test_nesting_beyond_the_e_mail_parser() -> None:
    # The standard library's parser recurses and gives up (RecursionError) near 1000 levels;
    # deep multiparts are refused before it runs (it would take minutes), attached messages
    # when it gives up.
    with pytest.raises(LimitExceededError, match="max_depth"):
        parse_message(nested(3000))
    attached = b"Content-Type: text/plain\n\n" + RESPONSE
    for _ in range(3000):
        attached = b"Content-Type: message/rfc822\n\n" + attached
    with pytest.raises(LimitExceededError, match="max_depth"):
        parse_message(b"From: x@y\n" + attached)


def test_many_multiparts_side_by_side_are_not_deep() -> None:
    siblings = [
        b'Content-Type: multipart/alternative; boundary="s%d"\n\n--s%d\n' % (n, n)
        + part(RESPONSE if n == 24 else b"nothing")
        + b"\n--s%d--\n" % n
        for n in range(25)
    ]
    (response,) = parse_message(multipart(*siblings))
    assert response.origin is not None
    assert response.origin.part == "25.1"


def nested_objects(depth: int) -> Message:
    inner = email.message_from_bytes(message(RESPONSE), policy=compat32)
    for _ in range(depth):
        outer = Message()
        outer.set_type("multipart/mixed")
        outer.set_payload([inner])
        inner = outer
    return inner


def test_depth_of_message_objects() -> None:
    assert parse_message(nested_objects(20))
    with pytest.raises(LimitExceededError, match="max_depth"):
        parse_message(nested_objects(21))
    # A limit beyond what Python's recursion allows is still an error of ours.
    with pytest.raises(LimitExceededError, match="max_depth"):
        parse_message(nested_objects(5000), limits=Limits(max_depth=10**6))


# -------------------------------------------------------------------------------------------
# Authenticity
# -------------------------------------------------------------------------------------------

PASS = "Authentication-Results: mx.example.net; dkim=pass header.d=knipp.de; dmarc=pass"


def verdict(
    *headers: str, sender: str = "DRS Robot <drs@knipp.de>", trust: Trust | None = None
) -> bool | None:
    data = message(RESPONSE, *headers).replace(b"DRS Robot <drs@knipp.de>", sender.encode())
    (response,) = parse_message(data, trust=trust)
    return response.authentic


@pytest.mark.parametrize(
    ("headers", "sender", "expected"),
    [
        ((), "drs@knipp.de", None),
        ((PASS,), "drs@knipp.de", True),
        ((PASS,), "DRS <drs@robot.KNIPP.de>", True),  # a subdomain of the signer
        (("Authentication-Results: mx; dkim=pass header.i=@knipp.de",), "drs@knipp.de", True),
        (
            ('Authentication-Results: mx; DKIM = Pass (ok) header.d = "Knipp.DE"',),
            "drs@knipp.de",
            True,
        ),
        (
            ("Authentication-Results: mx; dkim=pass header.d=drs.knipp.de",),
            "drs@drs.knipp.de",
            True,
        ),
        (("Authentication-Results: mx; dkim=pass header.d=drs.knipp.de",), "drs@knipp.de", False),
        (
            ("Authentication-Results: mx; dkim=pass header.d=reseller.example",),
            "a@reseller.example",
            False,
        ),
        (
            ("Authentication-Results: mx; dkim=pass header.d=knipp.de.evil.example",),
            "drs@knipp.de.evil.example",
            False,
        ),
        (
            ("Authentication-Results: mx; dkim=pass header.d=evilknipp.de",),
            "drs@evilknipp.de",
            False,
        ),
        ((PASS,), "drs@evil.example", False),  # a trusted signature, but not for this From
        ((PASS,), '"drs@knipp.de" <drs@evil.example>', False),
        ((PASS,), "drs@knipp.de, boss@evil.example", False),
        (("Authentication-Results: mx; dkim=fail header.d=knipp.de",), "drs@knipp.de", False),
        (("Authentication-Results: mx; dkim=none",), "drs@knipp.de", False),
        (("Authentication-Results: mx; none",), "drs@knipp.de", False),
        (("Authentication-Results: mx; spf=pass smtp.mailfrom=knipp.de",), "drs@knipp.de", False),
        ((PASS.replace("dmarc=pass", "dmarc=fail"),), "drs@knipp.de", False),
        (("Authentication-Results: mx; dkim=temperror header.d=knipp.de",), "drs@knipp.de", None),
        # Only the topmost header counts without authserv-ids: the one below may be forged.
        (("Authentication-Results: mx; dkim=fail header.d=knipp.de", PASS), "drs@knipp.de", False),
        ((PASS, "Authentication-Results: mx; dkim=fail header.d=knipp.de"), "drs@knipp.de", True),
        (('Authentication-Results: ;;;((("', "X: y"), "drs@knipp.de", False),
        (
            ("Authentication-Results: mx; dkim=pass header.d=kn\xc3\xa4pp.de",),
            "drs@knipp.de",
            False,
        ),
    ],
)
def test_authenticity(headers: tuple[str, ...], sender: str, expected: bool | None) -> None:
    assert verdict(*headers, sender=sender) is expected


def test_two_from_headers_are_not_authentic() -> None:
    assert verdict(PASS, "From: drs@knipp.de") is False


def test_authserv_ids() -> None:
    ours = "Authentication-Results: mx.example.net; dkim=pass header.d=knipp.de"
    theirs = "Authentication-Results: mx.evil.example; dkim=pass header.d=knipp.de"
    trust = Trust(authserv_ids=("MX.example.net",))
    assert verdict(theirs, ours, trust=trust) is True  # not topmost, but ours
    assert verdict(theirs, trust=trust) is None  # no header of ours
    assert verdict(theirs) is True  # without authserv-ids the topmost is taken


def test_trust() -> None:
    assert Trust(domains=("knipp.de",), authserv_ids=()) == DEFAULT_TRUST
    assert Trust(domains="Example.ORG.").domains == ("example.org",)
    assert Trust(domains=["bücher.example"]).domains == ("xn--bcher-kva.example",)
    assert verdict(PASS, trust=Trust(domains=("example.org",))) is False
    with pytest.raises(ValueError, match="not a domain"):
        Trust(domains=("drs@knipp.de",))
    with pytest.raises(ValueError, match="not a domain"):
        Trust(domains=("ü" * 70 + ".de",))  # no valid IDN: a label too long
    with pytest.raises(TypeError):
        Trust(domains=(1,))  # type: ignore[arg-type]


def test_authenticity_applies_to_the_delivered_message() -> None:
    forward = (SAMPLES / "mail" / "forward-attachment.eml").read_bytes()
    (response,) = parse_message(forward)
    assert response.authentic is False  # the forward is signed by the colleague's domain
    assert response.origin is not None
    assert response.origin.forwarded  # a copy: not in the schema-1 record (see the sample)


# -------------------------------------------------------------------------------------------
# Anything else: only our errors
# -------------------------------------------------------------------------------------------

_HEADER_LINES = st.sampled_from(
    [
        b"Content-Type: multipart/mixed; boundary=b",
        b'Content-Type: multipart/alternative; boundary="b"',
        b"Content-Type: text/html; charset=utf-16",
        b"Content-Type: text/plain; charset*=''%ff",
        b'Content-Type: text/plain; charset="\x00"',
        b"Content-Type: message/rfc822",
        b"Content-Type: application/octet-stream",
        b"Content-Transfer-Encoding: base64",
        b"Content-Transfer-Encoding: quoted-printable",
        b"Content-Transfer-Encoding: x-uuencode",
        b"Authentication-Results: mx; dkim=pass header.d=knipp.de",
        b"From: =?utf-8?b?=?= <drs@knipp.de>",
        b"Subject: =?x?q?=ZZ?=",
        b"",
    ]
)
_BODY_LINES = st.sampled_from(
    [
        b"--b",
        b"--b--",
        b"### DRS Response",
        b"###",
        b"result.code: 10000",
        b"> ### DRS Response",
        b"<pre>",
        b"<blockquote>",
        b"&#xffffffff;",
        b"=E4=",
        b"begin 644 x",
        b"\xff\xfe",
        b"DRS",
    ]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(_HEADER_LINES | _BODY_LINES | st.binary(max_size=40), max_size=30),
    st.sampled_from([b"\n", b"\r\n", b"\r"]),
    st.booleans(),
)
def test_any_bytes_give_responses_or_our_errors(
    lines: list[bytes], ending: bytes, include_quoted: bool
) -> None:
    data = ending.join(lines)
    try:
        result = parse_message(data, include_quoted=include_quoted)
    except DrsParseError:
        return
    assert all(isinstance(response, Response) for response in result)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_html_gives_responses_or_our_errors(html: str) -> None:
    with contextlib.suppress(DrsParseError):
        parse_message(
            message(("DRS" + html).encode("utf-8", "surrogatepass"), content_type="text/html")
        )


_BLANK = st.sampled_from(["", " ", "\t", "\n ", "  "])
_PARAMETER = st.tuples(
    _BLANK,
    st.sampled_from(["charset", "CharSet", "charset*", "x-charset", "format", "boundary"]),
    _BLANK,
    st.sampled_from(["=", "", "=="]),
    _BLANK,
    st.sampled_from(
        [
            *("utf-8", "ISO-8859-1", '"UTF-8"', '"a b"', '""', "", "utf-8''x", "é", "(x)"),
            '"a\\"b"',
            # The Kelvin sign, which folds to "k" when case is ignored.
            *("\u212aOI8-R", '"\u212aoi8-r"'),
        ]
    ),
    st.sampled_from(["", " ", " (comment)", "'"]),
).map("".join)
_CONTENT_TYPE = st.tuples(
    st.sampled_from(["text/plain", "TEXT/html", ""]),
    st.lists(_PARAMETER.map(lambda parameter: ";" + parameter), max_size=3).map("".join),
    st.sampled_from(["", ";", " ; "]),
).map("".join)


@settings(max_examples=500, deadline=None)
@given(_CONTENT_TYPE)
def test_the_charset_is_read_as_the_email_package_reads_it(value: str) -> None:
    from drsparse._mail import content_charset

    message = email.message_from_string(f"Content-Type: {value}\n\nx")
    assert content_charset(message) == message.get_content_charset()
