"""What the ledger costs: recording a mailbox against parsing it, and ``status`` on a big ledger.

    .venv/bin/python bench/ledger.py            # the full run (a few minutes)
    .venv/bin/python bench/ledger.py --quick    # seconds: what CI runs to keep it working

1. **ingest**: the messages of an mbox of the fake robot's mails (bench/corpus.py), parsed
   with ``drsparse.parse_message``, against the same parsed and recorded in a fresh ledger
   file as ``drsparse track`` does it (``Ledger.add_many``, one transaction per batch of
   messages, a message never split). The mbox is read into memory first, so the reading,
   the same on both sides, is left out and the ratio is the stricter. Measured in pairs, one
   transaction's messages at a time in alternating order (see ``ingest``). Target: at most
   1.25 times.
2. **status**: a ledger of 1,000,000 events (the fake robot's conversations, as
   ``drsparse.testing.portfolio`` plays them: registrations, ccTLD registrations, incoming
   and outgoing transfers, requests answered at once; a few per cent still open) written
   through the store's insert path in bulk, then ``Ledger.status()`` timed, best of a few
   runs, from a freshly opened file. Target: under one second.

Timings never fail: the exit status is 0 whatever they are, and 1 only when the harness broke.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import gc
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from attrs import evolve

if __package__ in (None, ""):
    # Run as a script (`python bench/ledger.py`): make `bench` importable from the checkout.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import drsparse
from bench.corpus import write_mbox
from drsparse import Origin, Response, SubResult, testing
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

    One message in twenty of the corpus is foreign mail: parsed like the others, it holds no
    response and records nothing.

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
        responses = 0
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
                    if side == "parse + record":
                        responses += sum(len(found) for found, _ in parsed)
            if len(ledger) != responses:
                raise RuntimeError(f"{len(ledger)} events recorded for {responses} responses")
        for side, seconds in spent.items():
            times[side].append(seconds)
        ratios.append(spent["parse + record"] / spent["parse"])
    return {side: statistics.median(values) for side, values in times.items()}, ratios, len(items)


# ---------------------------------------------------------------------------------------------
# 2. status on a big ledger
# ---------------------------------------------------------------------------------------------

#: Where the conversations are moved to: anywhere in 22 years from the robot's first examples.
_START = dt.datetime(2003, 1, 1, tzinfo=dt.UTC)
_SPAN_SECONDS = 22 * 365 * 24 * 3600
#: The share of conversations still waiting for their last step.
_OPEN = 0.02

# One step of a conversation: when the robot's mail was sent, its MIME part, the response.
_Step = tuple[dt.datetime, str | None, Response]


def _conversations(seed: int) -> list[list[_Step]]:
    """The robot's own conversations in a portfolio of the fake robot, each in time order.

    Foreign mail, colleagues' copies and spoofed mail are left out: a ledger kept for years
    holds the robot's mail, and its suspects are looked at and cleared.
    """
    found: dict[tuple[str | None, str | None], list[_Step]] = {}
    for mail in testing.portfolio(300, seed=seed):
        if mail.authentic:
            for response in mail.responses:
                key = (mail.scenario, response.domain or response.reference)
                found.setdefault(key, []).append((mail.date, mail.part, response))
    return list(found.values())


def _moved(response: Response, n: int, shift: dt.timedelta) -> Response:
    """``response`` of the ``n``-th conversation: its own domain, reference and dates.

    The lines it was read from no longer say what it says: they are not kept (a ledger
    records what is typed when there are none).
    """
    domain = None if response.domain is None else f"n{n}-{response.domain}"

    def moved(sub: SubResult) -> SubResult:
        # The dates to act by (deadline, expire.date) move with the conversation.
        data: dict[str, str | dt.datetime] = {}
        for key, value in sub.data.items():
            if isinstance(value, dt.datetime):
                data[key] = value + shift
            elif key == "domain.name" and domain is not None:
                data[key] = domain
            else:
                data[key] = value
        return evolve(sub, data=data)

    reference = None if response.reference is None else f"{response.reference}-{n}"
    subs = tuple(moved(sub) if sub.data else sub for sub in response.sub_results)
    return evolve(response, domain=domain, reference=reference, sub_results=subs, fields=())


def flows(seed: int, events: int) -> Iterator[Response]:
    """Responses of the fake robot's conversations, ``events`` in all, each in time order.

    The conversations of a portfolio of ``drsparse.testing`` (its mix of flows, its delays,
    its sub-results) are played again and again, each time for a domain and a reference of
    its own, moved to another moment of 22 years. Most are over; the last step of two per
    cent never comes, as a ledger that is kept up to date has a few open cases among years
    of closed ones.
    """
    rnd = random.Random(seed)
    conversations = _conversations(seed)
    made = 0
    n = 0
    while made < events:
        n += 1
        steps = rnd.choice(conversations)
        if len(steps) > 1 and rnd.random() < _OPEN:
            steps = steps[:-1]
        moment = _START + dt.timedelta(seconds=rnd.randrange(_SPAN_SECONDS))
        shift = moment - steps[0][0]
        for k, (sent, part, response) in enumerate(steps):
            if made >= events:
                return
            origin = Origin(
                source=f"generated#{made}",
                message_id=f"<{n}.{k}@drs.knipp.de>",
                date=email.utils.format_datetime((sent + shift).astimezone(dt.UTC)),
                sender="DRS Robot <drs@knipp.de>",
                part=part,
                authentic=True,
            )
            yield evolve(_moved(response, n, shift), origin=origin)
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
