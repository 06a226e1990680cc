"""The ledger's store: responses in, kept in one SQLite file; cases, status and history out.

Two tables hold everything. ``events`` keeps every response ever recorded: its full schema-1
record (what ``drsparse parse`` prints) beside the columns the fold decides on, which are
derived from the record and can be derived again (:meth:`Ledger.rebuild`, after an upgrade or
with a new code table). What the record lacks and the fold needs is kept beside it: the Date,
From and Subject headers, the date of the topmost Received header (``Origin.received``: the
time of a message without a Date), and whether the response was forwarded
(``Origin.forwarded``).
``cases`` holds what :func:`~drsparse.ledger.fold` makes of them, kept up to date as events
arrive: each new event refolds only its partition (its domain, else its reference), so
``status`` reads cases through indexes and never folds the whole ledger.

Safety, for several mail deliveries writing at once and for a process killed at any moment:
WAL journal, a busy timeout, and each message's responses written in one ``BEGIN IMMEDIATE``
transaction together with the cases they change, so a message is either wholly in the ledger
or not at all. The same message recorded twice counts once (a UNIQUE identity).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from attrs import evolve

import drsparse
from drsparse import DEFAULT_CODES, CodeTable, DrsParseError, Origin, Response, Result, SubResult
from drsparse._model import DataValue
from drsparse._records import response_record
from drsparse.ledger._fold import (
    Case,
    Event,
    State,
    Status,
    event_order,
    fold,
    partition_of,
    status,
)

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Ledger", "LedgerError", "default_path", "record_of"]

ENV = "DRSPARSE_LEDGER"


class LedgerError(DrsParseError):
    """The ledger file cannot be opened, read or written (``source`` names the file)."""


def default_path() -> Path:
    """Where the ledger lives unless told: ``$DRSPARSE_LEDGER``, else the XDG data directory.

    ``$XDG_DATA_HOME/drsparse/ledger.sqlite3``, ``~/.local/share/drsparse/ledger.sqlite3``
    when ``XDG_DATA_HOME`` is unset or not absolute (as the XDG specification says).
    """
    named = os.environ.get(ENV)
    if named:
        return Path(named).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME", "")
    base = Path(data_home) if os.path.isabs(data_home) else Path.home() / ".local" / "share"
    return base / "drsparse" / "ledger.sqlite3"


# -------------------------------------------------------------------------------------------
# Schema and migrations
# -------------------------------------------------------------------------------------------


class Migration(NamedTuple):
    """One step from a schema version to the next: statements, then perhaps a refold."""

    what: str
    statements: tuple[str, ...]
    #: The step changes what cases hold: derive them all again from the events.
    refold: bool = False


#: Step N takes a ledger from version N to N + 1. Never edit a released step: add one.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "events and the cases folded from them",
        (
            """CREATE TABLE events (
                id INTEGER PRIMARY KEY,        -- the order given
                key TEXT NOT NULL UNIQUE,      -- the identity: a message counts once
                partition TEXT NOT NULL,
                time TEXT,                     -- the message's Date, UTC, sortable text
                code INTEGER NOT NULL,
                reference TEXT,
                domain TEXT,
                msg TEXT,
                pending INTEGER NOT NULL,
                deadline TEXT,
                expire_date TEXT,
                authentic INTEGER,
                quoted INTEGER NOT NULL,
                source TEXT,
                date TEXT,                     -- Date, From and Subject headers as sent
                sender TEXT,
                subject TEXT,
                record TEXT NOT NULL,          -- the schema-1 record, JSON
                recorded TEXT NOT NULL         -- when it was recorded, UTC
            )""",
            "CREATE INDEX events_partition ON events (partition)",
            # Keyed by partition first: a refold replaces one partition's cases in one place.
            """CREATE TABLE cases (
                partition TEXT NOT NULL,
                id TEXT NOT NULL,
                kind TEXT NOT NULL,
                reference TEXT,
                domain TEXT,
                open INTEGER NOT NULL,
                final_code INTEGER,
                codes TEXT NOT NULL,           -- space-separated, in time order
                due TEXT,
                suspect INTEGER NOT NULL,
                opened TEXT,
                updated TEXT,
                events TEXT NOT NULL,          -- identities, one a line
                PRIMARY KEY (partition, id)
            ) WITHOUT ROWID""",
        ),
    ),
    Migration(
        "notes on cases; indexes for status and history",
        (
            "ALTER TABLE cases ADD COLUMN notes TEXT NOT NULL DEFAULT ''",  # one a line
            "CREATE INDEX cases_open ON cases (opened) WHERE open",
            "CREATE INDEX cases_due ON cases (due) WHERE due IS NOT NULL",
            "CREATE INDEX cases_suspect ON cases (id) WHERE suspect",
            "CREATE INDEX events_reference ON events (reference)",
            "CREATE INDEX events_suspect ON events (id) WHERE authentic = 0 AND NOT quoted",
        ),
        refold=True,
    ),
    Migration(
        # The record does not say it (its schema stays), and rebuild must not lose it. The
        # events recorded before cannot be told apart: they stay as they were (0), and so do
        # their cases.
        "forwarded copies: kept beside the record, never suspects",
        (
            "ALTER TABLE events ADD COLUMN forwarded INTEGER NOT NULL DEFAULT 0",
            "DROP INDEX events_suspect",
            "CREATE INDEX events_suspect ON events (id) "
            "WHERE authentic = 0 AND NOT quoted AND NOT forwarded",
        ),
    ),
    Migration(
        # The time of a message without a Date: the record does not say it, and rebuild must
        # not lose it. The events recorded before have none (NULL) and keep the time they
        # were given: nothing to refold.
        "the date of the topmost Received header, beside the record",
        ("ALTER TABLE events ADD COLUMN received TEXT",),
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def _version(db: sqlite3.Connection) -> int:
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if exists is None:
        tables = db.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchone()[0]
        return 0 if tables == 0 else -1
    row = db.execute("SELECT version FROM schema_version").fetchone()
    return -1 if row is None else int(row[0])


def migrate(db: sqlite3.Connection, target: int = SCHEMA_VERSION) -> bool:
    """Bring an open ledger to version ``target``; inside the caller's write transaction.

    Returns whether a step asks for the cases to be refolded.
    """
    version = _version(db)
    if version < 0:
        raise ValueError("the file is an SQLite database but not a drsparse ledger")
    if version > SCHEMA_VERSION:
        raise ValueError(
            f"the ledger has schema version {version}, newer than this drsparse knows "
            f"({SCHEMA_VERSION}): upgrade drsparse"
        )
    if version == 0:
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO schema_version VALUES (0)")
    refold = False
    for step in MIGRATIONS[version:target]:
        for statement in step.statements:
            db.execute(statement)
        refold = refold or (step.refold and version > 0)
    if target > version:
        db.execute("UPDATE schema_version SET version = ?", (target,))
    return refold


# -------------------------------------------------------------------------------------------
# Records: a response as stored, and back
# -------------------------------------------------------------------------------------------

_BLOCK_HEAD = "### DRS Response\n###\n\n"


def record_of(response: Response) -> dict[str, Any]:
    """The schema-1 record of ``response``: what ``drsparse parse`` prints for it."""
    return response_record(response)


def _timestamp(value: str) -> DataValue:
    # The record writes timestamps with isoformat(); the parser typed them as datetimes.
    if isinstance(value, str) and len(value) >= 20 and value[10:11] == "T":
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return moment
    return value


def _typed(record: dict[str, Any], codes: CodeTable) -> Response:
    """The response of a record from its typed view (for a record without its lines)."""
    code = record["result"]["code"]
    return Response(
        Result(code, record["result"]["msg"], codes.explain(code)),
        reference=record["reference"],
        domain=record["domain"],
        sub_results=tuple(
            SubResult(
                code=sub["code"],
                msg=sub["msg"],
                section=sub["section"],
                key=sub["key"],
                value=sub["value"],
                line_no=sub["line_no"],
                keys=tuple(sub["keys"]),
                values=tuple(sub["values"]),
                data={key: _timestamp(value) for key, value in sub["data"].items()},
                info=None if sub["code"] is None else codes.explain(sub["code"]),
            )
            for sub in record["sub_results"]
        ),
        nameservers=tuple(drsparse.Nameserver(**ns) for ns in record["nameservers"]),
        contacts=tuple(drsparse.Contact(**contact) for contact in record["contacts"]),
        warnings=tuple(record["warnings"]),
    )


def response_of(
    record: dict[str, Any], origin: Origin, codes: CodeTable = DEFAULT_CODES
) -> Response:
    """The response a record was made from, read again by today's parser and code table.

    The record's lines are parsed again, so that an upgraded parser types them anew; a
    record without lines (a response built in code) is rebuilt from its typed view.
    """
    response = None
    if record["fields"]:
        text = _BLOCK_HEAD + "".join(f"{key}: {value}\n" for key, value, _ in record["fields"])
        try:
            response = drsparse.parse(text, codes=codes)
        except DrsParseError:
            response = None
    if response is None:
        response = _typed(record, codes)
    return evolve(response, origin=origin)


# -------------------------------------------------------------------------------------------
# Rows
# -------------------------------------------------------------------------------------------


def _text_time(moment: dt.datetime | None) -> str | None:
    # One fixed width, so that the text sorts as the time does.
    return None if moment is None else _utc_text(moment)


@functools.lru_cache(maxsize=4096)
def _utc_text(moment: dt.datetime) -> str:
    # An event's time is written with the event and again with its case (opened, updated).
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _parse_time(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


_EVENT_COLUMNS = (
    "key, partition, time, code, reference, domain, msg, pending, deadline, expire_date, "
    "authentic, quoted, forwarded, source, date, sender, subject, received, record, recorded"
)
_EVENT_INSERT = (
    f"INSERT OR IGNORE INTO events ({_EVENT_COLUMNS}) "
    f"VALUES ({', '.join('?' * len(_EVENT_COLUMNS.split(',')))})"
)
_EVENT_READ = (
    "id, key, time, code, reference, domain, msg, pending, deadline, expire_date, authentic, "
    "quoted, forwarded, source"
)
_CASE_COLUMNS = (
    "partition, id, kind, reference, domain, open, final_code, codes, due, suspect, opened, "
    "updated, events, notes"
)


def _derived(event: Event) -> tuple[object, ...]:
    """The columns of ``events`` that the fold decides on, from partition to forwarded."""
    return (
        partition_of(event),
        _text_time(event.time),
        event.code,
        event.reference,
        event.domain,
        event.msg,
        int(event.pending),
        _text_time(event.deadline),
        _text_time(event.expire_date),
        _flag(event.authentic),
        int(event.quoted),
        int(event.forwarded),
    )


def _json(record: dict[str, Any]) -> str:
    return _ENCODER.encode(record)


# A record is a tree made for the occasion: the check for cycles would find none.
_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":"))


def _event_row(event: Event, response: Response, recorded: str) -> tuple[object, ...]:
    origin = response.origin or Origin()
    record = _json(response_record(response))
    return (
        event.key,
        *_derived(event),
        event.source,
        origin.date,
        origin.sender,
        origin.subject,
        origin.received,
        record,
        recorded,
    )


def _kept(db: sqlite3.Connection, partitions: set[str]) -> dict[str, list[Any]]:
    """The events of each partition, read with a query per few hundred partitions: one query
    per partition cost a tenth of what recording a message costs."""
    kept: dict[str, list[Any]] = {partition: [] for partition in partitions}
    names = sorted(partitions)
    for start in range(0, len(names), _PARTITIONS_PER_QUERY):
        chunk = names[start : start + _PARTITIONS_PER_QUERY]
        query = (
            f"SELECT partition, {_EVENT_READ} FROM events "
            f"WHERE partition IN ({', '.join('?' * len(chunk))})"
        )
        for row in db.execute(query, chunk):
            kept[row[0]].append(row[1:])
    return kept


#: Well below SQLite's smallest limit on the parameters of a statement (999 before 3.32).
_PARTITIONS_PER_QUERY = 500


def _event(row: Sequence[Any]) -> Event:
    (seq, key, moment, code, reference, domain, msg, pending, deadline, expire, authentic) = row[
        :11
    ]
    return Event(
        key=key,
        code=code,
        reference=reference,
        domain=domain,
        time=_parse_time(moment),
        msg=msg,
        pending=bool(pending),
        deadline=_parse_time(deadline),
        expire_date=_parse_time(expire),
        authentic=None if authentic is None else bool(authentic),
        quoted=bool(row[11]),
        forwarded=bool(row[12]),
        source=row[13],
        seq=seq,
    )


_CASE_INSERT = f"INSERT INTO cases ({_CASE_COLUMNS}) VALUES ({', '.join('?' * 14)})"


def _case_rows(partition: str, events: Iterable[Event]) -> list[tuple[object, ...]]:
    """The rows of the cases that ``events``, all of ``partition``, fold into."""
    return [_case_row(case, partition) for case in fold(events).cases]


def _case_row(case: Case, partition: str) -> tuple[object, ...]:
    return (
        partition,
        case.id,
        case.kind,
        case.reference,
        case.domain,
        int(case.open),
        case.final_code,
        " ".join(map(str, case.codes)),
        _text_time(case.due),
        int(case.suspect),
        _text_time(case.opened),
        _text_time(case.updated),
        # Lines, not JSON: the cheapest to write on the ingestion path. Identities and notes
        # hold no line break (Event.from_response folds the Message-ID's white space).
        "\n".join(case.events),
        "\n".join(case.notes),
    )


def _case(row: Sequence[Any]) -> Case:
    return Case(
        id=row[1],
        kind=row[2],
        reference=row[3],
        domain=row[4],
        open=bool(row[5]),
        final_code=row[6],
        codes=tuple(int(code) for code in row[7].split()),
        due=_parse_time(row[8]),
        suspect=bool(row[9]),
        opened=_parse_time(row[10]),
        updated=_parse_time(row[11]),
        events=tuple(row[12].split("\n")),
        notes=tuple(row[13].split("\n")) if row[13] else (),
    )


def _now() -> str:
    return _text_time(dt.datetime.now(dt.UTC)) or ""


# -------------------------------------------------------------------------------------------
# The ledger
# -------------------------------------------------------------------------------------------


class Ledger:
    """A ledger file: open it, record messages, ask for cases, status and history.

    ``path`` defaults to :func:`default_path`; its folder is created. ``durable=True`` makes
    every commit wait for the disk (``synchronous=FULL``), for a mail delivery that has no
    other copy of the message; otherwise a commit survives the process being killed but
    perhaps not a power cut (``synchronous=NORMAL``): run ``track`` again, it is idempotent.
    ``timeout`` is how long to wait, in seconds, for another process's write to finish.

    Errors of the file (not a ledger, too new, unwritable, locked beyond ``timeout``) raise
    :class:`LedgerError`. Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        durable: bool = False,
        timeout: float = 60.0,
    ) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._timeout = timeout
        self._db: sqlite3.Connection | None = None
        with self._errors():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: no implicit transactions; every write says BEGIN IMMEDIATE
            # itself, so that two writers never deadlock upgrading a read lock.
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            try:
                self._db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
                self._retry(lambda: self._db_().execute("PRAGMA journal_mode = WAL").fetchone())
                self._db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
                self._open()
            except BaseException:
                self.close()
                raise

    def _db_(self) -> sqlite3.Connection:
        if self._db is None:
            raise LedgerError("the ledger is closed", source=str(self.path))
        return self._db

    def _retry(self, action: Callable[[], object]) -> None:
        # Switching a new file to WAL takes a lock that the busy timeout does not wait for.
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                action()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _open(self) -> None:
        db = self._db_()
        current = _version(db)
        if current == SCHEMA_VERSION:
            return
        with self._write():
            if migrate(db):
                self._refold_all()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """sqlite3 and OS errors as :class:`LedgerError`, naming the file."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if self._db is not None and self._db.in_transaction:
                self._db.rollback()
            message = str(exc)
            if "not a database" in message:
                message = "not a drsparse ledger (not an SQLite database)"
            raise LedgerError(message, source=str(self.path)) from exc
        except (OSError, ValueError) as exc:
            if isinstance(exc, DrsParseError):  # ours, or the caller's: already says where
                raise
            message = str(exc)
            if isinstance(exc, OSError) and exc.strerror:
                message = exc.strerror
                if exc.filename is not None and str(exc.filename) != str(self.path):
                    message = f"{exc.filename}: {message}"
            raise LedgerError(message, source=str(self.path)) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none of it."""
        db = self._db_()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.rollback()
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        """Close the file (a no-op when closed)."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------------
    # Writing
    # ---------------------------------------------------------------------------------------

    def add(self, responses: Sequence[Response], *, message: bytes | None = None) -> int:
        """Record the responses of one message, all in one transaction; return how many are new.

        ``message`` is the message's raw bytes: its hash identifies a message without a
        Message-ID. Recording the same message again adds nothing.
        """
        return self.add_many([(responses, message)])

    def add_many(
        self,
        messages: Iterable[tuple[Sequence[Response], bytes | None]],
        *,
        batch: int = 1,
    ) -> int:
        """Record many messages, ``batch`` messages per transaction; return how many are new.

        A larger ``batch`` is faster for a bulk load; a message is never split between
        transactions.
        """
        if batch < 1:
            raise ValueError(f"batch must be at least 1, not {batch}")
        added = 0
        pending: list[tuple[Sequence[Response], bytes | None]] = []
        with self._errors():
            for item in messages:
                pending.append(item)
                if len(pending) >= batch:
                    added += self._add_batch(pending)
                    pending = []
            if pending:
                added += self._add_batch(pending)
        return added

    def _add_batch(self, messages: Sequence[tuple[Sequence[Response], bytes | None]]) -> int:
        recorded = _now()
        rows = []
        for responses, message in messages:
            for index, response in enumerate(responses):
                event = Event.from_response(response, message=message, index=index)
                rows.append((event, _event_row(event, response, recorded)))
        added: dict[str, list[Event]] = {}
        if not rows:  # nothing to record: no need to take the write lock
            return 0
        with self._write() as db:
            # The events already kept in each partition, read before any is added: the new
            # ones are known here, and a new partition needs no old cases deleted.
            kept = _kept(db, {str(row[1]) for _, row in rows})
            for event, row in rows:  # in the order given: the ids number the events so
                cursor = db.execute(_EVENT_INSERT, row)
                if cursor.rowcount:
                    # The order given decides only for the events without a time.
                    seq = cursor.lastrowid or 0
                    new = event if event.time is not None else evolve(event, seq=seq)
                    added.setdefault(str(row[1]), []).append(new)
            # The cases of every partition that got events, folded again, in one statement.
            db.executemany(
                "DELETE FROM cases WHERE partition = ?",
                [(partition,) for partition in added if kept[partition]],
            )
            db.executemany(
                _CASE_INSERT,
                [
                    row
                    for partition, events in added.items()
                    for row in _case_rows(partition, [*map(_event, kept[partition]), *events])
                ],
            )
        return sum(map(len, added.values()))

    def _store_cases(self, partition: str, events: Iterable[Event], *, replace: bool) -> None:
        db = self._db_()
        if replace:
            db.execute("DELETE FROM cases WHERE partition = ?", (partition,))
        db.executemany(_CASE_INSERT, _case_rows(partition, events))

    def _refold(self, partition: str) -> None:
        rows = (
            self._db_()
            .execute(f"SELECT {_EVENT_READ} FROM events WHERE partition = ?", (partition,))
            .fetchall()
        )
        self._store_cases(partition, map(_event, rows), replace=True)

    def _refold_all(self) -> int:
        db = self._db_()
        db.execute("DELETE FROM cases")
        partitions = [row[0] for row in db.execute("SELECT DISTINCT partition FROM events")]
        for partition in partitions:
            self._refold(partition)
        return int(db.execute("SELECT count(*) FROM cases").fetchone()[0])

    def rebuild(self, codes: CodeTable = DEFAULT_CODES) -> int:
        """Derive every event again from its stored record, then every case; return the cases.

        For after an upgrade of drsparse or a change of the code table: the records are read
        by today's parser and the table ``codes``. Identities stay as recorded. One
        transaction: other writers wait for it (a mail delivery that waits beyond its timeout
        is retried later).
        """
        with self._errors(), self._write() as db:
            for seq, key, text, date, sender, subject, received, forwarded in self._all_records():
                record = json.loads(text)
                origin = Origin(
                    source=record["source"],
                    message_id=record["message_id"],
                    date=date,
                    sender=sender,
                    subject=subject,
                    part=record["part"],
                    quoted=record["quoted"],
                    authentic=record["authentic"],
                    forwarded=bool(forwarded),
                    received=received,
                )
                response = response_of(record, origin, codes)
                event = evolve(Event.from_response(response), key=key, seq=seq)
                db.execute(
                    "UPDATE events SET partition = ?, time = ?, code = ?, reference = ?, "
                    "domain = ?, msg = ?, pending = ?, deadline = ?, expire_date = ?, "
                    "authentic = ?, quoted = ?, forwarded = ?, record = ? WHERE id = ?",
                    (
                        *_derived(event),
                        _json(record_of(response)),
                        seq,
                    ),
                )
            return self._refold_all()

    def _all_records(self, chunk: int = 1000) -> Iterator[tuple[Any, ...]]:
        # A chunk at a time: the records of a big ledger do not fit in memory at once.
        last = 0
        while True:
            rows = (
                self._db_()
                .execute(
                    "SELECT id, key, record, date, sender, subject, received, forwarded "
                    "FROM events WHERE id > ? ORDER BY id LIMIT ?",
                    (last, chunk),
                )
                .fetchall()
            )
            if not rows:
                return
            yield from rows
            last = rows[-1][0]

    # ---------------------------------------------------------------------------------------
    # Reading
    # ---------------------------------------------------------------------------------------

    def __len__(self) -> int:
        """The number of events recorded."""
        with self._errors():
            return int(self._db_().execute("SELECT count(*) FROM events").fetchone()[0])

    def events(self, term: str | None = None) -> list[Event]:
        """Every event in time order; with ``term``, those of that domain or reference."""
        query = f"SELECT {_EVENT_READ} FROM events"
        args: tuple[str, ...] = ()
        if term is not None:
            # A domain's events are its partition (see partition_of).
            query += " WHERE partition = ? OR reference = ?"
            args = ("domain:" + term.strip().rstrip(".").lower(), term)
        with self._errors():
            rows = self._db_().execute(query, args).fetchall()
        return sorted((_event(row) for row in rows), key=event_order)

    def record(self, key: str) -> dict[str, Any] | None:
        """The stored schema-1 record of the event with identity ``key``."""
        with self._errors():
            row = self._db_().execute("SELECT record FROM events WHERE key = ?", (key,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def cases(self, *, include_closed: bool = True) -> list[Case]:
        """The cases as kept (open ones only with ``include_closed=False``), oldest first."""
        where = "" if include_closed else " WHERE open"
        return self._cases(f"SELECT {_CASE_COLUMNS} FROM cases{where}", ())

    def _cases(self, query: str, args: tuple[object, ...]) -> list[Case]:
        with self._errors():
            rows = self._db_().execute(query, args).fetchall()
        cases = [_case(row) for row in rows]
        cases.sort(key=lambda case: (case.opened is None, _text_time(case.opened) or "", case.id))
        return cases

    def suspects(self) -> list[Event]:
        """The events of messages that are not authentic, in time order (copies are not)."""
        with self._errors():
            rows = (
                self._db_()
                .execute(
                    f"SELECT {_EVENT_READ} FROM events "
                    "WHERE authentic = 0 AND NOT quoted AND NOT forwarded"
                )
                .fetchall()
            )
        return sorted((_event(row) for row in rows), key=event_order)

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One read transaction: what several queries read was all there at one moment."""
        db = self._db_()
        with self._errors():
            db.execute("BEGIN")
        try:
            yield
        finally:
            if db.in_transaction:
                db.execute("COMMIT")

    def state(self) -> State:
        """Every case and suspect as kept: what :func:`fold` gives for all recorded events."""
        with self._snapshot():
            return State(tuple(self.cases()), tuple(self.suspects()))

    def status(
        self,
        *,
        as_of: dt.datetime | None = None,
        pending_after: dt.timedelta = dt.timedelta(days=3),
        include_closed: bool = False,
    ) -> Status:
        """The open cases (all with ``include_closed``) and what needs attention at ``as_of``.

        Read through indexes: the open cases, the cases due at or after ``as_of`` and the
        suspects, never the whole ledger (unless ``include_closed``).
        """
        moment = dt.datetime.now(dt.UTC) if as_of is None else as_of
        if moment.tzinfo is None:
            raise ValueError("as_of must be an aware datetime (with a time zone)")
        with self._snapshot():
            if include_closed:
                cases = self.cases()
            else:
                # The cases that can need attention: open ones, and those still due (23300).
                cases = self._cases(
                    f"SELECT {_CASE_COLUMNS} FROM cases WHERE open UNION "
                    f"SELECT {_CASE_COLUMNS} FROM cases WHERE due >= ?",
                    (_text_time(moment),),
                )
            state = State(tuple(cases), tuple(self.suspects()))
        return status(
            state, as_of=moment, pending_after=pending_after, include_closed=include_closed
        )
