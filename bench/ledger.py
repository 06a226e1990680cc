"""What the ledger costs: recording a mailbox against parsing it, and ``status`` on a big ledger.

    .venv/bin/python bench/ledger.py            # the full run (a few minutes)
    .venv/bin/python bench/ledger.py --quick    # seconds: what CI runs to keep it working

1. **ingest**: the messages of an mbox of generated robot mails (bench/corpus.py), parsed
   with ``drsparse.parse_message``, against the same parsed and recorded in a fresh ledger
   file as ``drsparse track`` does it (``Ledger.add_many``, one transaction per batch of
   messages, a message never split). The mbox is read into memory first, so the reading,
   the same on both sides, is left out and the ratio is the stricter. Measured in pairs, one
   transaction's messages at a time in alternating order (see ``ingest``). Target: at most
   1.25 times.
2. **status**: a ledger of 1,000,000 events (realistic conversations: registrations, ccTLD
   registrations, incoming and outgoing transfers, requests answered at once, a few per cent
   still open) written through the store's insert path in bulk, then ``Ledger.status()``
   timed, best of a few runs, from a freshly opened file. Target: under one second.

Timings never fail: the exit status is 0 whatever they are, and 1 only when the harness broke.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script (`python bench/ledger.py`): make `bench` importable from the checkout.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import drsparse
from bench.corpus import write_mbox
from drsparse import Field, Origin, Response, Result, SubResult
from drsparse.ledger import Ledger
from drsparse.ledger._cli import BATCH

__all__ = ["flows", "main"]

INGEST_TARGET = 1.25
STATUS_TARGET_SECONDS = 1.0
Message = tuple[list[Response], bytes | None]


# ---------------------------------------------------------------------------------------------
# 1. ingest
# ---------------------------------------------------------------------------------------------


def ingest(mbox_bytes: int, rounds: int, folder: Path) -> tuple[dict[str, float], list[float], int]:
    """The paired timing of parsing against parsing and recording, and the message count.

    Returns each side's median time and the ratio of every round, in the order run.

    A round runs both sides slice by slice, a slice being one transaction of ``track``
    (``BATCH`` messages), in alternating order (A B, then B A), the regular-expression cache
    emptied before each side's slice (see bench/run.py's ``paired`` for why); each round
    records into a fresh ledger, so that no round finds its messages already recorded (a
    duplicate costs less than a new message).
    """
    mbox = folder / "corpus.mbox"
    write_mbox(mbox, mbox_bytes, seed=2003)
    items = [
        (item.source, item.data) for item in drsparse.read_messages(mbox) if item.data is not None
    ]
    slices = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
    for source, data in items[:20]:  # warm up: the parser is built once per process
        drsparse.parse_message(data, source=source)

    times: dict[str, list[float]] = {"parse": [], "parse + record": []}
    ratios = []
    for done in range(rounds):
        spent = dict.fromkeys(times, 0.0)
        with Ledger(folder / f"ingest-{done}.sqlite3") as ledger:
            gc.collect()
            for k, part in enumerate(slices):
                for side in ("parse", "parse + record")[:: 1 if (done + k) % 2 == 0 else -1]:
                    re.purge()
                    start = time.perf_counter()
                    parsed = [
                        (drsparse.parse_message(data, source=source), data) for source, data in part
                    ]
                    if side == "parse + record":
                        ledger.add_many(parsed, batch=BATCH)
                    spent[side] += time.perf_counter() - start
            if len(ledger) != len(items):
                raise RuntimeError(f"{len(ledger)} events recorded for {len(items)} messages")
        for side, seconds in spent.items():
            times[side].append(seconds)
        ratios.append(spent["parse + record"] / spent["parse"])
    return {side: statistics.median(values) for side, values in times.items()}, ratios, len(items)


# ---------------------------------------------------------------------------------------------
# 2. status on a big ledger
# ---------------------------------------------------------------------------------------------

_TLDS = ("com", "net", "org", "info", "de", "co.uk", "at", "eu")
_START = dt.datetime(2003, 1, 1, tzinfo=dt.UTC)
_SPAN_SECONDS = 22 * 365 * 24 * 3600


def _response(
    seq: int,
    when: dt.datetime,
    code: int,
    *,
    domain: str,
    reference: str | None,
    subs: tuple[SubResult, ...] = (),
) -> Response:
    pairs = [("domain.name", domain), ("result.code", str(code))]
    if reference is not None:
        pairs.insert(0, ("reference", reference))
    return Response(
        Result(code, drsparse.explain(code).msg),
        reference=reference,
        domain=domain,
        sub_results=subs,
        fields=tuple(Field(key, value, line) for line, (key, value) in enumerate(pairs, 4)),
        origin=Origin(
            source=f"generated#{seq}",
            message_id=f"<{seq}@drs.knipp.de>",
            date=when.strftime("%a, %d %b %Y %H:%M:%S +0000"),
            sender="DRS Robot <robot@drs.knipp.de>",
            authentic=True,
        ),
    )


def flows(seed: int, events: int) -> Iterator[Response]:
    """Responses of realistic conversations, ``events`` in all, each flow in time order.

    Most conversations are over; the last few per cent of each kind are left open, as a
    ledger that is kept up to date has a few open cases among years of closed ones.
    """
    rnd = random.Random(seed)
    made = 0
    n = 0
    while made < events:
        n += 1
        domain = f"d{n}-{rnd.randrange(10**6)}.{rnd.choice(_TLDS)}"
        reference = f"TemplateEMailProcessor-{1_000_000_000_000 + n}"
        when = _START + dt.timedelta(seconds=rnd.randrange(_SPAN_SECONDS))
        still_open = rnd.random() < 0.02
        later = when + dt.timedelta(hours=rnd.randint(1, 72))
        kind = rnd.choices(
            ("de", "cctld", "transfer-in", "transfer-out", "request"), weights=(4, 1, 2, 1, 4)
        )[0]
        steps: list[tuple[dt.datetime, int, str | None, tuple[SubResult, ...]]]
        if kind == "de":
            final: tuple[SubResult, ...] = ()
            if rnd.random() < 0.1:
                final = (SubResult(23300, data={"expire.date": later + dt.timedelta(days=30)}),)
            steps = [(when, 10320, reference, ()), (later, 10000, reference, final)]
        elif kind == "cctld":
            middle = when + dt.timedelta(minutes=30)
            steps = [(when, 10360, reference, ()), (middle, 10320, reference + "-2", ())]
            steps.append((later, 10000, reference, ()))
        elif kind == "transfer-in":
            steps = [
                (when, 10310, reference, ()),
                (later, rnd.choice((10000, 23302)), reference, ()),
            ]
        elif kind == "transfer-out":
            deadline = when + dt.timedelta(days=5)
            steps = [(when, 10300, None, (SubResult(10300, data={"deadline": deadline}),))]
            steps.append((later, rnd.choice((10302, 10303, 10304)), None, ()))
        else:
            steps = [(when, rnd.choice((10000, 10000, 23002, 22002, 20001)), reference, ())]
        if still_open and len(steps) > 1:
            steps = steps[:-1]
        for moment, code, ref, subs in steps:
            if made >= events:
                return
            yield _response(made, moment, code, domain=domain, reference=ref, subs=subs)
            made += 1


def big_ledger(path: Path, events: int) -> float:
    """Write ``events`` generated events into a new ledger, in bulk; return the seconds."""
    start = time.perf_counter()
    with Ledger(path) as ledger:
        ledger.add_many((([response], None) for response in flows(1, events)), batch=20_000)
    return time.perf_counter() - start


def time_status(path: Path, runs: int) -> tuple[float, int, int]:
    """The best of ``runs`` timings of ``status`` on a freshly opened ledger; and its size."""
    best = float("inf")
    cases = items = 0
    for _ in range(runs):
        start = time.perf_counter()
        with Ledger(path) as ledger:
            result = ledger.status(as_of=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        best = min(best, time.perf_counter() - start)
        cases, items = len(result.cases), len(result.attention)
    return best, cases, items


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "ok" if ok else "ABOVE TARGET"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    args = parser.parse_args(argv)
    mbox_bytes, rounds = (300_000, 3) if args.quick else (8_000_000, 5)
    events = 20_000 if args.quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="drsparse-ledger-bench-") as name:
        folder = Path(name)
        times, ratios, count = ingest(mbox_bytes, rounds, folder)
        ratio = statistics.median(ratios)
        per = {side: seconds / count * 1e6 for side, seconds in times.items()}
        print(f"ingest: {count} messages, {rounds} round(s), {BATCH} messages per transaction")
        for side, micro in per.items():
            print(f"  {side:<15} {micro:8.0f} us/message (median of the rounds)")
        print(
            f"  ratio           {ratio:8.2f}x  (target <= {INGEST_TARGET}x: "
            f"{_verdict(ratio <= INGEST_TARGET)}); the median of the rounds' ratios: "
            + " ".join(f"{r:.2f}" for r in ratios)
        )
        path = folder / "big.sqlite3"
        built = big_ledger(path, events)
        seconds, cases, items = time_status(path, 3)
        size = path.stat().st_size / 1e6
        print(f"status: a ledger of {events:,} events ({size:.0f} MB, written in {built:.0f} s)")
        print(f"  {cases} open cases, {items} attention items")
        print(
            f"  status          {seconds:8.3f} s  (target < {STATUS_TARGET_SECONDS} s: "
            f"{_verdict(seconds < STATUS_TARGET_SECONDS)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
