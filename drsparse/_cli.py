"""The ``drsparse`` command.

One function per subcommand (``_cmd_<name>``), registered in :func:`build_parser`. A mail pipe
runs the command once per e-mail, so start-up time matters: every import beyond argparse
happens inside the subcommand that needs it.

Exit status: 0 done, 2 a usage error (a bad option, a code that is not a number, a broken
``--codes`` file).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from drsparse._codes import CodeInfo

__all__ = ["build_parser", "main"]

USAGE_ERROR = 2

_EPILOG = """\
examples:
  drsparse explain 10000 23300          what two DRS result codes mean
  drsparse explain 2400 --system epp    an EPP code (RFC 5730)
  drsparse explain 486 --system opensrs --json
  drsparse codes                        the whole DRS table
  drsparse --codes my-codes.tsv explain 10370
                                        with the DRS table extended by a file of your own

Programs decide on result.code, never on result.msg. A code in no table is still explained,
by its structure, and marked unknown.
"""

_CODES_HELP = (
    "extend or override the DRS code table with this tab-separated file (the format of "
    "drsparse/data/drs.tsv); may be given more than once"
)
_SYSTEM_HELP = "the code system (default: drs)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``drsparse`` command, subcommands included."""
    parser = argparse.ArgumentParser(
        prog="drsparse",
        description="Turn the e-mails of the Knipp DRS robot into typed, trustworthy data.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"drsparse {_version()}")
    # --codes works before the subcommand and after it. Separate destinations, because
    # argparse lets a subcommand's value of an option overwrite the main parser's.
    parser.add_argument(
        "--codes", metavar="FILE", action="append", default=[], dest="codes_main", help=_CODES_HELP
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    explain = commands.add_parser(
        "explain",
        help="what result codes mean",
        description="Explain each CODE: its text, category, flags, EPP equivalent and source.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    explain.add_argument("code", metavar="CODE", nargs="+", help="a result code, e.g. 10000")
    _code_options(explain)
    explain.set_defaults(run=_cmd_explain)

    codes = commands.add_parser(
        "codes",
        help="the whole code table",
        description="Print every known code of a system, with the user's DRS overrides.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _code_options(codes)
    codes.set_defaults(run=_cmd_codes)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except BrokenPipeError:
        # `drsparse codes | head`: the reader has gone; stop quietly, and keep Python from
        # complaining again when it flushes stdout at exit.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _version() -> str:
    from drsparse import __version__

    return __version__


def _code_options(parser: argparse.ArgumentParser) -> None:
    # The names of drsparse._codes.SYSTEMS, written out: building the parser must not import
    # the code stage (``--help`` and the other subcommands do not need it).
    parser.add_argument(
        "--system",
        type=str.lower,
        choices=("drs", "epp", "opensrs"),
        default="drs",
        help=_SYSTEM_HELP,
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--codes", metavar="FILE", action="append", default=[], dest="codes_sub", help=_CODES_HELP
    )


def _load_overrides(args: argparse.Namespace) -> bool:
    """Load every ``--codes`` file; on an error, report it on stderr and return False."""
    from drsparse._codes import load_codes
    from drsparse._errors import DrsParseError

    for path in [*args.codes_main, *args.codes_sub]:
        try:
            load_codes(path)
        except DrsParseError as exc:
            # SOURCE:LINE:COLUMN: message, the form editors and compilers use.
            print(exc, file=sys.stderr)
            return False
    return True


def _cmd_explain(args: argparse.Namespace) -> int:
    from drsparse._codes import explain

    if not _load_overrides(args):
        return USAGE_ERROR
    infos = []
    # Every code is checked before anything is printed: no half an answer to a bad command.
    for code in args.code:
        try:
            infos.append(explain(code, args.system))
        except ValueError as exc:
            print(f"drsparse explain: error: {exc}", file=sys.stderr)
            return USAGE_ERROR
    if args.json:
        _print_json(infos)
    else:
        print("\n\n".join(_describe(info) for info in infos))
    return 0


def _cmd_codes(args: argparse.Namespace) -> int:
    from drsparse._codes import table

    if not _load_overrides(args):
        return USAGE_ERROR
    rows = table(args.system)
    if args.json:
        _print_json(rows)
        return 0
    head = ("CODE", "CATEGORY", "FLAGS", "EPP", "MSG")
    cells = [head] + [
        (str(i.code), i.category, ",".join(_flags(i)), str(i.epp or "-"), i.msg or "") for i in rows
    ]
    widths = [max(len(row[column]) for row in cells) for column in range(len(head) - 1)]
    for row in cells:
        print("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]))
    return 0


def _print_json(infos: Sequence[CodeInfo]) -> None:
    import json

    for info in infos:
        print(json.dumps(info.as_dict(), ensure_ascii=False))


def _flags(info: CodeInfo) -> list[str]:
    """The flags in words: success or failure first, then those that are set."""
    words = ["success" if info.success else "failure"]
    words += [
        word
        for word, on in (
            ("pending", info.pending),
            ("retryable", info.retryable),
            ("unrequested", info.unrequested),
            ("attention", info.needs_attention),
        )
        if on
    ]
    return words


def _describe(info: CodeInfo) -> str:
    from drsparse._codes import CATEGORIES

    name = {"drs": "DRS", "epp": "EPP", "opensrs": "OpenSRS"}[info.system]
    title = info.msg if info.known else "unknown code: in no table, explained by its structure"
    lines = [
        f"{name} {info.code}  {title}",
        f"  category:     {info.category} ({CATEGORIES[info.category]})",
        f"  flags:        {', '.join(_flags(info))}",
        f"  EPP:          {'-' if info.epp is None else info.epp}",
        f"  meaning:      {info.description}",
        f"  source:       {info.source}",
    ]
    return "\n".join(lines)
