"""What reading the robot's mail from an IMAP server costs, against reading it from a file.

    .venv/bin/python bench/imap.py            # 5,000 mails, 5 rounds, 20 arrivals (~2 minutes)
    .venv/bin/python bench/imap.py --quick    # seconds: keeps the harness working

1. **fetch**: ``drsparse fetch`` of N robot mails (bench/corpus.py) from a pymap server on this
   machine, against ``drsparse parse`` of the same mails in an mbox, both as whole commands
   writing JSON lines to /dev/null. The rounds alternate which runs first; the ratio is taken
   within each round, and the median is reported. Before timing, both outputs are checked to
   be the same records but for their source. Target: at most 1.5 times.
2. **watch**: ``drsparse watch`` stays connected (IDLE); a message is appended, and the time
   until its record is read from the command's output is measured, for each of several
   messages. Target: every one within 1 s.

pymap runs with its in-memory backend: its maildir backend reads a folder's whole UID list
again for every message (minutes for 5,000), and looks for new mail once a second during
IDLE; either would measure pymap, not drsparse. The server takes a CPU of its own: on a machine
with one CPU, fetching would also pay for the server.

The timings never fail: the verdicts are printed. Exit status 1 only when the harness or
drsparse broke (a command failed, the outputs differ, a record never came).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.corpus import make_cases  # noqa: E402

HOST = "127.0.0.1"
USER = "robot"
PASSWORD = "bench"
FETCH_TARGET = 1.5
LATENCY_TARGET = 1.0

# mboxrd: a body line starting with "From " (after any ">") gets one more ">".
_FROM_LINE = re.compile(rb"^(>*From )", re.MULTILINE)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/imap.py",
        description="Measure drsparse fetch and watch against a local IMAP server. "
        "Never fails on timings.",
    )
    parser.add_argument("--quick", action="store_true", help="seconds, not minutes (CI)")
    parser.add_argument("--seed", type=int, default=2003, help="corpus seed (default: 2003)")
    parser.add_argument("--messages", type=int, help="mails (default: 5000, quick: 300)")
    parser.add_argument("--rounds", type=int, help="timed rounds (default: 5, quick: 2)")
    parser.add_argument("--arrivals", type=int, help="watched arrivals (default: 20, quick: 5)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    messages = args.messages or (300 if args.quick else 5000)
    rounds = args.rounds or (2 if args.quick else 5)
    arrivals = args.arrivals or (5 if args.quick else 20)
    print(f"drsparse IMAP benchmark: {' '.join(sys.argv)}")
    print(f"machine: {os.uname().sysname} {os.uname().release}, {os.cpu_count()} CPUs")
    if args.quick:
        print(
            "quick mode: 300 mails, where the 0.3 s of connecting and searching weigh on the "
            "ratio; the verdicts are indicative only"
        )
    started = time.perf_counter()
    cases = make_cases(args.seed, messages)
    corpus = [case.data for case in cases]
    # The arrivals during watch are robot mail: each must give a record to be timed.
    robot = [case.data for case in cases if case.robot]
    size = sum(map(len, corpus))
    print(f"corpus: seed {args.seed}, {messages} messages, {size / 1e6:.2f} MB\n")
    with tempfile.TemporaryDirectory(prefix="drsparse-bench-imap-") as tmp:
        work = Path(tmp)
        port = _free_port()
        server = subprocess.Popen(
            [
                *(sys.executable, "-c", "from pymap.main import main; main()"),
                *("--host", HOST, "--port", str(port), "--no-tls"),
                *("dict", "--demo-user", USER, "--demo-password", PASSWORD),
            ],
            stdout=subprocess.DEVNULL,
            stderr=(work / "server.log").open("wb"),
        )
        try:
            _wait_for_server(port, server)
            failures = _run(work, port, corpus, robot[:arrivals], rounds)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    print(f"\ntotal time: {time.perf_counter() - started:.1f} s")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


def _run(
    work: Path, port: int, corpus: list[bytes], arrivals: list[bytes], rounds: int
) -> list[str]:
    mbox = work / "corpus.mbox"
    with mbox.open("wb") as out:
        for data in corpus:
            body = _FROM_LINE.sub(rb">\1", data)
            out.write(b"From robot@drs.knipp.de Wed Jan  1 00:00:00 2003\n" + body + b"\n\n")
    client = _client(port)
    try:
        client.create_folder("DRS")
        client.create_folder("LIVE")
        loaded = time.perf_counter()
        for start in range(0, len(corpus), 500):
            client.multiappend("DRS", corpus[start : start + 500])
        print(f"loaded the server: {time.perf_counter() - loaded:.1f} s")
    finally:
        client.logout()

    env = {**os.environ, "DRSPARSE_IMAP_PASSWORD": PASSWORD}
    url = f"imap://{USER}@{HOST}:{port}"
    parse = [sys.executable, "-m", "drsparse", "parse", str(mbox)]
    state = work / "state.json"
    fetch = [sys.executable, "-m", "drsparse", "fetch", f"{url}/DRS", "--insecure"]
    fetch += ["--state", str(state)]

    # The check, which is also the warm-up of both sides.
    local = _records(parse, env)
    state.unlink(missing_ok=True)
    remote = _records(fetch, env)
    if local != remote or not local:
        return [f"fetch printed {len(remote)} records, parse {len(local)}; they differ"]
    print(f"checked: fetch and parse print the same {len(local)} records (but for the source)")

    ratios, cpu_ratios = [], []
    times: dict[str, list[float]] = {"parse": [], "fetch": []}
    cpu: dict[str, list[float]] = {"parse": [], "fetch": []}
    for number in range(rounds):
        order = [("parse", parse), ("fetch", fetch)]
        if number % 2:
            order.reverse()
        for name, command in order:
            state.unlink(missing_ok=True)
            wall, used = _seconds(command, env)
            times[name].append(wall)
            cpu[name].append(used)
        ratios.append(times["fetch"][-1] / times["parse"][-1])
        cpu_ratios.append(cpu["fetch"][-1] / cpu["parse"][-1])
    ratio = statistics.median(ratios)
    fetch_time = statistics.median(times["fetch"])
    parse_time = statistics.median(times["parse"])
    latencies = _latencies(f"{url}/LIVE", port, arrivals, work, env)

    print()
    rows = [
        ("measurement", "figure", "ratio", "target", ""),
        (
            f"parse the mbox ({len(corpus)} mails)",
            f"{parse_time:.2f} s, {len(corpus) / parse_time:,.0f} msg/s",
            "1.00x",
            "baseline",
            "",
        ),
        (
            "fetch them from the IMAP server",
            f"{fetch_time:.2f} s, {len(corpus) / fetch_time:,.0f} msg/s",
            f"{ratio:.2f}x",
            f"<= {FETCH_TARGET}x",
            _verdict(ratio <= FETCH_TARGET),
        ),
        (
            f"watch: arrival to record ({len(latencies)} mails)",
            f"median {statistics.median(latencies) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms",
            "",
            f"<= {LATENCY_TARGET:g} s",
            _verdict(max(latencies) <= LATENCY_TARGET),
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(f"\nfetch/parse per round: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(
        "the same for the CPU time of the drsparse process alone (its threads, not the "
        f"server's): {', '.join(f'{r:.2f}' for r in cpu_ratios)}"
    )
    print(f"watch, ms per arrival: {', '.join(f'{s * 1000:.0f}' for s in latencies)}")
    return []


def _latencies(
    url: str, port: int, messages: list[bytes], work: Path, env: dict[str, str]
) -> list[float]:
    """The seconds from the start of each APPEND to its record on the watcher's output."""
    log = (work / "watch.log").open("wb")
    watcher = subprocess.Popen(
        [sys.executable, "-m", "drsparse", "watch", url, "--insecure", "--state", str(work / "w")],
        stdout=subprocess.PIPE,
        stderr=log,
        env=env,
    )
    assert watcher.stdout is not None
    lines: queue.Queue[bytes] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(watcher.stdout, lines), daemon=True)
    reader.start()
    client = _client(port)
    latencies = []
    try:
        deadline = time.monotonic() + 30
        while b"(IDLE)" not in (work / "watch.log").read_bytes():
            if time.monotonic() > deadline or watcher.poll() is not None:
                raise RuntimeError("watch did not start: " + (work / "watch.log").read_text())
            time.sleep(0.05)
        for data in messages:
            time.sleep(0.3)  # each arrival on its own, the watcher waiting in IDLE
            sent = time.perf_counter()
            client.append("LIVE", data)
            lines.get(timeout=30)
            latencies.append(time.perf_counter() - sent)
    finally:
        client.logout()
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(30)
        log.close()
    return latencies


def _pump(stream: IO[bytes], lines: queue.Queue[bytes]) -> None:
    for line in stream:
        lines.put(line)


def _records(command: list[str], env: dict[str, str]) -> list[dict[str, Any]]:
    done = subprocess.run(command, capture_output=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command[3]} exited {done.returncode}: {done.stderr.decode()}")
    records = [json.loads(line) for line in done.stdout.splitlines()]
    return [{k: v for k, v in record.items() if k != "source"} for record in records]


def _seconds(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """The wall-clock and the CPU seconds (user and system) of ``command``."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, env=env, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def _client(port: int) -> Any:
    import imapclient

    client = imapclient.IMAPClient(HOST, port=port, ssl=False, timeout=60)
    client.login(USER, PASSWORD)
    return client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_server(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with socket.create_connection((HOST, port), timeout=2) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("pymap did not start")


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


if __name__ == "__main__":
    sys.exit(main())
