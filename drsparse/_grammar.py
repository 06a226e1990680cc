"""The Lark stage: the text of one block in, its lines as tokens out.

The parser is built once per process, lazily, from ``grammar/drs.lark``. It is not cached on
disk: lark's ``cache=True`` writes a pickle to a shared temporary folder, which is both a
permission problem and a place for someone else's pickle.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from lark import Lark, Token

__all__ = ["Pair", "Prose", "grammar_text", "parse_lines", "terminal_regexp"]

GRAMMAR_NAME = "drs.lark"


class Pair(NamedTuple):
    """A ``key: value`` line, split at its first colon, blanks around the parts removed."""

    key: str
    value: str
    line: int
    #: 1-based columns where the key and the value start (where errors are reported).
    key_column: int
    value_column: int
    #: The length of the whole line, for the line-length limit.
    length: int


class Prose(NamedTuple):
    """A line that is neither a pair, a comment nor blank."""

    text: str
    line: int
    column: int


def grammar_text() -> str:
    """The grammar's source, from the installed package or, in a source tree, from ``grammar/``."""
    packaged = resources.files("drsparse").joinpath("grammar", GRAMMAR_NAME)
    if packaged.is_file():
        # A wheel: pyproject.toml copies grammar/ into the package.
        return packaged.read_text(encoding="utf-8")
    # An editable install or a checkout: the grammar is at the top level, beside the package.
    return (Path(__file__).parent.parent / "grammar" / GRAMMAR_NAME).read_text(encoding="utf-8")


def _pair(token: Token) -> Pair:
    text = str(token)
    raw_key, _, raw_value = text.partition(":")
    value = raw_value.strip(" \t")
    column = token.column or 1
    key_start = len(raw_key) - len(raw_key.lstrip(" \t"))
    # Where the value starts: after the key, the colon and the blanks that follow it.
    value_start = len(raw_key) + 1 + (len(raw_value) - len(raw_value.lstrip(" \t")))
    return Pair(
        raw_key.strip(" \t"),
        value,
        token.line or 0,
        column + key_start,
        column + value_start,
        len(text),
    )


def _prose(token: Token) -> Prose:
    text = str(token)
    indent = len(text) - len(text.lstrip(" \t"))
    return Prose(text.strip(" \t"), token.line or 0, (token.column or 1) + indent)


def build(*, strict: bool = False) -> Lark:
    """A new parser. ``strict=True`` makes lark fail on any terminal collision or conflict."""
    from lark import Lark, Transformer

    class _Lines(Transformer[object, list[object]]):
        # Embedded in the LALR parser (no tree is built): terminals become Pair/Prose as they
        # are lexed, comments are dropped, and the block rule returns the list of lines.
        PAIR = staticmethod(_pair)
        PROSE = staticmethod(_prose)

        def COMMENT(self, token: Token) -> None:
            return None

        def start(self, children: list[object]) -> list[object]:
            return [child for child in children if child is not None]

    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        transformer=_Lines(),
        propagate_positions=False,
        maybe_placeholders=False,
        strict=strict,
    )


@functools.cache
def _parser() -> Lark:
    return build()


def parse_lines(block: str) -> list[Pair | Prose]:
    """Tokenize one block. Raises lark's exceptions; _parse.py translates them."""
    lines: list[Pair | Prose] = _parser().parse(block)  # type: ignore[assignment]
    return lines


@functools.cache
def terminal_regexp(name: str) -> str:
    """The regular expression of one of the grammar's terminals, for the block finder.

    Read from the grammar text itself so the header is defined in one place only, and without
    building the parser: text without a header never pays for lark.
    """
    import re

    match = re.search(rf"^{name}: /(.*)/$", grammar_text(), re.MULTILINE)
    if match is None:  # pragma: no cover - the grammar ships with the package
        raise LookupError(f"terminal {name} not found in {GRAMMAR_NAME}")
    return match.group(1)
