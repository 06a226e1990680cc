"""The ledger's fold on real conversations: the robot's documented samples as e-mails.

Each sample block of samples/knipp/ is wrapped in a small RFC 5322 message (From, Date,
Message-ID, and the Authentication-Results header of the receiving server), parsed by the
real parser, and folded. The conversations are the ones Knipp's robot-responses page
describes; shuffled and duplicated (hypothesis), they must give the same state. Spoofed
messages (dkim=fail) and quoted copies must change nothing.

The helpers here (``mail``, ``PORTFOLIO``, ``events_of``) are shared with the store's and the
command's tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from attrs import evolve
from hypothesis import given, settings
from hypothesis import strategies as st

import drsparse
from drsparse import Response
from drsparse.ledger import KINDS, Case, Event, State, attention, fold, kind_of, status
from tests.helpers import SAMPLES

KNIPP = SAMPLES / "knipp"
UTC = dt.UTC


def block(name: str, *, drop: str | None = None) -> str:
    """The text of ``samples/knipp/NAME*.txt``, without the lines starting with ``drop``."""
    (path,) = KNIPP.glob(f"{name}*.txt")
    text = path.read_text(encoding="utf-8")
    if drop is not None:
        text = "".join(line for line in text.splitlines(True) if not line.startswith(drop))
    return text


def mail(
    text: str,
    date: str | None,
    message_id: str | None,
    *,
    dkim: str = "pass",
    sender: str = "DRS Robot <robot@drs.knipp.de>",
    received: str | None = None,
) -> bytes:
    """A robot e-mail holding ``text``, as the reseller's server delivered it.

    ``dkim="pass"`` makes it authentic (the receiving server's verdict for knipp.de);
    ``"fail"`` is a forgery. ``received`` adds a Received header on top (a redelivery).
    """
    head = []
    if received is not None:
        head.append(f"Received: {received}")
    head.append(f"Authentication-Results: mx.example.net; dkim={dkim} header.d=knipp.de")
    head.append(f"From: {sender}")
    head.append("To: hostmaster@reseller.example")
    if date is not None:
        head.append(f"Date: {date}")
    if message_id is not None:
        head.append(f"Message-ID: <{message_id}@drs.knipp.de>")
    head += ["Subject: DRS robot response", "MIME-Version: 1.0", "Content-Type: text/plain"]
    return ("\n".join(head) + "\n\nDear customer,\n\n" + text).encode("utf-8")


def quoted_reply(text: str, date: str, message_id: str) -> bytes:
    """A colleague's reply that quotes a robot response (``> `` lines)."""
    body = "Please look at this one.\n\n> " + "\n> ".join(text.splitlines()) + "\n"
    return mail(body, date, message_id, sender="Colleague <it@reseller.example>", dkim="none")


def parsed(data: bytes, source: str = "test", *, include_quoted: bool = False) -> list[Response]:
    return drsparse.parse_message(data, source=source, include_quoted=include_quoted)


def events_of(messages: Sequence[bytes], *, include_quoted: bool = False) -> list[Event]:
    """The events of the messages, numbered in the order given."""
    events: list[Event] = []
    for data in messages:
        for index, response in enumerate(parsed(data, include_quoted=include_quoted)):
            events.append(Event.from_response(response, message=data, index=index, seq=len(events)))
    return events


def day(d: int, hour: int = 10, minute: int = 0) -> str:
    """An RFC 5322 date in November 2003 (the samples' time), in German winter time."""
    return dt.datetime(
        2003, 11, d, hour, minute, tzinfo=dt.timezone(dt.timedelta(hours=1))
    ).strftime("%a, %d %b %Y %H:%M:%S %z")


# The conversations of Knipp's page, as e-mails; each name says what the flow is.
FLOWS: dict[str, list[bytes]] = {
    # A .de registration: 10320, then hours later the final 10000, same reference.
    "de-registration": [
        mail(block("10-"), day(3, 9), "de-1"),
        mail(block("11-"), day(3, 15), "de-2"),
    ],
    # A ccTLD registration: 10360, 10320 (with another reference: the page's own example),
    # then the final result with the first reference.
    "cctld-registration": [
        mail(block("12-"), day(4, 9), "uk-1"),
        mail(block("13-"), day(4, 11), "uk-2"),
        mail(block("14-"), day(6, 16), "uk-3"),
    ],
    # An incoming transfer: 10310, then 10000.
    "transfer-in": [
        mail(block("05-"), day(5, 8), "in-1"),
        mail(block("08-"), day(7, 12), "in-2"),
    ],
    # An outgoing transfer, unrequested: 10300 with a deadline, then rejected (10302).
    "transfer-out": [
        mail(block("15-"), day(1, 11), "out-1"),
        mail(block("17-"), day(2, 9), "out-2"),
    ],
    # Registered but not delegated: 10000 with a 23300 and its expire.date.
    "not-delegated": [mail(block("04-"), day(8, 10), "nd-1")],
    # Answered at once: success, object exists (no domain.name), a syntax error.
    "requests": [
        mail(block("02-"), day(2, 10), "rq-1"),
        mail(block("03-"), day(2, 11), "rq-2"),
        mail(block("01-"), day(2, 12), "rq-3"),
    ],
    # A new outgoing transfer of the same domain, still waiting for an answer.
    "transfer-out-again": [mail(block("15-"), day(9, 11), "out-3")],
    # A .de registration still pending (its final result never came).
    "pending": [mail(block("10-").replace("acme.de", "wait.de"), day(9, 9), "wait-1")],
}
PORTFOLIO: list[bytes] = [data for flow in FLOWS.values() for data in flow]


def by_domain(state: State, domain: str | None, kind: str | None = None) -> list[Case]:
    return [
        case
        for case in state.cases
        if case.domain == domain and (kind is None or case.kind == kind)
    ]


def test_every_flow_is_authentic_mail() -> None:
    # The messages are what they claim, or the trust rules below would test nothing.
    for data in PORTFOLIO:
        (response,) = parsed(data)
        assert response.origin is not None
        assert response.origin.authentic is True
        assert response.origin.date is not None


def test_a_de_registration_is_one_case_closed_by_its_final_result() -> None:
    state = fold(events_of(FLOWS["de-registration"]))
    (case,) = state.cases
    assert case.as_dict() == {
        "kind": "registration",
        "reference": "TemplateEMailProcessor-1063716677292",
        "domain": "acme.de",
        "open": False,
        "final_code": 10000,
        "codes": [10320, 10000],
        "due": None,
        "suspect": False,
    }
    assert state.suspects == ()


def test_until_the_final_result_the_registration_is_open() -> None:
    (case,) = fold(events_of(FLOWS["de-registration"][:1])).cases
    assert case.open
    assert case.final_code is None
    assert case.codes == (10320,)


def test_a_cctld_follow_up_with_another_reference_joins_the_one_open_case() -> None:
    state = fold(events_of(FLOWS["cctld-registration"]))
    (case,) = state.cases
    assert case.kind == "registration"
    assert case.reference == "TemplateEMailProcessor-1063716677242"
    assert case.codes == (10360, 10320, 10000)
    assert case.final_code == 10000
    assert not case.open
    (note,) = case.notes
    assert "TemplateEMailProcessor-1063716677292" in note
    assert "acme.co.uk" in note


def test_a_reference_reused_for_another_domain_is_another_case() -> None:
    # 10320 of acme.de and of acme.co.uk carry the same reference on the page.
    state = fold(events_of(FLOWS["de-registration"] + FLOWS["cctld-registration"]))
    de, uk = by_domain(state, "acme.de"), by_domain(state, "acme.co.uk")
    assert [case.codes for case in de] == [(10320, 10000)]
    assert [case.codes for case in uk] == [(10360, 10320, 10000)]


def test_a_follow_up_does_not_join_when_two_cases_of_the_domain_are_open() -> None:
    other = block("12-").replace("1063716677242", "1063716677999")
    messages = [
        mail(block("12-"), day(4, 9), "a"),
        mail(other, day(4, 9, 30), "b"),
        mail(block("13-"), day(4, 11), "c"),  # its reference matches neither
    ]
    state = fold(events_of(messages))
    assert sorted(case.codes for case in state.cases) == [(10320,), (10360,), (10360,)]
    assert all(case.open and not case.notes for case in state.cases)


def test_an_incoming_transfer_and_its_rejection() -> None:
    (done,) = fold(events_of(FLOWS["transfer-in"])).cases
    assert (done.kind, done.open, done.codes, done.final_code) == (
        "transfer-in",
        False,
        (10310, 10000),
        10000,
    )
    rejected = [FLOWS["transfer-in"][0], mail(block("09-"), day(6, 8), "in-r")]
    (case,) = fold(events_of(rejected)).cases
    assert (case.kind, case.codes, case.final_code) == ("transfer-in", (10310, 23302), 23302)


@pytest.mark.parametrize(
    ("sample", "code"),
    [("16-", 10303), ("17-", 10302), ("18-", 10303)],
    ids=["completed", "rejected", "canceled"],
)
def test_an_outgoing_transfer_is_due_by_its_deadline_until_it_ends(sample: str, code: int) -> None:
    opened = fold(events_of([mail(block("15-"), day(1, 11), "o1")]))
    (case,) = opened.cases
    assert case.kind == "transfer-out"
    assert case.open
    assert case.reference is None
    assert case.due == dt.datetime(2003, 11, 4, 11, 10, 24, 546000, tzinfo=UTC)
    assert case.as_dict()["due"] == "2003-11-04T11:10:24.546000+00:00"

    closed = fold(
        events_of([mail(block("15-"), day(1, 11), "o1"), mail(block(sample), day(2), "o2")])
    )
    (case,) = closed.cases
    assert (case.open, case.final_code, case.codes, case.due) == (False, code, (10300, code), None)


def test_an_outgoing_transfer_is_apart_from_the_requests_of_the_same_domain() -> None:
    state = fold(events_of(FLOWS["transfer-in"] + FLOWS["transfer-out"]))
    assert sorted((case.kind, case.codes) for case in by_domain(state, "acme.com")) == [
        ("transfer-in", (10310, 10000)),
        ("transfer-out", (10300, 10302)),
    ]


def test_not_delegated_keeps_its_expire_date_on_the_closed_request() -> None:
    (case,) = fold(events_of(FLOWS["not-delegated"])).cases
    assert not case.open
    assert case.final_code == 10000
    assert case.due == dt.datetime(2003, 11, 28, 23, 0, tzinfo=UTC)


def test_requests_answered_at_once_are_closed_cases() -> None:
    state = fold(events_of(FLOWS["requests"]))
    assert sorted((c.reference or "", c.domain or "", c.codes, c.open) for c in state.cases) == [
        ("", "", (20001,), False),
        ("TemplateEMailProcessor-1062101424074", "", (23002,), False),
        ("TemplateEMailProcessor-1067340658616", "ixpos.com", (10000,), False),
    ]
    assert {case.kind for case in state.cases} == {"request"}


def test_a_response_without_domain_name_takes_it_from_its_sub_results_data() -> None:
    data = mail(block("06-", drop="domain.name"), day(2), "pt")
    (response,) = parsed(data)
    assert response.domain is None
    (event,) = events_of([data])
    assert event.domain == "acme2.com"
    (case,) = fold([event]).cases
    assert case.domain == "acme2.com"


def test_the_kinds_follow_the_codes() -> None:
    assert [kind_of(code) for code in (10320, 10360)] == ["registration"] * 2
    assert [kind_of(code) for code in (10310, 23302)] == ["transfer-in"] * 2
    assert [kind_of(code) for code in (10300, 10302, 10303, 10304)] == ["transfer-out"] * 4
    assert [kind_of(code) for code in (10000, 20001, 23002, 22002)] == ["request"] * 4
    assert set(KINDS) == {"registration", "transfer-in", "transfer-out", "request"}


def test_the_whole_portfolio() -> None:
    state = fold(events_of(PORTFOLIO))
    summary = sorted(
        (case.kind, case.domain or "", case.open, case.codes, case.due is not None)
        for case in state.cases
    )
    assert summary == [
        ("registration", "acme.co.uk", False, (10360, 10320, 10000), False),
        ("registration", "acme.de", False, (10320, 10000), False),
        ("registration", "wait.de", True, (10320,), False),
        ("request", "", False, (20001,), False),
        ("request", "", False, (23002,), False),
        ("request", "ixpos.com", False, (10000,), False),
        ("request", "organisierdich.de", False, (10000,), True),
        ("transfer-in", "acme.com", False, (10310, 10000), False),
        ("transfer-out", "acme.com", False, (10300, 10302), False),
        ("transfer-out", "acme.com", True, (10300,), True),
    ]


# -------------------------------------------------------------------------------------------
# Order, duplicates
# -------------------------------------------------------------------------------------------

PORTFOLIO_EVENTS = events_of(PORTFOLIO)
EXPECTED = fold(PORTFOLIO_EVENTS)
# The same messages delivered again: once more as they were, and once through another
# server (another Received header on top, so other bytes, the same Message-ID).
AGAIN = events_of(PORTFOLIO)
RELAYED = events_of(
    [
        b"Received: from relay.example.net by mx.example.net; " + day(28).encode() + b"\n" + data
        for data in PORTFOLIO
    ]
)
# A message without a Message-ID is known by its bytes.
NO_ID = mail(block("02-").replace("ixpos.com", "no-id.com"), day(3), None)


_INDEX = st.integers(0, len(PORTFOLIO_EVENTS) - 1)


@settings(max_examples=60, deadline=None)
@given(
    again=st.lists(_INDEX, max_size=8),
    relayed=st.lists(_INDEX, max_size=8),
    data=st.data(),
)
def test_the_state_does_not_depend_on_order_or_repetition(
    again: list[int], relayed: list[int], data: st.DataObject
) -> None:
    events = [*PORTFOLIO_EVENTS, *(AGAIN[i] for i in again), *(RELAYED[i] for i in relayed)]
    shuffled = data.draw(st.permutations(events))
    # Numbered in the order read, as the store numbers them.
    numbered = [evolve(event, seq=n) for n, event in enumerate(shuffled)]
    assert fold(numbered) == EXPECTED


@settings(max_examples=30, deadline=None)
@given(st.permutations(range(4)))
def test_the_same_bytes_without_message_id_count_once(order: list[int]) -> None:
    copies = [events_of([NO_ID])[0] for _ in range(3)] + events_of(FLOWS["requests"][:1])
    state = fold(copies[i] for i in order)
    assert sorted(case.domain or "" for case in state.cases) == ["ixpos.com", "no-id.com"]


def test_within_one_second_the_earlier_steps_come_first() -> None:
    # A Date header has seconds: three steps in the same second still read 10360, 10320, 10000.
    same = day(4, 9)
    messages = [
        mail(block("14-"), same, "s3"),
        mail(block("13-"), same, "s2"),
        mail(block("12-"), same, "s1"),
    ]
    (case,) = fold(events_of(messages)).cases
    assert case.codes == (10360, 10320, 10000)
    assert not case.open


def test_without_a_date_the_order_given_decides() -> None:
    messages = [mail(block("10-"), None, "n1"), mail(block("11-"), None, "n2")]
    (case,) = fold(events_of(messages)).cases
    assert (case.codes, case.open) == ((10320, 10000), False)
    # Read the other way round, the final result comes first: a request answered at once,
    # then a registration that stays open.
    backwards = fold(events_of(messages[::-1])).cases
    assert sorted((case.codes, case.open) for case in backwards) == [
        ((10000,), False),
        ((10320,), True),
    ]


def test_an_unreadable_date_counts_as_no_date() -> None:
    (event,) = events_of([mail(block("10-"), "the day after tomorrow", "bad-date")])
    assert event.time is None


# -------------------------------------------------------------------------------------------
# Trust
# -------------------------------------------------------------------------------------------


def test_a_spoofed_final_result_closes_nothing_and_marks_the_case() -> None:
    forged = mail(block("16-"), day(1, 12), "forged", dkim="fail")
    (response,) = parsed(forged)
    assert response.origin is not None
    assert response.origin.authentic is False
    state = fold(events_of([FLOWS["transfer-out"][0], forged]))
    (case,) = state.cases
    assert case.open
    assert case.codes == (10300,)
    assert case.final_code is None
    assert case.due is not None
    assert case.suspect
    (suspect,) = state.suspects
    assert (suspect.code, suspect.domain) == (10303, "acme.com")


def test_a_spoofed_message_opens_nothing() -> None:
    forged = mail(block("15-").replace("acme.com", "bigbank.com"), day(1), "f", dkim="fail")
    state = fold(events_of([forged]))
    assert state.cases == ()
    assert [event.domain for event in state.suspects] == ["bigbank.com"]


def test_a_forgery_reusing_a_genuine_message_id_does_not_hide_the_genuine_message() -> None:
    genuine = FLOWS["de-registration"][1]
    forged = mail(block("11-").replace("10000", "23002"), day(3, 14), "de-2", dkim="fail")
    state = fold(events_of([FLOWS["de-registration"][0], forged, genuine]))
    (case,) = state.cases
    assert (case.codes, case.final_code, case.suspect) == ((10320, 10000), 10000, True)


def test_no_evidence_either_way_is_not_a_suspect() -> None:
    # authentic is None (no counting header): the rule is about evidence against a message.
    data = b"".join(
        line
        for line in mail(block("11-"), day(3, 15), "none").splitlines(True)
        if not line.startswith(b"Authentication-Results:")
    )
    (response,) = parsed(data)
    assert response.origin is not None
    assert response.origin.authentic is None
    (case,) = fold(events_of([FLOWS["de-registration"][0], data])).cases
    assert not case.open


def test_a_quoted_response_is_ignored() -> None:
    reply = quoted_reply(block("11-"), day(3, 16), "reply")
    assert parsed(reply) == []  # not reported by default
    events = events_of([FLOWS["de-registration"][0], reply], include_quoted=True)
    assert [event.quoted for event in events] == [False, True]
    (case,) = fold(events).cases
    assert case.open
    assert case.codes == (10320,)


# -------------------------------------------------------------------------------------------
# What needs attention
# -------------------------------------------------------------------------------------------

WEEK = dt.timedelta(days=7)


def test_attention_lists_the_most_urgent_first() -> None:
    forged = mail(block("16-").replace("acme.com", "bigbank.com"), day(9, 12), "f", dkim="fail")
    state = fold(events_of([*PORTFOLIO, forged]))
    as_of = dt.datetime(2003, 11, 20, tzinfo=UTC)
    items = attention(state.cases, state.suspects, as_of=as_of, pending_after=WEEK)
    assert [(item.kind, item.domain, item.code) for item in items] == [
        ("transfer-out", "acme.com", 10300),  # its deadline (Nov 4) has passed: first
        ("request", "organisierdich.de", 10000),  # to delegate before Nov 28
        ("transfer-out", "bigbank.com", 10303),  # not authentic
        ("registration", "wait.de", 10320),  # pending since Nov 9, more than a week
    ]
    assert items[0].due is not None
    assert items[0].due < as_of
    assert items[1].due == dt.datetime(2003, 11, 28, 23, 0, tzinfo=UTC)
    assert items[3].due is None
    assert all(item.reason for item in items)


def test_a_recent_pending_request_and_a_past_expire_date_need_nothing() -> None:
    state = fold(events_of(FLOWS["pending"] + FLOWS["not-delegated"]))
    as_of = dt.datetime(2003, 11, 30, tzinfo=UTC)  # after expire.date, 21 days after 10320
    assert attention(state.cases, (), as_of=as_of, pending_after=dt.timedelta(days=30)) == ()


def test_status_shows_open_cases_or_all() -> None:
    state = fold(PORTFOLIO_EVENTS)
    as_of = dt.datetime(2003, 11, 10, tzinfo=UTC)
    open_only = status(state, as_of=as_of, pending_after=WEEK)
    # Oldest first: wait.de's 10320 came at 08:00 UTC, acme.com's 10300 at 10:00.
    assert [case.domain for case in open_only.cases] == ["wait.de", "acme.com"]
    everything = status(state, as_of=as_of, pending_after=WEEK, include_closed=True)
    assert everything.cases == state.cases
    document = open_only.as_dict()
    assert set(document) == {"cases", "attention"}
    for case in document["cases"]:  # type: ignore[attr-defined]
        assert set(case) == {
            "kind", "reference", "domain", "open", "final_code", "codes", "due", "suspect",
        }  # fmt: skip


def test_attention_wants_an_aware_time() -> None:
    with pytest.raises(ValueError, match="as_of"):
        attention((), (), as_of=dt.datetime(2003, 11, 10), pending_after=WEEK)


def test_events_and_cases_are_values() -> None:
    import pickle

    state = fold(PORTFOLIO_EVENTS)
    assert pickle.loads(pickle.dumps(state)) == state
    assert hash(state.cases[0]) == hash(fold(PORTFOLIO_EVENTS).cases[0])
