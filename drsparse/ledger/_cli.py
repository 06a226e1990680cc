"""The ledger's commands: ``track``, ``status``, ``history`` and ``ledger rebuild``.

:func:`add_commands` registers them on the ``drsparse`` command's subparsers; each runs as
``run(args) -> exit status``. :func:`record_mda` is what ``drsparse --mda --ledger`` calls.
Only argparse is imported here at start-up: the command starts once per e-mail in a mail
pipe, and everything else is imported by the command that needs it.

Exit statuses: 0 done; 1 ``track``: at least one message could not be read or holds a
malformed response (the others are recorded), ``history``: nothing found; 2 a usage error, or
the ledger cannot be opened, read or written.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator, Sequence

    from drsparse import Response
    from drsparse._batch import Options
    from drsparse.ledger import Attention, Case, Event, Ledger, Status

__all__ = ["BATCH", "COMMANDS", "add_commands", "record_mda"]

#: The names this module adds to the ``drsparse`` command.
COMMANDS = ("track", "status", "history", "ledger")

OK = 0
FAILED = 1
USAGE_ERROR = 2
EX_TEMPFAIL = 75

#: ``track`` commits every BATCH messages, or every FLUSH_SECONDS, whichever comes first: one
#: transaction per message would cost more than the parsing; a message is never split.
BATCH = 200
FLUSH_SECONDS = 1.0

_LEDGER_HELP = (
    "the ledger file (default: $DRSPARSE_LEDGER, else "
    "$XDG_DATA_HOME/drsparse/ledger.sqlite3, i.e. ~/.local/share/drsparse/ledger.sqlite3)"
)

_TRACK_EPILOG = """\
examples:
  drsparse track ~/Maildir/.DRS            record every robot response of a Maildir
  drsparse track archive.mbox old/ new.eml any mix of messages, mboxes, Maildirs, folders
  drsparse track --ledger team.sqlite3 ~/Maildir

Recording the same message again adds nothing, so track can run from cron over a whole
Maildir. Each message that cannot be read is one line SOURCE:LINE:COLUMN: message on standard
error, and the run goes on. A message whose DKIM verdict is negative (authentic: false) is
kept as a suspect and never changes a case.

exit status: 0 every message read, 1 at least one could not be read or parsed (the others are
             recorded), 2 a usage error or a ledger that cannot be written
"""

_STATUS_EPILOG = """\
examples:
  drsparse status                          what needs attention, then the open cases
  drsparse status --json | jq '.attention[] | select(.due != null)'
  drsparse status --all --json             every case, closed ones too
  drsparse status --as-of 2025-07-01 --pending-after 12h

Attention, most urgent first: open outgoing transfers (answer before the deadline) and
domains registered but not delegated (23300, fix before expire.date), by due date; then
messages that are not authentic; then requests pending longer than --pending-after.

exit status: 0 done, 2 a usage error or a ledger that cannot be read
"""

_HISTORY_EPILOG = """\
examples:
  drsparse history acme.de                 everything that happened to a domain
  drsparse history TemplateEMailProcessor-1063716677292
  drsparse history acme.de --json

exit status: 0 events found, 1 none, 2 a usage error or a ledger that cannot be read
"""

_REBUILD_EPILOG = """\
Derives every event again from the record kept of it, with this version of drsparse and its
code table, then every case. Run it after an upgrade.

exit status: 0 done, 2 a ledger that cannot be read or written
"""


def add_commands(commands: Any) -> None:
    """Register ``track``, ``status``, ``history`` and ``ledger`` on ``commands``.

    ``commands`` is what ``ArgumentParser.add_subparsers()`` returned.
    """
    # The command's own options, so that track reads mail as parse does: imported here, when
    # drsparse._cli is loaded already (it is what calls this).
    from drsparse._cli import HelpFormatter, codes_option, trust_options

    raw = HelpFormatter

    track = commands.add_parser(
        "track",
        help="record the robot's responses in the ledger",
        description="Record every response of every message of every PATH in the ledger.",
        epilog=_TRACK_EPILOG,
        formatter_class=raw,
    )
    track.add_argument(
        "paths",
        metavar="PATH",
        nargs="+",
        help="a message, a bare body, an mbox, a Maildir or a folder tree; -: standard input",
    )
    _ledger_option(track)
    trust_options(track)
    codes_option(track)
    track.set_defaults(run=run_track)

    status = commands.add_parser(
        "status",
        help="what is open with the robot, and what needs attention first",
        description="Print what needs attention, most urgent first, and the open cases.",
        epilog=_STATUS_EPILOG,
        formatter_class=raw,
    )
    status.add_argument("--json", action="store_true", help="one JSON object (see README)")
    status.add_argument("--all", action="store_true", help="closed cases too")
    status.add_argument(
        "--as-of",
        metavar="DATE",
        type=_moment,
        help="judge what is due or late as at DATE, ISO 8601 (default: now; without a "
        "time zone: UTC)",
    )
    status.add_argument(
        "--pending-after",
        metavar="DURATION",
        type=_duration,
        default="3d",
        help="a request without its final result for longer than this needs attention: "
        "a number with s, m, h, d or w, e.g. 36h or 1d12h (default: 3d)",
    )
    _ledger_option(status)
    status.set_defaults(run=run_status)

    history = commands.add_parser(
        "history",
        help="every event of a domain or reference, in time order",
        description="Print every recorded event of a domain or a reference, in time order, "
        "with where it came from.",
        epilog=_HISTORY_EPILOG,
        formatter_class=raw,
    )
    history.add_argument("term", metavar="DOMAIN|REFERENCE", help="a domain or a reference")
    history.add_argument("--json", action="store_true", help="one JSON object per event")
    _ledger_option(history)
    history.set_defaults(run=run_history)

    ledger = commands.add_parser(
        "ledger",
        help="look after the ledger file (rebuild)",
        description="Look after the ledger file.",
        formatter_class=raw,
    )
    actions = ledger.add_subparsers(dest="action", metavar="ACTION", required=True)
    rebuild = actions.add_parser(
        "rebuild",
        help="derive every case again from the records kept",
        description="Derive every event and case again from the records kept in the ledger.",
        epilog=_REBUILD_EPILOG,
        formatter_class=raw,
    )
    _ledger_option(rebuild)
    codes_option(rebuild)
    rebuild.set_defaults(run=run_rebuild)


def _ledger_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ledger", metavar="PATH", help=_LEDGER_HELP)


_DURATION = r"(\d+)([smhdw])"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _duration(text: str) -> dt.timedelta:
    import datetime as dt

    spec = text.strip().lower()
    if not spec or re.sub(_DURATION, "", spec):
        raise argparse.ArgumentTypeError(f"not a duration like 36h or 1d12h: {text!r}")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in re.findall(_DURATION, spec))
    try:
        return dt.timedelta(seconds=seconds)
    except OverflowError:
        raise argparse.ArgumentTypeError(f"a duration too long: {text!r}") from None


def _moment(text: str) -> dt.datetime:
    import datetime as dt

    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 date or time like 2025-07-01 or 2025-07-01T12:00+02:00: {text!r}"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _stderr(line: str) -> None:
    # A source label or a message is the sender's text: no terminal control characters.
    from drsparse._writers import printable

    print(printable(line), file=sys.stderr, flush=True)


def _open(args: argparse.Namespace, *, create: bool) -> Ledger | None:
    """The ledger named by ``--ledger`` (or the default); ``None``, reported, when it cannot be."""
    from drsparse.ledger import Ledger, LedgerError, default_path

    path = args.ledger or default_path()
    if not create:
        import os

        if not os.path.exists(path):
            _stderr(
                f"drsparse: {path}: no ledger here yet; record messages first "
                "(drsparse track PATH, or drsparse --mda --ledger in a mail pipe)"
            )
            return None
    try:
        return Ledger(path)
    except LedgerError as exc:
        _stderr(f"drsparse: {exc}")
        return None


# -------------------------------------------------------------------------------------------
# track, --mda --ledger
# -------------------------------------------------------------------------------------------


class _Tally:
    """What ``track`` has read so far."""

    __slots__ = ("failed", "read")

    def __init__(self) -> None:
        self.read = self.failed = 0


def _parsed(
    paths: Sequence[str], options: Options, tally: _Tally
) -> Iterator[tuple[list[Response], bytes]]:
    """The responses of every message of every path, read as ``parse`` reads them; failures
    are reported and counted, and the run goes on."""
    from drsparse._batch import parse_items, typed

    for item, parsed in parse_items(paths, options, then=typed):
        tally.read += 1
        if isinstance(parsed, list):
            if parsed and item.data is not None:
                yield parsed, item.data
        else:
            tally.failed += 1
            _stderr(str(parsed))


def _batches(
    messages: Iterator[tuple[list[Response], bytes]],
) -> Iterator[list[tuple[list[Response], bytes]]]:
    import time

    batch: list[tuple[list[Response], bytes]] = []
    started = time.monotonic()
    for message in messages:
        if not batch:
            started = time.monotonic()
        batch.append(message)
        if len(batch) >= BATCH or time.monotonic() - started >= FLUSH_SECONDS:
            yield batch
            batch = []
    if batch:
        yield batch


def run_track(args: argparse.Namespace) -> int:
    """``drsparse track PATH...``."""
    from drsparse._cli import load_codes, options
    from drsparse.ledger import LedgerError

    codes = load_codes(args)
    if codes is None:
        return USAGE_ERROR
    ledger = _open(args, create=True)
    if ledger is None:
        return USAGE_ERROR
    tally = _Tally()
    responses = added = 0
    try:
        with ledger:
            for batch in _batches(_parsed(args.paths, options(args, codes), tally)):
                responses += sum(len(found) for found, _ in batch)
                added += ledger.add_many(batch, batch=len(batch))
    except LedgerError as exc:
        _stderr(f"drsparse: {exc}")
        return USAGE_ERROR
    print(
        f"{tally.read} message(s) read, {responses} response(s): {added} new, "
        f"{responses - added} already recorded; {tally.failed} message(s) failed "
        f"(ledger: {ledger.path})"
    )
    return FAILED if tally.failed else OK


def record_mda(ledger_path: str, responses: list[Response], data: bytes) -> int:
    """``drsparse --mda --ledger [PATH]``: record the responses of the message ``data``; 0, or
    75 when they cannot be.

    An empty ``ledger_path`` means the default ledger. Each commit waits for the disk: the
    mail system may drop its copy once the delivery succeeds.
    """
    from drsparse.ledger import Ledger, LedgerError

    if not responses:
        return OK
    try:
        with Ledger(ledger_path or None, durable=True) as ledger:
            ledger.add(responses, message=data)
    except LedgerError as exc:
        _stderr(f"drsparse: cannot record the message in the ledger: {exc}")
        return EX_TEMPFAIL
    return OK


# -------------------------------------------------------------------------------------------
# status
# -------------------------------------------------------------------------------------------


def run_status(args: argparse.Namespace) -> int:
    """``drsparse status``."""
    import datetime as dt

    from drsparse.ledger import LedgerError

    ledger = _open(args, create=False)
    if ledger is None:
        return USAGE_ERROR
    as_of = args.as_of or dt.datetime.now(dt.UTC)
    try:
        with ledger:
            result = ledger.status(
                as_of=as_of, pending_after=args.pending_after, include_closed=args.all
            )
    except LedgerError as exc:
        _stderr(f"drsparse: {exc}")
        return USAGE_ERROR
    _utf8()
    if args.json:
        import json

        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        print(_status_text(result, as_of, include_closed=args.all))
    return OK


def _utf8() -> None:
    # Domains, references and notes are the robot's text: print them whatever the locale.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(encoding="utf-8", errors="replace")


def _when(moment: dt.datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M}Z"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    # The cells come from the messages: no control characters to a terminal.
    from drsparse._writers import columns, printable

    return columns([head, *([printable(cell) for cell in row] for row in rows)]).splitlines()


def _urgency(case: Case) -> tuple[object, ...]:
    due = "" if case.due is None else case.due.isoformat()
    since = "" if case.updated is None else case.updated.isoformat()
    return (not case.open, case.due is None, due, case.updated is None, since, case.id)


def _status_text(result: Status, as_of: dt.datetime, *, include_closed: bool) -> str:
    lines = [f"as of {_when(as_of.astimezone(_utc()))}"]
    if result.attention:
        lines += ["", f"NEEDS ATTENTION ({len(result.attention)}), most urgent first"]
        lines += _table(
            ("DUE", "KIND", "DOMAIN", "REFERENCE", "CODE", "REASON"),
            [_attention_row(item) for item in result.attention],
        )
    cases = sorted(result.cases, key=_urgency)
    title = "CASES" if include_closed else "OPEN CASES"
    if cases:
        lines += ["", f"{title} ({len(cases)})"]
        lines += _table(
            ("DUE", "KIND", "DOMAIN", "REFERENCE", "SINCE", "STATE", "CODES"),
            [_case_row(case) for case in cases],
        )
    if not result.attention and not cases:
        lines += ["", "nothing open, nothing needs attention"]
    return "\n".join(lines)


def _utc() -> dt.timezone:
    import datetime as dt

    return dt.UTC


def _attention_row(item: Attention) -> list[str]:
    reason = item.reason + (f" [{item.source}]" if item.source else "")
    return [
        _when(item.due),
        item.kind,
        item.domain or "-",
        item.reference or "-",
        "-" if item.code is None else str(item.code),
        reason,
    ]


def _case_row(case: Case) -> list[str]:
    state = "open" if case.open else f"closed {case.final_code}"
    if case.suspect:
        state += ", SUSPECT"
    return [
        _when(case.due),
        case.kind,
        case.domain or "-",
        case.reference or "-",
        _when(case.updated),
        state,
        " ".join(map(str, case.codes)),
    ]


# -------------------------------------------------------------------------------------------
# history, ledger rebuild
# -------------------------------------------------------------------------------------------


def _event_dict(event: Event) -> dict[str, object]:
    return {
        "time": None if event.time is None else event.time.isoformat(),
        "code": event.code,
        "msg": event.msg,
        "kind": event.kind,
        "domain": event.domain,
        "reference": event.reference,
        "authentic": event.authentic,
        "quoted": event.quoted,
        "forwarded": event.forwarded,
        "source": event.source,
    }


def run_history(args: argparse.Namespace) -> int:
    """``drsparse history DOMAIN|REFERENCE``."""
    from drsparse.ledger import LedgerError

    ledger = _open(args, create=False)
    if ledger is None:
        return USAGE_ERROR
    try:
        with ledger:
            events = ledger.events(args.term)
    except LedgerError as exc:
        _stderr(f"drsparse: {exc}")
        return USAGE_ERROR
    if not events:
        _stderr(f"drsparse: no event of {(args.term)} in {ledger.path}")
        return FAILED
    _utf8()
    if args.json:
        import json

        for event in events:
            print(json.dumps(_event_dict(event), ensure_ascii=False))
        return OK
    rows = []
    for event in events:
        flags = "SUSPECT (not authentic)" if event.suspect else ""
        flags = "quoted" if event.quoted else "forwarded" if event.forwarded else flags
        rows.append(
            [
                _when(event.time),
                str(event.code),
                event.msg or "-",
                event.domain or "-",
                event.reference or "-",
                flags or "-",
                event.source or "-",
            ]
        )
    print(
        "\n".join(_table(("TIME", "CODE", "MSG", "DOMAIN", "REFERENCE", "FLAGS", "SOURCE"), rows))
    )
    return OK


def run_rebuild(args: argparse.Namespace) -> int:
    """``drsparse ledger rebuild``."""
    from drsparse._cli import load_codes
    from drsparse.ledger import LedgerError

    codes = load_codes(args)
    if codes is None:
        return USAGE_ERROR
    ledger = _open(args, create=False)
    if ledger is None:
        return USAGE_ERROR
    try:
        with ledger:
            cases = ledger.rebuild(codes)
            events = len(ledger)
    except LedgerError as exc:
        _stderr(f"drsparse: {exc}")
        return USAGE_ERROR
    print(f"rebuilt {cases} case(s) from {events} event(s) (ledger: {ledger.path})")
    return OK
