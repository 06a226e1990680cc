"""The Lark stage: the text of one block in, its lines as tokens out.

The parser is built once per process, lazily, and not from the grammar: building the LALR
tables from ``grammar/drs.lark`` takes about 150 ms, and even importing lark and loading saved
tables some 20 ms, which a mail pipe would pay for every e-mail. At build time a hatch hook
(``grammar/hatch_build.py``) runs lark's standalone generator on the grammar and writes
``drsparse/_drs_parser.py``: lark's own lexer and LALR parser (of the lark version the build
used), the tables, this grammar's text and the parser options, in one module that imports in
about 10 ms. The process uses that module when its grammar text and options are the ones
installed; otherwise (an edited grammar, a plain checkout without the module, a module that
does not load) the parser is built from the grammar with the installed lark. Both are lark's
code with the same tables (tests/test_grammar.py checks that they read texts alike). Nothing
is ever written at run time: lark's ``cache=True`` writes a pickle to a shared temporary
folder, which is both a permission problem and a place for someone else's pickle.

The generated module is lark's code, under the Mozilla Public License 2.0 as its header says.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os.path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

if TYPE_CHECKING:
    from pathlib import Path

    from lark import Lark, Token, Tree

__all__ = [
    "GENERATED_MODULE",
    "BlockSyntaxError",
    "Pair",
    "Parser",
    "Prose",
    "build",
    "generate_to",
    "grammar_text",
    "lines_of",
    "load_parser",
    "parse_lines",
    "terminal_regexp",
]

GRAMMAR_NAME = "drs.lark"
#: The standalone parser the build hook writes into the package.
GENERATED_MODULE = "drsparse._drs_parser"


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


class BlockSyntaxError(Exception):
    """The block does not fit the grammar: its header line is not followed by a '###' line.

    The grammar takes any line after the header, so that is the only way a block can fail it.
    Raised in place of the parser's own exceptions, which differ between the generated module
    and lark; ``_parse.py`` turns it into a :class:`MalformedLineError`.
    """

    def __init__(self, line: int, column: int, *, at_end: bool, detail: str = "") -> None:
        super().__init__(detail or f"line {line}, column {column}")
        #: Where the parser stopped, counted from the block's header line (1) and column 1;
        #: meaningless with ``at_end`` (the caller knows where the text ends).
        self.line = line
        self.column = column
        #: True when the text ends after the header line.
        self.at_end = at_end
        #: The parser's own message, for an error the grammar does not lead one to expect.
        self.detail = detail


# os.path rather than importlib.resources or pathlib: those two cost more import time than the
# rest of drsparse, in a command that a mail pipe starts for every e-mail. The package is
# always a directory on disk (the wheel is not zip-safe: the grammar and the code tables are read
# as files).
_HERE = os.path.dirname(os.path.abspath(__file__))


# Read once per process: the parser, the check of the generated one and the block and quote
# patterns built from its terminals all start from this text.
@functools.cache
def grammar_text() -> str:
    """The grammar's source, from the installed package or, in a source tree, from ``grammar/``."""
    # A wheel: pyproject.toml copies grammar/ into the package. An editable install or a
    # checkout: the grammar is at the top level, beside the package.
    for folder in (os.path.join(_HERE, "grammar"), os.path.join(_HERE, os.pardir, "grammar")):
        path = os.path.join(folder, GRAMMAR_NAME)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as file:
                return file.read()
    raise FileNotFoundError(f"{GRAMMAR_NAME} is missing from the drsparse installation")


def _pair(text: str, line: int) -> Pair:
    """One pair line (without its line break), which starts at column 1 of ``line``."""
    raw_key, _, raw_value = text.partition(":")
    value = raw_value.strip(" \t")
    key_start = len(raw_key) - len(raw_key.lstrip(" \t"))
    # Where the value starts: after the key, the colon and the blanks that follow it.
    value_start = len(raw_key) + 1 + (len(raw_value) - len(raw_value.lstrip(" \t")))
    return Pair(raw_key.strip(" \t"), value, line, 1 + key_start, 1 + value_start, len(text))


def _prose(token: Token, offset: int) -> Prose:
    text = str(token)[:-1]
    indent = len(text) - len(text.lstrip(" \t"))
    return Prose(text.strip(" \t"), (token.line or 1) + offset, (token.column or 1) + indent)


def lines_of(
    tree: Tree[Token], first_line: int = 1, max_pairs: int | None = None
) -> list[Pair | Prose]:
    """The lines of a parsed block as Pair and Prose (comments dropped), numbered from
    ``first_line``: no lark type leaves this module.

    With ``max_pairs``, the lines stop after the pair one beyond it: that is enough for the
    model to report the limit, and a hostile block of a million pairs never becomes a million
    objects.

    The tree is flat, one token per line or run of pair lines, so a loop does what a lark
    Transformer would, and without its visitor machinery.
    """
    offset = first_line - 1
    room = -1 if max_pairs is None else max_pairs + 1  # pairs still wanted; -1: no bound
    lines: list[Pair | Prose] = []
    # The start rule's children are all tokens: the grammar has no other rule that is kept.
    # Every token is whole lines, so each starts at column 1.
    for token in cast("list[Token]", tree.children):
        if token.type == "PAIRS":
            # A run of pair lines: each piece between line breaks is one PAIR. The last piece
            # is what follows the final line break (nothing), or with a bound, the rest.
            pieces = str(token).split("\n", room)[:-1]
            line = (token.line or 1) + offset
            lines += [_pair(text, number) for number, text in enumerate(pieces, start=line)]
            if room >= 0:
                room -= len(pieces)
                if room == 0:
                    break
        elif token.type == "PROSE":
            lines.append(_prose(token, offset))
    return lines


def _options(*, strict: bool) -> dict[str, object]:
    return {"parser": "lalr", "lexer": "contextual", "strict": strict}


def build(*, strict: bool = False, text: str | None = None) -> Lark:
    """A new parser from the grammar. ``strict=True`` fails on any collision or conflict."""
    from lark import Lark

    return Lark(grammar_text() if text is None else text, **_options(strict=strict))


def generate_to(path: Path, text: str) -> None:
    """Write the standalone parser of grammar ``text`` to ``path`` (used by the build hook).

    lark's generator writes its lexer and parser code and the tables; the grammar text and the
    options are appended, so that the package can tell whether the module was made from what
    it ships (comparing the text itself: a hash would cost an import at every start). The file
    is written beside ``path`` and then renamed over it, so that a build interrupted halfway
    leaves the old module or none, never half of one.
    """
    from lark.tools.standalone import gen_standalone

    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        out.write("# Generated by drsparse's build hook (grammar/hatch_build.py) from drs.lark.\n")
        gen_standalone(build(text=text), out=out)  # type: ignore[no-untyped-call]
        out.write(f"\nGRAMMAR = {text!r}\nOPTIONS = {_options(strict=False)!r}\n")
    os.replace(partial, path)


class Parser(NamedTuple):
    """A parser for the grammar, generated or built, with the namespace of its exceptions."""

    #: ``lark.Lark`` or the generated module's copy of it.
    lark: Any
    #: Where its exceptions are (``UnexpectedInput``, ``UnexpectedEOF``, ``LarkError``): the
    #: generated module defines its own copies of lark's.
    errors: Any

    def lines(
        self, block: str, first_line: int = 1, max_pairs: int | None = None
    ) -> list[Pair | Prose]:
        """Tokenize one block whose header is at ``first_line`` of the whole text.

        Raises :class:`BlockSyntaxError` when the header is not followed by its '###' line.
        """
        errors = self.errors
        try:
            tree = self.lark.parse(block)
        except errors.UnexpectedInput as exc:
            token = getattr(exc, "token", None)
            at_end = isinstance(exc, errors.UnexpectedEOF) or (
                token is not None and token.type == "$END"
            )
            raise BlockSyntaxError(exc.line or 1, exc.column or 1, at_end=at_end) from None
        except errors.LarkError as exc:  # pragma: no cover - defensive: none other expected
            raise BlockSyntaxError(1, 1, at_end=False, detail=str(exc)) from None
        return lines_of(tree, first_line, max_pairs)


def load_parser(text: str, module: str = GENERATED_MODULE) -> Parser:
    """The generated parser of ``module`` if it was made from grammar ``text`` with the current
    options, else one built from ``text`` with lark."""
    # Not generated (a plain checkout), damaged, made by another version of drsparse: a build
    # artifact that does not load is not used, whatever it raises.
    with contextlib.suppress(Exception):
        generated = importlib.import_module(module)
        if text == generated.GRAMMAR and _options(strict=False) == generated.OPTIONS:
            return Parser(generated.Lark_StandAlone(), generated)
    from lark import exceptions

    return Parser(build(text=text), exceptions)


@functools.cache
def _parser() -> Parser:
    return load_parser(grammar_text())


def parse_lines(
    block: str, first_line: int = 1, max_pairs: int | None = None
) -> list[Pair | Prose]:
    """:meth:`Parser.lines` with the package's parser, loaded at the first call."""
    return _parser().lines(block, first_line, max_pairs)


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
