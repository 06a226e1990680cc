"""``drsparse fetch`` and ``drsparse watch`` against real IMAP servers on loopback ports.

pymap always (from the test extra); Dovecot too where ``DRSPARSE_DOVECOT=1`` (CI installs
it), each test that both can run parametrized over both. The command runs as a subprocess;
mail is put on the server with imapclient, as any mail client would. Every record is
validated against the schema and compared with what ``drsparse parse`` prints for the same
bytes in a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import IO, Any

import pytest

from drsparse.imap._address import parse_address
from drsparse.imap._failures import StateBusy, UsageError
from drsparse.imap._state import Mark, State
from tests.helpers import ROOT, SAMPLES
from tests.imap_servers import (
    DOVECOT,
    HOST,
    PASSWORD,
    USER,
    Certificates,
    Dovecot,
    Pymap,
    Server,
    dovecot_binary,
    make_certificates,
    server_folder,
)
from tests.test_cli import Record, Run
from tests.test_schema import check_records

KINDS = [
    "pymap",
    pytest.param(
        "dovecot",
        marks=pytest.mark.skipif(
            not DOVECOT, reason="Dovecot runs where DRSPARSE_DOVECOT=1 (.ci/run installs it)"
        ),
    ),
]

#: Robot mails of the samples, each with at least one response; and a malformed one.
GOOD = [
    SAMPLES / "mail" / "alternative.eml",
    SAMPLES / "mail" / "base64.eml",
    SAMPLES / "mail" / "charset-mismatch.eml",
]
MALFORMED = (
    b"From: DRS Robot <robot@drs.knipp.de>\r\nSubject: DRS response\r\n"
    b"Message-ID: <malformed@drs.knipp.de>\r\n\r\n"
    + (SAMPLES / "invalid" / "malformed-line.txt").read_bytes()
)
NOT_ROBOT = b"From: someone@example.net\r\nSubject: lunch?\r\n\r\nShall we?\r\n"


# -------------------------------------------------------------------------------------------
# Servers
# -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certificates"))


def _new_server(kind: str, certificates: Certificates, **options: Any) -> Server:
    if kind == "dovecot":
        if dovecot_binary() is None:
            pytest.fail("DRSPARSE_DOVECOT=1, but there is no dovecot program")
        return Dovecot(server_folder("dovecot"), certificates)
    return Pymap(server_folder("pymap"), certificates, **options)


@contextlib.contextmanager
def _running(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture(scope="module", params=KINDS)
def server(request: pytest.FixtureRequest, certificates: Certificates) -> Iterator[Server]:
    """pymap (plain text and imaps), or Dovecot (plain text, STARTTLS and imaps)."""
    with _running(_new_server(request.param, certificates)) as running:
        yield running


@pytest.fixture(scope="module")
def pymap_starttls(certificates: Certificates) -> Iterator[Server]:
    """pymap offering STARTTLS, and refusing a login before it."""
    with _running(_new_server("pymap", certificates, tls=True)) as running:
        yield running


@pytest.fixture(scope="module")
def pymap_bare(certificates: Certificates) -> Iterator[Server]:
    """pymap without IDLE and MOVE: watch polls, moves are COPY, \\Deleted, UID EXPUNGE."""
    with _running(_new_server("pymap", certificates, without=("IDLE", "MOVE"))) as running:
        yield running


_FOLDERS = count(1)


def new_folder(server: Server, *messages: bytes) -> str:
    """A folder of its own for a test, holding ``messages``."""
    name = f"DRS{next(_FOLDERS)}"
    client = server.client()
    try:
        client.create_folder(name)
        for message in messages:
            client.append(name, message)
    finally:
        client.logout()
    return name


def append(server: Server, folder: str, *messages: bytes) -> None:
    client = server.client()
    try:
        for message in messages:
            client.append(folder, message)
    finally:
        client.logout()


def folder_flags(server: Server, folder: str) -> list[tuple[bytes, ...]]:
    """The flags of every message of ``folder``, in UID order."""
    client = server.client()
    try:
        client.select_folder(folder, readonly=True)
        uids = client.search(["ALL"])
        found = client.fetch(uids, ["FLAGS"]) if uids else {}
        return [tuple(found[uid][b"FLAGS"]) for uid in sorted(found)]
    finally:
        client.logout()


# -------------------------------------------------------------------------------------------
# The command
# -------------------------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The HOME of the command: no ~/.netrc or state of the person running the tests."""
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def environment(home: Path, **variables: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DRSPARSE_")}
    env.update(HOME=str(home), XDG_STATE_HOME=str(home / "state"), PYTHONUNBUFFERED="1")
    env.update({"DRSPARSE_IMAP_PASSWORD": PASSWORD, **variables})
    return {key: value for key, value in env.items() if value}


def drsparse(*args: str | Path, env: dict[str, str]) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "drsparse", *map(str, args)],
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    return Run(done)


def parsed_locally(tmp_path: Path, messages: list[bytes]) -> list[Record]:
    """What ``drsparse parse`` prints for ``messages`` as files, without their source."""
    folder = tmp_path / "local"
    folder.mkdir(exist_ok=True)
    paths = []
    for number, message in enumerate(messages):
        path = folder / f"{number:04d}.eml"
        path.write_bytes(message)
        paths.append(path)
    run = drsparse("parse", *paths, env=environment(tmp_path))
    return [without_source(record) for record in run.records]


def saved(state: Path, folder: str) -> Mark:
    """What the state file says of ``folder`` (its last line about it)."""
    marks = [
        Mark(entry["uidvalidity"], entry["last_uid"])
        for entry in map(json.loads, state.read_text().splitlines())
        if entry.get("folder", "").endswith(f"/{folder}")
    ]
    return marks[-1]


def without_source(record: Record) -> Record:
    return {key: value for key, value in record.items() if key != "source"}


def uid_of(record: Record) -> int:
    return int(record["source"].rsplit(";UID=", 1)[1])


class Watcher:
    """``drsparse watch`` running as a subprocess: its records as they come, its log."""

    def __init__(self, *args: str | Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "drsparse", "watch", *map(str, args)],
                stdout=subprocess.PIPE,
                stderr=err,
                cwd=ROOT,
                env=env,
            )
        self.lines: queue.Queue[bytes] = queue.Queue()
        assert self.process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,))
        self._reader.start()

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:
            self.lines.put(line)

    def record(self, timeout: float = 15.0) -> Record:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no record within {timeout} s; the log: {self.text()}") from None
        record: Record = json.loads(line)
        check_records([record])
        return record

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, words: str, *, times: int = 1, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self.text().count(words) < times:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"{words!r} not logged {times} time(s): {self.text()}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig``; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            status = self.process.wait(20)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._reader.join(5)
            if self.process.stdout is not None:
                self.process.stdout.close()
        return status

    def rest(self) -> list[Record]:
        """The records printed and not taken yet (once it has exited)."""
        records = []
        while not self.lines.empty():
            records.append(json.loads(self.lines.get()))
        check_records(records)
        return records


def started(watchers: list[Watcher], url: str, tmp_path: Path, home: Path) -> Watcher:
    """``drsparse watch URL`` over plain IMAP, with its own state file and log, stopped when
    the test ends."""
    watcher = Watcher(
        url,
        "--insecure",
        "--state",
        tmp_path / "s.json",
        env=environment(home),
        log=tmp_path / "watch.log",
    )
    watchers.append(watcher)
    return watcher


@pytest.fixture
def watchers() -> Iterator[list[Watcher]]:
    """Watchers a test starts are stopped however it ends."""
    started: list[Watcher] = []
    yield started
    for watcher in started:
        watcher.stop(signal.SIGKILL)


# -------------------------------------------------------------------------------------------
# fetch
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("server", KINDS, indirect=True)
def test_a_first_fetch_prints_what_parse_prints_and_marks_nothing_seen(
    server: Server, tmp_path: Path, home: Path
) -> None:
    messages = [path.read_bytes() for path in GOOD] + [NOT_ROBOT]
    folder = new_folder(server, *messages)
    state = tmp_path / "state.json"

    run = drsparse(
        "fetch", server.url(folder), "--insecure", "--state", state, env=environment(home)
    )

    assert run.status == 0, run.err
    assert run.err == ""
    records = run.records
    assert [without_source(r) for r in records] == parsed_locally(tmp_path, messages)
    assert [uid_of(r) for r in records] == [1, 2, 3]  # the fourth mail holds no response
    uidvalidity, last_uid = saved(state, folder)
    port = server.plain_port
    assert records[0]["source"] == (
        f"imap://{USER}@{HOST}:{port}/{folder};UIDVALIDITY={uidvalidity}/;UID=1"
    )
    assert not any(b"\\Seen" in flags for flags in folder_flags(server, folder))
    assert last_uid == 4


@pytest.mark.parametrize("server", KINDS, indirect=True)
def test_the_next_fetch_reads_only_what_arrived_since(
    server: Server, tmp_path: Path, home: Path
) -> None:
    folder = new_folder(server, GOOD[0].read_bytes())
    fetch = ("fetch", server.url(folder), "--insecure", "--state", tmp_path / "state.json")
    env = environment(home)
    assert len(drsparse(*fetch, env=env).records) == 1

    nothing = drsparse(*fetch, env=env)
    assert (nothing.status, nothing.out, nothing.err) == (0, "", "")

    append(server, folder, GOOD[1].read_bytes(), GOOD[2].read_bytes())
    again = drsparse(*fetch, env=env)
    assert again.status == 0, again.err
    assert [uid_of(r) for r in again.records] == [2, 3]


@pytest.mark.parametrize("server", KINDS, indirect=True)
def test_fetch_records_in_the_ledger_each_message_once(
    server: Server, tmp_path: Path, home: Path
) -> None:
    from drsparse.testing import conversation

    mails = [mail.data for mail in conversation("registration-de", "acme.de", reference="R-1")]
    folder = new_folder(server, mails[0])
    ledger = tmp_path / "ledger.sqlite3"
    fetch = ("fetch", server.url(folder), "--insecure", "--ledger", ledger)
    env = environment(home)

    def status() -> list[dict[str, object]]:
        done = drsparse("status", "--ledger", ledger, "--all", "--json", env=env)
        assert done.status == 0, done.err
        cases: list[dict[str, object]] = json.loads(done.out)["cases"]
        return cases

    first = drsparse(*fetch, "--state", tmp_path / "a.json", env=env)
    assert (first.status, first.out) == (0, "")  # recorded, not printed
    (case,) = status()
    assert (case["domain"], case["open"], case["codes"]) == ("acme.de", True, [10320])
    append(server, folder, mails[1])
    # Another state file reads the folder from its start: the ledger counts each message once.
    again = drsparse(*fetch, "--state", tmp_path / "b.json", env=env)
    assert again.status == 0, again.err
    (case,) = status()
    assert (case["open"], case["final_code"], case["codes"]) == (False, 10000, [10320, 10000])


@pytest.mark.parametrize("server", KINDS, indirect=True)
def test_a_new_uidvalidity_reads_the_folder_again(
    server: Server, tmp_path: Path, home: Path
) -> None:
    folder = new_folder(server, GOOD[0].read_bytes())
    fetch = ("fetch", server.url(folder), "--insecure", "--state", tmp_path / "state.json")
    env = environment(home)
    first = drsparse(*fetch, env=env).records
    old = first[0]["source"]

    client = server.client()
    try:
        validity = client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"]
        for _ in range(5):  # pymap draws 16 bits of it at random: a repeat is possible
            client.delete_folder(folder)
            client.create_folder(folder)
            if client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"] != validity:
                break
        else:
            pytest.fail("the server gives a re-created folder its old UIDVALIDITY")
    finally:
        client.logout()
    append(server, folder, GOOD[0].read_bytes(), GOOD[1].read_bytes())

    again = drsparse(*fetch, env=env)
    assert again.status == 0, again.err
    assert "the UIDVALIDITY changed" in again.err
    assert [uid_of(r) for r in again.records] == [1, 2]  # both, although UID 1 was read before
    assert again.records[0]["source"] != old


@pytest.mark.parametrize("server", KINDS, indirect=True)
def test_a_malformed_message_is_an_error_record_and_the_run_goes_on(
    server: Server, tmp_path: Path, home: Path
) -> None:
    messages = [GOOD[0].read_bytes(), MALFORMED, GOOD[1].read_bytes()]
    folder = new_folder(server, *messages)

    run = drsparse(
        "fetch",
        server.url(folder),
        "--insecure",
        "--state",
        tmp_path / "s.json",
        env=environment(home),
    )

    assert run.status == 1
    records = run.records
    assert [r["type"] for r in records] == ["response", "error", "response"]
    assert [uid_of(r) for r in records] == [1, 2, 3]
    assert [without_source(r) for r in records] == parsed_locally(tmp_path, messages)
    error = records[1]
    # SOURCE:LINE:COLUMN: message on standard error, as parse writes it.
    assert f"{error['source']}:{error['line']}:{error['column']}: " in run.err


@pytest.mark.parametrize("server", KINDS, indirect=True)
def test_messages_are_moved_after_success_and_after_an_error(
    server: Server, tmp_path: Path, home: Path
) -> None:
    _moves(server, tmp_path, home)


def test_without_move_the_messages_are_copied_then_expunged(
    pymap_bare: Server, tmp_path: Path, home: Path
) -> None:
    _moves(pymap_bare, tmp_path, home)


def _moves(server: Server, tmp_path: Path, home: Path) -> None:
    folder = new_folder(server, GOOD[0].read_bytes(), MALFORMED, GOOD[1].read_bytes())
    done, failed = new_folder(server), new_folder(server)
    options = ("--insecure", "--state", tmp_path / "s.json", "--move-to", done)
    url = server.url(folder)

    run = drsparse("fetch", url, *options, "--failed-to", failed, env=environment(home))

    assert run.status == 1, run.err
    assert [r["type"] for r in run.records] == ["response", "error", "response"]
    assert len(folder_flags(server, folder)) == 0
    assert len(folder_flags(server, done)) == 2
    assert len(folder_flags(server, failed)) == 1
    # Moved messages are read as they were: not marked seen on the way.
    assert not any(b"\\Seen" in flags for flags in folder_flags(server, done))

    missing = drsparse("fetch", url, *options, "--failed-to", "Nowhere", env=environment(home))
    assert missing.status == 2
    assert "no folder 'Nowhere'" in missing.err


# -------------------------------------------------------------------------------------------
# Credentials and TLS
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("server", KINDS, indirect=True)
def test_a_refused_login_exits_77_naming_where_the_password_came_from(
    server: Server, tmp_path: Path, home: Path
) -> None:
    folder = new_folder(server, GOOD[0].read_bytes())
    state = tmp_path / "state.json"

    run = drsparse(
        "fetch",
        server.url(folder),
        "--insecure",
        "--state",
        state,
        env=environment(home, DRSPARSE_IMAP_PASSWORD="not the password"),
    )

    assert run.status == 77
    assert run.out == ""
    assert f"drsparse fetch: {USER}@{HOST}:{server.plain_port}: the server refused the login" in (
        run.err
    )
    assert "$DRSPARSE_IMAP_PASSWORD" in run.err
    assert len(run.err.splitlines()) == 1
    assert "not the password" not in run.err
    assert not state.exists() or folder not in state.read_text()


@pytest.mark.parametrize("server", KINDS, indirect=True)
def test_tls_is_verified_with_the_cafile_given(
    server: Server, certificates: Certificates, tmp_path: Path, home: Path
) -> None:
    folder = new_folder(server, GOOD[0].read_bytes())
    url = server.url(folder, scheme="imaps")
    env = environment(home)

    trusted = drsparse(
        "fetch", url, "--cafile", certificates.ca, "--state", tmp_path / "a", env=env
    )
    assert trusted.status == 0, trusted.err
    assert len(trusted.records) == 1

    for refused in (
        drsparse("fetch", url, "--state", tmp_path / "b", env=env),
        drsparse(
            "fetch", url, "--cafile", certificates.other_ca, "--state", tmp_path / "c", env=env
        ),
    ):
        assert refused.status == 76
        assert refused.out == ""
        assert "the server's certificate is not trusted" in refused.err
        assert "--cafile" in refused.err


def test_starttls_is_required_and_verified(
    server: Server,
    pymap_starttls: Server,
    certificates: Certificates,
    tmp_path: Path,
    home: Path,
) -> None:
    env = environment(home)
    with_starttls = server if server.kind == "dovecot" else pymap_starttls
    port = with_starttls.starttls_port
    folder = new_folder(with_starttls, GOOD[0].read_bytes())
    url = with_starttls.url(folder, port=port)

    run = drsparse("fetch", url, "--cafile", certificates.ca, "--state", tmp_path / "a", env=env)
    assert run.status == 0, run.err
    assert len(run.records) == 1
    untrusted = drsparse("fetch", url, "--state", tmp_path / "b", env=env)
    assert untrusted.status == 76
    assert "not trusted" in untrusted.err

    if server.kind == "pymap":  # plain text only: refused unless --insecure says so
        plain = drsparse("fetch", server.url(folder), "--state", tmp_path / "c", env=env)
        assert plain.status == 76
        assert "offers no STARTTLS" in plain.err
        assert "--insecure" in plain.err


def test_the_password_comes_from_a_file_or_netrc_never_the_command_line(
    server: Server, tmp_path: Path, home: Path
) -> None:
    if server.kind != "pymap":
        pytest.skip("the same code whatever the server")
    folder = new_folder(server, GOOD[0].read_bytes())
    url = server.url(folder)
    no_variable = environment(home, DRSPARSE_IMAP_PASSWORD="")

    def fetch(*args: str | Path, url: str = url, env: dict[str, str] = no_variable) -> Run:
        return drsparse("fetch", url, "--insecure", "--state", tmp_path / "s.json", *args, env=env)

    missing = fetch()
    assert missing.status == 2
    assert "no password for robot@127.0.0.1" in missing.err
    assert "DRSPARSE_IMAP_PASSWORD" in missing.err

    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    from_file = fetch("--password-file", password_file)
    assert from_file.status == 0, from_file.err
    assert len(from_file.records) == 1

    netrc = home / ".netrc"
    netrc.write_text(f'machine {HOST} login {USER} password "{PASSWORD}"\n')
    netrc.chmod(0o600)
    append(server, folder, GOOD[1].read_bytes())
    # The URL names no user: the login comes from ~/.netrc too.
    from_netrc = fetch(url=url.replace(f"{USER}@", ""))
    assert from_netrc.status == 0, from_netrc.err
    assert [uid_of(r) for r in from_netrc.records] == [2]

    netrc.chmod(0o644)  # others can read it: refused, as ftp refuses it
    assert fetch().status == 2

    in_url = fetch(url=url.replace(f"{USER}@", f"{USER}:{PASSWORD}@"))
    assert in_url.status == 2
    assert "a password in the URL" in in_url.err


def test_watch_ends_at_once_when_the_folder_is_missing(
    server: Server, tmp_path: Path, home: Path
) -> None:
    if server.kind != "pymap":
        pytest.skip("the same code whatever the server")
    state = tmp_path / "s.json"
    run = drsparse(
        "watch", server.url("Nowhere"), "--insecure", "--state", state, env=environment(home)
    )
    assert run.status == 2
    assert "no folder 'Nowhere'" in run.err


def test_the_help_lists_the_exit_statuses_the_commands_use(home: Path) -> None:
    from drsparse.imap import _failures

    for command in ("fetch", "watch"):
        run = drsparse(command, "--help", env=environment(home))
        assert run.status == 0
        listed = run.out.split("exit status:", 1)[1]
        statuses = {int(n) for n in re.findall(r"^\s*(\d+) ", listed, re.MULTILINE)}
        failures = {"USAGE_ERROR", "EX_UNAVAILABLE", "EX_TEMPFAIL", "EX_PROTOCOL", "EX_NOPERM"}
        assert statuses == {0, 1} | {getattr(_failures, name) for name in failures}


def test_without_the_imap_extra_the_command_says_how_to_install_it(home: Path) -> None:
    # imapclient made unimportable, as when it is not installed.
    code = (
        "import sys; sys.modules['imapclient'] = None; from drsparse._cli import main; "
        "sys.exit(main(['fetch', 'imaps://robot@mail.example.net/DRS']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=environment(home), check=False
    )
    assert done.returncode == 69
    assert done.stderr.decode().strip() == (
        "drsparse fetch: reading mail over IMAP needs the imap extra: pip install 'drsparse[imap]'"
    )


# -------------------------------------------------------------------------------------------
# watch
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("server", KINDS, indirect=True)
def test_watch_prints_a_message_arriving_during_idle_within_seconds(
    server: Server, tmp_path: Path, home: Path, watchers: list[Watcher]
) -> None:
    folder = new_folder(server, GOOD[0].read_bytes())
    watcher = started(watchers, server.url(folder), tmp_path, home)
    assert uid_of(watcher.record()) == 1  # what was there before
    watcher.wait_for_log("(IDLE)")

    sent = time.monotonic()
    append(server, folder, GOOD[1].read_bytes())
    assert uid_of(watcher.record(timeout=10)) == 2
    latency = time.monotonic() - sent

    assert watcher.stop() == 0
    assert watcher.rest() == []
    log = watcher.text()
    assert "stopped (SIGTERM)" in log
    assert "read 1 new message (UID 2)" in log
    assert latency < 10


def test_watch_polls_a_server_without_idle(
    pymap_bare: Server, tmp_path: Path, home: Path, watchers: list[Watcher]
) -> None:
    folder = new_folder(pymap_bare)
    watcher = Watcher(
        pymap_bare.url(folder),
        "--insecure",
        "--interval",
        "0.2",
        "--state",
        tmp_path / "s.json",
        env=environment(home),
        log=tmp_path / "watch.log",
    )
    watchers.append(watcher)
    watcher.wait_for_log("the server has no IDLE: looking every 0.2 s")
    append(pymap_bare, folder, GOOD[0].read_bytes())
    assert uid_of(watcher.record()) == 1
    assert watcher.stop(signal.SIGINT) == 0
    assert "stopped (SIGINT)" in watcher.text()


@pytest.mark.parametrize("kind", KINDS)
def test_watch_reconnects_after_a_server_restart(
    kind: str, certificates: Certificates, tmp_path: Path, home: Path, watchers: list[Watcher]
) -> None:
    with _running(_new_server(kind, certificates)) as server:
        folder = new_folder(server, GOOD[0].read_bytes())
        watcher = started(watchers, server.url(folder), tmp_path, home)
        assert uid_of(watcher.record()) == 1
        watcher.wait_for_log("(IDLE)")

        server.stop()
        watcher.wait_for_log("connection lost")
        # The first try again finds no server: the next comes later (1 s, then 2 s).
        watcher.wait_for_log("cannot connect")
        assert "trying again in 2 s" in watcher.text()
        server.start()
        append(server, folder, GOOD[1].read_bytes())

        # Only the new message: the first one is not read again.
        assert uid_of(watcher.record(timeout=20)) == 2
        assert watcher.stop() == 0
        assert watcher.rest() == []
        assert watcher.text().count("watching ") == 2


def test_sigterm_neither_loses_nor_repeats_a_message(
    server: Server, tmp_path: Path, home: Path, watchers: list[Watcher]
) -> None:
    if server.kind != "pymap":
        pytest.skip("the same code whatever the server")
    from bench.corpus import make_cases

    # Robot mail only: every message gives a record, so the records name every UID.
    messages = [case.data for case in make_cases(7, 130) if case.robot][:120]
    assert len(messages) == 120
    folder = new_folder(server)
    client = server.client()
    try:
        client.multiappend(folder, messages)
    finally:
        client.logout()
    state = tmp_path / "s.json"
    env = environment(home)
    watcher = Watcher(
        server.url(folder), "--insecure", "--state", state, env=env, log=tmp_path / "watch.log"
    )
    watchers.append(watcher)
    first = watcher.record()
    assert watcher.stop() == 0  # at once: most messages are still being read
    watched = [first, *watcher.rest()]

    fetched = drsparse("fetch", server.url(folder), "--insecure", "--state", state, env=env)
    assert fetched.status == 0, fetched.err

    uids = [uid_of(r) for r in watched + fetched.records]
    assert uids == list(range(1, 121))


def test_one_command_at_a_time_uses_a_state_file(
    server: Server, tmp_path: Path, home: Path, watchers: list[Watcher]
) -> None:
    if server.kind != "pymap":
        pytest.skip("the same code whatever the server")
    folder = new_folder(server)
    state = tmp_path / "s.json"
    env = environment(home)
    watcher = Watcher(
        server.url(folder), "--insecure", "--state", state, env=env, log=tmp_path / "w.log"
    )
    watchers.append(watcher)
    watcher.wait_for_log("watching ")

    busy = drsparse("fetch", server.url(folder), "--insecure", "--state", state, env=env)

    assert busy.status == 75
    assert "in use by another drsparse fetch or watch" in busy.err
    assert watcher.stop() == 0


# -------------------------------------------------------------------------------------------
# The URL and the state file, without a server
# -------------------------------------------------------------------------------------------


def test_the_url_names_the_server_the_account_and_the_folder() -> None:
    address = parse_address("imaps://robot%40example.net@Mail.Example.NET/DRS/Robot%20Mail")
    assert address.implicit_tls
    assert (address.host, address.port, address.user) == (
        "mail.example.net",
        993,
        "robot@example.net",
    )
    assert address.folder == "DRS/Robot Mail"
    assert address.source(7, 42) == (
        "imap://robot%40example.net@mail.example.net/DRS/Robot%20Mail;UIDVALIDITY=7/;UID=42"
    )
    assert address.key() == "robot@example.net@mail.example.net/DRS/Robot Mail"
    assert parse_address("imap://robot@[::1]:1143").folder == "INBOX"
    assert parse_address("imap://robot@[::1]:1143").source(1, 2) == (
        "imap://robot@[::1]:1143/INBOX;UIDVALIDITY=1/;UID=2"
    )
    assert parse_address("imap://robot@h/x").port == 143
    for bad in (
        "https://h/x",
        "imaps:///DRS",
        "imaps://h:port/x",
        "imaps://u:pw@h/x",
        "imaps://h/x?y",
    ):
        with pytest.raises(UsageError):
            parse_address(bad)


def test_the_state_file_takes_a_line_per_message_and_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "imap.json"
    state = State.open(str(path))
    with pytest.raises(StateBusy):
        State.open(str(path))
    state.set("a@h/DRS", Mark(5, 9))
    state.set("a@h/DRS", Mark(5, 10))
    state.set("b@h/INBOX", Mark(7, 1))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == [
        {"drsparse": "imap-state", "version": 1},
        {"folder": "a@h/DRS", "uidvalidity": 5, "last_uid": 9},
        {"folder": "a@h/DRS", "uidvalidity": 5, "last_uid": 10},
        {"folder": "b@h/INBOX", "uidvalidity": 7, "last_uid": 1},
    ]
    assert path.stat().st_mode & 0o777 == 0o600

    # A line cut short (a power failure while it was written) is not read.
    with path.open("a") as file:
        file.write('{"folder": "a@h/DRS", "uidvalidity": 5, "last_ui')
    state.close()  # (close() rewrote the file: one line per folder)
    path.write_text(path.read_text() + '{"folder": "a@h/DRS", "uidvalidity": 5, "last_ui')
    again = State.open(str(path))
    assert again.folders == {"a@h/DRS": Mark(5, 10), "b@h/INBOX": Mark(7, 1)}
    again.close()
    assert len(path.read_text().splitlines()) == 3
    # A tidy file is appended to as it is.
    third = State.open(str(path))
    third.set("b@h/INBOX", Mark(7, 2))
    third.sync()
    assert len(path.read_text().splitlines()) == 4
    third.close()
    fourth = State.open(str(path))
    assert fourth.folders["b@h/INBOX"] == Mark(7, 2)
    fourth.close()
    assert sorted(os.listdir(path.parent)) == ["imap.json", "imap.json.lock"]

    path.write_text("{not json\n")
    with pytest.raises(UsageError, match="is not one drsparse wrote"):
        State.open(str(path))
