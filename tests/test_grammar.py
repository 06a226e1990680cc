"""The grammar itself: conflict-free, collision-free, and the parser generated from it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lark import Lark

from tests.helpers import ROOT

GRAMMAR = (ROOT / "grammar" / "drs.lark").read_text(encoding="utf-8")
OPTIONS: dict[str, Any] = {"parser": "lalr", "lexer": "contextual"}

# interegular, which strict mode uses to find terminals that can match the same text, cannot
# read a possessive quantifier and silently leaves such a terminal out of the comparison. The
# strict build therefore also runs on the grammar with its possessive quantifiers made greedy,
# which match the same text (checked below with Hypothesis).
_REGEXP = re.compile(r"/((?:[^/\\\n]|\\.)*)/")


def _greedy(regexp: str) -> str:
    """``regexp`` with its possessive quantifiers (``++``, ``*+``, ``?+``) made greedy."""
    return re.sub(r"(?<!\\)([+*?])\+", r"\1", regexp)


GREEDY_GRAMMAR = _REGEXP.sub(lambda m: f"/{_greedy(m[1])}/", GRAMMAR)


def _build(text: str = GRAMMAR, **options: Any) -> Lark:
    return Lark(text, **OPTIONS, **options)


def _patterns(parser: Lark) -> dict[str, str]:
    return {t.name: t.pattern.to_regexp() for t in parser.terminals}


def test_grammar_builds_in_strict_mode() -> None:
    # strict=True fails on shift/reduce conflicts and on terminals that can match the same
    # text (checked with interegular), so an overlap introduced later fails here.
    assert GREEDY_GRAMMAR != GRAMMAR
    for text in (GRAMMAR, GREEDY_GRAMMAR):
        tokens = _build(text, strict=True).parse("result.code: 10000\n# c\nprose\n").children
        assert [getattr(token, "type", None) for token in tokens] == ["PAIRS", "COMMENT", "PROSE"]


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
        _build(colliding, strict=True)
    unseen = GRAMMAR.replace(comment, may_be_a_pair)
    assert unseen != GRAMMAR
    _build(unseen, strict=True)


POSSESSIVE = sorted(
    name for name, regexp in _patterns(_build()).items() if _greedy(regexp) != regexp
)


def test_the_key_is_written_once() -> None:
    assert POSSESSIVE == ["PAIRS", "PROSE"]
    assert GRAMMAR.count("[a-z0-9]++") == 2  # the first segment of a key and the others


@pytest.mark.parametrize("name", POSSESSIVE)
@given(text=st.text(alphabet="ab.:# \t\n09", max_size=60))
def test_the_possessive_terminals_match_what_the_greedy_ones_would(name: str, text: str) -> None:
    regexp = _patterns(_build())[name]
    possessive, greedy = re.compile(regexp), re.compile(_greedy(regexp))
    for start in range(len(text) + 1):
        found, expected = possessive.match(text, start), greedy.match(text, start)
        assert (found and found.end()) == (expected and expected.end())


def test_every_rule_quotes_the_spec() -> None:
    for quote in ("Each line holds one key-value pair", "colon separating the key", "comments"):
        assert quote in GRAMMAR


def test_the_grammar_states_only_what_it_uses() -> None:
    parser = _build()
    used = {symbol.name for rule in parser.rules for symbol in rule.expansion}
    named = set(re.findall(r"^([A-Z][A-Z_]*):", GRAMMAR, re.MULTILINE))
    assert named <= used | set(parser.lexer_conf.ignore)


# The parser drsparse runs is lark's standalone code generated from the grammar
# (grammar/generate.py) and committed; it must be the grammar's parser.


def test_the_committed_parser_is_the_grammars() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "grammar" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_check_fails_for_a_module_of_another_grammar(tmp_path: Path) -> None:
    # The check compares what determines the tables: a module built from an edited grammar
    # (here one terminal more permissive) must not pass.
    sys.path.insert(0, str(ROOT / "grammar"))
    try:
        import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "grammar"))
    edited = _build(GRAMMAR.replace("COMMENT: /[ \\t]*#", "COMMENT: /[ \\t]*[#;]"))
    assert generate.signature(edited) != generate.signature(generate.build())
    assert generate.signature(_build()) == generate.signature(generate.build())


_LINES = st.sampled_from(
    ["result.code: 10000", " a.1.b : x:y ", "# comment", "", "\t", "prose here", "a:", ":b"]
)


@given(st.lists(_LINES, max_size=12))
def test_the_generated_and_the_lark_parser_agree(lines: list[str]) -> None:
    from drsparse import _drs_parser

    text = "".join(line + "\n" for line in lines)

    def tokens(parser: Any) -> list[tuple[str, str, int]]:
        return [(t.type, str(t), t.line) for t in parser.parse(text).children]

    assert tokens(_drs_parser.Lark_StandAlone()) == tokens(_build())  # type: ignore[no-untyped-call]


def test_the_generated_parser_imports_neither_logging_nor_pickle() -> None:
    # Both only serve lark's grammar checks and caches (dataclasses only lark's TextSlice);
    # a mail pipe starts drsparse per e-mail.
    script = (
        "import sys; import drsparse._drs_parser as p; p.Lark_StandAlone().parse('a: 1\\n'); "
        "print(sorted({'logging', 'pickle', 'dataclasses'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_each_edit_of_larks_code_must_match_once() -> None:
    sys.path.insert(0, str(ROOT / "grammar"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "grammar"))
    with pytest.raises(SystemExit, match="matched 0 times"):
        generate.edited("nothing of lark's here\n")


def test_the_committed_parser_holds_every_edit() -> None:
    # The edits' text stands in grammar/generate.py and, generated, in the committed module:
    # a change of one side without regenerating fails here.
    sys.path.insert(0, str(ROOT / "grammar"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "grammar"))
    module = generate.MODULE.read_text(encoding="utf-8")
    for pattern, replacement in generate.EDITS:
        if replacement:
            assert replacement in module, pattern
        else:
            assert re.search(pattern, module) is None, pattern
