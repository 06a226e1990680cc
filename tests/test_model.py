"""The typed model: values, groups, unknown keys, equality and the errors of bad values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pytest

import drsparse
from drsparse import Contact, Nameserver, Response, Result, SubResult
from tests.helpers import SAMPLES

HEAD = "### DRS Response\n###\n\n"


def block(*lines: str) -> str:
    return HEAD + "".join(line + "\n" for line in lines)


def test_the_nested_date_is_23_utc() -> None:
    r = drsparse.parse(
        block(
            "result.code: 10000",
            "result.1.code: 23300",
            "result.1.data.1.key: expire.date",
            "result.1.data.1.value: 2003-11-28T23:00:00.0Z",
        )
    )
    (sub,) = r.sub_results
    assert sub.data["expire.date"] == dt.datetime(2003, 11, 28, 23, tzinfo=dt.UTC)
    assert sub.expire_date is not None
    assert sub.expire_date.utcoffset() == dt.timedelta(0)


def test_timestamps_keep_their_offset_and_naive_ones_are_utc_with_a_warning() -> None:
    r = drsparse.parse(
        block(
            "result.code: 10000",
            "result.1.data.1.key: deadline",
            "result.1.data.1.value: 2003-11-04T11:10:24.546+02:00",
            "result.1.data.2.key: seen",
            "result.1.data.2.value: 2003-11-04T11:10:24",
            "result.1.data.3.key: day",
            "result.1.data.3.value: 2003-11-04",
        )
    )
    data = r.sub_results[0].data
    assert data["deadline"] == dt.datetime(2003, 11, 4, 9, 10, 24, 546000, tzinfo=dt.UTC)
    assert data["seen"] == dt.datetime(2003, 11, 4, 11, 10, 24, tzinfo=dt.UTC)
    assert data["day"] == "2003-11-04"  # a date-only value under another key stays text
    assert any("no UTC offset" in w for w in r.warnings)


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("2003-11-28T23:00:00.0Z", dt.datetime(2003, 11, 28, 23, tzinfo=dt.UTC)),
        ("2003-11-28T23:00:00,5Z", dt.datetime(2003, 11, 28, 23, 0, 0, 500000, tzinfo=dt.UTC)),
        ("2003-11-28T23:00+0100", dt.datetime(2003, 11, 28, 22, tzinfo=dt.UTC)),
        # ISO 8601's end of a day: the standard library refuses it, python-dateutil reads it.
        ("2003-11-28T24:00:00Z", dt.datetime(2003, 11, 29, tzinfo=dt.UTC)),
    ],
)
def test_timestamp_shapes(value: str, moment: dt.datetime) -> None:
    r = drsparse.parse(
        block("result.code: 1", "result.1.data.1.key: deadline", f"result.1.data.1.value: {value}")
    )
    assert r.sub_results[0].deadline == moment


def test_groups_are_ordered_by_index_not_by_line() -> None:
    lines = [f"ns.{n}.name: ns{n}.example.net" for n in (10, 2, 9, 1, 11, 3, 4, 5, 6, 7, 8)]
    r = drsparse.parse(block("result.code: 10000", *lines))
    assert [ns.name for ns in r.nameservers] == [f"ns{n}.example.net" for n in range(1, 12)]


def test_double_indexed_keys_and_values() -> None:
    r = drsparse.parse(
        block(
            "result.code: 23002",
            "result.1.value.2: b.com",
            "result.1.key.1: domain",
            "result.1.value.1: a.com",
            "result.1.key.2: domain",
        )
    )
    assert r.sub_results[0].keys == ("domain", "domain")
    assert r.sub_results[0].values == ("a.com", "b.com")


def test_unknown_keys_are_kept_and_named() -> None:
    r = drsparse.parse(block("result.code: 10000", "registry.id: X-1", "ns.1.ipv6: ::1"))
    assert [(f.key, f.value) for f in r.fields] == [
        ("result.code", "10000"),
        ("registry.id", "X-1"),
        ("ns.1.ipv6", "::1"),
    ]
    assert len(r.warnings) == 2
    assert "registry.id" in r.warnings[0]
    assert "line 5" in r.warnings[0]


def test_the_same_key_twice_with_the_same_value_is_a_warning() -> None:
    r = drsparse.parse(block("result.code: 10000", "result.code: 10000"))
    assert r.result.code == 10000
    assert len(r.fields) == 2  # both lines kept
    assert "repeats line 4" in r.warnings[0]


def test_the_same_key_twice_with_different_values_names_both_lines() -> None:
    with pytest.raises(drsparse.DuplicateKeyError) as caught:
        drsparse.parse(block("result.code: 10000", "result.msg: a", "result.code: 20001"))
    assert caught.value.line == 6
    assert "line 4" in str(caught.value)
    assert "line 6" in str(caught.value)


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("result.code: ten", drsparse.InvalidValueError),
        ("result.code: -1", drsparse.InvalidValueError),
        ("result.code: 1_000", drsparse.InvalidValueError),
        ("result.code: \u0661\u0660", drsparse.InvalidValueError),
        ("result.code: 99999999999999999999999", drsparse.InvalidValueError),
        ("result.1.section: 2a", drsparse.InvalidValueError),
        ("result.1.line.no: x", drsparse.InvalidValueError),
        ("result.01.code: 1", drsparse.InvalidValueError),
        ("contact.one.id: C-1", drsparse.InvalidValueError),
        ("result.1.key.x: a", drsparse.InvalidValueError),
        ("result.1.data.0.key: a", drsparse.InvalidValueError),
        ("ns.100001.name: a", drsparse.LimitExceededError),
    ],
)
def test_bad_values_and_indexes(line: str, error: type[drsparse.DrsParseError]) -> None:
    text = block(line) if line.startswith("result.code") else block("result.code: 1", line)
    with pytest.raises(error) as caught:
        drsparse.parse(text)
    assert caught.value.line is not None
    assert caught.value.column is not None


def test_limits_are_configurable() -> None:
    text = block("result.code: 1", "ns.3.name: a", "ns.1.name: b")
    with pytest.raises(drsparse.LimitExceededError, match="max_index=2"):
        drsparse.parse(text, limits=drsparse.Limits(max_index=2))
    with pytest.raises(drsparse.LimitExceededError, match="max_pairs=2"):
        drsparse.parse(text, limits=drsparse.Limits(max_pairs=2))
    with pytest.raises(drsparse.LimitExceededError, match="max_line_length"):
        drsparse.parse(text, limits=drsparse.Limits(max_line_length=10))


def test_missing_result_code_names_the_block() -> None:
    with pytest.raises(drsparse.MissingKeyError) as caught:
        drsparse.parse("text\n" + block("domain.name: a.de"))
    assert caught.value.line == 2


def test_objects_are_frozen_and_hashable() -> None:
    r = drsparse.parse(block("result.code: 10000", "ns.1.name: a", "result.1.code: 23300"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        r.domain = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        r.sub_results[0].data["x"] = 1  # type: ignore[index]
    again = drsparse.parse(block("result.1.code: 23300", "ns.1.name: a", "result.code: 10000"))
    assert hash(r) == hash(again)


def test_equality_ignores_order_positions_and_warnings() -> None:
    a = drsparse.parse(block("result.code: 10000", "domain.name: a.de"))
    b = drsparse.parse(
        block("# hi", "", " domain.name : a.de", "result.code:10000", "domain.name: a.de")
    )
    # Other order, other line numbers, a repeated line and its warning: the same response.
    assert [(f.key, f.line) for f in a.fields] == [("result.code", 4), ("domain.name", 5)]
    assert [(f.key, f.line) for f in b.fields] == [
        ("domain.name", 6),
        ("result.code", 7),
        ("domain.name", 8),
    ]
    assert a.warnings == ()
    assert len(b.warnings) == 1
    assert a == b
    assert hash(a) == hash(b)


def test_hand_made_responses_format_and_parse_back() -> None:
    r = Response(
        result=Result(10000, "Command completed successfully"),
        reference="R-1",
        domain="acme.de",
        sub_results=(
            SubResult(
                code=23300,
                msg="Object not delegated",
                data={"expire.date": dt.datetime(2003, 11, 28, 23, tzinfo=dt.UTC)},
            ),
        ),
        nameservers=(Nameserver("ns1.acme.de", "H-1", "primary"),),
        contacts=(Contact("registrant", "C-1"),),
    )
    text = drsparse.format(r)
    assert "result.1.data.1.value: 2003-11-28T23:00:00.0Z\n" in text
    assert drsparse.parse(text) == r


def test_format_refuses_values_a_block_cannot_carry() -> None:
    with pytest.raises(drsparse.InvalidValueError):
        drsparse.format(Response(result=Result(1), domain="a\nb"))
    with pytest.raises(drsparse.InvalidValueError):
        drsparse.format(Response(result=Result(1), domain=" padded "))


def test_parse_wants_exactly_one_response() -> None:
    with pytest.raises(drsparse.NoResponseError):
        drsparse.parse("no block here")
    with pytest.raises(drsparse.SeveralResponsesError):
        drsparse.parse(block("result.code: 1") + block("result.code: 2"))
    assert drsparse.parse_all("no block here") == []


def test_errors_are_value_errors_with_positions() -> None:
    error = drsparse.MalformedLineError("bad", line=3, column=4, source="mail.eml")
    assert isinstance(error, ValueError)
    assert str(error) == "mail.eml:3:4: bad"


# -- A response is a value ------------------------------------------------------------------

_ALL_SAMPLES = sorted(SAMPLES.glob("knipp/*.txt")) + sorted(SAMPLES.glob("blocks/*.txt"))


@pytest.mark.parametrize("path", _ALL_SAMPLES, ids=lambda p: p.stem)
def test_responses_pickle_and_copy_equal_to_themselves(path: Path) -> None:
    import copy
    import pickle

    for response in drsparse.parse_all(path.read_text(encoding="utf-8")):
        for again in (pickle.loads(pickle.dumps(response)), copy.deepcopy(response)):
            assert again == response
            assert again.fields == response.fields
            assert again.warnings == response.warnings
            assert again.result.info == response.result.info
            assert [s.data for s in again.sub_results] == [s.data for s in response.sub_results]
        assert hash(response) == hash(copy.deepcopy(response))


def test_the_interpretation_is_fixed_when_parsed(tmp_path: Path) -> None:
    table = tmp_path / "codes.tsv"
    table.write_text(
        "code\tcategory\tmsg\tdescription\n10370\tpending\tUpdate initiated\t\n", encoding="utf-8"
    )
    text = "### DRS Response\n###\nresult.code: 10370\nresult.1.code: 10370\n"
    shipped = drsparse.parse(text)
    codes = drsparse.load_codes(table)
    extended = drsparse.parse(text, codes=codes)
    # Loading a table changes nothing in a response parsed before.
    assert not shipped.result.info.known
    assert shipped.status == "succeeded"
    assert extended.result.info.known
    assert extended.sub_results[0].info == extended.result.info
    assert extended.status == "pending"
    assert extended != shipped  # the same lines, read with other tables
    assert drsparse.parse(text) == shipped


def test_sub_result_data_is_read_only() -> None:
    sub = drsparse.SubResult(code=23300, data={"expire.date": "x"})
    assert sub.data == {"expire.date": "x"}
    with pytest.raises(TypeError):
        sub.data["expire.date"] = "y"  # type: ignore[index]
