"""Hostile mail: bounded time and memory, nothing lost without a word, no words put in the
robot's mouth, and arguments checked where they come in.

Each test holds the smallest input that showed the problem. Tests of time compare with a
bound far above what drsparse needs and far below what the input cost before (the figures
are in the comments); tests of memory count allocations with tracemalloc.
"""

from __future__ import annotations

import base64
import contextlib
import os
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

import drsparse
from drsparse import LimitExceededError, Limits, UnreadableInputError, parse_message
from tests.test_mail import RESPONSE, message, multipart, part

TRUSTED = "Authentication-Results: mx.example.net; dkim=pass header.d=knipp.de; dmarc=pass"


def _seconds(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    with contextlib.suppress(drsparse.DrsParseError):
        call()
    return time.perf_counter() - start


def _peak(call: Callable[[], object]) -> int:
    """The peak of memory allocated while ``call`` runs, in bytes."""
    parse_message(message(RESPONSE))  # the parser is loaded outside the count
    tracemalloc.start()
    try:
        call()
    except drsparse.DrsParseError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# -------------------------------------------------------------------------------------------
# HTML: linear time, output a small multiple of the input
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", [b"<a x=", b"<!--", b"<a x='", b"</a x", b"<!x"])
def test_markup_left_open_takes_linear_time(unit: bytes) -> None:
    # 40 KB of "<a x=" took 12 s in html.parser (80 KB over two minutes), "<!--" 4 s.
    html = message(b"DRS ###" + unit * (40_000 // len(unit)), content_type="text/html")
    assert _seconds(lambda: parse_message(html)) < 1.0


def test_nested_blockquotes_do_not_multiply_the_text() -> None:
    # 15,000 levels around 15,000 lines took 7.1 s and 1.8 GB; here 2,000 of each made
    # 8 MB of quote markers out of 34 KB.
    depth = 2000
    body = b"<blockquote>" * depth + b"x<br>" * depth + RESPONSE.replace(b"\n", b"<br>")
    html = message(body + b"</blockquote>" * depth, content_type="text/html")
    assert _peak(lambda: parse_message(html, include_quoted=True)) < 20 * len(html)
    (response,) = parse_message(html, include_quoted=True)
    assert response.quoted
    assert response.domain == "acme.com"
    assert any("nested deeper than 8" in warning for warning in response.warnings)


@pytest.mark.parametrize("section", [b"<![", b"<![ x", b"<![foo[ x ]]>"])
def test_a_marked_section_html_does_not_know_is_an_error(section: bytes) -> None:
    html = message(b"<p>### DRS</p>" + section + b" tail", content_type="text/html")
    with pytest.raises(UnreadableInputError, match="HTML of MIME part body"):
        parse_message(html)


def test_known_marked_sections_and_comments_are_skipped() -> None:
    html = b"<!--a <b> c--><![if !mso]><p>x</p><![endif]><![CDATA[<i>]]><pre>" + RESPONSE
    (response,) = parse_message(message(html + b"</pre>", content_type="text/html"))
    assert response.domain == "acme.com"


# -------------------------------------------------------------------------------------------
# MIME: parts and depth counted before the standard library builds them
# -------------------------------------------------------------------------------------------


def _nested(depth: int, content_type: Callable[[bytes], bytes], lines: int) -> bytes:
    head, tail = b"", b""
    for level in range(depth):
        boundary = f"b{level}".encode()
        head += content_type(boundary) + b"\n\n--" + boundary + b"\n"
        tail = b"\n--" + boundary + b"--\n" + tail
    return b"From: x@y\n" + head + b"Content-Type: text/plain\n\n" + b"x\n" * lines + tail


@pytest.mark.parametrize(
    "content_type",
    [
        lambda b: b"Content-Type: multipart/mixed; boundary*=''" + b,
        lambda b: b"Content-Type: multipart/mixed; boundary*0=" + b[:1] + b"; boundary*1=" + b[1:],
        lambda b: b"Content-Type:\n multipart/mixed;\n boundary=" + b,
        lambda b: b"content-type: Multipart/Mixed; BOUNDARY=" + b,
    ],
    ids=["rfc2231", "rfc2231-continued", "folded", "spelling"],
)
def test_nesting_is_refused_whatever_the_spelling(content_type: Callable[[bytes], bytes]) -> None:
    # 200 levels around 100,000 lines (213 KB): 2.3 s in the e-mail parser, whose pre-check
    # these spellings passed; 3.2 MB took 105 s.
    data = _nested(200, content_type, 100_000)
    started = time.perf_counter()
    with pytest.raises(LimitExceededError, match="max_depth=20"):
        parse_message(data)
    assert time.perf_counter() - started < 0.5


def test_parts_are_counted_before_they_are_built() -> None:
    # 20,000 empty parts: 7.4 MB allocated before max_parts triggered (32 MB of them: a
    # minute and 2.7 GB); here the count comes before the e-mail parser.
    data = b"Content-Type: multipart/mixed; boundary=b\n\n" + b"--b\n\n" * 20_000 + b"--b--\n"
    with pytest.raises(LimitExceededError, match="max_parts=1000"):
        parse_message(data)
    assert _peak(lambda: parse_message(data)) < 1_000_000


def test_parts_within_the_limits_pass_the_count() -> None:
    data = multipart(*[part(b"x")] * 30, part(RESPONSE))
    assert len(parse_message(data, limits=Limits(max_parts=31))) == 1
    with pytest.raises(LimitExceededError, match="max_parts=30"):
        parse_message(data, limits=Limits(max_parts=30))


def test_responses_per_message_are_capped() -> None:
    data = message(RESPONSE * 3)
    assert len(parse_message(data, limits=Limits(max_responses=3))) == 3
    with pytest.raises(LimitExceededError, match="max_responses=2") as caught:
        parse_message(data, limits=Limits(max_responses=2))
    assert caught.value.line == 11  # the block that would have been one too many
    # Across the parts of a message, and its quoted copies, too.
    forward = multipart(part(RESPONSE * 2), part(message(RESPONSE), "message/rfc822"))
    quoting = message(RESPONSE * 2 + b"> " + RESPONSE.replace(b"\n", b"\n> "))
    for data, quoted in ((forward, False), (quoting, True)):
        assert len(parse_message(data, include_quoted=quoted)) == 3
        with pytest.raises(LimitExceededError, match="max_responses=2"):
            parse_message(data, include_quoted=quoted, limits=Limits(max_responses=2))
    with pytest.raises(LimitExceededError, match="max_responses=1000"):
        parse_message(message(RESPONSE * 1001))


# -------------------------------------------------------------------------------------------
# Nothing lost without a word
# -------------------------------------------------------------------------------------------


def _only(data: bytes) -> drsparse.Response:
    (response,) = parse_message(data)
    assert response.domain == "acme.com"
    return response


def test_a_multipart_without_a_boundary_is_read_as_text() -> None:
    response = _only(message(b"--b\n\n" + RESPONSE + b"--b--\n", content_type="multipart/mixed"))
    assert "is a multipart/mixed that declares no boundary" in response.warnings[-1]


def test_a_boundary_that_differs_in_case_is_read_as_text() -> None:
    data = message(b"--B\n\n" + RESPONSE + b"--B--\n", content_type="multipart/mixed; boundary=b")
    assert "differ from its boundary 'b' in case only" in _only(data).warnings[-1]


@pytest.mark.parametrize("charset", ["utf-16", "cp500"])
def test_a_charset_that_turns_the_block_into_nonsense(charset: str) -> None:
    # ASCII of an even length decodes as UTF-16 without an error: to Chinese characters.
    body = RESPONSE + b"\n" * (len(RESPONSE) % 2)
    response = _only(message(body, content_type=f"text/plain; charset={charset}"))
    assert (
        f"declares {charset!r}, which turns its response block into nonsense"
        in (response.warnings[-1])
    )


def test_base64_declared_on_plain_text() -> None:
    data = message(RESPONSE, "Content-Transfer-Encoding: base64")
    assert "declared base64 but is plain text" in _only(data).warnings[-1]
    # Real base64 is decoded as ever, without a word.
    assert _only(message(base64.encodebytes(RESPONSE), "Content-Transfer-Encoding: base64"))


def test_a_block_cut_off_mid_line_at_the_end_of_the_input() -> None:
    cut = RESPONSE.rstrip(b"\n")  # "result.code: 10000" without its line break
    assert cut.endswith(b"10000")
    assert "may be cut off" in _only(message(cut)).warnings[-1]
    # A part before a boundary ends without one, and is whole.
    assert _only(multipart(part(cut))).warnings == ()
    assert _only(message(cut + b"\n")).warnings == ()


def test_an_mbox_separator_without_a_date(tmp_path: Path) -> None:
    # Two messages, not one: the second one's response was read as the first one's, with
    # the first one's headers (and its verdict of authenticity).
    mbox = tmp_path / "in.mbox"
    mbox.write_bytes(
        b"From a@b Fri Oct 25 09:15:02 2024\nFrom: x@y\n\nhello\n\n"
        b"From drs@knipp.de\nFrom: drs@knipp.de\nSubject: two\n\n" + RESPONSE
    )
    (first, nothing), (second, found) = list(drsparse.parse_messages(mbox))
    assert (first, nothing, second) == (f"{mbox}#1", [], f"{mbox}#2")
    assert isinstance(found, list)
    (response,) = found
    assert response.origin is not None
    assert response.origin.subject == "two"
    assert "'From drs@knipp.de' before this message has no date" in response.warnings[-1]
    # A body line that only starts like one stays in its message.
    mbox.write_bytes(b"From a@b Fri Oct 25 09:15:02 2024\n\nsee\n\nFrom drs@knipp.de\n" + RESPONSE)
    ((_, one),) = list(drsparse.parse_messages(mbox))
    assert isinstance(one, list)
    assert [response.warnings for response in one] == [()]


def test_a_maildir_in_a_tree_is_read_without_its_tmp(tmp_path: Path) -> None:
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "tree" / "inbox" / sub).mkdir(parents=True)
        (tmp_path / "tree" / "inbox" / sub / "1.eml").write_bytes(message(RESPONSE))
    sources = [item.source for item in drsparse.read_messages(tmp_path / "tree")]
    assert sources == [f"{tmp_path}/tree/inbox/{sub}/1.eml" for sub in ("cur", "new")]


def test_a_linked_folder_is_named_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "1.eml").write_bytes(message(RESPONSE))
    (tmp_path / "tree").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "tree" / "link")
    (item,) = drsparse.read_messages(tmp_path / "tree")
    assert item.source == f"{tmp_path}/tree/link"
    assert isinstance(item.error, UnreadableInputError)
    assert "a link to a folder, not followed" in item.error.msg


# -------------------------------------------------------------------------------------------
# Trust
# -------------------------------------------------------------------------------------------

FORGED = RESPONSE.replace(b"10000", b"10300").replace(b"acme.com", b"victim.de")


def _robot_mail(echo: bytes) -> bytes:
    """The robot's answer, signed by knipp.de: prose, its response, the application echoed."""
    return multipart(
        part(b"Dear customer, ..."),
        part(RESPONSE),
        part(echo, 'text/plain; name="application.txt"', "Content-Disposition: attachment"),
        headers=(TRUSTED,),
    )


def test_a_block_in_the_echoed_application_is_not_the_robots() -> None:
    data = _robot_mail(b"action: CREATE\n" + FORGED)
    (response,) = parse_message(data)
    assert (response.domain, response.authentic, response.quoted) == ("acme.com", True, False)
    robot, echoed = parse_message(data, include_quoted=True)
    assert robot == response
    assert echoed.domain == "victim.de"
    assert echoed.quoted
    assert echoed.authentic is None
    assert "where the robot echoes the application" in echoed.warnings[-1]
    # A malformed block there cannot fail the robot's message either.
    assert parse_message(_robot_mail(FORGED + b"junk\nx: y\n")) == [response]


def test_an_attached_message_has_a_response_part_of_its_own() -> None:
    forwarded = multipart(part(b"FYI"), part(RESPONSE), part(message(RESPONSE), "message/rfc822"))
    assert [r.origin.part for r in parse_message(forwarded) if r.origin] == ["2", "3.1"]


def _verdict(*headers: str, trust: drsparse.Trust) -> bool | None:
    (response,) = parse_message(message(RESPONSE, *headers), trust=trust)
    return response.authentic


def test_only_the_topmost_header_of_a_trusted_server_counts() -> None:
    # RFC 8601, section 5: the sender may have written a header with the server's id
    # below the one the server added.
    trust = drsparse.Trust(authserv_ids=("mx.example.net",))
    fail = "Authentication-Results: mx.example.net; dkim=fail header.d=knipp.de"
    assert _verdict(fail, TRUSTED, trust=trust) is False
    assert _verdict(TRUSTED, fail, trust=trust) is True
    other = "Authentication-Results: mx2.example.net; dkim=pass header.d=knipp.de"
    both = drsparse.Trust(authserv_ids=("mx.example.net", "mx2.example.net"))
    assert _verdict(other, fail, trust=both) is True  # the topmost of each id


@pytest.mark.parametrize(
    "domains", [("knipp.de", "reseller.example"), ("reseller.example", "knipp.de")]
)
def test_several_signing_domains_do_not_depend_on_their_order(domains: tuple[str, ...]) -> None:
    named = " ".join(f"header.d={domain}" for domain in domains)
    header = f"Authentication-Results: mx.example.net; dkim=pass {named}"
    assert _verdict(header, trust=drsparse.DEFAULT_TRUST) is True
    failed = header.replace("pass", "fail")
    assert _verdict(failed, trust=drsparse.DEFAULT_TRUST) is False


# -------------------------------------------------------------------------------------------
# Arguments checked where they come in
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (
            lambda: drsparse.parse_messages("x", limits=None),  # type: ignore[arg-type]
            TypeError,
            "limits=",
        ),
        (
            lambda: drsparse.read_messages("x", limits=None),  # type: ignore[arg-type]
            TypeError,
            "limits=",
        ),
        (
            lambda: drsparse.read_messages(3),  # type: ignore[arg-type]
            TypeError,
            "a path",
        ),
        (
            lambda: drsparse.parse_messages("x", trust="knipp.de"),  # type: ignore[arg-type]
            TypeError,
            "trust=",
        ),
        (
            lambda: drsparse.parse_message(b"", trust="knipp.de"),  # type: ignore[arg-type]
            TypeError,
            "trust=",
        ),
        (
            lambda: drsparse.parse_all("", limits=None),  # type: ignore[arg-type]
            TypeError,
            "limits=",
        ),
        (
            lambda: drsparse.format(None),  # type: ignore[arg-type]
            TypeError,
            "format() takes a Response",
        ),
        (lambda: Limits(max_pairs=-1), ValueError, "max_pairs"),
        (lambda: Limits(max_parts=0), ValueError, "max_parts"),
        (lambda: Limits(max_responses=True), TypeError, "max_responses"),
        (
            lambda: Limits(max_line_length=1.5),  # type: ignore[arg-type]
            TypeError,
            "max_line_length",
        ),
    ],
)
def test_invalid_arguments_name_themselves(
    call: Callable[[], object], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        call()  # at the call: not at the first message, nor deep inside


def test_limits_from_zero_where_it_means_something() -> None:
    assert Limits(max_depth=0).max_depth == 0
    assert parse_message(message(RESPONSE), limits=Limits(max_depth=0))
