"""The text stage: where blocks start and end, how their lines split, quoted copies."""

from __future__ import annotations

import pytest

import drsparse
from drsparse._limits import DEFAULT_LIMITS, Limits
from drsparse._text import Block, Pair, blocks, quoted_copies

HEAD = "### DRS Response\n###\n"


def _blocks(text: str, limits: Limits = DEFAULT_LIMITS, **options: object) -> list[Block]:
    return list(blocks(text, limits, **options))  # type: ignore[arg-type]


def _pairs(text: str) -> list[Pair]:
    (block,) = _blocks(text)
    return block.pairs


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        ("result.code: 10000", "result.code", "10000"),
        ("  result.code  :  10000  ", "result.code", "10000"),
        (
            "\tresult.msg\t:\tCommand completed successfully\t",
            "result.msg",
            "Command completed successfully",
        ),
        (
            "result.1.data.1.value: 2003-11-28T23:00:00.0Z",
            "result.1.data.1.value",
            "2003-11-28T23:00:00.0Z",
        ),
        ("authinfo:", "authinfo", ""),
        ("authinfo:   ", "authinfo", ""),
        ("result.1.line.no: 43", "result.1.line.no", "43"),
        ("reference: a: b : c", "reference", "a: b : c"),
    ],
)
def test_pairs_split_at_the_first_colon(line: str, key: str, value: str) -> None:
    (pair,) = _pairs(HEAD + line + "\n")
    assert (pair.key, pair.value, pair.line) == (key, value, 3)


@pytest.mark.parametrize(
    "line",
    [
        "Result.Code: 10000",
        "result code: 10000",
        "result..code: 1",
        ".result: 1",
        "nothing here",
        "résultat: 1",
        "-- not a signature",
        "===",
    ],
)
def test_lines_that_are_not_pairs_end_the_block(line: str) -> None:
    assert _pairs(HEAD + "a: 1\n" + line + "\n") == [Pair("a", "1", 3, 1, 4)]
    with pytest.raises(drsparse.MalformedLineError) as caught:
        _blocks(HEAD + line + "\nb: 2\n")
    assert (caught.value.line, caught.value.column) == (3, 1)


def test_comments_and_blank_lines_are_dropped() -> None:
    pairs = _pairs(HEAD + "# a comment\n   \n\t\n  # indented comment\nresult.code: 1\n")
    assert pairs == [Pair("result.code", "1", 7, 1, 14)]


def test_columns_and_lines_of_a_run_of_pairs() -> None:
    text = "\n" * 9 + HEAD + "a: 1\n  b.c :2\n\n# note\nd:  3 \nprose here\n"
    assert _pairs(text) == [
        Pair("a", "1", 12, 1, 4),
        Pair("b.c", "2", 13, 3, 8),
        Pair("d", "3", 16, 1, 5),
    ]


def test_line_numbers_count_from_first_line() -> None:
    (block,) = _blocks(HEAD + "a: 1\n", first_line=40)
    assert (block.first_line, block.pairs[0].line) == (40, 42)


def test_blank_lines_around_the_header_are_tolerated() -> None:
    response = drsparse.parse("  ### DRS  Response  \n\n  \n ### \n\nresult.code: 10000\n")
    assert response.result.code == 10000
    assert response.fields[0].line == 6


@pytest.mark.parametrize(
    ("text", "line", "column", "ends"),
    [
        ("### DRS Response\nresult.code: 1\n", 2, 1, False),
        ("### DRS Response\n\n  \n# comment\n", 4, 1, False),
        ("### DRS Response\n### x\n", 2, 1, False),
        ("### DRS Response\n", 1, 17, True),
        ("### DRS Response", 1, 17, True),
        ("### DRS Response\n\n\n", 1, 17, True),
        ("### DRS Response\n\n-- \nsignature\n", 1, 17, True),
    ],
)
def test_a_header_without_its_hashes_line(text: str, line: int, column: int, ends: bool) -> None:
    with pytest.raises(drsparse.MalformedLineError) as caught:
        _blocks(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert ("the text ends after the block header" in caught.value.msg) is ends


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_line_endings_give_the_same_lines(ending: str) -> None:
    text = ending.join(["intro", "### DRS Response", "###", "", "result.code: 10000", "x: 1"])
    response = drsparse.parse(text)
    assert [(f.key, f.value, f.line) for f in response.fields] == [
        ("result.code", "10000", 5),
        ("x", "1", 6),
    ]


def test_mixed_line_endings() -> None:
    text = "### DRS Response\r\n###\r\rresult.code: 10000\nresult.msg: ok\r\n"
    response = drsparse.parse(text)
    assert [f.line for f in response.fields] == [4, 5]


def test_the_pairs_stop_one_beyond_the_limit() -> None:
    text = HEAD + "a: 1\nb: 2\n\nc: 3\nd: 4\n"
    assert len(_pairs(text)) == 4
    with pytest.raises(drsparse.LimitExceededError) as caught:
        _blocks(text, Limits(max_pairs=2))
    assert caught.value.line == 6  # the third pair, the first beyond the limit
    assert len(_blocks(text, Limits(max_pairs=4))[0].pairs) == 4


def test_a_line_beyond_the_length_limit() -> None:
    with pytest.raises(drsparse.LimitExceededError) as caught:
        _blocks(HEAD + "a: 1\nb: " + "x" * 30 + "\n", Limits(max_line_length=20))
    assert (caught.value.line, caught.value.column) == (4, 1)


def test_a_block_ends_at_the_next_header() -> None:
    text = HEAD + "result.code: 10320\n" + HEAD + "result.code: 10000\n"
    assert [r.result.code for r in drsparse.parse_all(text)] == [10320, 10000]


@pytest.mark.parametrize("separator", ["-- ", "--"])
def test_a_block_ends_at_a_signature_separator(separator: str) -> None:
    text = HEAD + f"result.code: 10000\n{separator}\nphone: +49 231 1\n"
    (response,) = drsparse.parse_all(text)
    assert [f.key for f in response.fields] == ["result.code"]


def test_prose_after_the_block_ends_it() -> None:
    text = HEAD + "result.code: 10000\n\nThanks for your order.\nphone numbers: below\n"
    (response,) = drsparse.parse_all(text)
    assert [f.key for f in response.fields] == ["result.code"]
    assert response.warnings == ()


def test_prose_followed_by_a_pair_is_a_malformed_line() -> None:
    text = HEAD + "result.code: 10000\n  Oops, a stray line\n\nresult.msg: ok\n"
    with pytest.raises(drsparse.MalformedLineError) as caught:
        drsparse.parse(text)
    assert (caught.value.line, caught.value.column) == (4, 3)
    assert "Oops, a stray line" in str(caught.value)


def test_in_a_quoted_copy_prose_ends_the_block_whatever_follows() -> None:
    text = HEAD + "result.code: 10000\nThe application:\ndomain: x.de\n"
    (block,) = _blocks(text, quoted=True)
    assert [pair.key for pair in block.pairs] == ["result.code"]


def test_a_quoted_block_is_not_a_block() -> None:
    assert drsparse.parse_all("> ### DRS Response\n> ###\n> result.code: 10000\n") == []


def test_quoted_copies_are_runs_at_one_depth() -> None:
    text = (
        "Hello\n"
        "> ### DRS Response\n"
        "> ###\n"
        ">result.code: 10000\n"
        ">> ### DRS Response\n"
        "> > ###\n"
        ">>  result.code: 10320\n"
        "\n"
        "> not a block\n"
    )
    assert list(quoted_copies(text)) == [
        (2, "### DRS Response\n###\nresult.code: 10000\n"),
        (5, "### DRS Response\n###\n result.code: 10320\n"),
    ]
    codes = [
        [pair.value for pair in block.pairs]
        for first, copy in quoted_copies(text)
        for block in _blocks(copy, first_line=first, quoted=True)
    ]
    assert codes == [["10000"], ["10320"]]


def test_a_byte_order_mark_is_ignored_with_a_warning() -> None:
    (block,) = _blocks("\ufeff" + HEAD + "result.code: 1\n")
    assert block.pairs[0].line == 3
    assert "byte-order mark" in block.warnings[0]


def test_parse_names_itself_in_its_type_error() -> None:
    with pytest.raises(TypeError, match=r"^parse\(\) takes text"):
        drsparse.parse(b"### DRS Response\n")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^parse_all\(\) takes text"):
        drsparse.parse_all(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="limits"):
        drsparse.parse("x", limits=None)  # type: ignore[arg-type]


def test_parse_given_a_whole_email_points_to_parse_message() -> None:
    mail = (
        "Received: from mx.example.net\nFrom: robot@knipp.de\nContent-Type: text/plain\n"
        "Content-Transfer-Encoding: base64\n\nIyMjIERSUyBSZXNwb25zZQ==\n"
    )
    with pytest.raises(drsparse.NoResponseError, match=r"use parse_message\(\)"):
        drsparse.parse(mail)
    with pytest.raises(drsparse.NoResponseError) as caught:
        drsparse.parse("Dear reseller,\nnothing here.\n")
    assert "parse_message" not in str(caught.value)


@pytest.mark.parametrize(
    ("option", "value"),
    [("limits", None), ("trust", "knipp.de"), ("codes", "drs.tsv"), ("source", 3)],
)
def test_parse_message_checks_its_arguments(option: str, value: object) -> None:
    with pytest.raises(TypeError, match=option):
        drsparse.parse_message(b"x", **{option: value})  # type: ignore[arg-type]
