"""The MIME stage: its fast path builds the e-mail package's own tree, or leaves the message to
the package.

Every message is parsed both ways, by ``drsparse._mime`` and by ``email.message_from_string``
(what ``message_from_bytes`` does after decoding the bytes as ASCII with surrogate escapes),
and the trees are compared: headers as stored, default types, preambles, epilogues, defects
and payloads, part by part.
"""

from __future__ import annotations

import email
import itertools
from collections import Counter
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from drsparse import testing
from drsparse._mailbox import read_messages
from drsparse._mime import _common_shape, parse_email
from tests.helpers import SAMPLES, SHARED, needs_shared


def tree(message: Message) -> tuple[object, ...]:
    """Everything the e-mail parser sets on a message, recursively."""
    payload = message.get_payload()
    return (
        message.get_unixfrom(),
        list(message.raw_items()),
        message.get_default_type(),
        message.preamble,
        message.epilogue,
        [type(defect).__name__ for defect in message.defects],
        [tree(part) if isinstance(part, Message) else part for part in payload]
        if isinstance(payload, list)
        else payload,
    )


def text_of(data: bytes) -> str:
    """What the MIME stage is given: ``\\n`` line breaks, bytes as surrogate escapes."""
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data.decode("ascii", "surrogateescape")


def fast(text: str) -> bool:
    """Whether the fast path takes ``text``; when it does, its tree must be the package's."""
    ours = _common_shape(text)
    theirs = email.message_from_string(text)
    assert tree(parse_email(text)) == tree(theirs)
    if ours is None:
        return False
    assert tree(ours) == tree(theirs)
    return True


# --- the fake robot's mail -------------------------------------------------------------------


@pytest.mark.parametrize("shape", testing.SHAPES)
@pytest.mark.parametrize("auth", testing.AUTHS)
def test_every_shape_of_robot_mail(shape: testing.Shape, auth: testing.Auth) -> None:
    mail = testing.make_mail(testing.documented("registration-success"), shape=shape, auth=auth)
    taken = fast(text_of(mail.data))
    # What the robot sends takes the fast path; nested and attached messages are the
    # e-mail package's to read.
    if shape not in ("alternative", "forwarded"):
        assert taken, shape


def test_a_stream_of_robot_and_foreign_mail() -> None:
    taken: Counter[tuple[bool, bool]] = Counter()
    for mail in itertools.islice(testing.mail_stream(3, foreign=0.3), 300):
        taken[mail.responses != (), fast(text_of(mail.data))] += 1
    assert taken[True, False] == 0  # every robot mail took the fast path
    assert taken[False, True] > 0


def test_a_portfolio_in_every_shape() -> None:
    for mail in testing.portfolio(8, seed=5):
        fast(text_of(mail.data))


# --- mail from elsewhere ---------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SAMPLES.rglob("*.eml")), ids=lambda path: path.name)
def test_samples(path: Path) -> None:
    fast(text_of(path.read_bytes()))


@needs_shared
def test_foreign_corpus() -> None:
    taken: Counter[bool] = Counter()
    for item in read_messages(SHARED / "corpora" / "set-of-emails"):
        assert item.data is not None
        taken[fast(text_of(item.data))] += 1
    assert taken[True] > 100, taken
    assert taken[False] > 100, taken


# --- multiparts made to find the edges -------------------------------------------------------


BOUNDARY = st.sampled_from(["b", "=_x", "----=_Part_1_2", "a b", "", "B--", "x.y(z)"])
# Lines of a header section: fields and continuations, mostly, and some of what the parser
# records defects for or reads as a shape of its own.
_FIELDS = [
    "Content-Type: text/plain; charset=utf-8",
    "Content-Type: text/html",
    "Content-Transfer-Encoding: base64",
    "Content-Transfer-Encoding: 7bit",
    "X-Empty:",
    "\tcontinued",
    " ",
    "X-Bytes: caf\udcc3\udca9",
    "Subject: =?utf-8?q?S=C3=BC?=",
]
_ODD = [
    "Content-Type: multipart/mixed; boundary=inner",
    "Content-Type: message/rfc822",
    "Content-Type: message/delivery-status",
    "Content-Type: multipart/digest; boundary=d",
    "X-Odd : value",
    ": no name",
    "no colon at all",
    "From someone",
]
HEADER_LINE = st.sampled_from(_FIELDS * 4 + _ODD)


def body_lines(boundary: str) -> st.SearchStrategy[list[str]]:
    separator = "--" + boundary
    return st.lists(
        st.sampled_from(
            [
                "",
                "text",
                "key: value",
                "\udcff\udcfe",
                separator + "x",
                separator + "--x",
                " " + separator,
                separator[:-1] if len(separator) > 2 else "-",
                "--inner",
                "--inner--",
            ]
        ),
        max_size=4,
    )


@st.composite
def multiparts(draw: st.DrawFn) -> str:
    boundary = draw(BOUNDARY)
    separator = "--" + boundary
    top_type = draw(
        st.sampled_from(
            [
                *["multipart/mixed", "multipart/alternative"] * 3,
                "multipart/digest",
                "text/plain",
                "message/rfc822",
                "message/delivery-status",
            ]
        )
    )
    parameter = f'"{boundary}"' if draw(st.booleans()) else boundary
    head = [
        "From: a@example.org",
        f"Content-Type: {top_type}; boundary={parameter}",
        *draw(st.lists(HEADER_LINE, max_size=2)),
    ]
    lines = [*head, ""]
    lines += draw(st.lists(st.sampled_from(["preamble", ""]), max_size=2))
    for _ in range(draw(st.integers(0, 3))):
        lines.append(separator + draw(st.sampled_from(["", " ", "\t ", "x"])))
        lines += draw(st.lists(HEADER_LINE, max_size=3))
        if draw(st.integers(0, 4)):  # mostly, the empty line that ends the headers
            lines.append("")
        lines += draw(body_lines(boundary))
    if draw(st.integers(0, 3)):
        lines.append(separator + "--" + draw(st.sampled_from(["", "  ", "-"])))
    lines += draw(st.lists(st.sampled_from(["epilogue", "", separator]), max_size=2))
    text = "\n".join(lines)
    return text + "\n" if draw(st.booleans()) else text


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(multiparts())
def test_made_up_multiparts(text: str) -> None:
    event(f"fast path: {fast(text)}")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='ab:-\n \t=;"/', max_size=120))
def test_anything(text: str) -> None:
    # A header section wherever the text happens to have one.
    fast("Content-Type: multipart/mixed; boundary=a\n" + text)
    fast(text)


def test_the_shapes_the_fast_path_leaves() -> None:
    # Each of these is a defect, or a shape of its own, for the e-mail parser.
    robot = text_of(testing.robot_mail(testing.documented("registration-success")))
    assert _common_shape(robot) is not None
    head, _, body = robot.partition("\n\n")
    boundary = email.message_from_string(robot).get_boundary()
    assert boundary is not None
    separator = "--" + boundary
    for text in [
        "From drs@knipp.de Thu Jan  1 00:00:00 2024\n" + robot,  # an mbox From line
        " continued\n" + robot,  # a continuation first
        head + "\nno header\n\n" + body,  # a line that is no field
        head + "\n",  # no empty line
        head + "\n\n" + body.replace(separator + "--", ""),  # no closing boundary
        head + "\n\n" + body.replace(separator + "\n", separator + "\n" + separator + "\n", 1),
        head.replace("multipart/mixed", "multipart/digest") + "\n\n" + body,
        head + "\nContent-Transfer-Encoding: base64\n\n" + body,
    ]:
        assert not fast(text), text[:80]


def _parts(message: Message) -> Iterator[Message]:
    yield from message.walk()


def test_a_tree_that_takes_the_fast_path_reads_like_any_other() -> None:
    mail = testing.make_mail(testing.documented("transfer-out-initiated"))
    message = parse_email(text_of(mail.data))
    types = [part.get_content_type() for part in _parts(message)]
    assert types == ["multipart/mixed", "text/plain", "text/plain", "text/plain"]
    response = message.get_payload(1)
    assert isinstance(response, Message)
    payload = response.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.startswith(b"### DRS Response")
    assert message.as_string() == email.message_from_string(text_of(mail.data)).as_string()
