"""The benchmark's corpus is deterministic, valid MIME and mbox, and means what it says.

The timings themselves are not tested (they depend on the machine); what is tested is that the
harness measures what it claims: the same messages for a seed, blocks that drsparse and the
regular-expression floor both read as the generator wrote them, and an mbox the stdlib reads.
"""

from __future__ import annotations

import functools
import mailbox
import re
import resource
import sys
from pathlib import Path

import pytest

import drsparse
from bench.corpus import KINDS, Case, make_cases, make_corpus, write_mbox
from bench.run import SLICE, alternate, floor, floor_block, paired, peak_child
from drsparse import testing

SEED = 2003


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    # Enough messages that every kind of documented example occurs at least once.
    return make_cases(SEED, 150)


def _subgroups(pairs: dict[str, str], head: str) -> list[int]:
    found = {int(m.group(1)) for key in pairs if (m := re.match(rf"{head}\.(\d+)\.", key))}
    return sorted(found)


def test_the_corpus_is_deterministic_for_a_seed() -> None:
    assert make_corpus(SEED, 6) == make_corpus(SEED, 6)
    assert make_corpus(SEED, 6) != make_corpus(SEED + 1, 6)
    # Message i depends only on the messages before it: the scaling row relies on it.
    assert make_corpus(SEED, 12)[:4] == make_corpus(SEED, 4)


def test_every_documented_example_occurs(cases: list[Case]) -> None:
    kinds = {case.kind for case in cases}
    assert kinds <= set(KINDS)
    assert set(testing.DOCUMENTED) <= kinds
    assert kinds & set(testing.FOREIGN), "foreign mail between the robot's"
    assert all(2000 < len(case.data) < 8000 for case in cases if case.robot), "a few KB each"
    assert all(b"\nAuthentication-Results: " in case.data for case in cases if case.robot)


def test_every_block_parses_to_what_the_generator_put_in(cases: list[Case]) -> None:
    for case in (case for case in cases if case.robot):
        response = drsparse.parse(case.block)
        pairs = dict(case.pairs)
        assert [(f.key, f.value) for f in response.fields] == list(case.pairs), case.kind
        assert response.result.code == int(pairs["result.code"])
        assert response.result.msg == pairs["result.msg"]
        assert response.reference == pairs.get("reference")
        assert response.domain == pairs.get("domain.name")
        subs = _subgroups(pairs, "result")
        assert [sub.code for sub in response.sub_results] == [
            int(pairs[f"result.{n}.code"]) for n in subs
        ]
        assert [ns.name for ns in response.nameservers] == [
            pairs[f"ns.{n}.name"] for n in _subgroups(pairs, "ns")
        ]
        assert [c.type for c in response.contacts] == [
            pairs[f"contact.{n}.type"] for n in _subgroups(pairs, "contact")
        ]
        for sub in response.sub_results:
            # The dates the generator wrote are typed: 23300's expire.date, 10300's deadline.
            if sub.code == 23300:
                assert sub.expire_date is not None
            if sub.code == 10300:
                assert sub.deadline is not None


def test_the_floor_reads_the_same_pairs(cases: list[Case]) -> None:
    # The baseline must compute the same thing as drsparse, or the ratios compare nothing.
    for case in cases:
        if not case.robot:
            assert floor(case.data) == [], case.kind
            continue
        assert floor(case.data) == [dict(case.pairs)], case.kind
        assert floor_block(case.block) == dict(case.pairs)


def test_every_message_parses_to_its_one_response(cases: list[Case]) -> None:
    for case in cases:
        responses = drsparse.parse_message(case.data)
        if not case.robot:
            assert responses == [], case.kind
            continue
        assert len(responses) == 1, case.kind
        assert responses[0] == drsparse.parse(case.block)
        assert [(f.key, f.value) for f in responses[0].fields] == list(case.pairs)


def test_the_mbox_round_trips_through_the_stdlib(tmp_path: Path) -> None:
    path = tmp_path / "corpus.mbox"
    count = write_mbox(path, 50_000, SEED)
    assert count > 5
    assert path.stat().st_size >= 50_000
    box = mailbox.mbox(path)
    try:
        ids = [message["Message-ID"] for message in box]
    finally:
        box.close()
    assert ids == [case.message_id for case in make_cases(SEED, count)]
    raw = path.read_bytes()
    # Body lines starting with "From " were escaped, so they did not split messages.
    assert b"\n>From now on" in raw
    assert b"\nFrom now on" not in raw


def test_peak_memory_is_the_childs_own() -> None:
    # A child started from this (larger) process must not report this process's memory.
    child = peak_child([sys.executable, "-c", "pass"])
    assert child.status == 0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert 0 < child.peak_bytes < own


def test_whole_runs_alternate_and_the_ratio_is_taken_within_each_round() -> None:
    # The cold-start and scaling rows: each function reports its own seconds. A burst that
    # slows one round of "b" (10 s) moves that round's ratio only; and "a" is the baseline.
    calls: list[str] = []
    seconds = {"a": iter([1.0, 2.0, 1.0]), "b": iter([3.0, 10.0, 3.0]), "c": iter([1, 2, 1.5])}

    def work(name: str) -> float:
        calls.append(name)
        return float(next(seconds[name]))

    times, ratios = alternate({name: functools.partial(work, name) for name in "abc"}, 3)
    assert calls == ["a", "b", "c", "c", "b", "a", "a", "b", "c"]
    assert times == {"a": 1.0, "b": 3.0, "c": 1.5}
    assert ratios == {"b": 3.0, "c": 1.0}


def test_neither_side_of_a_pair_reuses_the_patterns_the_other_compiled() -> None:
    # The e-mail parser compiles a pattern for every multipart boundary. In a user's run each
    # message's boundary is new; in a pair both sides read the same messages, and the second
    # would find the first's patterns in the regular-expression module's cache.
    pattern = "(?P<sep>--=_bench_boundary_test)(?P<end>--)?$"
    compiled: dict[str, list[re.Pattern[str]]] = {"a": [], "b": []}

    def work(name: str, items: object) -> None:
        compiled[name].append(re.compile(pattern))

    paired({name: functools.partial(work, name) for name in "ab"}, list(range(2 * SLICE)), 1)
    first, second = compiled["a"][0], compiled["b"][0]
    assert first.pattern == second.pattern
    assert first is not second  # compiled anew, as for a message never seen before
