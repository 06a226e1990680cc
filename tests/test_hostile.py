"""Hostile and broken text: whatever comes in, a response (maybe with warnings) or our error.

The mail-level counterparts (broken MIME, lying charsets, limits on parts) are in
tests/test_mail.py; this file covers the text-level parser.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

import drsparse
from tests.helpers import SAMPLES
from tests.test_grammar import _build

DOCUMENTED = sorted(SAMPLES.glob("knipp/*.txt"))
ALL_VALID = sorted([*DOCUMENTED, *SAMPLES.glob("blocks/*.txt")])


def _outcome(text: str) -> list[drsparse.Response] | drsparse.DrsParseError:
    """The responses of ``text``, or the error of our family it raised (anything else fails)."""
    try:
        return drsparse.parse_all(text)
    except drsparse.DrsParseError as error:
        return error


# -- strategies built from the grammar itself ------------------------------------------------


@settings(max_examples=150, suppress_health_check=list(HealthCheck), deadline=None)
@given(from_lark(_build(), start="start"))
def test_texts_generated_from_the_grammar(lines: str) -> None:
    outcome = _outcome("### DRS Response\n###\n" + lines)
    if isinstance(outcome, list):
        # What the grammar accepts as one block is at most one response.
        assert len(outcome) <= 1
    else:
        assert outcome.line is None or outcome.line >= 1


# -- mutated documented blocks ---------------------------------------------------------------

_MUTATIONS = st.sampled_from(
    ["delete", "insert", "duplicate-line", "drop-line", "truncate", "swap-digit", "nul", "bom"]
)


def _mutate(text: str, kind: str, where: int, char: str) -> str:
    lines = text.split("\n")
    at = where % max(len(text), 1)
    line = where % len(lines)
    if kind == "delete":
        return text[:at] + text[at + 1 :]
    if kind == "insert":
        return text[:at] + char + text[at:]
    if kind == "duplicate-line":
        return "\n".join([*lines[: line + 1], lines[line], *lines[line + 1 :]])
    if kind == "drop-line":
        return "\n".join(lines[:line] + lines[line + 1 :])
    if kind == "truncate":
        return text[:at]
    if kind == "swap-digit":
        return re.sub(r"[0-9]", lambda _: char, text, count=1 + where % 3)
    if kind == "nul":
        return text[:at] + "\x00" + text[at:]
    return "\ufeff" + text  # a byte-order mark in front


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(DOCUMENTED),
    st.lists(
        st.tuples(_MUTATIONS, st.integers(0, 10_000), st.characters(exclude_categories=["Cs"])),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_documented_blocks(path: Path, mutations: list[tuple[str, int, str]]) -> None:
    text = path.read_text(encoding="utf-8")
    for kind, where, char in mutations:
        text = _mutate(text, kind, where, char)
    _outcome(text)  # raises (and fails the test) for anything but our own error


# -- specific broken inputs ------------------------------------------------------------------

HEAD = "### DRS Response\n###\n\n"


def test_a_byte_order_mark_in_front_is_ignored_with_a_warning() -> None:
    (response,) = drsparse.parse_all("\ufeff" + HEAD + "result.code: 10000\n")
    assert response.result.code == 10000
    assert any("byte-order mark" in w for w in response.warnings)


def test_nul_bytes_stay_in_values() -> None:
    response = drsparse.parse(HEAD + "result.code: 10000\nreference: a\x00b\n")
    assert response.reference == "a\x00b"


def test_a_block_cut_off_in_the_middle_of_a_key() -> None:
    response = drsparse.parse(HEAD + "result.code: 10000\nresult.ms")
    assert [f.key for f in response.fields] == ["result.code"]


def test_a_block_cut_off_in_the_middle_of_a_value_says_so() -> None:
    # "result.code: 1000" may be the start of 10000: read, but not without a word.
    response = drsparse.parse(HEAD + "result.code: 1000")
    assert response.result.code == 1000
    assert response.warnings == (
        "line 4: the text ends inside this line, without a line break: "
        "result.code '1000' may be cut off",
    )
    assert drsparse.parse(HEAD + "result.code: 1000\n").warnings == ()
    # Prose after the block, or a block that ends before the text does, is whole.
    assert drsparse.parse(HEAD + "result.code: 1000\nRegards").warnings == ()
    assert drsparse.parse(HEAD + "result.code: 1000\n-- \nsig").warnings == ()


def test_responses_in_one_text_are_capped() -> None:
    text = (HEAD + "result.code: 1\n") * 3
    assert len(drsparse.parse_all(text, limits=drsparse.Limits(max_responses=3))) == 3
    with pytest.raises(drsparse.LimitExceededError, match="max_responses=2") as caught:
        drsparse.parse_all(text, limits=drsparse.Limits(max_responses=2))
    assert caught.value.line == 9


def test_a_block_cut_off_before_its_code() -> None:
    with pytest.raises(drsparse.MissingKeyError):
        drsparse.parse(HEAD + "domain.name: acme.de\nresult.co")


def test_a_huge_index_builds_nothing_huge() -> None:
    with pytest.raises(drsparse.LimitExceededError) as caught:
        drsparse.parse(HEAD + "result.code: 1\nresult.99999999999.code: 2\n")
    assert "max_index" in str(caught.value)
    # Within the limit, a large index is one entry in a mapping, not a long list.
    response = drsparse.parse(HEAD + "result.code: 1\nresult.100000.code: 2\n")
    assert len(response.sub_results) == 1
    assert any("missing" in w for w in response.warnings)


def test_absurd_values_are_kept_as_text_or_refused() -> None:
    long_value = "x" * 60_000
    response = drsparse.parse(HEAD + f"result.code: 10000\nreference: {long_value}\n")
    assert response.reference == long_value
    with pytest.raises(drsparse.LimitExceededError):
        drsparse.parse(HEAD + "result.code: 1\nreference: " + "x" * 70_000 + "\n")
    with pytest.raises(drsparse.InvalidValueError):
        drsparse.parse(HEAD + "result.code: " + "9" * 5000 + "\n")


def test_many_pairs_beyond_the_limit() -> None:
    lines = "".join(f"x{n}: {n}\n" for n in range(10_001))
    with pytest.raises(drsparse.LimitExceededError, match="max_pairs"):
        drsparse.parse(HEAD + "result.code: 1\n" + lines)


def test_a_huge_block_costs_memory_in_proportion_to_its_size() -> None:
    # Allocations, counted by tracemalloc, not time: deterministic. The peak here is about
    # 5 MB; a plain + in the PAIRS terminal raised it to 81 MB (the regular expression engine
    # kept some 650 bytes of state per line), making every pair an object before the max_pairs
    # check to 29 MB.
    import tracemalloc

    text = HEAD + "result.code: 1\n" + "".join(f"r{n}.y: z\n" for n in range(100_000))
    drsparse.parse_all(HEAD + "result.code: 1\n")  # the parser is loaded outside the count
    tracemalloc.start()
    try:
        with pytest.raises(drsparse.LimitExceededError, match="more than 10000 pairs"):
            drsparse.parse_all(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * len(text), f"{peak:,} bytes at the peak for {len(text):,} characters"


# -- nothing lost ----------------------------------------------------------------------------

# An oracle independent of the grammar: a line inside a block that looks like "key: value".
_PAIR_LINE = re.compile(r"^[ \t]*([a-z0-9.]+)[ \t]*:[ \t]*(.*?)[ \t]*$")


@pytest.mark.parametrize("path", ALL_VALID, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_pair_line_is_in_fields(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    responses = drsparse.parse_all(text)
    assert responses
    kept = {(f.key, f.value, f.line) for r in responses for f in r.fields}
    headers = [n for n, line in enumerate(lines, 1) if "### DRS Response" in line]
    for response, header in zip(responses, headers, strict=True):
        last = max(f.line for f in response.fields)
        for number in range(header + 2, last + 1):
            match = _PAIR_LINE.match(lines[number - 1])
            if match and ".." not in match.group(1):
                assert (match.group(1), match.group(2), number) in kept, lines[number - 1]
    # And nothing invented: every field is a line of the text, as sent.
    for key, value, number in kept:
        assert key in lines[number - 1]
        assert value in lines[number - 1]


# -- broken and mutated mail -----------------------------------------------------------------

MESSAGES = sorted(SAMPLES.glob("mail/*.eml"))
BLOCK = b"### DRS Response\n###\n\nreference: R-7\nresult.code: 10000\n"


def _mail(body: bytes, *headers: str) -> bytes:
    head = "".join(f"{header}\n" for header in ("From: drs@knipp.de", *headers))
    return head.encode() + b"\n" + body


def _message_outcome(data: bytes) -> list[drsparse.Response] | drsparse.DrsParseError:
    try:
        return drsparse.parse_message(data)
    except drsparse.DrsParseError as error:
        return error


@pytest.mark.parametrize(
    ("name", "data"),
    [
        (
            "base64 with stray characters and no padding",
            _mail(
                base64.b64encode(BLOCK)[:-2] + b"!!*",
                "Content-Type: text/plain",
                "Content-Transfer-Encoding: base64",
            ),
        ),
        (
            "quoted-printable with bad escapes and a soft break at the end",
            _mail(
                BLOCK.replace(b"R-7", b"R=ZZ7") + b"=\n=",
                "Content-Type: text/plain",
                "Content-Transfer-Encoding: quoted-printable",
            ),
        ),
        (
            "a multipart cut off inside its second part",
            _mail(
                b"--b\nContent-Type: text/plain\n\nHello\n--b\nContent-Type: text/plain\n\n"
                + BLOCK[:-8],
                "Content-Type: multipart/mixed; boundary=b",
            ),
        ),
        (
            "a multipart without its boundary parameter",
            _mail(b"--b\n\n" + BLOCK + b"--b--\n", "Content-Type: multipart/mixed"),
        ),
        (
            "a charset that lies: UTF-16 declared on ASCII",
            _mail(BLOCK, "Content-Type: text/plain; charset=utf-16"),
        ),
        (
            "invalid UTF-8 declared as UTF-8",
            _mail(BLOCK.replace(b"R-7", b"R-\xff\xfe7"), "Content-Type: text/plain; charset=utf-8"),
        ),
        (
            "a charset no one knows",
            _mail(BLOCK, "Content-Type: text/plain; charset=x-klingon-8"),
        ),
        ("NUL bytes in the body", _mail(BLOCK.replace(b"R-7", b"R\x00-7"))),
        ("a byte-order mark before the block", _mail(b"\xef\xbb\xbf" + BLOCK)),
        ("headers only", b"From: drs@knipp.de\nSubject: cut off"),
    ],
)
def test_broken_mail_gives_a_response_or_our_error(name: str, data: bytes) -> None:
    outcome = _message_outcome(data)
    if isinstance(outcome, list):
        for response in outcome:
            assert response.result.code == 10000
    else:
        assert outcome.msg


def test_a_lying_charset_is_decoded_with_a_warning() -> None:
    (response,) = drsparse.parse_message(
        _mail(BLOCK.replace(b"R-7", b"R-\xe47"), "Content-Type: text/plain; charset=us-ascii")
    )
    assert response.reference == "R-\xe47"  # Latin-1, after UTF-8 failed
    assert any("us-ascii" in warning for warning in response.warnings)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(MESSAGES),
    st.lists(
        st.tuples(
            st.sampled_from(["delete", "insert", "flip", "truncate", "duplicate-line"]),
            st.integers(0, 100_000),
            st.integers(0, 255),
        ),
        min_size=1,
        max_size=5,
    ),
)
def test_mutated_sample_messages(path: Path, mutations: list[tuple[str, int, int]]) -> None:
    data = bytearray(path.read_bytes())
    for kind, where, byte in mutations:
        at = where % max(len(data), 1)
        if kind == "delete":
            del data[at : at + 1 + byte % 8]
        elif kind == "insert":
            data[at:at] = bytes([byte])
        elif kind == "flip" and data:
            data[at] ^= 1 << (byte % 8)
        elif kind == "truncate":
            del data[at:]
        else:
            end = data.find(b"\n", at)
            start = data.rfind(b"\n", 0, at) + 1
            if end != -1:
                data[end + 1 : end + 1] = data[start : end + 1]
    _message_outcome(bytes(data))  # anything but our own error fails the test


def test_every_control_character_a_record_warns_of_is_unprintable() -> None:
    # The record writer searches only values that are not printable for them.
    from drsparse._records import _CONTROL

    flagged = [chr(code) for code in range(0x10000) if re.fullmatch(_CONTROL, chr(code))]
    assert len(flagged) == 9 + 22 + 33 + 1 + 2 + 5 + 4
    assert not any(char.isprintable() for char in flagged)
