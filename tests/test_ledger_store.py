"""The ledger's SQLite store: real files in tmp_path, real processes writing and dying.

What the store must keep: every response recorded once, whatever the order and the
repetitions; cases equal to what the pure fold gives for the recorded events, after any
sequence of writes, concurrent writers, a writer killed mid-way, a migration or a rebuild.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]

import drsparse
from drsparse import Origin, Response, Result, SubResult, testing
from drsparse.ledger import SCHEMA_VERSION, Event, Ledger, LedgerError, default_path, fold, status
from drsparse.ledger._fold import partition_of
from drsparse.ledger._store import (
    _CASE_COLUMNS,
    _EVENT_COLUMNS,
    MIGRATIONS,
    _case_row,
    _event_row,
    migrate,
)
from tests.helpers import ROOT
from tests.test_ledger_fold import (
    CONVERSATIONS,
    FORGED,
    FORWARDS,
    GENERATED,
    MAILBOX,
    MAILBOX_EVENTS,
    at,
    data_of,
    parsed,
    without_header,
)

UTC = dt.UTC
WEEK = dt.timedelta(days=7)


def record_all(ledger: Ledger, messages: Sequence[testing.Mail | bytes]) -> int:
    return sum(
        ledger.add(parsed(message, source=f"m{i}"), message=data_of(message))
        for i, message in enumerate(messages)
    )


def pure_events(messages: Sequence[testing.Mail | bytes]) -> list[Event]:
    """The events of the messages without the store, with the sources record_all gives."""
    return [
        Event.from_response(response, message=data_of(message), index=index)
        for i, message in enumerate(messages)
        for index, response in enumerate(parsed(message, source=f"m{i}"))
    ]


def two_responses(count: int, *, seed: int = 0) -> list[testing.Mail]:
    """Messages with two responses each: a .de registration initiated and completed.

    Plain text without evidence: the smallest robot mail, as thousands of them are parsed.
    """
    rnd = random.Random(seed)
    mails = []
    for i in range(count):
        steps = [
            testing.response(code, domain=f"d{i}.de", reference=f"R-{i}") for code in (10320, 10000)
        ]
        date = at(1 + i % 28, i % 24)
        mails.append(testing.make_mail(*steps, shape="plain", auth="unsigned", date=date, rnd=rnd))
    return mails


def assert_consistent(path: Path) -> Ledger:
    """The file is sound and its cases are what the fold gives for its events."""
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()
    ledger = Ledger(path)
    assert ledger.state() == fold(ledger.events())
    return ledger


# -------------------------------------------------------------------------------------------
# Recording
# -------------------------------------------------------------------------------------------


def test_the_store_keeps_what_the_fold_gives(tmp_path: Path) -> None:
    # The mailbox's conversations and a whole generated one: foreign mail, copies, a forgery.
    messages = [*MAILBOX, *GENERATED]
    random.Random(5).shuffle(messages)
    responses = sum(len(parsed(message)) for message in messages)
    assert responses > len(MAILBOX)
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        assert record_all(ledger, messages) == responses
        assert len(ledger) == responses
        assert ledger.state() == fold(pure_events([*MAILBOX, *GENERATED]))
        assert ledger.state() == fold(ledger.events())
        # The forgery is kept apart; the forwards are kept, and are no suspects.
        assert ledger.suspects()
        copies = [event for event in ledger.events() if event.forwarded]
        assert copies
        assert not set(copies) & set(ledger.suspects())


def test_the_same_message_counts_once(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        first = CONVERSATIONS["de-registration"][0]
        assert ledger.add(parsed(first), message=first.data) == 1
        assert ledger.add(parsed(first), message=first.data) == 0
        # Delivered again by another way: other bytes, the same Message-ID.
        again = testing.make_mail(
            *first.responses, date=first.date, message_id=first.message_id, rnd=random.Random(1)
        )
        assert again.data != first.data
        assert ledger.add(parsed(again), message=again.data) == 0
        # No Message-ID: the bytes identify it.
        bare = without_header(CONVERSATIONS["requests"][0].data, "Message-ID")
        assert ledger.add(parsed(bare), message=bare) == 1
        assert ledger.add(parsed(bare), message=bare) == 0
        assert len(ledger) == 2
        assert [case.codes for case in ledger.cases()] == [(10000,), (10320,)]


def test_an_insert_that_fails_leaves_nothing_behind(tmp_path: Path) -> None:
    # The second response of the message breaks the insert: the first must not stay.
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        good = parsed(CONVERSATIONS["de-registration"][0])[0]
        broken = Response(Result(10000), domain="x.de", reference="\ud800")  # not UTF-8
        with pytest.raises(LedgerError):
            ledger.add([good, broken])
        assert len(ledger) == 0
        assert ledger.cases() == []


def test_the_stored_record_is_the_schema_1_record(tmp_path: Path) -> None:
    schema = json.loads((ROOT / "drsparse" / "data" / "record.schema.json").read_text())
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        record_all(ledger, [*MAILBOX, *GENERATED])
        for event in ledger.events():
            record = ledger.record(event.key)
            assert record is not None
            validator.validate(record)
            assert record["result"]["code"] == event.code
            assert record["source"] == event.source
        (nd,) = [e for e in ledger.events("organisierdich.de") if e.expire_date is not None]
        record = ledger.record(nd.key)
        assert record is not None
        assert record["sub_results"][0]["data"]["expire.date"] == "2003-11-28T23:00:00+00:00"


def test_status_through_the_indexes_is_the_pure_status(tmp_path: Path) -> None:
    messages = [*MAILBOX, FORGED]
    state = fold(pure_events(messages))
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        record_all(ledger, messages)
        # Before and after each deadline (Nov 4, Nov 14), the expire.date (Nov 28) and the
        # pending week (from Nov 9).
        days = [(10, 29), (10, 31), (11, 3), (11, 5), (11, 10), (11, 13), (11, 15), (11, 17)]
        for month, day in [*days, (11, 28), (11, 29), (12, 15)]:
            as_of = dt.datetime(2003, month, day, tzinfo=UTC)
            for closed in (False, True):
                expected = status(state, as_of=as_of, pending_after=WEEK, include_closed=closed)
                got = ledger.status(as_of=as_of, pending_after=WEEK, include_closed=closed)
                assert got == expected, (as_of, closed)
        assert [e.domain for e in ledger.suspects()] == ["bigbank.com"]


def test_history_by_domain_and_by_reference(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        record_all(ledger, MAILBOX)
        assert [e.code for e in ledger.events("ACME.com.")] == [10300, 10302, 10310, 10000, 10300]
        reused = ledger.events("TemplateEMailProcessor-1063716677292")  # acme.de and acme.co.uk
        assert [(e.domain, e.code) for e in reused] == [
            ("acme.de", 10320),
            ("acme.de", 10000),
            ("acme.co.uk", 10320),
            ("wait.de", 10320),
        ]
        assert ledger.events("nothing.example") == []


# -------------------------------------------------------------------------------------------
# The file
# -------------------------------------------------------------------------------------------


def test_the_default_path_follows_xdg_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DRSPARSE_LEDGER", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / "drsparse" / "ledger.sqlite3"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / ".local" / "share" / "drsparse" / "ledger.sqlite3"
    monkeypatch.setenv("DRSPARSE_LEDGER", str(tmp_path / "mine.sqlite3"))
    assert default_path() == tmp_path / "mine.sqlite3"
    with Ledger() as ledger:  # created where the environment says, folders included
        assert ledger.path == tmp_path / "mine.sqlite3"
    assert (tmp_path / "mine.sqlite3").is_file()


def test_the_file_is_wal_with_a_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "l.sqlite3"
    Ledger(path).close()
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    finally:
        db.close()


def write_old_ledger(
    path: Path, version: int, messages: Sequence[testing.Mail], *, cases: bool = False
) -> None:
    """A ledger as ``version`` wrote it: its tables, the events of ``messages`` in the columns
    it had, and with ``cases`` their cases (in the columns of today), else none derived yet."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    migrate(db, target=version)
    kept = [row[1] for row in db.execute("PRAGMA table_info(events)")]
    events: list[Event] = []
    for mail in messages:
        for index, response in enumerate(parsed(mail)):
            event = Event.from_response(response, message=mail.data, index=index)
            events.append(event)
            row = _event_row(event, response, "2003-12-01T00:00:00Z")
            values = dict(zip(_EVENT_COLUMNS.split(", "), row, strict=True))
            columns = [column for column in values if column in kept]
            marks = ", ".join("?" * len(columns))
            db.execute(
                f"INSERT INTO events ({', '.join(columns)}) VALUES ({marks})",
                [values[column] for column in columns],
            )
    if cases:
        partitions: dict[str, list[Event]] = {}
        for event in events:
            partitions.setdefault(partition_of(event), []).append(event)
        for partition, kept_events in partitions.items():
            for case in fold(kept_events).cases:
                row = _case_row(case, partition)
                db.execute(
                    f"INSERT INTO cases ({_CASE_COLUMNS}) VALUES ({', '.join('?' * len(row))})", row
                )
    db.execute("COMMIT")
    assert db.execute("SELECT version FROM schema_version").fetchone() == (version,)
    db.close()


def _schema(path: Path) -> tuple[int, set[str], dict[str, str]]:
    """The version, the columns of events and the indexes (name: SQL) of a ledger file."""
    db = sqlite3.connect(path)
    try:
        (version,) = db.execute("SELECT version FROM schema_version").fetchone()
        columns = {row[1] for row in db.execute("PRAGMA table_info(events)")}
        indexes = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type='index'"))
        return version, columns, indexes
    finally:
        db.close()


def test_an_old_version_is_migrated_and_its_cases_derived_again(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    write_old_ledger(path, 1, MAILBOX)
    db = sqlite3.connect(path)
    columns = {row[1] for row in db.execute("PRAGMA table_info(cases)")}
    db.close()
    assert "notes" not in columns

    with Ledger(path) as ledger:
        assert ledger.state() == fold(pure_events(MAILBOX))
        assert any(case.notes for case in ledger.cases())  # a column version 2 added
    version, _, indexes = _schema(path)
    assert version == len(MIGRATIONS)
    assert {"cases_open", "cases_due", "events_suspect"} <= set(indexes)


def test_a_ledger_of_version_2_learns_forwarded_copies(tmp_path: Path) -> None:
    path = tmp_path / "previous.sqlite3"
    write_old_ledger(path, 2, MAILBOX, cases=True)  # the last version without them
    _, columns, _ = _schema(path)
    assert "forwarded" not in columns
    with Ledger(path) as ledger:
        # What it had recorded is as it was (no forwarded copy among it).
        assert ledger.state() == fold(pure_events(MAILBOX))
        assert not any(event.forwarded for event in ledger.events())
        # Copies recorded now are kept, and neither move a case nor become suspects.
        assert record_all(ledger, FORWARDS) == len(FORWARDS)
        assert ledger.state() == fold(pure_events(MAILBOX))
        assert sum(event.forwarded for event in ledger.events()) == len(FORWARDS)
        assert ledger.suspects() == []
    version, columns, indexes = _schema(path)
    assert version == SCHEMA_VERSION
    assert "forwarded" in columns
    assert "NOT forwarded" in indexes["events_suspect"]  # the index that suspects() reads


# A .de registration whose mails lost their Date: their Received headers say when they came.
UNDATED = [
    without_header(mail.data, "Date")
    for mail in testing.conversation("registration-de", "undated.de", start=at(5, 9))
]


def assert_undated_case(ledger: Ledger) -> None:
    """The registration of UNDATED, recorded in any order, is one closed case."""
    (case,) = [case for case in ledger.cases() if case.domain == "undated.de"]
    assert (case.codes, case.open) == ((10320, 10000), False)


def test_a_ledger_of_the_previous_version_keeps_received_dates(tmp_path: Path) -> None:
    path = tmp_path / "previous.sqlite3"
    write_old_ledger(path, SCHEMA_VERSION - 1, MAILBOX, cases=True)
    _, columns, _ = _schema(path)
    assert "received" not in columns
    with Ledger(path) as ledger:
        # What it had recorded is as it was.
        assert ledger.state() == fold(pure_events(MAILBOX))
        # Mails without a Date recorded now are ordered by their Received headers, whatever
        # the order given, and keep them through a rebuild.
        assert record_all(ledger, UNDATED[::-1]) == len(UNDATED)
        expected = fold([*pure_events(MAILBOX), *pure_events(UNDATED[::-1])])
        assert ledger.state() == expected
        assert_undated_case(ledger)
        assert ledger.rebuild() == len(expected.cases)
        assert ledger.state() == expected
    version, columns, _ = _schema(path)
    assert version == SCHEMA_VERSION
    assert "received" in columns
    db = sqlite3.connect(path)
    try:
        kept = db.execute("SELECT received FROM events ORDER BY id").fetchall()
    finally:
        db.close()
    # The events recorded before have none; the new ones have their last hop's date.
    assert kept[: len(MAILBOX_EVENTS)] == [(None,)] * len(MAILBOX_EVENTS)
    assert all(value is not None for (value,) in kept[len(MAILBOX_EVENTS) :])


def test_a_file_that_is_no_ledger_or_too_new_is_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database at all, just text " * 100)
    with pytest.raises(LedgerError, match="not a drsparse ledger") as error:
        Ledger(garbage)
    assert error.value.source == str(garbage)
    assert isinstance(error.value, drsparse.DrsParseError)

    other = tmp_path / "other.sqlite3"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE mine (x)")
    db.commit()
    db.close()
    with pytest.raises(LedgerError, match="not a drsparse ledger"):
        Ledger(other)

    newer = tmp_path / "newer.sqlite3"
    Ledger(newer).close()
    db = sqlite3.connect(newer)
    db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    with pytest.raises(LedgerError, match="newer than this drsparse"):
        Ledger(newer)


# -------------------------------------------------------------------------------------------
# Rebuild
# -------------------------------------------------------------------------------------------


def test_rebuild_derives_everything_again_from_the_records(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    with Ledger(path) as ledger:
        events = record_all(ledger, [*MAILBOX, *GENERATED])
        expected = ledger.state()
    # What an older drsparse might have derived: other columns, other cases.
    db = sqlite3.connect(path)
    db.execute("UPDATE events SET code = 0, partition = 'old', domain = NULL, time = NULL")
    db.execute("DELETE FROM cases")
    db.commit()
    db.close()
    with Ledger(path) as ledger:
        assert ledger.state() != expected
        # The records are read a chunk at a time: every one, once, in the order given.
        assert [row[0] for row in ledger._all_records(chunk=3)] == list(range(1, events + 1))
        assert ledger.rebuild() == len(expected.cases)
        assert ledger.state() == expected
        assert ledger.state() == fold(pure_events([*MAILBOX, *GENERATED]))


def test_rebuild_keeps_the_forwarded_copies(tmp_path: Path) -> None:
    # The record does not say that a response was forwarded: the column beside it does.
    path = tmp_path / "l.sqlite3"
    with Ledger(path) as ledger:
        record_all(ledger, [*MAILBOX, *FORWARDS])
        expected = ledger.state()
        assert expected == fold(pure_events(MAILBOX))  # the copies moved nothing
        assert ledger.rebuild() == len(expected.cases)
        assert ledger.state() == expected
        copies = [event for event in ledger.events() if event.forwarded]
        assert len(copies) == len(FORWARDS)
        assert ledger.suspects() == []
        (waiting,) = [case for case in ledger.cases() if case.domain == "wait.de"]
        assert (waiting.open, waiting.codes) == (True, (10320,))


def test_rebuild_keeps_the_received_dates(tmp_path: Path) -> None:
    # The record does not hold the Received header's date: the column beside it does.
    path = tmp_path / "l.sqlite3"
    with Ledger(path) as ledger:
        record_all(ledger, UNDATED[::-1])  # the final result first
        expected = ledger.state()
        assert expected == fold(pure_events(UNDATED))
        assert_undated_case(ledger)
    # What an older drsparse derived for them: no time.
    db = sqlite3.connect(path)
    db.execute("UPDATE events SET time = NULL")
    db.execute("DELETE FROM cases")
    db.commit()
    db.close()
    with Ledger(path) as ledger:
        assert ledger.rebuild() == len(expected.cases)
        assert ledger.state() == expected
        assert all(event.time is not None for event in ledger.events())
        assert_undated_case(ledger)


def test_rebuild_reads_a_response_built_in_code_from_its_typed_record(tmp_path: Path) -> None:
    # No lines to parse again (fields is empty): the typed view of the record is read back.
    deadline = dt.datetime(2025, 3, 1, 12, tzinfo=UTC)
    response = Response(
        Result(10300, "Outgoing transfer initiated"),
        domain="built.example",
        sub_results=(SubResult(10300, data={"deadline": deadline, "note": "2025-03-01"}),),
        origin=Origin(
            source="code", message_id="<built@x>", date="Sat, 01 Mar 2025 10:00:00 +0000"
        ),
    )
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        ledger.add([response])
        before = ledger.state()
        assert ledger.rebuild() == 1
        assert ledger.state() == before
        (case,) = ledger.cases()
        assert case.due == deadline


# -------------------------------------------------------------------------------------------
# Processes
# -------------------------------------------------------------------------------------------

_WRITER = """
import sys, time
from pathlib import Path
import drsparse
from drsparse.ledger import Ledger

ledger_path, mbox, order, go = sys.argv[1:]
items = [item for item in drsparse.read_messages(mbox) if item.data is not None]
if order == "backward":
    items.reverse()
while not Path(go).exists():  # start together
    time.sleep(0.001)
ledger = Ledger(ledger_path)
for item in items:  # one transaction per message, as --mda deliveries do
    ledger.add(drsparse.parse_message(item.data, source=item.source), message=item.data)
ledger.close()
"""


def test_two_processes_writing_at_once(tmp_path: Path) -> None:
    shared = two_responses(150)
    mbox = tmp_path / "shared.mbox"
    testing.write_mbox(shared, mbox)
    path, go = tmp_path / "l.sqlite3", tmp_path / "go"
    Ledger(path).close()  # created first, so that both open an existing file
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), str(mbox), order, str(go)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
        )
        for order in ("forward", "backward")
    ]
    go.touch()
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err.decode()
    ledger = assert_consistent(path)
    with ledger:
        assert len(ledger) == 2 * len(shared)  # each message once, whoever wrote it first
        assert ledger.state() == fold(pure_events(shared))
        assert all(not case.open for case in ledger.cases())


def test_a_writer_killed_mid_way_loses_nothing_committed_and_no_half_message(
    tmp_path: Path,
) -> None:
    total = 2000
    mbox = tmp_path / "big.mbox"
    testing.write_mbox(two_responses(total), mbox)
    path = tmp_path / "l.sqlite3"
    track = subprocess.Popen(
        [sys.executable, "-m", "drsparse", "track", "--ledger", str(path), str(mbox)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        seen = 0
        deadline = time.monotonic() + 120
        while seen < 400 and time.monotonic() < deadline:
            time.sleep(0.01)
            if path.exists():
                try:
                    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
                    seen = db.execute("SELECT count(*) FROM events").fetchone()[0]
                    db.close()
                except sqlite3.OperationalError:
                    seen = 0  # the tables are not there yet
        assert track.poll() is None, "the writer finished before it could be killed"
        os.kill(track.pid, signal.SIGKILL)
    finally:
        track.wait(timeout=60)
    assert track.returncode == -signal.SIGKILL

    ledger = assert_consistent(path)
    with ledger:
        kept = len(ledger)
        assert seen <= kept < 2 * total  # what was committed is there; not everything
        per_message: dict[str, int] = {}
        for event in ledger.events():
            message = event.key.rsplit("/", 2)[0]
            per_message[message] = per_message.get(message, 0) + 1
        assert set(per_message.values()) == {2}  # no half message
    # Running again records the rest, once.
    again = subprocess.run(
        [sys.executable, "-m", "drsparse", "track", "--ledger", str(path), str(mbox)],
        cwd=ROOT,
        capture_output=True,
        check=False,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr.decode()
    with assert_consistent(path) as ledger:
        assert len(ledger) == 2 * total
        assert all(not case.open for case in ledger.cases())
