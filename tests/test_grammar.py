"""The grammar itself: conflict-free, collision-free, and the documented lexical rules."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

import drsparse
from drsparse._grammar import (
    GENERATED_MODULE,
    BlockSyntaxError,
    Pair,
    Parser,
    Prose,
    _parser,
    build,
    generate_to,
    grammar_text,
    lines_of,
    load_parser,
    parse_lines,
    terminal_regexp,
)

HEAD = "### DRS Response\n###\n"


# interegular, which strict mode uses to find terminals that can match the same text, cannot
# read a possessive quantifier and silently leaves such a terminal out of the comparison. The
# strict build therefore also runs on the grammar with its possessive quantifiers made greedy
# and PAIRS written as PAIR+, which match the same text (checked below with Hypothesis).
_TERMINAL_LINE = re.compile(r"^([A-Z_]+): /(.*)/$", re.MULTILINE)


def _greedy(regexp: str) -> str:
    """``regexp`` with its possessive quantifiers (``++``, ``*+``, ``?+``) made greedy."""
    return re.sub(r"(?<!\\)([+*?])\+", r"\1", regexp)


TERMINALS = [match.group(1) for match in _TERMINAL_LINE.finditer(grammar_text())]
POSSESSIVE = [name for name in TERMINALS if _greedy(terminal_regexp(name)) != terminal_regexp(name)]
GREEDY_GRAMMAR = _TERMINAL_LINE.sub(
    lambda m: f"{m[1]}: PAIR+" if m[1] == "PAIRS" else f"{m[1]}: /{_greedy(m[2])}/",
    grammar_text(),
)


def test_grammar_builds_in_strict_mode() -> None:
    # strict=True fails on shift/reduce conflicts and on terminals that can match the same
    # text (checked with interegular), so an overlap introduced later fails here.
    assert POSSESSIVE == ["PAIR", "PAIRS", "PROSE"]
    # No terminal of the greedy copy has a possessive quantifier left.
    assert all(_greedy(m[2]) == m[2] for m in _TERMINAL_LINE.finditer(GREEDY_GRAMMAR))
    for text in (grammar_text(), GREEDY_GRAMMAR):
        parser = build(strict=True, text=text)
        tree = parser.parse(HEAD + "result.code: 10000\n")
        assert lines_of(tree) == [Pair("result.code", "10000", 3, 1, 14, 18)]


def test_strict_mode_sees_a_collision_only_in_the_greedy_form() -> None:
    from lark.exceptions import LexError

    # A "comment" that may also be a pair (and so collides with PAIRS): in the greedy form
    # interegular sees it; in the possessive one it does not, which is why the greedy form is
    # built at all. (Should a later interegular read possessive quantifiers, the second half
    # fails, and the greedy copy can go.)
    comment = "COMMENT: /[ \\t]*#"
    may_be_a_pair = "COMMENT: /[ \\t]*(?:#|a:)"
    colliding = GREEDY_GRAMMAR.replace(comment, may_be_a_pair)
    assert colliding != GREEDY_GRAMMAR
    with pytest.raises(
        LexError, match=r"Collision between Terminals (COMMENT and PAIRS|PAIRS and COMMENT)"
    ):
        build(strict=True, text=colliding)
    unseen = grammar_text().replace(comment, may_be_a_pair)
    assert unseen != grammar_text()
    build(strict=True, text=unseen)


@pytest.mark.parametrize("name", POSSESSIVE)
@given(text=st.text(alphabet="ab.:# \t\n09", max_size=60))
def test_the_possessive_terminals_match_what_the_greedy_ones_would(name: str, text: str) -> None:
    possessive = re.compile(terminal_regexp(name))
    greedy = re.compile(_greedy(terminal_regexp(name)))
    for start in range(len(text) + 1):
        found, expected = possessive.match(text, start), greedy.match(text, start)
        assert (found and found.end()) == (expected and expected.end())


@given(st.text(alphabet="ab.:# \t\n09", max_size=60))
def test_the_run_of_pairs_is_pair_repeated(text: str) -> None:
    run = re.compile(terminal_regexp("PAIRS"))
    repeated = re.compile(f"(?:{_greedy(terminal_regexp('PAIR'))})+")
    for start in range(len(text) + 1):
        found, expected = run.match(text, start), repeated.match(text, start)
        assert (found and found.end()) == (expected and expected.end())


# The parser the package runs is lark's standalone code generated from the grammar by the build
# hook; without it (or with a stale one) the parser is built with lark. Both must read texts
# the same way, errors included.


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly generated parser module, importable under its own name for this module.

    Beside it lie copies spoiled in the ways a module can go wrong: ``<name>_damaged`` (cut off
    halfway, as by an interrupted build), ``<name>_other_options`` (made with other options)
    and ``<name>_foreign`` (a module without the grammar text).
    """
    import sys

    folder = tmp_path_factory.mktemp("generated")
    name = "drs_generated_for_test"
    generate_to(folder / f"{name}.py", grammar_text())
    code = (folder / f"{name}.py").read_text(encoding="utf-8")
    (folder / f"{name}_damaged.py").write_text(code[: len(code) // 2], encoding="utf-8")
    options = re.search(r"^OPTIONS = .*$", code, re.MULTILINE)
    assert options is not None
    other = code.replace(options.group(), "OPTIONS = {'parser': 'lalr', 'lexer': 'basic'}")
    (folder / f"{name}_other_options.py").write_text(other, encoding="utf-8")
    (folder / f"{name}_foreign.py").write_text("x = 1\n", encoding="utf-8")
    assert not list(folder.glob("*.partial")), "generate_to renames its file into place"
    sys.path.insert(0, str(folder))
    try:
        yield name
    finally:
        sys.path.remove(str(folder))


def _source(module: str, text: str | None = None) -> str:
    return type(load_parser(grammar_text() if text is None else text, module).lark).__module__


def test_the_generated_parser_is_used_only_when_it_matches_the_grammar(generated: str) -> None:
    assert _source(generated) == generated
    # Another grammar text (an edited grammar, a stale module): built from the text with lark.
    assert _source(generated, grammar_text() + "\n") == "lark.lark"
    # No generated module (a plain checkout), or one that cannot be used: the same.
    assert _source("drs_no_such_module") == "lark.lark"
    for spoiled in ("damaged", "other_options", "foreign"):
        assert _source(f"{generated}_{spoiled}") == "lark.lark", spoiled


def test_the_installation_runs_the_generated_parser() -> None:
    # make test installs the package, and the build hook generates the module: a failure here
    # means the hook did not run, or the grammar was edited since (reinstall to regenerate).
    assert type(_parser().lark).__module__ == GENERATED_MODULE


@functools.cache
def _loaded(module: str) -> Parser:
    return load_parser(grammar_text(), module)


def _outcome(module: str, text: str) -> object:
    try:
        return _loaded(module).lines(text)
    except BlockSyntaxError as exc:
        return ("error", exc.line, exc.column, exc.at_end, exc.detail)


_LINES = st.sampled_from(
    [
        "### DRS Response",
        "###",
        "result.code: 10000",
        " a.1.b : x:y ",
        "# comment",
        "",
        "\t",
        "prose here",
        "-- ",
        "a:",
        ":b",
    ]
)


@given(st.lists(_LINES, max_size=12), st.booleans())
def test_the_generated_and_the_lark_parser_agree(
    generated: str, lines: list[str], head: bool
) -> None:
    text = (HEAD if head else "") + "".join(line + "\n" for line in lines)
    assert _outcome(generated, text) == _outcome("drs_no_such_module", text)


@pytest.mark.parametrize("module", ["generated", "drs_no_such_module"])
@pytest.mark.parametrize(
    ("text", "line", "column", "at_end"),
    [
        ("### DRS Response\nresult.code: 1\n", 2, 1, False),
        ("### DRS Response\n\n  \n# comment\n", 4, 1, False),
        ("### DRS Response\n", 1, 1, True),
        ("### DRS Response\n\n\n", 1, 1, True),
    ],
)
def test_both_parsers_raise_the_same_block_syntax_error(
    request: pytest.FixtureRequest, *, module: str, text: str, line: int, column: int, at_end: bool
) -> None:
    name = request.getfixturevalue("generated") if module == "generated" else module
    with pytest.raises(BlockSyntaxError) as raised:
        load_parser(grammar_text(), name).lines(text)
    assert (raised.value.at_end, raised.value.detail) == (at_end, "")
    if not at_end:
        assert (raised.value.line, raised.value.column) == (line, column)


def test_every_rule_quotes_the_spec() -> None:
    text = grammar_text()
    for quote in ("starts with the lines", "colon separating the key", "are comments"):
        assert quote in text


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
    (pair,) = parse_lines(HEAD + line + "\n")
    assert isinstance(pair, Pair)
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
def test_lines_that_are_not_pairs_are_prose(line: str) -> None:
    (prose,) = parse_lines(HEAD + line + "\n")
    assert isinstance(prose, Prose)


def test_comments_and_blank_lines_are_dropped() -> None:
    lines = parse_lines(HEAD + "# a comment\n   \n\t\n  # indented comment\nresult.code: 1\n")
    assert lines == [Pair("result.code", "1", 7, 1, 14, 14)]


def test_blank_lines_around_the_header_are_tolerated() -> None:
    response = drsparse.parse("  ### DRS  Response  \n\n  \n ### \n\nresult.code: 10000\n")
    assert response.result.code == 10000
    assert response.fields[0].line == 6


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


def test_block_finder_uses_the_grammar_terminals() -> None:
    # The header is defined once, in the grammar; the block finder reads it from there.
    assert re.fullmatch(terminal_regexp("HEADER_LINE"), "### DRS Response")
    assert re.fullmatch(terminal_regexp("SIGNATURE"), "-- ")


def test_a_run_of_pairs_is_one_token_made_of_pair_lines() -> None:
    # PAIRS is PAIR repeated (written out only to make the repetition possessive): the
    # dequoting in _mail.py reads the single-line PAIR, the parser the run.
    assert terminal_regexp("PAIRS") == f"(?:{terminal_regexp('PAIR')})++"
    text = HEAD + "a: 1\n  b.c :2\n\n# note\nd:  3 \nprose here\n"
    tokens = build().parse(text).children
    assert [getattr(token, "type", None) for token in tokens] == [
        "PAIRS",
        "COMMENT",
        "PAIRS",
        "PROSE",
    ]
    assert lines_of(build().parse(text), first_line=10) == [
        Pair("a", "1", 12, 1, 4, 4),
        Pair("b.c", "2", 13, 3, 8, 8),
        Pair("d", "3", 16, 1, 5, 6),
        Prose("prose here", 17, 1),
    ]


def test_lines_stop_one_pair_beyond_the_limit() -> None:
    text = HEAD + "a: 1\nb: 2\n\nc: 3\nd: 4\n"
    lines = lines_of(build().parse(text), max_pairs=2)
    assert [line.key for line in lines if isinstance(line, Pair)] == ["a", "b", "c"]
    assert len(lines_of(build().parse(text), max_pairs=3)) == 4


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


def test_a_quoted_block_is_not_a_block() -> None:
    assert drsparse.parse_all("> ### DRS Response\n> ###\n> result.code: 10000\n") == []
