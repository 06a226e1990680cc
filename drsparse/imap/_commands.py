"""The ``drsparse fetch`` and ``drsparse watch`` subcommands: a command line in, records on
standard output and an exit status out.

:func:`add_commands` puts both on the subparsers of ``drsparse``; it needs nothing beyond
argparse and the options that ``drsparse parse`` shares (``_cli.py``), so that building the
parser stays cheap for every other command. Running either needs imapclient, the imap extra.

Exit statuses:

* 0: ``fetch`` read every new message, none of which gave an error record; ``watch`` was
  stopped by SIGTERM or SIGINT.
* 1: ``fetch``: at least one message gave an error record (it was read, and moved to
  ``--failed-to``).
* 2: a usage error: a bad URL or option, no password found, a password, CA or state file
  that cannot be read, a folder that does not exist.
* 69: the imap extra is not installed (``pip install 'drsparse[imap]'``).
* 75: temporary: the server cannot be reached, the connection was lost, the server failed a
  command, the state file is in use by another command (``watch`` retries the first three).
* 76: TLS failed: the server's certificate is not trusted (see ``--cafile``) or names another
  host, or an ``imap://`` server offers no STARTTLS and ``--insecure`` was not given.
* 77: the server refused the login (user or password).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType

    from drsparse._batch import Options
    from drsparse._codes import CodeTable
    from drsparse._errors import DrsParseError
    from drsparse._model import Response
    from drsparse.imap._connection import Connection
    from drsparse.imap._reader import Stop

__all__ = ["add_commands"]

OK = 0
#: ``fetch``: at least one message gave an error record.
FAILED = 1

# The statuses of _failures.py, written out: building the parser of every drsparse command
# must not import more than argparse (a test checks that they agree).
_EXIT_STATUS = """\
exit status: 0 done (fetch: no error record; watch: stopped by SIGTERM or SIGINT)
             1 fetch: at least one message gave an error record
             2 a usage error: a bad URL or option, no password, an unreadable password,
               CA or state file, a folder that does not exist
             69 the imap extra is missing: pip install 'drsparse[imap]'
             75 temporary: the server cannot be reached, the connection was lost, the
               state file is in use (watch retries the network itself)
             76 TLS failed: an untrusted certificate (see --cafile), another host's
               certificate, or no STARTTLS on imap:// without --insecure
             77 the server refused the login
"""

_FETCH_EPILOG = f"""\
examples:
  drsparse fetch imaps://robot@mail.example.net/DRS      the new messages' records (JSON lines)
  drsparse fetch imaps://robot@mail.example.net/DRS --move-to DRS/done --failed-to DRS/failed
  drsparse fetch imaps://robot@mail.example.net/DRS --format table
  drsparse fetch imap://robot@localhost:1143/INBOX --insecure   a server on this machine

  a cron job every ten minutes (crontab -e), the password in a file only you can read:
  */10 * * * *  drsparse fetch --password-file ~/.drs-imap imaps://robot@mail.example.net/DRS \\
                  >> ~/drs.jsonl

Each run reads the messages that arrived since the last one: the folder's UIDVALIDITY and the
last UID read are kept in a state file (--state). Messages are read with BODY.PEEK: nothing is
marked as seen. The password comes from --password-file, else $DRSPARSE_IMAP_PASSWORD, else
~/.netrc (machine HOST login USER password ...), never from the command line. Records are
those of drsparse parse; a message's source is imap://USER@HOST/FOLDER;UIDVALIDITY=V/;UID=N.

{_EXIT_STATUS}"""

_WATCH_EPILOG = f"""\
examples:
  drsparse watch imaps://robot@mail.example.net/DRS >> ~/drs.jsonl 2>> ~/drs-watch.log
  drsparse watch imap://robot@mail.example.net/DRS --interval 30   STARTTLS; polling every 30 s
                                                                   where the server has no IDLE

Reads what arrived since the last run, then each new message as it arrives: the server tells
(IDLE) where it can, else the folder is looked at every --interval seconds. After a network
fault or a server restart it reconnects, 1 s later, then 2, 4, ... up to 5 minutes. SIGTERM
or SIGINT stop it after the message being read: no message is lost or read twice. Each event
(connected, messages read, connection lost, stopped) is one line on standard error.

{_EXIT_STATUS}"""


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``fetch`` and ``watch`` to the subcommands of ``drsparse``."""
    from drsparse._cli import HelpFormatter, _output_options, _reading_options, codes_option

    fetch = commands.add_parser(
        "fetch",
        help="the records of the new messages of an IMAP folder",
        description="Print the records of the messages that arrived in an IMAP folder since "
        "the last run.",
        epilog=_FETCH_EPILOG,
        formatter_class=HelpFormatter,
    )
    watch = commands.add_parser(
        "watch",
        help="stay connected to an IMAP folder and print records as messages arrive",
        description="Read an IMAP folder like fetch, then each message as it arrives, until "
        "SIGTERM or SIGINT.",
        epilog=_WATCH_EPILOG,
        formatter_class=HelpFormatter,
    )
    for parser in (fetch, watch):
        _imap_options(parser)
        _output_options(parser)
        _reading_options(parser)
        codes_option(parser)
    watch.add_argument(
        "--interval",
        metavar="SECONDS",
        type=_seconds,
        default=60.0,
        help="where the server has no IDLE, look at the folder this often (default: 60)",
    )
    fetch.set_defaults(run=_cmd_fetch)
    watch.set_defaults(run=_cmd_watch)


def _imap_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "url",
        metavar="URL",
        help="imaps://USER@HOST[:PORT]/FOLDER (TLS), or imap://... (STARTTLS); "
        "the folder INBOX when none is named",
    )
    parser.add_argument(
        "--password-file",
        metavar="FILE",
        help="read the password from the first line of FILE (default: $DRSPARSE_IMAP_PASSWORD, "
        "then ~/.netrc)",
    )
    parser.add_argument(
        "--cafile",
        metavar="FILE",
        help="trust the CA certificates in FILE (PEM) for the server's certificate, instead "
        "of the system's: for a private CA",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="let imap:// go without TLS: the password and the mail cross the network in "
        "plain text; for a server on this machine",
    )
    parser.add_argument(
        "--state",
        metavar="PATH",
        help="where to remember what was read (default: "
        "$XDG_STATE_HOME/drsparse/imap.json, ~/.local/state/... without it); one command at "
        "a time per file",
    )
    parser.add_argument(
        "--ledger",
        nargs="?",
        const="",
        metavar="PATH",
        help="record the responses in the ledger instead of printing them (default file: "
        "$DRSPARSE_LEDGER, else $XDG_DATA_HOME/drsparse/ledger.sqlite3); see drsparse status",
    )
    parser.add_argument(
        "--move-to",
        metavar="FOLDER",
        help="move each message read without an error record to FOLDER",
    )
    parser.add_argument(
        "--failed-to",
        metavar="FOLDER",
        help="move each message that gave an error record to FOLDER",
    )


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"not a number of seconds above 0: {text!r}")
    return seconds


def _cmd_fetch(args: argparse.Namespace) -> int:
    return _run(args, "fetch")


def _cmd_watch(args: argparse.Namespace) -> int:
    return _run(args, "watch")


def _run(args: argparse.Namespace, command: str) -> int:
    from drsparse._cli import load_codes
    from drsparse.imap._failures import EX_UNAVAILABLE, USAGE_ERROR, ImapFailure

    log = _logger(command, timestamps=command == "watch")
    try:
        import imapclient  # noqa: F401
    except ImportError:
        log("reading mail over IMAP needs the imap extra: pip install 'drsparse[imap]'")
        return EX_UNAVAILABLE

    codes = load_codes(args)
    if codes is None:
        return USAGE_ERROR
    try:
        job = _Job(args, codes, log)
    except ImapFailure as exc:
        log(str(exc))
        return exc.status
    try:
        return job.run(command)
    except ImapFailure as exc:
        log(str(exc))
        return exc.status
    finally:
        job.close()


class _Job:
    """One run of fetch or watch: what the command line says, checked, and the state file
    locked (:meth:`close` releases it)."""

    def __init__(self, args: argparse.Namespace, codes: CodeTable, log: Callable[[str], None]):
        from drsparse._cli import _quarantine, _stderr, options
        from drsparse._writers import writer
        from drsparse.imap._address import parse_address
        from drsparse.imap._connection import Tls
        from drsparse.imap._failures import UsageError
        from drsparse.imap._password import find_credentials
        from drsparse.imap._reader import FolderReader
        from drsparse.imap._sink import LedgerSink, RecordSink, Sink
        from drsparse.imap._state import State, default_state_path

        self.args = args
        self.log = log
        address = parse_address(args.url)
        if args.insecure and address.implicit_tls:
            raise UsageError("--insecure is for imap:// (imaps:// is always TLS)")
        if address.folder in (args.move_to, args.failed_to):
            raise UsageError("messages cannot be moved to the folder they are read from")
        self.credentials = find_credentials(address, args.password_file)
        self.address = address._replace(user=self.credentials.user)
        self.tls = Tls(insecure=args.insecure, cafile=args.cafile)
        self.state = State.open(args.state or default_state_path())
        reading = options(args, codes)
        self.sink: Sink
        if args.ledger is None:
            self.sink = RecordSink(
                writer(args.format),
                require_authentic=args.require_authentic,
                quarantine=_quarantine(args),
                note=_stderr,
            )
        else:
            from drsparse.ledger import Ledger, LedgerError

            try:
                ledger = Ledger(args.ledger or None)
            except LedgerError as exc:
                self.state.close()
                raise UsageError(str(exc)) from exc
            self.sink = LedgerSink(ledger, quarantine=_quarantine(args), note=_stderr)
        self.reader = FolderReader(
            self.address,
            self.state,
            self.sink,
            _parser(reading),
            move_to=args.move_to,
            failed_to=args.failed_to,
            max_bytes=reading.limits.max_message_bytes,
            note=log,
        )

    def connect(self) -> Connection:
        """A logged-in connection, once the folders to move to are known to exist."""
        from drsparse.imap._connection import Connection

        connection = Connection.open(self.address, self.credentials, self.tls)
        try:
            _check_folders(connection, self.args.move_to, self.args.failed_to)
        except BaseException:
            connection.close()
            raise
        return connection

    def run(self, command: str) -> int:
        from drsparse.imap._reader import Stop
        from drsparse.imap._watch import watch

        stop = Stop()
        with _stopping_on_signals(stop):
            if command == "watch":
                interval = self.args.interval
                watch(self.connect, self.reader, interval=interval, stop=stop, log=self.log)
                return OK
            connection = self.connect()
            try:
                counts = self.reader.catch_up(connection, stop)
            finally:
                connection.close()
        if stop:
            self.log(f"stopped ({stop.reason}): the messages not read yet are read next time")
        return FAILED if counts.failed else OK

    def close(self) -> None:
        try:
            self.sink.close()
        finally:
            self.state.close()


def _check_folders(connection: Connection, *folders: str | None) -> None:
    """Fail early, before anything is read, when a folder to move to does not exist."""
    from drsparse.imap._failures import NoFolder

    for folder in folders:
        if folder is not None and not connection.folder_exists(folder):
            raise NoFolder(
                f"no folder {folder!r} on {connection.address.server} to move messages to"
            )


def _parser(options: Options) -> Callable[[bytes, str], list[Response] | DrsParseError]:
    """:func:`drsparse.parse_message` with the command's options, as parse calls it: a bug
    becomes an error record, and the watch goes on."""
    from drsparse._batch import parse_data

    return lambda data, source: parse_data(source, data, options)


def _logger(command: str, *, timestamps: bool) -> Callable[[str], None]:
    """One line per event on standard error; ``watch`` puts the time in front of each."""
    import time

    from drsparse._writers import printable

    def log(text: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z ") if timestamps else ""
        print(f"{stamp}drsparse {command}: {printable(text)}", file=sys.stderr, flush=True)

    return log


class _stopping_on_signals:
    """SIGTERM and SIGINT set ``stop`` (the reader stops after the message it is handling);
    the previous handlers come back at the end."""

    def __init__(self, stop: Stop) -> None:
        self.stop = stop
        self.previous: dict[int, object] = {}

    def __enter__(self) -> None:
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return  # signals reach the main thread only
        for number in (signal.SIGTERM, signal.SIGINT):
            self.previous[number] = signal.signal(number, self._handler)

    def _handler(self, number: int, _frame: FrameType | None) -> None:
        import signal

        self.stop.reason = signal.Signals(number).name

    def __exit__(self, *_exc: object) -> None:
        import signal

        for number, action in self.previous.items():
            signal.signal(number, action)  # type: ignore[arg-type]
