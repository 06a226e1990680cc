"""``drsparse track``, ``status``, ``history``, ``ledger rebuild`` and ``--mda --ledger``.

The real command in a subprocess, on real mailboxes (an mbox and a Maildir written in
tmp_path) and a real ledger file; the ledger is named by ``--ledger`` or ``DRSPARSE_LEDGER``.
"""

from __future__ import annotations

import datetime as dt
import json
import mailbox
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from drsparse import testing
from drsparse.ledger import Ledger, fold
from tests.helpers import ROOT
from tests.test_ledger_fold import (
    CONVERSATIONS,
    DE_REFERENCE,
    FORGED,
    FORWARDS,
    GENERATED,
    MAILBOX,
    events_of,
)

CASE_KEYS = {"kind", "reference", "domain", "open", "final_code", "codes", "due", "suspect"}
ATTENTION_KEYS = {"domain", "reference", "code", "due", "reason"}


class Run:
    def __init__(self, done: subprocess.CompletedProcess[bytes]) -> None:
        self.status = done.returncode
        self.out = done.stdout.decode("utf-8")
        self.err = done.stderr.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.out)


def run(*args: str | Path, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "drsparse", *map(str, args)],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )
    return Run(done)


def write_mbox(path: Path, mails: list[testing.Mail]) -> Path:
    testing.write_mbox(mails, path)
    return path


def damaged(mail: testing.Mail, old: str, new: str) -> bytes:
    """The bytes of ``mail`` with one line of its response written wrong (it is 7bit text)."""
    assert old.encode() in mail.data
    return mail.data.replace(old.encode(), new.encode())


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return tmp_path / "ledger.sqlite3"


@pytest.fixture
def mbox(tmp_path: Path) -> Path:
    return write_mbox(tmp_path / "robot.mbox", MAILBOX)


def test_track_twice_records_once(ledger: Path, mbox: Path) -> None:
    first = run("track", "--ledger", ledger, mbox)
    assert first.status == 0, first.err
    assert f"{len(MAILBOX)} new" in first.out
    before = run("status", "--ledger", ledger, "--all", "--json", "--as-of", "2003-11-10")
    second = run("track", "--ledger", ledger, mbox)
    assert second.status == 0, second.err
    assert "0 new" in second.out
    assert f"{len(MAILBOX)} already recorded" in second.out
    after = run("status", "--ledger", ledger, "--all", "--json", "--as-of", "2003-11-10")
    assert after.json() == before.json()
    with Ledger(ledger) as kept:
        assert len(kept) == len(MAILBOX)


def test_track_reads_a_maildir_and_goes_on_after_a_bad_message(tmp_path: Path) -> None:
    # A whole mailbox: robot mail in every shape, foreign mail, copies, a forgery.
    testing.write_maildir(GENERATED, tmp_path / "Maildir")
    initiated, completed = CONVERSATIONS["de-registration"]
    broken = damaged(completed, "result.code: 10000", "result.code: 1OOOO")
    mailbox.Maildir(tmp_path / "Maildir").add(broken)
    mailbox.Maildir(tmp_path / "Maildir").add(initiated.data)
    path = tmp_path / "l.sqlite3"
    result = run("track", "--ledger", path, tmp_path / "Maildir")
    assert result.status == 1
    # SOURCE:LINE:COLUMN: message, and the run went on.
    (line,) = result.err.splitlines()
    source, line_no, column, message = line.split(":", 3)
    assert source.startswith(str(tmp_path / "Maildir"))
    assert int(line_no) > 0
    assert int(column) > 0
    assert "result.code" in message
    with Ledger(path) as kept:
        # Every other message recorded, as the library reads them; acme.de still open.
        assert kept.state() == fold(events_of([*GENERATED, initiated]))
        assert [case.codes for case in kept.cases() if case.domain == "acme.de"] == [(10320,)]


def test_status_json_contract(ledger: Path, mbox: Path) -> None:
    spoof = write_mbox(ledger.parent / "spoof.mbox", [FORGED])
    assert run("track", "--ledger", ledger, mbox, spoof).status == 0
    result = run("status", "--ledger", ledger, "--json", "--as-of", "2003-11-20T00:00:00+00:00")
    assert result.status == 0, result.err
    document = result.json()
    assert set(document) == {"cases", "attention"}
    for case in document["cases"]:
        assert set(case) == CASE_KEYS
        assert case["open"] is True  # without --all, open cases only
        assert case["final_code"] is None
        assert all(isinstance(code, int) for code in case["codes"])
    assert sorted((c["kind"], c["domain"], c["codes"]) for c in document["cases"]) == [
        ("registration", "wait.de", [10320]),
        ("transfer-out", "acme.com", [10300]),
    ]
    (transfer,) = [c for c in document["cases"] if c["kind"] == "transfer-out"]
    assert transfer["due"] == "2003-11-14T11:10:24.546000+00:00"
    assert dt.datetime.fromisoformat(transfer["due"]).utcoffset() == dt.timedelta(0)
    assert transfer["reference"] is None
    assert transfer["suspect"] is False

    items = document["attention"]
    assert all(set(item) >= ATTENTION_KEYS for item in items)
    assert [(item["domain"], item["code"]) for item in items] == [
        ("acme.com", 10300),  # the deadline passed on Nov 14
        ("organisierdich.de", 10000),  # to delegate before Nov 28
        ("bigbank.com", 10303),  # not authentic
        ("wait.de", 10320),  # pending since Nov 9 (the default is 3 days)
    ]
    assert items[1]["due"] == "2003-11-28T23:00:00+00:00"
    assert items[2]["due"] is None
    assert "not authentic" in items[2]["reason"]

    everything = run("status", "--ledger", ledger, "--json", "--all", "--as-of", "2003-11-20")
    cases = everything.json()["cases"]
    assert len(cases) == 10
    closed = [c for c in cases if not c["open"]]
    assert all(c["final_code"] == c["codes"][-1] for c in closed)
    (delegate,) = [c for c in cases if c["domain"] == "organisierdich.de"]
    assert delegate["codes"] == [10320, 10000]
    assert (delegate["open"], delegate["due"]) == (False, "2003-11-28T23:00:00+00:00")


def test_status_pending_after(ledger: Path, mbox: Path) -> None:
    run("track", "--ledger", ledger, mbox)
    (waiting,) = CONVERSATIONS["pending"]
    as_of = (waiting.date + dt.timedelta(days=2, hours=16)).isoformat()

    def pending(*args: str) -> list[str]:
        result = run("status", "--ledger", ledger, "--json", "--as-of", as_of, *args)
        assert result.status == 0, result.err
        return [item["domain"] for item in result.json()["attention"] if item["code"] == 10320]

    assert pending() == []  # 10320 of Nov 9, about 08:00 UTC: not yet three days
    assert pending("--pending-after", "2d") == ["wait.de"]
    assert pending("--pending-after", "2d16h") == ["wait.de"]  # exactly then
    assert pending("--pending-after", "2d16h1m") == []
    assert pending("--pending-after", "1w") == []
    bad = run("status", "--ledger", ledger, "--pending-after", "soon")
    assert bad.status == 2
    assert "duration" in bad.err


def test_status_for_people(ledger: Path, mbox: Path) -> None:
    run("track", "--ledger", ledger, mbox)
    result = run("status", "--ledger", ledger, "--as-of", "2003-11-03")
    assert result.status == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "as of 2003-11-03 00:00Z"
    first = lines.index("NEEDS ATTENTION (2), most urgent first") + 2
    assert "acme.com" in lines[first]
    assert "2003-11-14 11:10Z" in lines[first]
    assert "organisierdich.de" in lines[first + 1]
    assert any(line.startswith("OPEN CASES (2)") for line in lines)


def test_status_of_a_missing_ledger_says_so(tmp_path: Path) -> None:
    result = run("status", "--ledger", tmp_path / "none.sqlite3")
    assert result.status == 2
    assert "no ledger here yet" in result.err
    assert not (tmp_path / "none.sqlite3").exists()


def test_history_of_a_domain_and_a_reference(ledger: Path, mbox: Path) -> None:
    run("track", "--ledger", ledger, mbox)
    result = run("history", "--ledger", ledger, "acme.com")
    assert result.status == 0, result.err
    rows = result.out.splitlines()[1:]
    assert [row.split()[2] for row in rows] == ["10300", "10302", "10310", "10000", "10300"]
    assert all(f"{mbox}#" in row for row in rows)  # where each came from
    times = [" ".join(row.split()[:2]) for row in rows]
    assert times == sorted(times)

    as_json = run("history", "--ledger", ledger, "--json", DE_REFERENCE)
    events = [json.loads(line) for line in as_json.out.splitlines()]
    assert [(e["domain"], e["code"]) for e in events] == [
        ("acme.de", 10320),
        ("acme.de", 10000),
        ("acme.co.uk", 10320),
        ("wait.de", 10320),
    ]
    assert all(e["source"].startswith(f"{mbox}#") for e in events)

    missing = run("history", "--ledger", ledger, "nothing.example")
    assert missing.status == 1
    assert "no event" in missing.err


def test_ledger_rebuild(ledger: Path, mbox: Path) -> None:
    run("track", "--ledger", ledger, mbox)
    before = run("status", "--ledger", ledger, "--json", "--all", "--as-of", "2003-11-10").json()
    result = run("ledger", "rebuild", "--ledger", ledger)
    assert result.status == 0, result.err
    assert f"rebuilt 10 case(s) from {len(MAILBOX)} event(s)" in result.out
    after = run("status", "--ledger", ledger, "--json", "--all", "--as-of", "2003-11-10").json()
    assert after == before


def test_forwarded_copies_move_no_case_and_are_no_suspects(ledger: Path, mbox: Path) -> None:
    as_of = ("--as-of", "2003-11-20T00:00:00+00:00")
    assert run("track", "--ledger", ledger, mbox).status == 0
    before = run("status", "--ledger", ledger, "--json", "--all", *as_of).json()
    forwards = write_mbox(ledger.parent / "forwards.mbox", FORWARDS)
    tracked = run("track", "--ledger", ledger, forwards)
    assert tracked.status == 0, tracked.err
    assert f"{len(FORWARDS)} new" in tracked.out  # kept
    after = run("status", "--ledger", ledger, "--json", "--all", *as_of).json()
    assert after == before
    assert not any("not authentic" in item["reason"] for item in after["attention"])
    # wait.de waits for its final result still; the forwarded one is in its history.
    (waiting,) = [case for case in after["cases"] if case["domain"] == "wait.de"]
    assert (waiting["open"], waiting["codes"]) == (True, [10320])
    history = run("history", "--ledger", ledger, "--json", "wait.de")
    events = [json.loads(line) for line in history.out.splitlines()]
    assert [(e["code"], e["forwarded"], e["authentic"]) for e in events] == [
        (10320, False, True),
        (10000, True, None),
    ]
    table = run("history", "--ledger", ledger, "away.example").out.splitlines()
    assert "forwarded" in table[1]
    assert "SUSPECT" not in table[1]  # a spoofed forward: a copy, not listed as a forgery
    assert run("ledger", "rebuild", "--ledger", ledger).status == 0
    assert run("status", "--ledger", ledger, "--json", "--all", *as_of).json() == before


def test_mda_records_the_message_in_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "mda.sqlite3"
    message = CONVERSATIONS["transfer-out"][0].data
    first = run("--mda", "--ledger", path, stdin=message)
    assert first.status == 0, first.err
    (record,) = [json.loads(line) for line in first.out.splitlines()]  # the records as before
    assert record["result"]["code"] == 10300
    again = run("--mda", "--ledger", path, stdin=message)
    assert again.status == 0
    with Ledger(path) as kept:
        assert len(kept) == 1
        (case,) = kept.cases()
        assert (case.kind, case.open, case.domain) == ("transfer-out", True, "acme.com")


def test_mda_ledger_without_path_uses_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "env.sqlite3"
    result = run(
        "--mda", "--ledger", "--format", "jsonl",
        stdin=CONVERSATIONS["de-registration"][0].data,
        env={"DRSPARSE_LEDGER": str(path)},
    )  # fmt: skip
    assert result.status == 0, result.err
    with Ledger(path) as kept:
        assert len(kept) == 1


def test_mda_deliveries_at_once(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite3"
    mails = MAILBOX[:12]  # a dozen processes after the lock of one file
    deliveries = [
        subprocess.Popen(
            [sys.executable, "-m", "drsparse", "--mda", "--ledger", str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        for _ in mails
    ]
    for delivery, mail in zip(deliveries, mails, strict=True):
        _, err = delivery.communicate(mail.data, timeout=120)
        assert delivery.returncode == 0, err.decode()
    with Ledger(path) as kept:
        assert len(kept) == len(mails)
        assert kept.state() == fold(kept.events())  # the cases agree with the events


def test_mda_cannot_write_the_ledger_so_the_mail_is_deferred(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    stdin = CONVERSATIONS["de-registration"][0].data
    result = run("--mda", "--ledger", blocker / "l.sqlite3", stdin=stdin)
    assert result.status == 75
    assert "cannot record the message in the ledger" in result.err
    # Nothing is written: the retry that 75 asks for must not append the records twice.
    assert result.out == ""


def test_a_malformed_message_is_not_recorded(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    broken = damaged(CONVERSATIONS["de-registration"][1], "result.code: 10000", "result.code: x")
    result = run("--mda", "--ledger", path, stdin=broken)
    assert result.status == 65
    assert not path.exists()


def test_track_and_rebuild_read_codes_with_the_users_table(ledger: Path, tmp_path: Path) -> None:
    table = tmp_path / "codes.tsv"
    table.write_text("code\tcategory\tmsg\tdescription\n10370\tpending\tUpdate queued\t\n")
    update = testing.response(10370, domain="acme.de", reference="UPD-1")
    box = write_mbox(tmp_path / "update.mbox", [testing.make_mail(update)])

    def case_open() -> bool:
        done = run("status", "--ledger", ledger, "--all", "--json", "--as-of", "2003-11-05")
        (case,) = done.json()["cases"]
        return bool(case["open"])

    assert run("--codes", table, "track", "--ledger", ledger, box).status == 0
    assert case_open()  # pending, by the user's table: the final result is still to come
    # Rebuilt with the shipped table, 10370 is an unknown success: a final answer.
    assert run("ledger", "rebuild", "--ledger", ledger).status == 0
    assert not case_open()
    assert run("ledger", "rebuild", "--codes", table, "--ledger", ledger).status == 0
    assert case_open()
    broken = tmp_path / "broken.tsv"
    broken.write_text("")
    result = run("--codes", broken, "track", "--ledger", ledger, box)
    assert result.status == 2
    assert "no header line" in result.err
