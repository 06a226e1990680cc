"""Properties over generated responses and texts (Hypothesis)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import drsparse
from drsparse import Contact, Field, Nameserver, Response, Result, SubResult
from drsparse._typed import DATE_KEYS, parse_timestamp

# Values a block can carry as they are: no line break, no blanks at the ends.
_CHARS = st.characters(exclude_characters="\r\n", exclude_categories=["Cs"])
values = st.text(_CHARS, max_size=30).filter(lambda s: s == s.strip(" \t"))
optional = st.none() | values
ints = st.integers(min_value=0, max_value=10**12)
codes = st.integers(min_value=10000, max_value=29999)
offsets = st.sampled_from(
    [dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(-dt.timedelta(hours=5, minutes=30))]
)
moments = st.datetimes(
    min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=offsets
)


def _not_a_timestamp(value: str) -> bool:
    try:
        return parse_timestamp(value) is None or "T" not in value
    except ValueError:
        return False


data_values = st.one_of(moments, values.filter(_not_a_timestamp))
data = st.dictionaries(
    values.filter(lambda k: k not in DATE_KEYS), data_values, max_size=3
) | st.fixed_dictionaries({"expire.date": moments})

sub_results = st.builds(
    SubResult,
    code=codes,
    msg=optional,
    section=st.none() | ints,
    key=optional,
    value=optional,
    line_no=st.none() | ints,
    keys=st.lists(values, max_size=3).map(tuple),
    values=st.lists(values, max_size=3).map(tuple),
    data=data,
)
nameservers = st.builds(Nameserver, name=values, id=optional, role=optional)
contacts = st.builds(Contact, type=optional, id=values)
unknown_fields = st.lists(
    st.builds(
        Field,
        key=st.from_regex(r"x[a-z0-9]{0,5}(\.[a-z0-9]{1,5}){0,2}", fullmatch=True),
        value=values,
        line=st.just(0),
    ),
    max_size=3,
    unique_by=lambda f: f.key,
).map(tuple)
responses = st.builds(
    Response,
    result=st.builds(Result, codes, optional),
    reference=optional,
    domain=optional,
    sub_results=st.lists(sub_results, max_size=12).map(tuple),
    nameservers=st.lists(nameservers, max_size=11).map(tuple),
    contacts=st.lists(contacts, max_size=4).map(tuple),
    fields=unknown_fields,
)


def _pairs(response: Response) -> Counter[tuple[str, str]]:
    return Counter((f.key, f.value) for f in response.fields)


def _mutate(text: str, rnd: random.Random) -> str:
    """Shuffle the pairs, add comments, blank lines and blanks, switch the line endings."""
    header, body = text.split("\n\n", 1)
    lines = body.rstrip("\n").split("\n")
    rnd.shuffle(lines)
    out = header.split("\n")
    for line in lines:
        for _ in range(rnd.randrange(3)):
            out.append(rnd.choice(["", "   ", "\t", "# a comment", "  #: not: a pair"]))
        key, _, value = line.partition(": ")

        def blank() -> str:
            return rnd.choice(["", " ", "\t", "  \t"])

        out.append(f"{blank()}{key}{blank()}:{blank()}{value}{blank() if value else ''}")
    return rnd.choice(["\n", "\r\n", "\r"]).join(out) + rnd.choice(["", "\n"])


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(responses, st.randoms(use_true_random=False))
def test_generated_responses_survive_format_and_mutation(
    response: Response, rnd: random.Random
) -> None:
    text = drsparse.format(response)
    parsed = drsparse.parse(text)
    assert parsed == response
    mutated = drsparse.parse(_mutate(text, rnd))
    assert mutated == response
    assert _pairs(mutated) == _pairs(parsed)


_FRAGMENTS = st.sampled_from(
    [
        "### DRS Response",
        "###",
        "",
        " ",
        "-- ",
        "result.code: 10000",
        "result.code: x",
        "result.1.code: 23300",
        "result.1.data.1.key: expire.date",
        "result.1.data.1.value: 2003-11-28T23:00:00.0Z",
        "result.1.data.1.value: 2003-19-28T23:00:00.0Z",
        "ns.0.name: a",
        "ns.99999999999999.name: a",
        "domain.name: a.de",
        "prose line",
        "# comment",
        "> ### DRS Response",
    ]
)
texts = st.one_of(
    st.text(),
    st.lists(st.one_of(_FRAGMENTS, st.text(max_size=20)), max_size=30).flatmap(
        lambda parts: st.sampled_from(["\n", "\r\n", "\r"]).map(lambda nl: nl.join(parts))
    ),
)


@settings(max_examples=500)
@given(texts)
def test_any_text_gives_responses_or_our_error(text: str) -> None:
    try:
        responses = drsparse.parse_all(text)
    except drsparse.DrsParseError as error:
        caught: drsparse.DrsParseError | None = error
        responses = []
    else:
        caught = None
    assert caught is None or caught.line is None or caught.line >= 1
    assert all(isinstance(response, Response) for response in responses)
