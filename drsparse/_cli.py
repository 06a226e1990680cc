"""The ``drsparse`` command: arguments, subcommands and exit statuses.

One function per subcommand (``_cmd_<name>``), registered in :func:`build_parser`; ``--mda``
has a parser of its own (:func:`build_mda_parser`). Reading the inputs (mailboxes, ``--jobs``)
lives in ``_batch.py``, the quarantine in ``_quarantine.py``; writing records and rows in
``_writers.py``, the summary of ``scan`` in ``_summary.py``.

A mail pipe runs the command once per e-mail, so start-up time matters: every import beyond
argparse happens inside the subcommand that needs it, and each parser is built once.

Exit statuses:

* ``parse`` and ``scan``: 0 everything was read (messages without a response are normal), 1 at
  least one malformed response or unreadable input, 2 a usage error, 74 the output cannot be
  written (a full disk, standard output closed), 141 the reader of the output has gone
  (``| head``; quietly, as a process ended by SIGPIPE), 130 and 143 stopped by SIGINT
  (Ctrl-C) or SIGTERM (128 + the signal, as a shell reports it).
* ``explain`` and ``codes``: 0 done, 2 a usage error (a code that is not a number, a broken
  ``--codes`` file), 74 and 141 as above.
* ``--mda`` (sysexits, for mail systems): 0 parsed or not a robot e-mail, 65 the message
  holds a malformed response (or is beyond a limit: retrying cannot help), 66 standard input
  is empty, 70 a bug in drsparse met on this message (retrying cannot help either), 75 a
  temporary failure (standard input or the output cannot be read or written, the quarantine
  cannot be written, a bad option or ``--codes`` file), so that the mail system retries later.
  A message that can never succeed is never answered with 75: the mail system would retry it
  for days, appending its records each time.
"""

from __future__ import annotations

import argparse
import gc
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from drsparse._writers import Format, Output, OutputError, Rendered, printable, stdout, utf8, writer

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from drsparse._batch import Options, Parsed
    from drsparse._codes import CodeInfo, CodeTable
    from drsparse._errors import DrsParseError
    from drsparse._quarantine import Quarantine

__all__ = ["build_mda_parser", "build_parser", "main"]

OK = 0
#: ``parse`` and ``scan``: at least one malformed response or unreadable input.
FAILED = 1
USAGE_ERROR = 2
#: sysexits.h (``os.EX_*`` exist on Unix only). EX_IOERR is also the status of ``parse`` and
#: ``scan`` when their output cannot be written.
EX_DATAERR = 65
EX_NOINPUT = 66
EX_SOFTWARE = 70
EX_IOERR = 74
EX_TEMPFAIL = 75
#: 128 + the signal: the status a shell shows for a process that a signal ended.
STOPPED_BY = 128
#: The reader of the output has gone: what ``yes | head`` reports for ``yes`` (128 + SIGPIPE).
CLOSED_PIPE = 141
#: At most this many ``--jobs`` per CPU: more processes only cost memory.
JOBS_PER_CPU = 4

FORMATS = ("jsonl", "json", "csv", "table")
COMMANDS = (
    "parse",
    "scan",
    "explain",
    "codes",
    "track",
    "status",
    "history",
    "ledger",
    "sample",
    "fetch",
    "watch",
)

_EPILOG = """\
examples:
  drsparse parse robot.eml                one JSON record per response, on standard output
  drsparse parse ~/Maildir --format table a Maildir, as a table for people
  drsparse scan ~/mail/archive --jobs 4   a summary of years of archived mail
  drsparse --mda >> ~/drs.jsonl           in a mail pipe (see: drsparse --mda --help)
  drsparse explain 10000 23300            what two DRS result codes mean
  drsparse codes                          the whole DRS table

Each command has its own --help, with more examples. Exit status 74: the output cannot be
written; 141: the reader of the output has gone (| head), quietly.
"""

_CODES_EPILOG = """\
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

_PARSE_EPILOG = """\
examples:
  drsparse parse robot.eml                   one JSON line per response (jsonl)
  drsparse parse < robot.eml                 the same from standard input
  drsparse parse ~/Maildir --format table    a Maildir, as a table for people
  drsparse parse archive.mbox old/ --format csv > drs.csv
  drsparse parse ~/Maildir | jq -r 'select(.type == "response" and .result.success == false)
                                    | [.domain, .result.code, .result.msg] | @tsv'
  drsparse parse --require-authentic --authserv-id mx.example.net ~/Maildir
  drsparse parse --quarantine ~/drs-failed ~/Maildir
  drsparse parse ~/drs-failed                replay the quarantine after an upgrade

  a cron job over a Maildir, every night at 02:30 (crontab -e):
  30 2 * * *  drsparse parse --quarantine ~/drs-failed ~/Maildir/.DRS > ~/drs.jsonl

A PATH is a message file, a bare body, an mbox, a Maildir or any folder tree (hidden files
skipped); the kind is detected. Records come in input order, errors among them; each error
is also one line SOURCE:LINE:COLUMN: message on standard error, and the run goes on.

exit status: 0 everything was read (messages without a response are normal),
             1 at least one malformed response or unreadable input, 2 a usage error,
             74 the output cannot be written (a full disk), 141 the reader of the output
             has gone (| head; quietly), 130/143 stopped by SIGINT/SIGTERM (128 + signal)
"""

_SCAN_EPILOG = """\
examples:
  drsparse scan ~/Maildir                    what is in a Maildir
  drsparse scan ~/mail/archive --jobs 4      years of archived mail, with four processes
  drsparse scan archive.mbox --json | jq .codes

The summary: messages read, responses, counts by code, category and status, errors by class,
unknown keys and codes, warnings, throughput. A progress bar is drawn on standard error when
it is a terminal. Each error is also one line SOURCE:LINE:COLUMN: message on standard error.

exit status: 0 everything was read, 1 at least one malformed response or unreadable input,
             2 a usage error, 74 the output cannot be written (a full disk), 141 the reader
             of the output has gone (quietly), 130/143 stopped by SIGINT/SIGTERM
"""

_MDA_EPILOG = """\
examples:
  procmail (~/.procmailrc), a copy of every mail from the robot as records:
    :0 wc
    * ^From:.*@knipp\\.de
    | drsparse --mda --format jsonl --quarantine $HOME/drs-failed >> $HOME/drs.jsonl

  maildrop (~/.mailfilter):
    if (/^From:.*@knipp\\.de/)
      cc "| drsparse --mda --quarantine $HOME/drs-failed >> $HOME/drs.jsonl"

  .forward of a mailbox that receives only robot mail:
    "|/usr/local/bin/drsparse --mda --quarantine /var/spool/drs-failed >> /var/log/drs.jsonl"

Reads one message from standard input and writes its records to standard output. With
procmail's c flag the mail is delivered whatever drsparse exits with (w logs a failure);
where drsparse is the delivery program itself (.forward, Postfix's mailbox_command), its exit
status decides: 75 defers the mail to be retried, 65 bounces it.

exit status (sysexits, so that the mail system retries or bounces correctly):
  0   parsed, or not a robot e-mail (no response)
  65  EX_DATAERR: a malformed response, or a message beyond a limit (a retry cannot help)
  66  EX_NOINPUT: standard input is empty, no message
  70  EX_SOFTWARE: a bug in drsparse met on this message (a retry cannot help; the
      message is in the quarantine, if there is one)
  75  EX_TEMPFAIL: standard input or the output cannot be read or written, the quarantine
      cannot be written, a bad option (the mail system retries later; nothing is written
      when the quarantine fails, so a retry does not repeat a record)
"""

_CODES_HELP = (
    "extend or override the DRS code table with this tab-separated file (the format of "
    "drsparse/data/drs.tsv); may be given more than once"
)
_SYSTEM_HELP = "the code system (default: drs)"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help laid out as written (the examples), as wide as the terminal.

    argparse makes a formatter for every argument it adds, and its own asks shutil for the
    width: importing shutil cost a mail pipe, which starts drsparse for every e-mail, some
    3 ms at each start. The width is found here the way shutil finds it.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    """``$COLUMNS``, else the width of the terminal on standard output, else 80."""
    import os

    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    stdout = sys.__stdout__
    try:
        return (stdout and os.get_terminal_size(stdout.fileno()).columns) or 80
    except (AttributeError, ValueError, OSError):
        return 80


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of the ``drsparse`` command with every subcommand, or with only
    ``command``: a run of one command needs no other, and building them all cost a tenth of
    the start-up time that a mail pipe pays for every e-mail (see :func:`_command`)."""

    def wanted(*names: str) -> bool:
        return command is None or command in names

    parser = argparse.ArgumentParser(
        prog="drsparse",
        description="Turn the e-mails of the Knipp DRS robot into typed, trustworthy data.",
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"drsparse {_version()}")
    # --codes works before the subcommand and after it. Separate destinations, because
    # argparse lets a subcommand's value of an option overwrite the main parser's.
    parser.add_argument(
        "--codes", metavar="FILE", action="append", default=[], dest="codes_main", help=_CODES_HELP
    )
    # Only for --help: main() hands a command line with --mda to build_mda_parser().
    parser.add_argument(
        "--mda",
        action="store_true",
        help="read one message from standard input, for mail pipes, and exit with a "
        "sysexits status; takes the options of parse (see: drsparse --mda --help)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    if wanted("parse"):
        _add_parse(commands)
    if wanted("scan"):
        _add_scan(commands)
    if wanted("explain"):
        _add_explain(commands)
    if wanted("codes"):
        _add_codes(commands)
    if wanted("track", "status", "history", "ledger"):
        from drsparse.ledger._cli import add_commands

        add_commands(commands)
    if wanted("fetch", "watch"):
        from drsparse.imap import add_commands as add_imap_commands

        add_imap_commands(commands)
    if wanted("sample"):
        from drsparse.testing._cli import add_sample_command

        add_sample_command(commands)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand that ``argv`` runs, when nothing but ``--codes FILE`` comes before it:
    only its parser need be built. ``None`` (build them all) for anything else before it
    (help, the version, a mistake: the message lists every command)."""
    value = False
    for token in argv:
        if value:
            value = False
        elif token in COMMANDS:
            return token
        elif token.startswith("--c") and "--codes".startswith(token.partition("=")[0]):
            value = "=" not in token  # --codes FILE, or an abbreviation of it
        else:
            return None
    return None


def _add_parse(commands: Any) -> None:
    parse = commands.add_parser(
        "parse",
        help="one record per response, in input order",
        description="Print one record per response of every message of every PATH.",
        epilog=_PARSE_EPILOG,
        formatter_class=HelpFormatter,
    )
    parse.add_argument(
        "paths",
        metavar="PATH",
        nargs="*",
        help="a message, a bare body, an mbox, a Maildir or a folder tree; "
        "none or -: standard input",
    )
    _output_options(parse)
    _reading_options(parse)
    _jobs_option(parse)
    codes_option(parse)
    parse.set_defaults(run=_cmd_parse)


def _add_scan(commands: Any) -> None:
    scan = commands.add_parser(
        "scan",
        help="a summary of what is in mailboxes, for people",
        description="Read every message of every PATH like parse does, then print a summary.",
        epilog=_SCAN_EPILOG,
        formatter_class=HelpFormatter,
    )
    scan.add_argument(
        "paths",
        metavar="PATH",
        nargs="+",
        help="a message, a bare body, an mbox, a Maildir or a folder tree; -: standard input",
    )
    scan.add_argument("--json", action="store_true", help="the summary as one JSON object")
    scan.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="draw a progress bar on standard error (default: when it is a terminal)",
    )
    _reading_options(scan)
    _jobs_option(scan)
    codes_option(scan)
    scan.set_defaults(run=_cmd_scan)


def _add_explain(commands: Any) -> None:
    explain = commands.add_parser(
        "explain",
        help="what result codes mean",
        description="Explain each CODE: its text, category, flags, EPP equivalent and source.",
        epilog=_CODES_EPILOG,
        formatter_class=HelpFormatter,
    )
    explain.add_argument("code", metavar="CODE", nargs="+", help="a result code, e.g. 10000")
    _code_options(explain)
    explain.set_defaults(run=_cmd_explain)


def _add_codes(commands: Any) -> None:
    codes = commands.add_parser(
        "codes",
        help="the whole code table",
        description="Print every known code of a system, with the user's DRS overrides.",
        epilog=_CODES_EPILOG,
        formatter_class=HelpFormatter,
    )
    _code_options(codes)
    codes.set_defaults(run=_cmd_codes)


class _MdaArgumentParser(argparse.ArgumentParser):
    """A parser whose usage errors exit 75: a mistake in a mail rule must not bounce mail."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EX_TEMPFAIL, f"{self.prog}: error: {message}\n")


def build_mda_parser() -> argparse.ArgumentParser:
    """The argument parser of ``drsparse --mda``: one message on standard input."""
    parser = _MdaArgumentParser(
        prog="drsparse --mda",
        usage="drsparse --mda [options]",
        description="Read one message from standard input, for mail pipes: print its records "
        "and exit with a sysexits status.",
        epilog=_MDA_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--mda", action="store_true", help=argparse.SUPPRESS)
    _output_options(parser)
    _reading_options(parser)
    codes_option(parser)
    parser.add_argument(
        "--ledger",
        nargs="?",
        const="",
        metavar="PATH",
        help="also record the message in the ledger (default PATH: see drsparse track --help)",
    )
    parser.set_defaults(codes_main=[], run=_cmd_mda)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_mda_parser() if _wants_mda(arguments) else build_parser(_command(arguments))
    args = parser.parse_args(arguments)
    run: Callable[[argparse.Namespace], int] = args.run
    if run is _cmd_mda:
        return run(args)  # sysexits of its own, and the mail system's signals
    with _StopOnSigterm():
        try:
            status = run(args)
            _flush_stdout()
        except OutputError as exc:
            return _stopped(_output_failed(exc))
        except _Stopped as stop:
            _stderr(f"drsparse: stopped by {stop.name}")
            return _stopped(STOPPED_BY + stop.signal)
        except KeyboardInterrupt:
            _stderr("drsparse: stopped by SIGINT")
            return _stopped(STOPPED_BY + 2)
    return status


def program() -> int:
    """The ``drsparse`` program (its console script and ``python -m drsparse``): :func:`main`
    on ``sys.argv``, in a process that ends right after."""
    status = main()
    # At exit Python runs full garbage collections over every object still alive (the classes
    # of every module, the parser's tables, typing's caches): a fifth of a one-message run,
    # only to free memory the process hands back whole. Frozen objects are left out of them;
    # the output is flushed, files are closed and atexit handlers run all the same.
    gc.freeze()
    return status


class _Stopped(Exception):
    """SIGTERM reached the command: raised in the main thread, to end the run cleanly."""

    def __init__(self, signal: int, name: str) -> None:
        super().__init__(name)
        self.signal = signal
        self.name = name


class _StopOnSigterm:
    """While running ``parse`` and the others: SIGTERM raises :class:`_Stopped`, so that the
    worker processes are stopped and the exit status says why (Ctrl-C raises
    KeyboardInterrupt already)."""

    def __enter__(self) -> None:
        import signal
        import threading

        self.previous: Any = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._stop)

    def __exit__(self, *_: object) -> None:
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)

    @staticmethod
    def _stop(number: int, _: object) -> None:
        import signal

        raise _Stopped(number, signal.Signals(number).name)


def _stopped(status: int) -> int:
    """``status``, for a run that stopped before its input ended.

    The thread reading the input for ``--jobs`` may be waiting on a pipe, holding the lock of
    standard input, which Python takes at exit: it would abort instead of exiting. Then the
    process ends here, its output flushed.
    """
    import threading

    from drsparse._batch import READER_THREAD

    if any(thread.name == READER_THREAD for thread in threading.enumerate()):
        import contextlib
        import os

        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(status)
    return status


def _flush_stdout() -> None:
    if sys.stdout is not None:
        try:
            sys.stdout.flush()
        except OSError as exc:
            raise OutputError.of(exc) from exc


def _output_failed(exc: OutputError) -> int:
    """The status for output that cannot be written; one line on stderr unless the reader
    has gone (``drsparse parse | head``), which ends the run quietly, as Unix tools do."""
    _silence_stdout()
    if exc.broken_pipe:
        return CLOSED_PIPE
    _stderr(f"drsparse: cannot write the output: {exc.reason}")
    return EX_IOERR


def _print(text: str) -> None:
    """One line (or several) on standard output; :class:`OutputError` if it cannot be."""
    try:
        print(text, file=stdout())
    except OSError as exc:
        raise OutputError.of(exc) from exc


def _wants_mda(argv: Sequence[str]) -> bool:
    """Whether ``--mda`` comes before any command name (``drsparse --codes F --mda ...``)."""
    for token in argv:
        if token == "--mda":
            return True
        if token == "--" or token in COMMANDS:
            return False
    return False


def _silence_stdout() -> None:
    """Point standard output at /dev/null: Python flushes it at exit, and would complain
    again about a full disk or a reader that has gone."""
    import contextlib
    import os

    if sys.stdout is None:
        return
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _version() -> str:
    from drsparse import __version__

    return __version__


# -------------------------------------------------------------------------------------------
# Options shared by parse, scan and --mda
# -------------------------------------------------------------------------------------------


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="jsonl",
        help="jsonl: one JSON record per line (default); json: one JSON array; csv: fixed "
        "columns, one row per response or error; table: aligned columns for people",
    )
    parser.add_argument(
        "--require-authentic",
        action="store_true",
        help="output only responses from messages DKIM-signed by a trusted domain "
        "(authentic: true); the others are skipped with a note on standard error",
    )


def _reading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--include-quoted",
        action="store_true",
        help="also report responses quoted in replies and forwards (marked quoted: true)",
    )
    trust_options(parser)
    parser.add_argument(
        "--quarantine",
        metavar="DIR",
        help="copy every message that failed into DIR (NAME.eml) with a note saying why "
        "(NAME.why.json); replay with: drsparse parse DIR",
    )


def trust_options(parser: argparse.ArgumentParser) -> None:
    """``--trust-domain`` and ``--authserv-id``: whom the authenticity check trusts."""
    parser.add_argument(
        "--trust-domain",
        metavar="DOMAIN",
        action="append",
        type=_domain,
        help="a DKIM signing domain that makes a message authentic (default: knipp.de); "
        "may be given more than once",
    )
    parser.add_argument(
        "--authserv-id",
        metavar="ID",
        action="append",
        help="the authserv-id of your own receiving server, the first word of the "
        "Authentication-Results headers it adds; only the topmost header with that id counts "
        "(default: only the topmost header of all); may be given more than once",
    )


def _jobs_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs",
        "-j",
        metavar="N",
        type=_jobs,
        default=1,
        help="parse with N processes, keeping the input order (default: 1; 0: one per CPU; "
        f"at most {JOBS_PER_CPU} per CPU). Worth it for large mailboxes on a machine with "
        "CPUs to spare: on 2 CPUs expect well under 2x, and nothing on a single message",
    )


def _domain(text: str) -> str:
    from drsparse._mail import Trust

    try:
        Trust(domains=(text,))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return text


def _jobs(text: str) -> int:
    import os

    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"not a number of processes: {text!r}")
    cpus = os.cpu_count() or 1
    most = JOBS_PER_CPU * cpus
    # The digits are counted first: int() of thousands of digits is slow, and refused anyway.
    if len(text.lstrip("0")) > len(str(most)) or int(text) > most:
        shown = text if len(text) <= 12 else f"{text[:6]}...({len(text)} digits)"
        raise argparse.ArgumentTypeError(
            f"{shown} processes: at most {most} ({JOBS_PER_CPU} per CPU, {cpus} CPUs here)"
        )
    return int(text) or cpus


def options(args: argparse.Namespace, codes: CodeTable) -> Options:
    """How each message is read, from the command line (see :func:`trust_options`)."""
    from drsparse._batch import Options
    from drsparse._mail import DEFAULT_TRUST, Trust

    trust = DEFAULT_TRUST
    if args.trust_domain or args.authserv_id:
        trust = Trust(
            domains=args.trust_domain or DEFAULT_TRUST.domains,
            authserv_ids=args.authserv_id or (),
        )
    return Options(include_quoted=getattr(args, "include_quoted", False), trust=trust, codes=codes)


def _quarantine(args: argparse.Namespace) -> Quarantine | None:
    from drsparse._quarantine import Quarantine

    return None if args.quarantine is None else Quarantine(args.quarantine)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# -------------------------------------------------------------------------------------------
# parse, scan, --mda
# -------------------------------------------------------------------------------------------


def _cmd_parse(args: argparse.Namespace) -> int:
    import contextlib

    from drsparse._batch import parse_items

    codes = load_codes(args)
    if codes is None:
        return USAGE_ERROR
    output = writer(args.format)
    quarantine = _quarantine(args)
    status = OK
    # The records are made where each message is parsed: with --jobs, in the worker process,
    # and flushed whenever the next results must be waited for.
    records = Format(args.format, args.require_authentic)
    output.flush_each = args.jobs <= 1
    results = parse_items(
        args.paths,
        options(args, codes),
        jobs=args.jobs,
        note=_stderr,
        waiting=output.flush,
        then=records,
    )
    # closing(): output that fails, or a signal, stops the worker processes at once.
    with contextlib.closing(results):
        for item, parsed in results:
            _emit(item.source, parsed, output, note=_stderr)
            if not isinstance(parsed, Rendered):
                status = FAILED
                _keep(item.source, item.data, parsed, quarantine, _stderr)
    output.close()
    return status


def _cmd_scan(args: argparse.Namespace) -> int:
    import functools
    import time

    from drsparse._batch import parse_items, typed
    from drsparse._summary import Summary, summary_text

    codes = load_codes(args)
    if codes is None:
        return USAGE_ERROR
    quarantine = _quarantine(args)
    summary = Summary(codes)
    bar = _progress_bar(args.progress)
    # Error lines are written above a bar, which is drawn again below them.
    note = _stderr if bar is None else functools.partial(bar.write, file=sys.stderr)
    status = OK
    started = time.perf_counter()
    results = parse_items(args.paths, options(args, codes), then=typed, jobs=args.jobs, note=note)
    try:
        for item, parsed in results:
            summary.add(item, parsed)
            if not isinstance(parsed, list):
                status = FAILED
                note(printable(str(parsed)))
                _keep(item.source, item.data, parsed, quarantine, note)
            if bar is not None:
                bar.set_postfix_str(
                    f"{summary.responses} responses, {summary.failed} errors", refresh=False
                )
                bar.update(1)
    finally:
        results.close()  # a signal stops the worker processes at once
        if bar is not None:
            bar.close()
    figures = summary.as_dict(time.perf_counter() - started)
    if args.json:
        import json

        utf8(stdout())
        _print(json.dumps(figures, ensure_ascii=False))
    else:
        _print(summary_text(figures))
    return status


def _cmd_mda(args: argparse.Namespace) -> int:
    try:
        return _mda(args)
    except OSError:  # the system, not the message: the mail system tries again later
        import traceback

        traceback.print_exc()
        return EX_TEMPFAIL
    except Exception:  # a bug, met again at every retry: a retry cannot help
        import traceback

        traceback.print_exc()
        return EX_SOFTWARE


def _mda(args: argparse.Namespace) -> int:
    import functools
    import itertools
    from collections.abc import Iterable

    from drsparse._batch import parse_item
    from drsparse._errors import InternalError, LimitExceededError
    from drsparse._mailbox import MailItem

    codes = load_codes(args)
    if codes is None:
        return EX_TEMPFAIL
    reading = options(args, codes)
    if sys.stdin is None:  # started with standard input closed
        _stderr("drsparse: -: cannot read standard input: it is closed")
        return EX_TEMPFAIL
    stdin = sys.stdin.buffer
    limit = reading.limits.max_message_bytes
    try:
        # The message itself, not through the mailbox reader: a mail pipe hands over one
        # message (perhaps after an mbox "From " line, which parse_message skips), labelled
        # "-", and the quarantine needs its bytes even when it is beyond the limit.
        data = stdin.read(limit + 1)
    except OSError as exc:
        _stderr(f"drsparse: -: cannot read standard input: {exc.strerror or exc}")
        return EX_TEMPFAIL
    if not data:
        _stderr("drsparse: -: standard input is empty: no message to read")
        return EX_NOINPUT
    chunks: Iterable[bytes] = (data,)
    parsed: Parsed
    if len(data) > limit:
        parsed = LimitExceededError(
            f"message beyond the limit max_message_bytes={limit}", source="-"
        )
        # The quarantine copies the whole message, read on from the pipe as it is written.
        chunks = itertools.chain(chunks, iter(functools.partial(stdin.read, 1 << 16), b""))
    else:
        parsed = parse_item(MailItem("-", data), reading)

    status = OK
    if not isinstance(parsed, list):
        # Both are for good: the same message fails the same way at every retry.
        status = EX_SOFTWARE if isinstance(parsed, InternalError) else EX_DATAERR
        quarantine = _quarantine(args)
        if quarantine is not None:
            # The copy first, the record after it: when the copy fails, nothing is written,
            # and the retry that 75 asks for does not append the same record again.
            try:
                quarantine.keep("-", chunks, parsed)
            except OSError as exc:
                # Without the copy, a bounce would lose the mail: let the mail system retry.
                _stderr(printable(str(parsed)))
                _stderr(f"drsparse: cannot quarantine the message in {quarantine.folder}: {exc}")
                return EX_TEMPFAIL
    elif args.ledger is not None:
        from drsparse.ledger._cli import record_mda

        # The ledger first, the records after, like the quarantine: when it cannot be
        # written, nothing is, and the retry that 75 asks for appends no record twice.
        if record_mda(args.ledger, parsed, data) != OK:
            return EX_TEMPFAIL
    try:
        output = writer(args.format)
        records = Format(args.format, args.require_authentic)
        _emit("-", rendered(parsed, records), output, note=_stderr)
        output.close()
    except OutputError as exc:  # a full disk, a closed pipe: the records are not where they belong
        _stderr(f"drsparse: cannot write the records: {exc.reason}")
        _silence_stdout()
        return EX_TEMPFAIL
    return status


def _emit(
    source: str, parsed: Rendered | DrsParseError, output: Output, *, note: Callable[[str], None]
) -> None:
    """Write the records of one message, and its error on standard error."""
    if not isinstance(parsed, Rendered):
        output.error(parsed)
        # SOURCE:LINE:COLUMN: message, the form compilers and editors use.
        note(printable(str(parsed)))
        return
    if parsed.skipped:
        note(
            f"{printable(source)}: skipped {parsed.skipped} response(s): "
            f"not authentic (authentic={parsed.verdicts})"
        )
    output.write(parsed)


def rendered(parsed: Parsed, records: Format) -> Rendered | DrsParseError:
    """The records of a message's responses, or its error."""
    return records(parsed) if isinstance(parsed, list) else parsed


def _keep(
    source: str,
    data: bytes | None,
    error: DrsParseError,
    quarantine: Quarantine | None,
    note: Callable[[str], None],
) -> bool:
    """Quarantine a failed message; False (reported) when the copy could not be made."""
    if quarantine is None:
        return True
    try:
        quarantine.keep(source, None if data is None else (data,), error)
    except OSError as exc:
        note(f"drsparse: cannot quarantine {source} in {quarantine.folder}: {exc}")
        return False
    return True


def _progress_bar(wanted: bool | None) -> Any:
    """A tqdm bar on standard error, or ``None``; by default only when it is a terminal."""
    if wanted is None:
        wanted = sys.stderr.isatty()
    if not wanted:
        return None
    # Imported here only: tqdm costs start-up time that a pipe or cron job need not pay.
    # It is an optional extra (drsparse[progress]): without it, scan just draws no bar.
    # It ships no type information (types-tqdm would be one more test dependency for a
    # call this simple).
    try:
        from tqdm import tqdm  # type: ignore[import-untyped]
    except ImportError:
        _stderr("drsparse: no progress bar: install drsparse[progress] (tqdm) for one")
        return None

    return tqdm(unit=" msg", file=sys.stderr, dynamic_ncols=True, leave=False, mininterval=0.2)


# -------------------------------------------------------------------------------------------
# explain, codes
# -------------------------------------------------------------------------------------------


def codes_option(parser: argparse.ArgumentParser) -> None:
    # --codes after the subcommand; the top-level one (before it) lands in codes_main.
    parser.add_argument(
        "--codes", metavar="FILE", action="append", default=[], dest="codes_sub", help=_CODES_HELP
    )


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
    codes_option(parser)


def load_codes(args: argparse.Namespace) -> CodeTable | None:
    """The shipped tables with every ``--codes`` file over them; ``None`` (reported on standard
    error) when a file cannot be used."""
    from drsparse._codes import DEFAULT_CODES
    from drsparse._errors import DrsParseError

    codes = DEFAULT_CODES
    for path in [*args.codes_main, *args.codes_sub]:
        try:
            codes = codes.load(path)
        except DrsParseError as exc:
            # SOURCE:LINE:COLUMN: message, the form editors and compilers use.
            print(exc, file=sys.stderr)
            return None
    return codes


def _cmd_explain(args: argparse.Namespace) -> int:
    codes = load_codes(args)
    if codes is None:
        return USAGE_ERROR
    infos = []
    # Every code is checked before anything is printed: no half an answer to a bad command.
    for code in args.code:
        try:
            infos.append(codes.explain(code, args.system))
        except ValueError as exc:
            print(f"drsparse explain: error: {exc}", file=sys.stderr)
            return USAGE_ERROR
    if args.json:
        _print_json(infos)
    else:
        _print("\n\n".join(_describe(info) for info in infos))
    return 0


def _cmd_codes(args: argparse.Namespace) -> int:
    codes = load_codes(args)
    if codes is None:
        return USAGE_ERROR
    rows = codes.table(args.system)
    if args.json:
        _print_json(rows)
        return 0
    head = ("CODE", "CATEGORY", "FLAGS", "EPP", "MSG")
    cells = [head] + [
        (str(i.code), i.category, ",".join(_flags(i)), str(i.epp or "-"), i.msg or "") for i in rows
    ]
    widths = [max(len(row[column]) for row in cells) for column in range(len(head) - 1)]
    _print(
        "\n".join(
            "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
            for row in cells
        )
    )
    return 0


def _print_json(infos: Sequence[CodeInfo]) -> None:
    import json

    if infos:
        _print("\n".join(json.dumps(info.as_dict(), ensure_ascii=False) for info in infos))


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
    import textwrap

    from drsparse._codes import CATEGORIES

    name = {"drs": "DRS", "epp": "EPP", "opensrs": "OpenSRS"}[info.system]
    title = info.msg if info.known else "unknown code: in no table, explained by its structure"
    # Long texts (OpenSRS has paragraphs) wrap at the terminal's width, under their label.
    width = max(min(_terminal_columns(), 100), 40)
    rows = [
        (f"{name} {info.code}", title or ""),
        ("  category:", f"{info.category} ({CATEGORIES[info.category]})"),
        ("  flags:", ", ".join(_flags(info))),
        ("  EPP:", "-" if info.epp is None else str(info.epp)),
        ("  meaning:", info.description),
        ("  source:", info.source),
    ]
    lines = []
    for label, text in rows:
        indent = " " * 16
        first = label.ljust(16) if label.startswith(" ") else f"{label}  "
        lines += textwrap.wrap(text, width, initial_indent=first, subsequent_indent=indent) or [
            first.rstrip()
        ]
    return "\n".join(lines)
