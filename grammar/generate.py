"""Generate drsparse/_drs_parser.py, the parser of grammar/drs.lark, with lark's standalone tool.

    python grammar/generate.py          write the module (after every change of the grammar)
    python grammar/generate.py --check  exit 1 if the committed module is not the grammar's
                                        parser (the test suite runs this)

The module is committed, so that neither an installation nor a start of drsparse builds the
LALR tables: importing it costs about half of importing lark and building them, which matters
to a mail pipe that starts drsparse for every e-mail. It is lark's own lexer and parser code
with the tables of our grammar, under the Mozilla Public License 2.0 (LICENSES/MPL-2.0.txt).

lark numbers its parse states in an order that varies from run to run, so two generations of
the same grammar differ in their text. The check therefore compares what determines the
tables: the terminals with their patterns, the rules, the ignored terminals and the options.

Edits of lark's code (EDITS) keep imports off the start of every mail pipe: its logger (the
logging module, for messages that only grammar checks and caches emit) becomes a silent
stand-in, the pickle, zlib and base64 imports, which only lark's own cache files use, go, and
the one dataclass, TextSlice, becomes a plain class. Each edit must match lark's text exactly
once, so that a lark that changed fails loudly.
The module starts with ``from __future__ import annotations``: lark's code annotates its
functions with typing's generics, whose evaluation at import was half the module's import
time, and reads no annotation at run time.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = ROOT / "grammar" / "drs.lark"
MODULE = ROOT / "drsparse" / "_drs_parser.py"
#: LALR with the contextual lexer: lines are tokens, and no two terminals collide.
OPTIONS: dict[str, Any] = {"parser": "lalr", "lexer": "contextual"}
HEAD = (
    "# Generated from grammar/drs.lark by grammar/generate.py: do not edit, regenerate.\n"
    "# lark's standalone parser, with the edits described in grammar/generate.py, under the\n"
    "# Mozilla Public License 2.0 (LICENSES/MPL-2.0.txt).\n"
    "# ruff: noqa\n"
    "# mypy: ignore-errors\n"
    "from __future__ import annotations  # drsparse: annotations are not evaluated at import\n"
)

_QUIET_LOGGER = """\
class _QuietLogger:
    # drsparse: lark's logger without the logging module; lark logs nothing when it parses.
    def __getattr__(self, name):
        return lambda *args, **kwargs: None


logger = _QuietLogger()
"""

_TEXT_SLICE = """\
class TextSlice(Generic[AnyStr]):
    # drsparse: a plain class instead of a frozen dataclass. Importing dataclasses and the
    # methods its decorator compiles were a quarter of this module's import time; lark reads
    # the three fields and never compares, hashes or changes a slice.
    __slots__ = ("text", "start", "end")

    def __init__(self, text, start, end):
        self.text = text
        self.start = start
        self.end = end
        self.__post_init__()

"""

#: (pattern, replacement): lark's code as its standalone tool writes it, and what it becomes.
EDITS: list[tuple[str, str]] = [
    (r"import logging\n", ""),
    (
        r'logger: logging\.Logger = logging\.getLogger\("lark"\)\n'
        r"(?:.*\n)*?logger\.setLevel\(logging\.CRITICAL\)\n",
        _QUIET_LOGGER,
    ),
    (r"import pickle, zlib, base64\n", ""),
    (r"from dataclasses import dataclass\n", ""),
    (
        r"@dataclass\(frozen=True\)\nclass TextSlice\(Generic\[AnyStr\]\):\n    #--\n",
        _TEXT_SLICE,
    ),
]


def edited(code: str) -> str:
    """lark's generated ``code`` with EDITS applied, each exactly once."""
    import re

    for pattern, replacement in EDITS:
        code, count = re.subn(pattern, lambda _, r=replacement: r, code)  # type: ignore[misc]
        if count != 1:
            raise SystemExit(f"grammar/generate.py: {pattern!r} matched {count} times, not once")
    return code


def build(**options: Any) -> Any:
    """The grammar's parser built by lark (``strict=True`` fails on any collision)."""
    from lark import Lark

    return Lark(GRAMMAR.read_text(encoding="utf-8"), **OPTIONS, **options)


def signature(parser: Any) -> tuple[object, ...]:
    """What determines a parser's tables, comparable between lark and the generated module."""
    return (
        sorted((t.name, t.pattern.to_regexp(), t.priority) for t in parser.terminals),
        sorted(str(rule) for rule in parser.rules),
        sorted(parser.lexer_conf.ignore),
        (parser.options.parser, parser.options.lexer),
    )


def check() -> str | None:
    """Why the committed module is not the grammar's parser, or ``None`` when it is."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_drs_parser", MODULE)
    if spec is None or spec.loader is None or not MODULE.is_file():
        return f"{MODULE} is missing"
    module = importlib.util.module_from_spec(spec)
    # Registered in sys.modules, as an import does.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    if signature(module.Lark_StandAlone()) != signature(build()):
        return f"{MODULE} was generated from another grammar than {GRAMMAR}"
    return None


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        problem = check()
        if problem:
            print(f"{problem}: run python grammar/generate.py", file=sys.stderr)
            return 1
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    from lark.tools.standalone import gen_standalone

    out = io.StringIO()
    gen_standalone(build(), out=out)
    MODULE.write_text(HEAD + edited(out.getvalue()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
