"""The ledger's fold on the robot's conversations, as the fake robot (drsparse.testing) mails them.

Every e-mail here comes from the test kit: its documented flows (``testing.conversation``),
the examples of Knipp's "Robot Responses" page as printed (``testing.documented``), spoofed
and unsigned mail (``auth``), a colleague's forward or quoting reply (``shape``), and a whole
reseller's mailbox (``testing.portfolio``). Each is parsed by the real parser and folded. The
conversations, shuffled and delivered again (hypothesis), must give the same state; spoofed
messages, quoted copies and forwarded copies must not move a case, and copies must not mark
one suspect.

The store's and the command's tests use these mailboxes and helpers too (``MAILBOX``,
``CONVERSATIONS``, ``GENERATED``, ``FORGED``, ``FORWARDS``, ``events_of``, ``parsed``,
``without_header``).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from email.utils import format_datetime
from typing import cast

import pytest
from attrs import evolve
from hypothesis import given, settings
from hypothesis import strategies as st

import drsparse
from drsparse import Response, testing
from drsparse.ledger import KINDS, Case, Event, State, attention, fold, kind_of, status

UTC = dt.UTC
#: German winter time: the page's examples are of November 2003.
CET = dt.timezone(dt.timedelta(hours=1))
WEEK = dt.timedelta(days=7)

Message = testing.Mail | bytes


def at(day: int, hour: int = 10, minute: int = 0, *, month: int = 11) -> dt.datetime:
    """A moment of autumn 2003 (the time of the page's examples), in German winter time."""
    return dt.datetime(2003, month, day, hour, minute, tzinfo=CET)


def data_of(message: Message) -> bytes:
    return message.data if isinstance(message, testing.Mail) else message


def parsed(
    message: Message, source: str = "test", *, include_quoted: bool = False
) -> list[Response]:
    return drsparse.parse_message(data_of(message), source=source, include_quoted=include_quoted)


def events_of(messages: Sequence[Message], *, include_quoted: bool = False) -> list[Event]:
    """The events of the messages, numbered in the order given."""
    events: list[Event] = []
    for message in messages:
        data = data_of(message)
        for index, response in enumerate(parsed(data, include_quoted=include_quoted)):
            events.append(Event.from_response(response, message=data, index=index, seq=len(events)))
    return events


def without_header(data: bytes, name: str) -> bytes:
    """The message without the header ``name`` of its own head (folded lines included).

    The kit writes every header a robot mail carries; some servers lose one on the way.
    """
    head, blank, body = data.partition(b"\n\n")
    prefix = name.lower().encode("ascii") + b":"
    kept: list[bytes] = []
    dropping = False
    for line in head.split(b"\n"):
        if not line.startswith((b" ", b"\t")):
            dropping = line.lower().startswith(prefix)
        if not dropping:
            kept.append(line)
    assert len(kept) < len(head.split(b"\n")), f"no {name} header to drop"
    return b"\n".join(kept) + blank + body


def with_header(data: bytes, name: str, value: str) -> bytes:
    """The message with the header ``name`` replaced by ``value``."""
    return f"{name}: {value}\n".encode() + without_header(data, name)


def page(*steps: tuple[str, dt.datetime]) -> list[testing.Mail]:
    """Examples of the page with the page's own values, one robot mail each, at these dates."""
    return [testing.make_mail(testing.documented(name), date=date) for name, date in steps]


# The page's references: the robot reuses the .de registration's for a ccTLD's middle step.
DE_REFERENCE = "TemplateEMailProcessor-1063716677292"
TRANSFER_REFERENCE = "TemplateEMailProcessor-1067505306299"
# An outgoing transfer the registry announced then: its deadline is the page's, to the ms.
TRANSFER_OUT_NOTICE = dt.datetime(2003, 10, 30, 11, 10, 24, 546000, tzinfo=UTC)
PAGE_DEADLINE = dt.datetime(2003, 11, 4, 11, 10, 24, 546000, tzinfo=UTC)
# The page's 23300: registered on Oct 29, to be delegated by Nov 28 (midnight, German time).
PAGE_EXPIRE_DATE = dt.datetime(2003, 11, 28, 23, 0, tzinfo=UTC)
# The second outgoing transfer of acme.com, still waiting for an answer.
AGAIN_DEADLINE = dt.datetime(2003, 11, 14, 11, 10, 24, 546000, tzinfo=UTC)

# A reseller's mailbox, conversation by conversation; each name says what the flow is.
CONVERSATIONS: dict[str, list[testing.Mail]] = {
    # A .de registration: 10320 within minutes, then hours later the final 10000.
    "de-registration": testing.conversation(
        "registration-de", "acme.de", reference=DE_REFERENCE, start=at(3, 9)
    ),
    # The page's ccTLD registration as printed: 10360, 10320 with another reference (the
    # page's own slip), then the final result with the first reference.
    "cctld-registration": page(
        ("cctld-command-received", at(4, 9)),
        ("cctld-registration-initiated", at(4, 11)),
        ("cctld-registration-completed", at(6, 16)),
    ),
    # An incoming transfer: 10310, then 10000 about five days later.
    "transfer-in": testing.conversation(
        "transfer-in-completed", "acme.com", reference=TRANSFER_REFERENCE, start=at(3, 15)
    ),
    # An outgoing transfer, unrequested: 10300 with a deadline, then rejected (10302).
    "transfer-out": testing.conversation(
        "transfer-out-rejected", "acme.com", start=TRANSFER_OUT_NOTICE
    ),
    # Registered but not delegated: the final 10000 carries a 23300 and its expire.date.
    "not-delegated": testing.conversation(
        "not-delegated",
        "organisierdich.de",
        reference="WebInterface-20031029-112626-216",
        start=dt.datetime(2003, 10, 29, 11, 26, 26, tzinfo=CET),
    ),
    # Answered at once, as the page prints them: success, object exists (no domain.name),
    # a syntax error (neither domain nor reference).
    "requests": page(
        ("registration-success", at(2, 10)),
        ("registration-object-exists", at(2, 11)),
        ("syntax-error", at(2, 12)),
    ),
    # A new outgoing transfer of the same domain, still waiting for an answer.
    "transfer-out-again": testing.conversation(
        "transfer-out-completed", "acme.com", start=AGAIN_DEADLINE - dt.timedelta(days=5)
    )[:1],
    # A .de registration still pending: its final result has not come.
    "pending": testing.conversation(
        "registration-de", "wait.de", reference=DE_REFERENCE, start=at(9, 9)
    )[:1],
}
MAILBOX: list[testing.Mail] = [mail for flow in CONVERSATIONS.values() for mail in flow]
MAILBOX_EVENTS = events_of(MAILBOX)
# A forged "completed" of an outgoing transfer no one asked for, from a look-alike sender.
FORGED = testing.conversation(
    "transfer-out-completed", "bigbank.com", auth="spoofed", start=at(9, 12)
)[-1]
# A reseller's whole mailbox as the kit makes it: 20 domains, foreign mail, colleagues'
# forwards and replies, a spoofed robot mail (this seed has every shape of robot mail).
GENERATED: list[testing.Mail] = testing.portfolio(20, seed=9)
#: The shapes of a copy: a colleague's forward and a reply quoting the robot.
COPIES = ("forwarded", "quoted")


def by_domain(state: State, domain: str | None, kind: str | None = None) -> list[Case]:
    return [
        case
        for case in state.cases
        if case.domain == domain and (kind is None or case.kind == kind)
    ]


def test_the_mailbox_is_authentic_robot_mail_each_message_once() -> None:
    # The messages are what they claim, or the trust rules below would test nothing.
    for mail in MAILBOX:
        (response,) = parsed(mail)
        assert response == mail.responses[0]
        assert response.origin is not None
        assert response.origin.authentic is True
        assert response.origin.date is not None
    assert len({mail.message_id for mail in MAILBOX}) == len(MAILBOX)
    (forged,) = parsed(FORGED)
    assert forged.origin is not None
    assert forged.origin.authentic is False
    kinds = {mail.kind for mail in GENERATED}
    assert {*testing.SHAPES, *testing.FOREIGN} <= kinds
    assert "spoofed" in {mail.auth for mail in GENERATED}


def test_a_de_registration_is_one_case_closed_by_its_final_result() -> None:
    state = fold(events_of(CONVERSATIONS["de-registration"]))
    (case,) = state.cases
    assert case.as_dict() == {
        "kind": "registration",
        "reference": DE_REFERENCE,
        "domain": "acme.de",
        "open": False,
        "final_code": 10000,
        "codes": [10320, 10000],
        "due": None,
        "suspect": False,
    }
    assert state.suspects == ()


def test_until_the_final_result_the_registration_is_open() -> None:
    (case,) = fold(events_of(CONVERSATIONS["de-registration"][:1])).cases
    assert case.open
    assert case.final_code is None
    assert case.codes == (10320,)


def test_a_cctld_follow_up_with_another_reference_joins_the_one_open_case() -> None:
    state = fold(events_of(CONVERSATIONS["cctld-registration"]))
    (case,) = state.cases
    assert case.kind == "registration"
    assert case.reference == "TemplateEMailProcessor-1063716677242"
    assert case.codes == (10360, 10320, 10000)
    assert case.final_code == 10000
    assert not case.open
    (note,) = case.notes
    assert DE_REFERENCE in note
    assert "acme.co.uk" in note


def test_a_cctld_conversation_of_the_kit_keeps_one_reference() -> None:
    mails = testing.conversation("registration-cctld", "acme.co.uk", start=at(4, 9))
    (case,) = fold(events_of(mails)).cases
    assert (case.kind, case.codes, case.open, case.notes) == (
        "registration",
        (10360, 10320, 10000),
        False,
        (),
    )


def test_a_reference_reused_for_another_domain_is_another_case() -> None:
    # 10320 of acme.de and of acme.co.uk carry the same reference on the page.
    mails = CONVERSATIONS["de-registration"] + CONVERSATIONS["cctld-registration"]
    state = fold(events_of(mails))
    de, uk = by_domain(state, "acme.de"), by_domain(state, "acme.co.uk")
    assert [case.codes for case in de] == [(10320, 10000)]
    assert [case.codes for case in uk] == [(10360, 10320, 10000)]


def test_a_follow_up_does_not_join_when_two_cases_of_the_domain_are_open() -> None:
    other = testing.documented(
        "cctld-command-received", reference="TemplateEMailProcessor-1063716677999"
    )
    messages = [
        *page(("cctld-command-received", at(4, 9))),
        testing.make_mail(other, date=at(4, 9, 30)),
        *page(("cctld-registration-initiated", at(4, 11))),  # its reference matches neither
    ]
    state = fold(events_of(messages))
    assert sorted(case.codes for case in state.cases) == [(10320,), (10360,), (10360,)]
    assert all(case.open and not case.notes for case in state.cases)


def test_an_incoming_transfer_and_its_rejection() -> None:
    (done,) = fold(events_of(CONVERSATIONS["transfer-in"])).cases
    assert (done.kind, done.open, done.codes, done.final_code) == (
        "transfer-in",
        False,
        (10310, 10000),
        10000,
    )
    rejected = testing.conversation(
        "transfer-in-rejected", "acme.com", reference=TRANSFER_REFERENCE, start=at(3, 15)
    )
    (case,) = fold(events_of(rejected)).cases
    assert (case.kind, case.codes, case.final_code) == ("transfer-in", (10310, 23302), 23302)


def _transfer_out(flow: testing.Flow) -> list[testing.Mail]:
    return testing.conversation(flow, "acme.com", start=TRANSFER_OUT_NOTICE)


@pytest.mark.parametrize(
    ("ending", "code"),
    [
        (_transfer_out("transfer-out-completed")[1], 10303),
        (_transfer_out("transfer-out-rejected")[1], 10302),
        (_transfer_out("transfer-out-canceled")[1], 10304),
        # The page's "canceled" carries 10303, the code of a completed transfer.
        (page(("transfer-out-canceled", at(2)))[0], 10303),
    ],
    ids=["completed", "rejected", "canceled", "canceled-as-on-the-page"],
)
def test_an_outgoing_transfer_is_due_by_its_deadline_until_it_ends(
    ending: testing.Mail, code: int
) -> None:
    notice = CONVERSATIONS["transfer-out"][0]
    (case,) = fold(events_of([notice])).cases
    assert case.kind == "transfer-out"
    assert case.open
    assert case.reference is None
    assert case.due == PAGE_DEADLINE
    assert case.as_dict()["due"] == "2003-11-04T11:10:24.546000+00:00"

    (case,) = fold(events_of([notice, ending])).cases
    assert (case.open, case.final_code, case.codes, case.due) == (False, code, (10300, code), None)


def test_an_outgoing_transfer_is_apart_from_the_requests_of_the_same_domain() -> None:
    state = fold(events_of(CONVERSATIONS["transfer-in"] + CONVERSATIONS["transfer-out"]))
    assert sorted((case.kind, case.codes) for case in by_domain(state, "acme.com")) == [
        ("transfer-in", (10310, 10000)),
        ("transfer-out", (10300, 10302)),
    ]


def test_not_delegated_keeps_its_expire_date_on_the_closed_case() -> None:
    (case,) = fold(events_of(CONVERSATIONS["not-delegated"])).cases
    assert not case.open
    assert case.codes == (10320, 10000)
    assert case.final_code == 10000
    assert case.due == PAGE_EXPIRE_DATE


def test_requests_answered_at_once_are_closed_cases() -> None:
    state = fold(events_of(CONVERSATIONS["requests"]))
    assert sorted((c.reference or "", c.domain or "", c.codes, c.open) for c in state.cases) == [
        ("", "", (20001,), False),
        ("TemplateEMailProcessor-1062101424074", "", (23002,), False),
        ("TemplateEMailProcessor-1067340658616", "ixpos.com", (10000,), False),
    ]
    assert {case.kind for case in state.cases} == {"request"}


@pytest.mark.parametrize("flow", ["syntax-error", "object-exists", "invalid-authinfo"])
def test_a_failure_of_the_kit_is_a_closed_request(flow: testing.Flow) -> None:
    (mail,) = testing.conversation(flow, "acme.com", start=at(2))
    (answer,) = mail.responses
    (case,) = fold(events_of([mail])).cases
    assert (case.kind, case.open, case.codes) == ("request", False, (answer.result.code,))
    assert case.reference == answer.reference


def test_a_response_without_domain_name_takes_it_from_its_sub_results_data() -> None:
    # The page's "pending transfer" names acme2.com in its sub-result's data too.
    bare = evolve(testing.documented("transfer-in-pending-transfer"), domain=None)
    mail = testing.make_mail(bare, date=at(2))
    (response,) = parsed(mail)
    assert response.domain is None
    (event,) = events_of([mail])
    assert event.domain == "acme2.com"
    (case,) = fold([event]).cases
    assert case.domain == "acme2.com"


def test_the_kinds_follow_the_codes() -> None:
    assert [kind_of(code) for code in (10320, 10360)] == ["registration"] * 2
    assert [kind_of(code) for code in (10310, 23302)] == ["transfer-in"] * 2
    assert [kind_of(code) for code in (10300, 10302, 10303, 10304)] == ["transfer-out"] * 4
    assert [kind_of(code) for code in (10000, 20001, 23002, 22002)] == ["request"] * 4
    assert set(KINDS) == {"registration", "transfer-in", "transfer-out", "request"}


def test_the_whole_mailbox() -> None:
    state = fold(MAILBOX_EVENTS)
    summary = sorted(
        (case.kind, case.domain or "", case.open, case.codes, case.due is not None)
        for case in state.cases
    )
    assert summary == [
        ("registration", "acme.co.uk", False, (10360, 10320, 10000), False),
        ("registration", "acme.de", False, (10320, 10000), False),
        ("registration", "organisierdich.de", False, (10320, 10000), True),
        ("registration", "wait.de", True, (10320,), False),
        ("request", "", False, (20001,), False),
        ("request", "", False, (23002,), False),
        ("request", "ixpos.com", False, (10000,), False),
        ("transfer-in", "acme.com", False, (10310, 10000), False),
        ("transfer-out", "acme.com", False, (10300, 10302), False),
        ("transfer-out", "acme.com", True, (10300,), True),
    ]
    assert state.suspects == ()


def _conversation_key(response: Response) -> str | None:
    return response.domain or response.reference


def test_a_generated_portfolio_is_one_closed_case_per_conversation() -> None:
    # The robot's own mails say what each conversation was; copies and forgeries add nothing.
    expected: dict[str | None, list[int]] = {}
    for mail in GENERATED:
        if mail.authentic:
            for response in mail.responses:
                expected.setdefault(_conversation_key(response), []).append(response.result.code)
    state = fold(events_of(GENERATED, include_quoted=True))
    assert {case.domain or case.reference: list(case.codes) for case in state.cases} == expected
    assert len(state.cases) == len(expected)
    assert not any(case.open for case in state.cases)
    # The spoofed robot mail is a suspect; the colleagues' forwards and replies are copies.
    doubtful = [mail for mail in GENERATED if mail.authentic is False and mail.kind not in COPIES]
    assert len(state.suspects) == len(doubtful) > 0
    assert {event.forwarded for event in events_of(GENERATED)} == {False, True}


# -------------------------------------------------------------------------------------------
# Order, duplicates
# -------------------------------------------------------------------------------------------


def _redelivered(mail: testing.Mail, seed: int) -> testing.Mail:
    """The same message through another way: other bytes, the same Message-ID and Date."""
    return testing.make_mail(
        *mail.responses,
        shape=cast(testing.Shape, mail.kind),  # a robot mail's kind is its shape
        auth=mail.auth or "signed",
        date=mail.date,
        message_id=mail.message_id,
        rnd=random.Random(seed),
    )


def _conversations_of(mails: Sequence[testing.Mail]) -> list[list[testing.Mail]]:
    """The robot mails of a mailbox, one list per conversation (copies and forgeries with it)."""
    grouped: dict[tuple[str | None, str | None], list[testing.Mail]] = {}
    for mail in mails:
        if mail.responses:
            key = (mail.scenario, _conversation_key(mail.responses[0]))
            grouped.setdefault(key, []).append(mail)
    return list(grouped.values())


# Whole conversations: the mailbox's, a forgery, and those of the generated portfolio.
WHOLE = [*CONVERSATIONS.values(), [FORGED], *_conversations_of(GENERATED)]
WHOLE_EVENTS = [events_of(flow, include_quoted=True) for flow in WHOLE]
EXPECTED = fold(event for flow in WHOLE_EVENTS for event in flow)
# A conversation delivered again by another way (the same bytes again give the same events).
REDELIVERED = [
    events_of([_redelivered(mail, 7) for mail in flow], include_quoted=True) for flow in WHOLE
]


def test_a_redelivery_is_other_bytes_with_the_same_identity() -> None:
    for flow, again, events in zip(WHOLE, REDELIVERED, WHOLE_EVENTS, strict=True):
        assert all(_redelivered(mail, 7).data != mail.data for mail in flow)
        assert again == events


@settings(max_examples=60, deadline=None)
@given(
    again=st.lists(st.tuples(st.integers(0, len(WHOLE) - 1), st.booleans()), max_size=6),
    data=st.data(),
)
def test_the_state_does_not_depend_on_order_or_repetition(
    again: list[tuple[int, bool]], data: st.DataObject
) -> None:
    events = [event for flow in WHOLE_EVENTS for event in flow]
    for n, other_way in again:  # whole conversations delivered again
        events += REDELIVERED[n] if other_way else WHOLE_EVENTS[n]
    shuffled = data.draw(st.permutations(events))
    # Numbered in the order read, as the store numbers them.
    numbered = [evolve(event, seq=n) for n, event in enumerate(shuffled)]
    assert fold(numbered) == EXPECTED


# Conversations of the kit about a few domains at once, so that they meet: any flow, any way
# the mail came (shape, evidence), any start within a fortnight.
_DRAWN_CONVERSATION = st.builds(
    lambda flow, domain, hours, shape, auth, seed: testing.conversation(
        flow,
        domain,
        start=at(1) + dt.timedelta(hours=hours),
        shape=shape,
        auth=auth,
        rnd=random.Random(seed),
    ),
    st.sampled_from(testing.FLOWS),
    st.sampled_from(("acme.de", "acme.com")),
    st.integers(0, 14 * 24),
    st.sampled_from(testing.SHAPES),
    st.sampled_from(testing.AUTHS),
    st.integers(0, 3),
)


@settings(max_examples=25, deadline=None)
@given(
    flows=st.lists(_DRAWN_CONVERSATION, min_size=1, max_size=4),
    again=st.lists(st.integers(0, 3), max_size=3),
    data=st.data(),
)
def test_conversations_that_meet_fold_alike_in_any_order(
    flows: list[list[testing.Mail]], again: list[int], data: st.DataObject
) -> None:
    # Each conversation's events; the same bytes read again give the same events.
    read = [events_of(flow, include_quoted=True) for flow in flows]
    events = [event for flow in read for event in flow]
    expected = fold(events)
    repeated = [*events, *(event for n in again for event in read[n % len(read)])]
    shuffled = data.draw(st.permutations(repeated))
    numbered = [evolve(event, seq=n) for n, event in enumerate(shuffled)]
    assert fold(numbered) == expected


# A message without a Message-ID is known by its bytes.
_SUCCESS = testing.documented("registration-success", domain="no-id.com")
NO_ID = without_header(testing.make_mail(_SUCCESS, date=at(3)).data, "Message-ID")
# Three deliveries of it, read one by one, and another message.
NO_ID_COPIES = [
    *(event for _ in range(3) for event in events_of([NO_ID])),
    *events_of(CONVERSATIONS["requests"][:1]),
]


@settings(max_examples=30, deadline=None)
@given(st.permutations(range(4)))
def test_the_same_bytes_without_message_id_count_once(order: list[int]) -> None:
    state = fold(NO_ID_COPIES[i] for i in order)
    assert sorted(case.domain or "" for case in state.cases) == ["ixpos.com", "no-id.com"]


def test_within_one_second_the_earlier_steps_come_first() -> None:
    # A Date header has seconds: three steps in the same second still read 10360, 10320, 10000.
    same = at(4, 9)
    messages = page(
        ("cctld-registration-completed", same),
        ("cctld-registration-initiated", same),
        ("cctld-command-received", same),
    )
    (case,) = fold(events_of(messages)).cases
    assert case.codes == (10360, 10320, 10000)
    assert not case.open


def test_without_a_date_or_received_header_the_order_given_decides() -> None:
    messages = [
        without_header(without_header(mail.data, "Date"), "Received")
        for mail in CONVERSATIONS["de-registration"]
    ]
    (case,) = fold(events_of(messages)).cases
    assert (case.codes, case.open) == ((10320, 10000), False)
    # Read the other way round, the final result comes first: a request answered at once,
    # then a registration that stays open.
    backwards = fold(events_of(messages[::-1])).cases
    assert sorted((case.codes, case.open) for case in backwards) == [
        ((10000,), False),
        ((10320,), True),
    ]


def received(moment: dt.datetime) -> str:
    """A ``Received`` header's value with the date ``moment``."""
    return f"from mx1.reseller.example by store1.reseller.example; {format_datetime(moment)}"


# The mailbox without Date headers: each mail still says when its last server got it.
UNDATED = [without_header(mail.data, "Date") for mail in MAILBOX]
UNDATED_EVENTS = events_of(UNDATED)
UNDATED_STATE = fold(UNDATED_EVENTS)
# Without Received headers either: nothing says when.
UNTIMED = [without_header(data, "Received") for data in UNDATED]


def _decisions(state: State) -> list[tuple[object, ...]]:
    """What the cases say, whenever they happened: the times left out."""
    return sorted(
        (case.id, case.kind, case.domain, case.codes, case.open, case.due, case.suspect)
        for case in state.cases
    )


def test_without_a_date_the_received_header_tells_the_time() -> None:
    for mail, event in zip(MAILBOX, UNDATED_EVENTS, strict=True):
        # The last hop follows the Date by a few seconds.
        assert event.time is not None
        assert mail.date <= event.time <= mail.date + dt.timedelta(seconds=16)
    # The cases are those of the dated mailbox: only their times are seconds later.
    assert _decisions(UNDATED_STATE) == _decisions(fold(MAILBOX_EVENTS))
    # Read backwards, the same; without Received headers as well, the order given decides.
    assert fold(events_of(UNDATED[::-1])) == UNDATED_STATE
    assert _decisions(fold(events_of(UNTIMED[::-1]))) != _decisions(UNDATED_STATE)


@settings(max_examples=40, deadline=None)
@given(st.permutations(range(len(UNDATED_EVENTS))))
def test_without_a_date_the_state_does_not_depend_on_order(order: list[int]) -> None:
    # Numbered in the order read, as the store numbers them.
    numbered = [evolve(UNDATED_EVENTS[i], seq=n) for n, i in enumerate(order)]
    assert fold(numbered) == UNDATED_STATE


def test_the_date_wins_over_the_received_header() -> None:
    first, final = CONVERSATIONS["de-registration"]
    # Received dates that would put the final result first.
    hour = dt.timedelta(hours=1)
    crossed = [
        with_header(first.data, "Received", received(final.date + hour)),
        with_header(final.data, "Received", received(first.date - hour)),
    ]
    events = events_of(crossed[::-1])
    assert [event.time for event in events] == [final.date, first.date]
    (case,) = fold(events).cases
    assert (case.codes, case.open) == ((10320, 10000), False)
    # Without their Dates, the Received headers decide.
    undated = events_of([without_header(data, "Date") for data in crossed])
    assert [event.time for event in undated] == [final.date + hour, first.date - hour]
    assert sorted((case.codes, case.open) for case in fold(undated).cases) == [
        ((10000,), False),
        ((10320,), True),
    ]


def test_an_unreadable_date_counts_as_no_date() -> None:
    mail = CONVERSATIONS["de-registration"][0]
    unreadable = with_header(mail.data, "Date", "the day after tomorrow")
    (event,) = events_of([without_header(unreadable, "Received")])
    assert event.time is None
    assert events_of([mail])[0].time == mail.date
    # The topmost Received header's date stands in for it.
    (event,) = events_of([with_header(unreadable, "Received", received(mail.date + WEEK))])
    assert event.time == mail.date + WEEK


@pytest.mark.parametrize(
    "value",
    [
        "from mx1.reseller.example by store1.reseller.example; the day after tomorrow",
        "from mx1.reseller.example by store1.reseller.example with LMTP",
        "from mx1.reseller.example by store1.reseller.example;",
    ],
)
def test_an_unreadable_received_date_counts_as_none(value: str) -> None:
    undated = without_header(CONVERSATIONS["de-registration"][0].data, "Date")
    readable = at(3, 9, 5)
    (event,) = events_of([with_header(undated, "Received", received(readable))])
    assert event.time == readable
    (event,) = events_of([with_header(undated, "Received", value)])
    assert event.time is None
    # Only the topmost counts: the last server's word, not one of the hops before it.
    (event,) = events_of([f"Received: {value}\n".encode() + undated])
    assert event.time is None


def test_a_received_date_without_a_zone_is_utc() -> None:
    undated = without_header(CONVERSATIONS["de-registration"][0].data, "Date")
    for value in ("Mon, 3 Nov 2003 09:00:04", "Mon, 3 Nov 2003 09:00:04 -0000"):
        (event,) = events_of([with_header(undated, "Received", f"from a by b; {value}")])
        assert event.time == dt.datetime(2003, 11, 3, 9, 0, 4, tzinfo=UTC)


# -------------------------------------------------------------------------------------------
# Trust
# -------------------------------------------------------------------------------------------


def test_a_spoofed_final_result_closes_nothing_and_marks_the_case() -> None:
    notice, _ = _transfer_out("transfer-out-completed")
    forged = testing.conversation(
        "transfer-out-completed", "acme.com", start=TRANSFER_OUT_NOTICE, auth="spoofed"
    )[1]
    (response,) = parsed(forged)
    assert response.origin is not None
    assert response.origin.authentic is False
    state = fold(events_of([notice, forged]))
    (case,) = state.cases
    assert case.open
    assert case.codes == (10300,)
    assert case.final_code is None
    assert case.due is not None
    assert case.suspect
    (suspect,) = state.suspects
    assert (suspect.code, suspect.domain) == (10303, "acme.com")


def test_a_spoofed_conversation_opens_nothing() -> None:
    forged = testing.conversation(
        "transfer-out-completed", "bigbank.com", auth="spoofed", start=at(1)
    )
    state = fold(events_of(forged))
    assert state.cases == ()
    assert [(event.code, event.domain) for event in state.suspects] == [
        (10300, "bigbank.com"),
        (10303, "bigbank.com"),
    ]


def test_a_forgery_reusing_a_genuine_message_id_does_not_hide_the_genuine_message() -> None:
    initiated, genuine = CONVERSATIONS["de-registration"]
    refused = testing.response(23002, domain="acme.de", reference=DE_REFERENCE)
    forged = testing.make_mail(
        refused,
        auth="spoofed",
        date=genuine.date - dt.timedelta(minutes=1),
        message_id=genuine.message_id,
    )
    state = fold(events_of([initiated, forged, genuine]))
    (case,) = state.cases
    assert (case.codes, case.final_code, case.suspect) == ((10320, 10000), 10000, True)


def test_no_evidence_either_way_is_not_a_suspect() -> None:
    # authentic is None (no Authentication-Results): the rule is about evidence against one.
    initiated, completed = CONVERSATIONS["de-registration"]
    unsigned = testing.make_mail(*completed.responses, auth="unsigned", date=completed.date)
    (response,) = parsed(unsigned)
    assert response.origin is not None
    assert response.origin.authentic is None
    (case,) = fold(events_of([initiated, unsigned])).cases
    assert not case.open


def test_a_quoted_response_is_ignored() -> None:
    initiated, completed = CONVERSATIONS["de-registration"]
    # Unsigned: no evidence against the reply, so that only its being a quote can count.
    later = completed.date + dt.timedelta(hours=1)
    reply = testing.make_mail(*completed.responses, shape="quoted", auth="unsigned", date=later)
    assert parsed(reply) == []  # not reported by default
    events = events_of([initiated, reply], include_quoted=True)
    assert [(event.quoted, event.authentic) for event in events] == [(False, True), (True, None)]
    (case,) = fold(events).cases
    assert case.open
    assert case.codes == (10320,)


def forwarded(response: Response, auth: testing.Auth, date: dt.datetime) -> testing.Mail:
    """A colleague's message forwarding the robot's mail of ``response`` as an attachment.

    Its Message-ID is drawn from its date: forwards sent at other moments are other messages.
    """
    rnd = random.Random(int(date.timestamp()))
    return testing.make_mail(response, shape="forwarded", auth=auth, date=date, rnd=rnd)


# Colleagues' forwards of robot mail, with every kind of evidence: the final result of the
# pending wait.de, the page's answered request of ixpos.com and an outgoing transfer of
# away.example. Copies, all of them: the mailbox's cases are what they were without them.
FORWARDS = [
    forwarded(
        testing.response(10000, domain="wait.de", reference=DE_REFERENCE), "unsigned", at(10)
    ),
    forwarded(testing.documented("registration-success"), "signed", at(10, 11)),
    forwarded(
        testing.documented("transfer-out-initiated", domain="away.example"), "spoofed", at(10, 12)
    ),
]


# The page's final results: every example that is neither pending nor the 10300 that opens a
# transfer, and the open case each would end, as the robot's own mail opened it.
FINALS = [
    name
    for name in testing.DOCUMENTED
    if testing.documented(name).status != "pending"
    and testing.documented(name).result.code != 10300
]


def _opening(final: Response) -> testing.Mail:
    if kind_of(final.result.code) == "transfer-out":
        opener = testing.documented("transfer-out-initiated", domain=final.domain)
    else:
        opener = testing.response(10320, domain=final.domain, reference=final.reference)
    return testing.make_mail(opener, date=at(1))


@pytest.mark.parametrize("auth", testing.AUTHS)
@pytest.mark.parametrize("name", FINALS)
def test_a_forwarded_final_result_moves_no_case_and_marks_none(
    name: str, auth: testing.Auth
) -> None:
    final = testing.documented(name)
    opening = _opening(final)
    before = fold(events_of([opening]))
    # The robot's own mail of it would move the case: what the copy must not do.
    genuine = testing.make_mail(final, date=at(2))
    assert fold(events_of([opening, genuine])) != before
    copy = forwarded(final, auth, at(2))
    (event,) = events_of([copy])
    # Signed by the colleague (not authentic), spoofed, or without evidence (authentic None).
    assert (event.forwarded, event.authentic, event.suspect) == (True, copy.authentic, False)
    assert fold(events_of([opening, copy])) == before
    assert fold(events_of([copy])) == State()
    assert fold(events_of([opening, genuine, copy])) == fold(events_of([opening, genuine]))
    state = fold(events_of([opening, copy]))
    items = attention(state.cases, [event], as_of=at(3), pending_after=WEEK)
    assert not any("not authentic" in item.reason for item in items)


@pytest.mark.parametrize("auth", testing.AUTHS)
def test_a_forwarded_outgoing_transfer_opens_none(auth: testing.Auth) -> None:
    notice = testing.documented("transfer-out-initiated", date=PAGE_DEADLINE)
    assert fold(events_of([testing.make_mail(notice, date=at(1))])).cases  # the robot's does
    copy = forwarded(notice, auth, at(1))
    assert fold(events_of([copy])) == State()
    # Nothing is due: a colleague's copy of the notice asks for no answer by its deadline.
    assert status(fold(events_of([copy])), as_of=at(2), pending_after=WEEK).attention == ()
    # Nor does the robot's own end of that transfer find a case to close: it opens its own.
    ending = testing.make_mail(testing.documented("transfer-out-completed"), date=at(2))
    (case,) = fold(events_of([copy, ending])).cases
    assert case.codes == (10303,)


# -------------------------------------------------------------------------------------------
# What needs attention
# -------------------------------------------------------------------------------------------


def test_attention_lists_the_most_urgent_first() -> None:
    state = fold(events_of([*MAILBOX, FORGED]))
    as_of = dt.datetime(2003, 11, 20, tzinfo=UTC)
    items = attention(state.cases, state.suspects, as_of=as_of, pending_after=WEEK)
    assert [(item.kind, item.domain, item.code) for item in items] == [
        ("transfer-out", "acme.com", 10300),  # its deadline (Nov 14) has passed: first
        ("registration", "organisierdich.de", 10000),  # to delegate before Nov 28
        ("transfer-out", "bigbank.com", 10303),  # not authentic
        ("registration", "wait.de", 10320),  # pending since Nov 9, more than a week
    ]
    assert items[0].due == AGAIN_DEADLINE
    assert items[0].due < as_of
    assert items[1].due == PAGE_EXPIRE_DATE
    assert items[3].due is None
    assert all(item.reason for item in items)


def test_a_recent_pending_request_and_a_past_expire_date_need_nothing() -> None:
    state = fold(events_of(CONVERSATIONS["pending"] + CONVERSATIONS["not-delegated"]))
    as_of = dt.datetime(2003, 11, 30, tzinfo=UTC)  # after expire.date, 21 days after 10320
    assert attention(state.cases, (), as_of=as_of, pending_after=dt.timedelta(days=30)) == ()


def test_status_shows_open_cases_or_all() -> None:
    state = fold(MAILBOX_EVENTS)
    as_of = dt.datetime(2003, 11, 10, tzinfo=UTC)
    open_only = status(state, as_of=as_of, pending_after=WEEK)
    # Oldest first: wait.de's 10320 came at about 08:00 UTC, acme.com's 10300 at 11:10.
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

    state = fold(MAILBOX_EVENTS)
    assert pickle.loads(pickle.dumps(state)) == state
    assert hash(state.cases[0]) == hash(fold(MAILBOX_EVENTS).cases[0])
