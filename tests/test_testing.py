"""drsparse.testing: the fake robot's mail reads back as exactly what was asked for.

Every builder's mail goes through the real parser (``parse_message``); the documented examples
are compared with the page's text in samples/knipp; the scenarios' codes and delays with the
documented flows; the mailboxes are written to tmp_path and read by the real CLI.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import hashlib
import itertools
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve
from hypothesis import HealthCheck, given, settings

import drsparse
from drsparse import Nameserver, Response, SubResult, testing
from drsparse.testing import strategies
from tests.helpers import ROOT, SAMPLES

#: The kit without its types, for calls that break them on purpose.
KIT: Any = testing

UTC = dt.UTC
CEST = dt.timezone(dt.timedelta(hours=2))
DATE = dt.datetime(2025, 6, 30, 9, 41, 7, tzinfo=CEST)
EXPIRE = dt.datetime(2025, 7, 30, 22, 0, tzinfo=UTC)

# What origin.authentic must say, by shape and evidence: a forward or a reply is the
# colleague's message, signed (if at all) by the reseller's domain, never by knipp.de.
AUTHENTIC = {
    **{(shape, "signed"): True for shape in testing.SHAPES},
    **{(shape, "spoofed"): False for shape in testing.SHAPES},
    **{(shape, "unsigned"): None for shape in testing.SHAPES},
    ("forwarded", "signed"): False,
    ("quoted", "signed"): False,
}
PART = {
    "multipart": "2",
    "base64": "2",
    "quoted-printable": "2",
    "plain": None,
    "html": None,
    "alternative": "1",
    "forwarded": "2.2",
    "quoted": None,
}


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drsparse", *args],
        capture_output=True,
        text=True,
        check=check,
        cwd=ROOT,
    )


def message(data: bytes) -> EmailMessage:
    # policy.default: header values decoded (RFC 2047), parts decoded by get_content().
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(parent: EmailMessage) -> list[EmailMessage]:
    # policy.default makes every part an EmailMessage; the test is for the type checker.
    return [part for part in parent.iter_parts() if isinstance(part, EmailMessage)]


# -------------------------------------------------------------------------------------------
# The documented responses
# -------------------------------------------------------------------------------------------


def test_the_documented_examples_are_the_pages_text() -> None:
    samples = sorted((SAMPLES / "knipp").glob("*.txt"))
    assert [re.sub(r"^\d+-", "", path.stem) for path in samples] == list(testing.DOCUMENTED)
    for path, name in zip(samples, testing.DOCUMENTED, strict=True):
        assert testing.block(testing.documented(name)) == path.read_text(), name


@pytest.mark.parametrize("name", testing.DOCUMENTED)
def test_a_documented_example_takes_your_values(name: str) -> None:
    example = testing.documented(name)
    mine = testing.documented(name, domain="mein-laden.de", reference="ORD-7", date=EXPIRE)
    assert mine.result == example.result
    assert mine.reference == "ORD-7"
    # "Object exists" names the domain in its sub-result only, as documented; an example
    # without any domain (the syntax error) gets a domain.name.
    assert mine.domain == (None if name == "registration-object-exists" else "mein-laden.de")
    assert len(mine.sub_results) == len(example.sub_results)
    for old, new in zip(example.sub_results, mine.sub_results, strict=True):
        assert (new.code, new.msg, new.section, new.key) == (
            old.code,
            old.msg,
            old.section,
            old.key,
        )
        if "domain.name" in old.data:
            assert new.data["domain.name"] == "mein-laden.de"
        for key in ("expire.date", "deadline"):
            if key in old.data:
                assert new.data[key] == EXPIRE
    if name == "registration-object-exists":
        assert mine.sub_results[0].values == ("mein-laden.de",)
    assert "ixpos.com" not in testing.block(mine)


def test_a_documented_example_keeps_what_is_not_given() -> None:
    example = testing.documented("transfer-out-initiated", domain="acme.de")
    assert example.reference is None
    assert example.sub_results[0].deadline == dt.datetime(2003, 11, 4, 11, 10, 24, 546000, UTC)


def test_a_response_takes_the_code_tables_text() -> None:
    made = testing.response(
        10000,
        domain="acme.de",
        reference="ORD-1",
        sub_results=[testing.not_delegated(EXPIRE, domain="acme.de")],
    )
    assert made.result.msg == "Command completed successfully"
    assert made.attention[0].expire_date == EXPIRE
    assert drsparse.parse(testing.block(made)) == made
    deadline = testing.outgoing_deadline(EXPIRE)
    assert (deadline.code, deadline.deadline) == (10300, EXPIRE)


def test_a_changed_response_is_written_from_its_values() -> None:
    # evolve() leaves the documented lines behind: the block follows the values, not them.
    changed = evolve(testing.documented("transfer-in-rejected"), domain="other.com")
    assert "domain.name: other.com\n" in testing.block(changed)
    assert drsparse.parse(testing.block(changed)) == changed


def test_the_blocks_of_several_responses_follow_each_other() -> None:
    first, second = testing.documented("transfer-in-initiated"), testing.response(23302)
    assert drsparse.parse_all(testing.block(first, second)) == [first, second]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: KIT.documented("no-such-example"), ValueError),
        (lambda: KIT.documented("syntax-error", domain="a.de\nresult.code: 1"), ValueError),
        (lambda: KIT.documented("syntax-error", reference=" padded"), ValueError),
        (lambda: KIT.documented("syntax-error", reference=7), TypeError),
        (lambda: KIT.not_delegated(dt.datetime(2025, 1, 1)), ValueError),
        (lambda: KIT.outgoing_deadline("2025-01-01"), TypeError),
        (lambda: KIT.response("10000"), TypeError),
        (lambda: KIT.response(123456), ValueError),
        (lambda: KIT.response(10000, domain="a.de "), ValueError),
        (lambda: KIT.response(10000, msg="two\nlines"), ValueError),
        (KIT.block, ValueError),
        (lambda: KIT.block("### DRS Response"), TypeError),
    ],
)
def test_bad_arguments_are_refused_by_name(
    call: Callable[[], object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        call()


# -------------------------------------------------------------------------------------------
# E-mails
# -------------------------------------------------------------------------------------------

ASKED = testing.response(
    10000,
    domain="xn--bckerei-mller-gsbm.de",
    reference="Bestellung-Müller: 4711",
    sub_results=[
        testing.not_delegated(EXPIRE, domain="xn--bckerei-mller-gsbm.de"),
        SubResult(20206, "invalid field content", section=3, key="ns.1.name", value="ns1..x"),
    ],
    nameservers=[Nameserver("ns1.myns.de", "HOST-1", "primary")],
)


@pytest.mark.parametrize("auth", testing.AUTHS)
@pytest.mark.parametrize("shape", testing.SHAPES)
def test_every_shape_parses_to_exactly_what_was_asked(
    shape: testing.Shape, auth: testing.Auth
) -> None:
    message_id = f"<{shape}.{auth}@test>"
    mail = testing.make_mail(
        ASKED,
        shape=shape,
        auth=auth,
        date=DATE,
        message_id=message_id,
    )
    assert (
        testing.robot_mail(
            ASKED,
            shape=shape,
            auth=auth,
            date=DATE,
            message_id=message_id,
        )
        == mail.data
    )
    (found,) = drsparse.parse_message(mail.data, include_quoted=True, source="test")
    assert found == ASKED
    assert found.result.code == 10000
    assert found.domain == "xn--bckerei-mller-gsbm.de"
    assert found.reference == "Bestellung-Müller: 4711"
    assert [sub.code for sub in found.sub_results] == [23300, 20206]
    assert found.sub_results[0].expire_date == EXPIRE
    assert found.sub_results[1].value == "ns1..x"
    assert found.nameservers == (Nameserver("ns1.myns.de", "HOST-1", "primary"),)
    assert found.origin is not None
    assert email.utils.parsedate_to_datetime(found.origin.date or "") == DATE
    assert found.origin.message_id == message_id
    assert found.origin.authentic is AUTHENTIC[shape, auth] is mail.authentic
    assert found.origin.quoted is (shape == "quoted") is mail.quoted
    assert found.origin.part == PART[shape] == mail.part
    # Without include_quoted, a quoted copy is not reported; everything else is.
    fresh = drsparse.parse_message(mail.data)
    assert fresh == ([] if shape == "quoted" else [ASKED])
    assert (mail.date, mail.message_id, mail.kind, mail.auth) == (DATE, message_id, shape, auth)


@pytest.mark.parametrize("shape", testing.SHAPES)
def test_every_documented_example_in_every_shape(shape: testing.Shape) -> None:
    rnd = random.Random(shape)
    for name in testing.DOCUMENTED:
        example = testing.documented(name)
        data = testing.robot_mail(example, shape=shape, rnd=rnd)
        assert drsparse.parse_message(data, include_quoted=True) == [example], name


@pytest.mark.parametrize("shape", testing.SHAPES)
def test_several_responses_in_one_mail_come_in_order(shape: testing.Shape) -> None:
    responses = [testing.documented(name) for name in testing.DOCUMENTED[:3]]
    mail = testing.make_mail(*responses, shape=shape)
    assert drsparse.parse_message(mail.data, include_quoted=True) == responses


def test_the_robots_mail_is_multipart_with_the_application_echoed() -> None:
    robot = message(testing.robot_mail(ASKED, date=DATE))
    assert robot.get_content_type() == "multipart/mixed"
    prose, block, application = parts(robot)
    assert prose["Content-Transfer-Encoding"] == "quoted-printable"
    assert prose.get_content_charset() == "iso-8859-1"
    assert "Sehr geehrte" in prose.get_content()
    assert block.get_content().startswith("### DRS Response\n###\n")
    assert application["Content-Transfer-Encoding"] == "base64"
    assert application.get_filename() == "application.txt"
    echoed = application.get_content()
    assert "reference: Bestellung-Müller: 4711\n" in echoed
    assert "domain.name: xn--bckerei-mller-gsbm.de\n" in echoed
    assert "### DRS Response" not in echoed  # an application, not a response


@pytest.mark.parametrize(
    ("shape", "content_type", "encoding"),
    [
        ("base64", "text/plain", "base64"),
        ("quoted-printable", "text/plain", "quoted-printable"),
    ],
)
def test_the_response_part_is_encoded(
    shape: testing.Shape, content_type: str, encoding: str
) -> None:
    part = parts(message(testing.robot_mail(ASKED, shape=shape)))[1]
    assert (part.get_content_type(), part["Content-Transfer-Encoding"]) == (content_type, encoding)
    assert "Bestellung-Müller" not in str(part.get_payload())  # encoded, not as it is
    assert "Bestellung-Müller" in part.get_content()


def test_the_other_shapes_are_what_they_say() -> None:
    def of(shape: testing.Shape) -> EmailMessage:
        return message(testing.robot_mail(ASKED, shape=shape))

    assert of("plain").get_content_type() == "text/plain"
    assert of("html").get_content_type() == "text/html"
    assert "<pre" in of("html").get_content()
    kinds = [part.get_content_type() for part in parts(of("alternative"))]
    assert kinds == ["text/plain", "text/html"]
    forwarded = of("forwarded")
    assert parts(forwarded)[1].get_content_type() == "message/rfc822"
    assert forwarded["Subject"].startswith("Fwd: DRS:")
    reply = of("quoted")
    assert reply["Subject"].startswith("Re: DRS:")
    assert "\n> ### DRS Response\n" in reply.get_content()


def test_signed_and_spoofed_mail_carry_the_evidence_of_their_names() -> None:
    signed = message(testing.robot_mail(ASKED, auth="signed"))
    assert email.utils.parseaddr(signed["From"])[1] == "drs@knipp.de"
    assert "dkim=pass" in signed["Authentication-Results"]
    assert "header.d=knipp.de" in signed["Authentication-Results"]
    spoofed = message(testing.robot_mail(ASKED, auth="spoofed"))
    sender = email.utils.parseaddr(spoofed["From"])[1]
    assert "knipp" in sender
    assert not sender.endswith("@knipp.de")  # a look-alike
    topmost, *below = spoofed.get_all("Authentication-Results") or [""]
    assert "dkim=fail" in topmost
    # The sender forged a "pass" further down: it must not count, and does not.
    assert any("dkim=pass header.d=knipp.de" in value for value in below)
    unsigned = message(testing.robot_mail(ASKED, auth="unsigned"))
    assert unsigned["Authentication-Results"] is None


def test_sizes_are_those_of_robot_mail() -> None:
    sizes = [len(m.data) for m in itertools.islice(testing.mail_stream(1, foreign=0), 200)]
    # A few KB each, like the robot's.
    assert min(sizes) > 2000
    assert max(sizes) < 8000


@pytest.mark.parametrize("kind", testing.FOREIGN)
def test_foreign_mail_holds_no_response(kind: testing.Foreign) -> None:
    for seed in range(5):
        mail = testing.foreign_mail(kind, date=DATE, rnd=random.Random(seed))
        assert drsparse.parse_message(mail.data, include_quoted=True) == []
        assert (mail.responses, mail.kind, mail.authentic, mail.date) == ((), kind, None, DATE)
        assert message(mail.data)["Message-ID"] == mail.message_id


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (KIT.robot_mail, ValueError),
        (lambda: KIT.robot_mail(ASKED, shape="pdf"), ValueError),
        (lambda: KIT.robot_mail(ASKED, auth="maybe"), ValueError),
        (lambda: KIT.robot_mail(ASKED, date=dt.datetime(2025, 1, 1)), ValueError),
        (lambda: KIT.robot_mail(ASKED, to="nobody"), ValueError),
        (lambda: KIT.robot_mail(ASKED, rnd=7), TypeError),
        (lambda: KIT.robot_mail(b"### DRS Response"), TypeError),
        (lambda: KIT.foreign_mail("spam"), ValueError),
        (lambda: KIT.conversation("registration-xx", "a.de"), ValueError),
        (lambda: KIT.conversation("registration-de", ""), ValueError),
        (lambda: KIT.portfolio(-1), ValueError),
        (lambda: KIT.portfolio(2.5), TypeError),
        (lambda: next(KIT.mail_stream(foreign=2)), ValueError),
        (lambda: next(KIT.mail_stream(shapes=["pdf"])), ValueError),
        (lambda: KIT.write_mbox([b"x"], os.devnull), TypeError),
    ],
)
def test_bad_mail_arguments_are_refused_by_name(
    call: Callable[[], object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        call()


# -------------------------------------------------------------------------------------------
# Determinism
# -------------------------------------------------------------------------------------------


def test_the_same_values_give_the_same_bytes() -> None:
    assert testing.robot_mail(ASKED) == testing.robot_mail(ASKED)
    one = testing.robot_mail(ASKED, rnd=random.Random(1))
    assert one == testing.robot_mail(ASKED, rnd=random.Random(1))
    assert one != testing.robot_mail(ASKED, rnd=random.Random(2))
    assert [m.data for m in testing.portfolio(15, seed=3)] == [
        m.data for m in testing.portfolio(15, seed=3)
    ]
    assert [m.data for m in testing.portfolio(15, seed=3)] != [
        m.data for m in testing.portfolio(15, seed=4)
    ]


def test_the_global_random_generator_is_neither_used_nor_moved() -> None:
    random.seed(99)
    expected = random.random()
    random.seed(99)
    testing.portfolio(10, seed=1)
    list(itertools.islice(testing.mail_stream(1, shapes=testing.SHAPES), 20))
    assert random.random() == expected


def test_a_seed_gives_the_same_bytes_in_every_process() -> None:
    # Set iteration and str hashes vary between processes: nothing may depend on them.
    script = (
        "import hashlib\nfrom drsparse import testing\n"
        "print(hashlib.sha256(b''.join(m.data for m in testing.portfolio(25, seed=5)))"
        ".hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    here = hashlib.sha256(b"".join(m.data for m in testing.portfolio(25, seed=5))).hexdigest()
    assert digests == {here + "\n"}


def test_a_stream_is_the_prefix_of_a_longer_one() -> None:
    short = [m.data for m in itertools.islice(testing.mail_stream(8), 10)]
    assert short == [m.data for m in itertools.islice(testing.mail_stream(8), 40)][:10]


# -------------------------------------------------------------------------------------------
# Scenarios
# -------------------------------------------------------------------------------------------

FLOW_CODES = {
    "registration-de": [10320, 10000],
    "not-delegated": [10320, 10000],
    "registration-cctld": [10360, 10320, 10000],
    "transfer-in-completed": [10310, 10000],
    "transfer-in-rejected": [10310, 23302],
    "transfer-out-rejected": [10300, 10302],
    "transfer-out-completed": [10300, 10303],
    "transfer-out-canceled": [10300, 10304],
    "syntax-error": [20001],
    "object-exists": [23002],
    "invalid-authinfo": [22002],
    "pending-transfer": [23000],
}
START = dt.datetime(2025, 2, 3, 10, 0, tzinfo=UTC)


def test_every_flow_has_its_codes() -> None:
    assert set(FLOW_CODES) == set(testing.FLOWS)


def test_an_outgoing_transfer_has_no_reference_to_give() -> None:
    with pytest.raises(ValueError, match="reference"):
        testing.conversation("transfer-out-completed", "acme.com", reference="ORD-1")


@pytest.mark.parametrize("flow", testing.FLOWS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_conversation_sends_the_flows_codes_in_order(flow: testing.Flow, seed: int) -> None:
    unrequested = flow.startswith("transfer-out")
    mails = testing.conversation(
        flow,
        "beispiel.de",
        reference=None if unrequested else "ORD-42",
        start=START,
        rnd=random.Random(seed),
    )
    found = [drsparse.parse_message(mail.data) for mail in mails]
    assert [[r.result.code for r in responses] for responses in found] == [
        [code] for code in FLOW_CODES[flow]
    ]
    assert found == [list(mail.responses) for mail in mails]
    dates = [mail.date for mail in mails]
    assert START <= dates[0] < START + dt.timedelta(minutes=4)
    assert dates == sorted(dates)
    assert len(set(dates)) == len(dates)
    for mail, responses in zip(mails, found, strict=True):
        (item,) = responses
        assert mail.scenario == flow
        assert item.origin is not None
        assert item.origin.authentic is True
        assert email.utils.parsedate_to_datetime(item.origin.date or "") == mail.date
        assert item.reference == (None if unrequested else "ORD-42")
        if flow == "object-exists":  # the domain is in the sub-result, as documented
            assert (item.domain, item.sub_results[0].values) == (None, ("beispiel.de",))
        elif flow != "syntax-error":  # the application could not be read
            assert item.domain == "beispiel.de"


@pytest.mark.parametrize("seed", range(5))
def test_the_delays_are_the_documented_ones(seed: int) -> None:
    def dates(flow: testing.Flow) -> list[dt.datetime]:
        mails = testing.conversation(flow, "x.de", start=START, rnd=random.Random(seed))
        return [mail.date for mail in mails]

    hour, day = dt.timedelta(hours=1), dt.timedelta(days=1)
    first, final = dates("registration-de")
    assert dt.timedelta(minutes=20) <= final - first <= 8 * hour  # hours later
    received, initiated, final = dates("registration-cctld")
    assert 2 * hour <= initiated - received <= 3 * day  # manual work
    initiated, final = dates("transfer-in-completed")
    assert 5 * day <= final - initiated <= 5 * day + 6 * hour  # the acknowledgement period
    # Outgoing: the deadline is five days ahead; a completion comes after it, a rejection or a
    # cancellation before it.
    outgoing: list[testing.Flow] = [
        "transfer-out-rejected",
        "transfer-out-completed",
        "transfer-out-canceled",
    ]
    for flow in outgoing:
        notice, last = testing.conversation(flow, "x.com", start=START, rnd=random.Random(seed))
        deadline = notice.responses[0].sub_results[0].deadline
        assert deadline is not None
        assert START + 5 * day - dt.timedelta(milliseconds=1) < deadline <= START + 5 * day
        assert (last.date > deadline) is (flow == "transfer-out-completed"), flow


def test_a_domain_not_delegated_has_a_month_to_be_fixed() -> None:
    initiated, last = testing.conversation("not-delegated", "organisierdich.de", start=START)
    assert initiated.responses[0].result.code == 10320
    (response,) = drsparse.parse_message(last.data)
    assert (response.result.code, response.status) == (10000, "succeeded")
    (sub,) = response.attention
    assert sub.code == 23300
    assert sub.data["domain.name"] == "organisierdich.de"
    assert sub.expire_date is not None
    # Midnight in Germany a month after the registration, as in the documented example.
    assert dt.timedelta(days=30) < sub.expire_date - last.date <= dt.timedelta(days=31)
    assert sub.expire_date.astimezone(CEST).hour in (0, 1)


def test_a_portfolio_is_a_realistic_mailbox() -> None:
    mails = testing.portfolio(150, seed=11)
    assert [mail.date for mail in mails] == sorted(mail.date for mail in mails)
    for mail in mails:
        found = drsparse.parse_message(mail.data, include_quoted=True)
        assert found == list(mail.responses), (mail.kind, mail.scenario)
        assert all(
            r.origin is not None
            and (r.origin.authentic, r.origin.part, r.origin.quoted)
            == (mail.authentic, mail.part, mail.quoted)
            for r in found
        )
    kinds = Counter(mail.kind for mail in mails)
    assert set(testing.FOREIGN) <= set(kinds)  # newsletters, bounces and personal mail
    assert kinds["multipart"] > sum(kinds.values()) / 2  # mostly as the robot sends it
    assert {"forwarded", "quoted"} & set(kinds)
    flows = Counter(mail.scenario for mail in mails if mail.responses)
    assert set(flows) == set(testing.FLOWS)
    assert flows["registration-de"] > flows["pending-transfer"]
    assert any(mail.auth == "spoofed" for mail in mails)
    domains = {r.domain for mail in mails for r in mail.responses if r.domain}
    assert len(domains) <= 150
    assert testing.portfolio(0) == []


# -------------------------------------------------------------------------------------------
# Mailboxes and the command
# -------------------------------------------------------------------------------------------


def test_the_mailbox_writers_keep_every_message(tmp_path: Path) -> None:
    mails = testing.portfolio(12, seed=2)
    assert testing.write_maildir(mails, tmp_path / "Maildir") == len(mails)
    read = [item.data for item in drsparse.read_messages(tmp_path / "Maildir")]
    assert read == [mail.data for mail in mails]
    assert testing.write_mbox(mails, tmp_path / "box.mbox") == len(mails)
    items = list(drsparse.read_messages(tmp_path / "box.mbox"))
    assert [item.source for item in items] == [
        f"{tmp_path / 'box.mbox'}#{n}" for n in range(1, len(mails) + 1)
    ]
    for item, mail in zip(items, mails, strict=True):
        assert item.data is not None
        assert drsparse.parse_message(item.data, include_quoted=True) == list(mail.responses)


def _records(mails: list[testing.Mail]) -> Counter[int]:
    """The codes ``drsparse parse`` reports: every response but the quoted copies."""
    return Counter(r.result.code for mail in mails if not mail.quoted for r in mail.responses)


def _parse(path: Path) -> Counter[int]:
    out = run("parse", str(path)).stdout
    records = [json.loads(line) for line in out.splitlines()]
    assert all(record["type"] == "response" for record in records)
    return Counter(record["result"]["code"] for record in records)


def test_the_sample_command_writes_a_maildir_and_an_mbox(tmp_path: Path) -> None:
    expected = _records(testing.portfolio(30, seed=4))
    assert sum(expected.values()) > 30

    maildir = tmp_path / "Maildir"
    done = run("sample", "--maildir", str(maildir), "--domains", "30", "--seed", "4")
    assert done.stdout.startswith(f"{maildir}: ")
    assert f"({sum(expected.values())} responses for 30 domains)" in done.stdout
    assert _parse(maildir) == expected

    mbox = tmp_path / "sample.mbox"
    run("sample", "--mbox", str(mbox), "--domains", "30", "--seed", "4")
    assert _parse(mbox) == expected
    again = tmp_path / "again.mbox"
    run("sample", "--mbox", str(again), "--domains", "30", "--seed", "4")
    assert again.read_bytes() == mbox.read_bytes()


def test_the_sample_command_never_writes_over_mail(tmp_path: Path) -> None:
    mbox = tmp_path / "mine.mbox"
    mbox.write_bytes(b"From me Mon Jan  1 00:00:00 2024\nSubject: mine\n\nkeep me\n")
    refused = run("sample", "--mbox", str(mbox), check=False)
    assert refused.returncode == 2
    assert "exists" in refused.stderr
    assert mbox.read_bytes().endswith(b"keep me\n")
    (tmp_path / "Maildir" / "cur").mkdir(parents=True)
    refused = run("sample", "--maildir", str(tmp_path / "Maildir"), check=False)
    assert (refused.returncode, "not empty" in refused.stderr) == (2, True)
    assert (
        run("sample", "--maildir", str(tmp_path / "x"), "--domains", "-3", check=False).returncode
        == 2
    )
    assert run("sample", "--domains", "3", check=False).returncode == 2  # no target
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("sample", "--maildir", str(empty), "--domains", "2").returncode == 0


def test_the_command_starts_without_the_kit() -> None:
    # A mail pipe starts drsparse once per e-mail: `sample` must not slow the other commands.
    script = (
        "import sys, drsparse._cli as cli\ncli.build_parser()\n"
        "print(sorted(m for m in sys.modules if m.startswith('drsparse.testing')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['drsparse.testing', 'drsparse.testing._cli']"


# -------------------------------------------------------------------------------------------
# Hypothesis strategies, and the kit without Hypothesis
# -------------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.mails())
def test_any_drawn_mail_parses_to_the_drawn_responses(mail: testing.Mail) -> None:
    found = drsparse.parse_message(mail.data, include_quoted=True)
    assert found == list(mail.responses)
    for response in found:
        assert response.origin is not None
        assert response.origin.part == mail.part
        assert response.origin.quoted is mail.quoted
        assert response.origin.authentic is mail.authentic
        assert email.utils.parsedate_to_datetime(response.origin.date or "") == mail.date


@settings(max_examples=150, deadline=None)
@given(strategies.blocks())
def test_any_drawn_block_parses_to_its_response(drawn: tuple[Response, str]) -> None:
    response, text = drawn
    assert text.startswith("### DRS Response\n###\n")
    assert drsparse.parse(text) == response


def test_the_kit_works_without_hypothesis() -> None:
    script = (
        "import sys\nsys.modules['hypothesis'] = None  # as if it were not installed\n"
        "from drsparse import testing\n"
        "print(len(testing.portfolio(5, seed=1)) > 5)\n"
        "try:\n    import drsparse.testing.strategies\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == "True"
    assert "pip install 'drsparse[testing]'" in out[1]


def test_a_mail_shows_its_size_not_its_bytes() -> None:
    mail = testing.make_mail(ASKED)
    assert f"data=<{len(mail.data)} bytes>" in repr(mail)


def test_the_public_names_are_there() -> None:
    assert set(dir(testing)) >= set(testing.__all__)
    for name in testing.__all__:
        assert getattr(testing, name) is not None
    with pytest.raises(AttributeError):
        testing.no_such_name  # type: ignore[attr-defined]  # noqa: B018


def test_the_readme_example_passes(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Testing your scripts: a fake robot", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(code.splitlines()) <= 40
    (tmp_path / "test_robot_mail.py").write_text(code)
    # Fewer examples than Hypothesis's hundred: the point is that the example runs.
    (tmp_path / "conftest.py").write_text(
        "from hypothesis import settings\n"
        "settings.register_profile('readme', max_examples=15)\n"
        "settings.load_profile('readme')\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
