"""Hypothesis strategies for the fake robot: blocks, responses and e-mails.

    from hypothesis import given
    from drsparse.testing import strategies

    @given(strategies.mails())
    def test_my_script_reads_every_robot_mail(mail):
        assert my_script.codes(mail.data) == [r.result.code for r in mail.responses]

In: nothing (each function takes options). Out: ``SearchStrategy`` values drawing realistic
data: the robot's codes, domains (IDNs in ACE form among them), references in the robot's
forms and resellers' own (with non-ASCII letters, colons and markup characters), the
sub-results the robot documents (template errors, 23300 with ``expire.date``, 10300 with a
``deadline``), the documented examples with drawn values, and whole e-mails in every shape
of :data:`drsparse.testing.SHAPES` with every evidence of :data:`drsparse.testing.AUTHS`.
Shrinking works: a failing mail shrinks towards the first shape, one plain response.

This module is the only one of :mod:`drsparse.testing` that needs Hypothesis
(``pip install 'drsparse[testing]'``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "drsparse.testing.strategies needs Hypothesis: pip install 'drsparse[testing]'"
    ) from exc

import drsparse
from drsparse import Contact, Nameserver, Response, SubResult
from drsparse.testing._mails import AUTHS, SHAPES, Auth, Mail, Shape, make_mail
from drsparse.testing._responses import (
    DOCUMENTED,
    HEADER,
    block,
    documented,
    not_delegated,
    outgoing_deadline,
    response,
)

__all__ = [
    "CODES",
    "blocks",
    "domains",
    "mails",
    "moments",
    "references",
    "responses",
    "sub_results",
]

#: The result codes the robot sends (the DRS code table).
CODES = (
    *(10000, 10300, 10302, 10303, 10304, 10310, 10320, 10360),
    *(20001, 20004, 20005, *range(20201, 20211), 20300),
    *(22002, 23000, 23002, 23302),
)
_TEMPLATE_CODES = tuple(range(20201, 20211))
_TEMPLATE_KEYS = ("country", "phone", "email", "action", "postal.code", "ns.1.name", "domain")

_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True).filter(
    lambda label: "--" not in label
)
_IDN = st.sampled_from(("bäckerei-müller", "münchen-reisen", "grüße", "straßenbau", "köln24"))
_TLDS = st.sampled_from(("de", "com", "net", "org", "info", "co.uk", "at", "eu"))


def domains() -> st.SearchStrategy[str]:
    """Domain names as the robot writes them: lowercase, IDNs in ACE form."""
    ace = _IDN.map(lambda label: label.encode("idna").decode("ascii"))
    return st.builds(lambda label, tld: f"{label}.{tld}", _LABEL | ace, _TLDS)


# Letters a reseller's own reference may hold: beyond ASCII, a colon (the value splits at
# the first one only), "=" (quoted-printable's escape), "<" and "&" (HTML's), "#" and ">".
_OWN_REFERENCE = st.text(
    st.sampled_from("abcXYZ0189-_./:=<>&#äöüßÉ"), min_size=1, max_size=24
).filter(lambda text: text == text.strip())


def references() -> st.SearchStrategy[str]:
    """References: ``TemplateEMailProcessor-<ms>``, ``WebInterface-<date>-<time>-<n>``, or
    a reseller's own."""
    template = st.integers(10**12, 2 * 10**12).map(lambda ms: f"TemplateEMailProcessor-{ms}")
    web = st.builds(
        lambda moment, n: f"WebInterface-{moment:%Y%m%d-%H%M%S}-{n}",
        st.datetimes(dt.datetime(2003, 1, 1), dt.datetime(2030, 1, 1)),
        st.integers(1, 999),
    )
    return template | web | _OWN_REFERENCE


def moments() -> st.SearchStrategy[dt.datetime]:
    """Timezone-aware moments between 2003 and 2030, in milliseconds as the robot writes."""
    zones = st.sampled_from(
        [dt.UTC, dt.timezone(dt.timedelta(hours=1)), dt.timezone(dt.timedelta(hours=2))]
    )
    return st.datetimes(dt.datetime(2003, 1, 1), dt.datetime(2030, 1, 1), timezones=zones).map(
        lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    )


def _template_errors() -> st.SearchStrategy[SubResult]:
    return st.builds(
        lambda code, section, key, value, line: SubResult(
            code,
            drsparse.explain(code).msg,
            section=section,
            key=key,
            value=value,
            line_no=line if value is not None else None,
        ),
        st.sampled_from(_TEMPLATE_CODES),
        st.integers(0, 9),
        st.sampled_from(_TEMPLATE_KEYS),
        st.none() | st.sampled_from(("GERMANY", "info(at)example.de", "regster", "ns1..myns.de")),
        st.integers(1, 200),
    )


def sub_results() -> st.SearchStrategy[SubResult]:
    """The sub-results the robot documents: template errors, 23300 with ``expire.date``,
    10300 with a ``deadline``, the domain of 22002/23000 in the data, and the
    double-indexed domain of 23002."""
    with_domain = st.builds(
        lambda code, domain: SubResult(
            code, drsparse.explain(code).msg, data={"domain.name": domain}
        ),
        st.sampled_from((22002, 23000)),
        domains(),
    )
    exists = domains().map(
        lambda domain: SubResult(23002, "Object exists", keys=("domain",), values=(domain,))
    )
    return st.one_of(
        _template_errors(),
        st.builds(not_delegated, moments(), domain=st.none() | domains()),
        st.builds(outgoing_deadline, moments()),
        with_domain,
        exists,
    )


def _nameservers() -> st.SearchStrategy[Nameserver]:
    return st.builds(
        Nameserver,
        name=domains().map(lambda domain: f"ns1.{domain}"),
        id=st.none() | st.integers(1, 10**6).map(lambda n: f"HOST-{n}"),
        role=st.none() | st.just("primary"),
    )


def _contacts() -> st.SearchStrategy[Contact]:
    return st.builds(
        Contact,
        type=st.sampled_from(("registrant", "admin", "tech", "zone")),
        id=st.integers(1, 10**6).map(lambda n: f"C-{n}"),
    )


def responses() -> st.SearchStrategy[Response]:
    """Responses the robot could send: a documented example with drawn values, or a response
    of a robot code with drawn domain, reference, sub-results, name servers and contacts."""
    examples = st.builds(
        documented,
        st.sampled_from(DOCUMENTED),
        domain=st.none() | domains(),
        reference=st.none() | references(),
        date=st.none() | moments(),
    )
    built = st.builds(
        response,
        st.sampled_from(CODES),
        domain=st.none() | domains(),
        reference=st.none() | references(),
        sub_results=st.lists(sub_results(), max_size=4),
        nameservers=st.lists(_nameservers(), max_size=4),
        contacts=st.lists(_contacts(), max_size=4),
    )
    return examples | built


@st.composite
def _shuffled(draw: st.DrawFn, items: st.SearchStrategy[Response]) -> tuple[Response, str]:
    item = draw(items)
    lines = block(item).removeprefix(HEADER).splitlines()
    # "The order of the lines is not relevant and can change at any time."
    return item, HEADER + "".join(f"{line}\n" for line in draw(st.permutations(lines)))


def blocks(
    items: st.SearchStrategy[Response] | None = None,
) -> st.SearchStrategy[tuple[Response, str]]:
    """A response and the text of its block, its lines in any order.

    ``drsparse.parse(text) == response`` for every draw. ``items`` draws the responses
    (default: :func:`responses`).
    """
    return _shuffled(responses() if items is None else items)


def mails(
    *,
    shapes: Sequence[Shape] = SHAPES,
    auths: Sequence[Auth] = AUTHS,
    items: st.SearchStrategy[Response] | None = None,
) -> st.SearchStrategy[Mail]:
    """Robot e-mails carrying one to three responses, in one of ``shapes`` with one of
    ``auths``, dated by :func:`moments`.

    Each draw is a :class:`~drsparse.testing.Mail`: ``drsparse.parse_message(mail.data,
    include_quoted=True) == list(mail.responses)``, and their origin has ``mail.part``,
    ``mail.quoted`` and ``mail.authentic``.
    """
    if not shapes or not set(shapes) <= set(SHAPES):
        raise ValueError(f"shapes must be some of {', '.join(SHAPES)}; not {shapes!r}")
    if not auths or not set(auths) <= set(AUTHS):
        raise ValueError(f"auths must be some of {', '.join(AUTHS)}; not {auths!r}")
    items = responses() if items is None else items
    return st.builds(
        lambda found, shape, auth, date, rnd: make_mail(
            *found, shape=shape, auth=auth, date=date, rnd=rnd
        ),
        st.lists(items, min_size=1, max_size=3),
        st.sampled_from(tuple(shapes)),
        st.sampled_from(tuple(auths)),
        moments(),
        st.randoms(use_true_random=False),
    )
