"""The typing stage: the pairs of one block in, a typed :class:`Response` out; and the text-level
API (:func:`parse`, :func:`parse_all`), which puts the text stage (``_text.py``) and this one
together.

Every pair is kept in ``fields`` as sent. The pairs whose keys the model knows are also routed
into the typed view; the rest are named in ``warnings``. The order of lines carries no meaning
("The order of the lines is not relevant and can change at any time"), so groups are ordered by
their numeric index, never by where their lines stand.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

from drsparse._codes import DEFAULT_CODES, CodeTable
from drsparse._errors import (
    DuplicateKeyError,
    InvalidValueError,
    LimitExceededError,
    MissingKeyError,
    NoResponseError,
    SeveralResponsesError,
)
from drsparse._limits import DEFAULT_LIMITS, Limits
from drsparse._model import (
    Contact,
    Data,
    DataValue,
    Field,
    Nameserver,
    Origin,
    Response,
    Result,
    SubResult,
)
from drsparse._text import Block, Pair, blocks

__all__ = [
    "DATE_KEYS",
    "Slot",
    "build_response",
    "key_slot",
    "parse",
    "parse_all",
    "parse_timestamp",
    "responses_in",
]

# The attributes of each group, by the key's remainder after the index.
_SUB_ATTRS = frozenset({"code", "msg", "section", "key", "value", "line.no"})
_NS_ATTRS = frozenset({"name", "id", "role"})
_CONTACT_ATTRS = frozenset({"type", "id"})
_TOP_KEYS = frozenset({"reference", "domain.name", "result.code", "result.msg"})

#: Nested data keys whose values must be dates (``expire.date`` of 23300, ``deadline`` of 10300).
DATE_KEYS = frozenset({"expire.date", "deadline"})

# "Dates are ISO 8601 in UTC with a Z and one to three fraction digits." The rule drsparse
# applies to every nested value: one that has the shape of an ISO 8601 timestamp (a date, "T",
# a time, an optional fraction and an optional UTC offset) is a timestamp, whatever its key. A
# date-only value is a date only under a key of DATE_KEYS. Plain character classes with fixed
# counts: linear time on any input. Compiled (and cached by re) at its first use: most
# responses hold no data values.
_TIMESTAMP = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?(?P<offset>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)


class Slot(NamedTuple):
    """Where a known key goes in the typed view.

    ``kind`` is ``top`` (``attr`` is the whole key), ``sub``, ``ns`` or ``contact`` (group
    ``n``, attribute ``attr``), ``keys`` or ``values`` (``result.n.key.m``), or ``data``
    (``result.n.data.m.attr``).
    """

    kind: str
    n: int = 0
    m: int = 0
    attr: str = ""


class _BadIndex(Exception):
    """Internal: an index segment that is no number from 1 up (or beyond ``max_index``)."""

    def __init__(self, segment: str, *, too_large: bool) -> None:
        super().__init__(segment)
        self.segment = segment
        self.too_large = too_large


def _index(segment: str, max_index: int) -> int:
    """A group index: a positive decimal number (they are 1-based) within the limit."""
    if not (segment.isascii() and segment.isdigit()) or segment.startswith("0"):
        raise _BadIndex(segment, too_large=False)
    # Compare the digits before converting: a huge index never becomes a huge integer.
    limit = str(max_index)
    if len(segment) > len(limit) or (len(segment) == len(limit) and segment > limit):
        raise _BadIndex(segment, too_large=True)
    return int(segment)


# The same few dozen keys come in every block: the mapping from key to slot is cached. The
# cache is bounded, so a block of a million different keys costs misses, not memory.
@functools.lru_cache(maxsize=4096)
def _slot(key: str, max_index: int) -> Slot | None:
    if key in _TOP_KEYS:
        return Slot("top", attr=key)
    head, _, rest = key.partition(".")
    index, _, attr = rest.partition(".")
    if not attr:
        return None
    if head == "result":
        if attr in _SUB_ATTRS:
            return Slot("sub", _index(index, max_index), attr=attr)
        kind, _, tail = attr.partition(".")
        if kind in ("key", "value") and tail and "." not in tail:
            return Slot(f"{kind}s", _index(index, max_index), _index(tail, max_index))
        if kind == "data":
            m, _, which = tail.partition(".")
            if which in ("key", "value"):
                return Slot("data", _index(index, max_index), _index(m, max_index), which)
        return None
    if head == "ns" and attr in _NS_ATTRS:
        return Slot("ns", _index(index, max_index), attr=attr)
    if head == "contact" and attr in _CONTACT_ATTRS:
        return Slot("contact", _index(index, max_index), attr=attr)
    return None


def key_slot(key: str, pair: Pair | None = None, limits: Limits = DEFAULT_LIMITS) -> Slot | None:
    """Where ``key`` belongs in the typed view, or ``None`` for a key the model does not know.

    A key shaped like a known group key but with a bad index (``result.x.code``,
    ``ns.0.name``) is an error, not an unknown key: it is a known key written wrongly.
    """
    try:
        return _slot(key, limits.max_index)
    except _BadIndex as bad:
        line, column = (pair.line, pair.key_column) if pair else (None, None)
        if bad.too_large:
            raise LimitExceededError(
                f"index {bad.segment} in key {key!r} is beyond the limit "
                f"max_index={limits.max_index}",
                line=line,
                column=column,
            ) from None
        raise InvalidValueError(
            f"index {bad.segment!r} in key {key!r} is not a number from 1 up",
            line=line,
            column=column,
        ) from None


def _integer(pair: Pair) -> int:
    value = pair.value
    # isdigit() alone admits non-ASCII digits (Arabic-Indic, ...) that int() would accept.
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise InvalidValueError(
            f"{pair.key} must be a decimal number, not {value!r}",
            line=pair.line,
            column=pair.value_column,
        )
    return int(value)


def parse_timestamp(value: str) -> dt.datetime | None:
    """A timezone-aware datetime for an ISO 8601 date or timestamp, else ``None``.

    Raises ``ValueError`` for a value of the right shape that names no real moment
    (``2003-13-45T25:00:00Z``). Naive values are taken as UTC, which is what the robot sends.
    """
    if re.fullmatch(_TIMESTAMP, value) is None:
        return None
    try:
        # Python 3.11 reads every shape the robot sends, and costs nothing to import.
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        # ISO 8601 forms the standard library refuses (24:00, the end of a day) go to
        # python-dateutil's isoparse, imported only then: its import alone costs a mail pipe
        # some 20 ms per e-mail. A value neither accepts names no moment.
        from dateutil.parser import isoparse

        try:
            moment = isoparse(value.replace(",", "."))
        except (ValueError, OverflowError) as exc:
            raise ValueError(str(exc)) from exc
    offset = moment.utcoffset()
    return moment.replace(tzinfo=dt.UTC if offset is None else dt.timezone(offset))


def _data_value(key: str, pair: Pair, warnings: list[str]) -> DataValue:
    value = pair.value
    is_date_key = key in DATE_KEYS
    if not is_date_key and "T" not in value:
        return value  # not a timestamp by the rule above: a date-only value stays text
    try:
        moment = parse_timestamp(value)
    except ValueError as exc:
        raise InvalidValueError(
            f"{key} in {pair.key} is not a valid date: {value!r} ({exc})",
            line=pair.line,
            column=pair.value_column,
        ) from None
    if moment is None:
        if is_date_key:
            raise InvalidValueError(
                f"{key} in {pair.key} must be an ISO 8601 timestamp, not {value!r}",
                line=pair.line,
                column=pair.value_column,
            )
        return value
    shape = re.fullmatch(_TIMESTAMP, value)
    if shape is not None and shape.group("offset") is None:
        warnings.append(f"line {pair.line}: {pair.key} {value!r} has no UTC offset; taken as UTC")
    return moment


def build_response(
    block: Block, limits: Limits, codes: CodeTable, origin: Origin | None = None
) -> Response:
    """Type the pairs of one block, its codes interpreted with ``codes``."""
    first_line = block.first_line
    warnings: list[str] = list(block.warnings)
    fields: list[Field] = []
    first_seen: dict[str, Pair] = {}
    # The known pairs by the kind of their slot, so that each group is built from its own.
    slots: dict[str, list[tuple[Slot, Pair]]] = {}
    unknown: list[Pair] = []
    for pair in block.pairs:
        fields.append(Field(pair.key, pair.value, pair.line))
        earlier = first_seen.get(pair.key)
        if earlier is not None:
            if earlier.value != pair.value:
                raise DuplicateKeyError(
                    f"{pair.key} is given twice with different values: {earlier.value!r} at "
                    f"line {earlier.line} and {pair.value!r} at line {pair.line}",
                    line=pair.line,
                    column=pair.value_column,
                )
            warnings.append(
                f"line {pair.line}: {pair.key} repeats line {earlier.line} with the same value"
            )
            continue
        first_seen[pair.key] = pair
        slot = key_slot(pair.key, pair, limits)
        if slot is None:
            unknown.append(pair)
        else:
            slots.setdefault(slot.kind, []).append((slot, pair))

    for pair in unknown:
        warnings.append(f"line {pair.line}: unknown key {pair.key!r} (kept in fields)")

    top = {slot.attr: pair for slot, pair in slots.get("top", ())}
    code_pair = top.get("result.code")
    if code_pair is None:
        raise MissingKeyError(
            f"the block that starts at line {first_line} has no result.code", line=first_line
        )
    code = _integer(code_pair)
    result = Result(code, _text(top.get("result.msg")), codes.explain(code))
    _warn_msg(codes, code, top.get("result.msg"), warnings)

    return Response(
        result=result,
        reference=_text(top.get("reference")),
        domain=_text(top.get("domain.name")),
        sub_results=_sub_results(slots, warnings, codes),
        nameservers=tuple(
            Nameserver(**{attr: pair.value for attr, pair in group.items()})
            for group in _groups(slots.get("ns", ()), "ns", warnings)
        ),
        contacts=tuple(
            Contact(**{attr: pair.value for attr, pair in group.items()})
            for group in _groups(slots.get("contact", ()), "contact", warnings)
        ),
        fields=tuple(fields),
        warnings=tuple(warnings),
        origin=origin,
    )


def _text(pair: Pair | None) -> str | None:
    return None if pair is None else pair.value


def _warn_msg(codes: CodeTable, code: int, pair: Pair | None, warnings: list[str]) -> None:
    if pair is None:
        return
    warning = codes.check_msg(code, pair.value)
    if warning:
        warnings.append(f"line {pair.line}: {warning}")


def _groups(
    slots: Iterable[tuple[Slot, Pair]], prefix: str, warnings: list[str]
) -> list[dict[str, Pair]]:
    """The groups of one kind, in index order, each as {attribute: pair}; gaps are warned of."""
    by_index: dict[int, dict[str, Pair]] = {}
    for slot, pair in slots:
        by_index.setdefault(slot.n, {})[slot.attr] = pair
    _warn_gaps(sorted(by_index), prefix, warnings)
    return [by_index[n] for n in sorted(by_index)]


def _warn_gaps(indexes: list[int], prefix: str, warnings: list[str]) -> None:
    """A warning for each run of indexes missing before one that is there (they start at 1)."""
    expected = 1
    for n in indexes:
        if n == expected + 1:
            warnings.append(f"{prefix}: index {expected} is missing")
        elif n > expected:
            warnings.append(f"{prefix}: indexes {expected} to {n - 1} are missing")
        expected = n + 1


def _sub_results(
    slots: dict[str, list[tuple[Slot, Pair]]], warnings: list[str], codes: CodeTable
) -> tuple[SubResult, ...]:
    plain: dict[int, dict[str, Pair]] = {}
    listed: dict[tuple[int, str], dict[int, Pair]] = {}
    data: dict[int, dict[int, dict[str, Pair]]] = {}
    for slot, pair in slots.get("sub", ()):
        plain.setdefault(slot.n, {})[slot.attr] = pair
    for kind in ("keys", "values"):
        for slot, pair in slots.get(kind, ()):
            listed.setdefault((slot.n, kind), {})[slot.m] = pair
    for slot, pair in slots.get("data", ()):
        data.setdefault(slot.n, {}).setdefault(slot.m, {})[slot.attr] = pair

    indexes = sorted(set(plain) | {n for n, _ in listed} | set(data))
    _warn_gaps(indexes, "result", warnings)
    subs = []
    for n in indexes:
        attrs = plain.get(n, {})
        code = _integer(attrs["code"]) if "code" in attrs else None
        if code is not None:
            _warn_msg(codes, code, attrs.get("msg"), warnings)
        subs.append(
            SubResult(
                code=code,
                msg=_text(attrs.get("msg")),
                section=_integer(attrs["section"]) if "section" in attrs else None,
                key=_text(attrs.get("key")),
                value=_text(attrs.get("value")),
                line_no=_integer(attrs["line.no"]) if "line.no" in attrs else None,
                keys=_listed(listed.get((n, "keys"), {}), f"result.{n}.key", warnings),
                values=_listed(listed.get((n, "values"), {}), f"result.{n}.value", warnings),
                data=_data(data.get(n, {}), n, warnings),
                info=None if code is None else codes.explain(code),
            )
        )
    return tuple(subs)


def _listed(items: dict[int, Pair], prefix: str, warnings: list[str]) -> tuple[str, ...]:
    _warn_gaps(sorted(items), prefix, warnings)
    return tuple(items[m].value for m in sorted(items))


def _data(entries: dict[int, dict[str, Pair]], n: int, warnings: list[str]) -> Data:
    _warn_gaps(sorted(entries), f"result.{n}.data", warnings)
    data: dict[str, DataValue] = {}
    for m in sorted(entries):
        entry = entries[m]
        key_pair, value_pair = entry.get("key"), entry.get("value")
        where = f"result.{n}.data.{m}"
        if key_pair is None:
            value_pair = entry["value"]  # an entry has at least one of the two
            warnings.append(f"line {value_pair.line}: {where}.value has no {where}.key")
            continue
        key = key_pair.value
        if key in data:
            warnings.append(f"line {key_pair.line}: {where}.key repeats the data key {key!r}")
            continue
        if value_pair is None:
            warnings.append(f"line {key_pair.line}: {where}.key has no {where}.value")
            data[key] = ""
            continue
        data[key] = _data_value(key, value_pair, warnings)
    return Data(data)


# -------------------------------------------------------------------------------------------
# The text-level API
# -------------------------------------------------------------------------------------------


def parse_all(
    text: str, *, limits: Limits = DEFAULT_LIMITS, codes: CodeTable = DEFAULT_CODES
) -> list[Response]:
    """Every response in ``text`` (a message body, a part, a file's text), in order.

    Prose around and between the blocks is fine; a text without any block gives ``[]``.
    Line and column numbers in errors, warnings and ``fields`` count from the start of
    ``text``; LF, CRLF and bare CR line endings all count as one line break. Codes are
    interpreted with ``codes`` (by default the shipped tables).

    Raises :class:`DrsParseError` for the first block that is not a valid response.
    """
    _check_arguments("parse_all", text, limits, codes)
    return responses_in(text, limits, codes)


def parse(
    text: str, *, limits: Limits = DEFAULT_LIMITS, codes: CodeTable = DEFAULT_CODES
) -> Response:
    """The one response in ``text``; prose around it is fine.

    Raises :class:`NoResponseError` when there is none, :class:`SeveralResponsesError` when
    there are several (use :func:`parse_all` for those), and the other :class:`DrsParseError`
    subclasses when the block is not a valid response. For a whole e-mail (headers, MIME
    parts, transfer encodings) use :func:`parse_message`.
    """
    _check_arguments("parse", text, limits, codes)
    responses = responses_in(text, limits, codes)
    if not responses:
        hint = ""
        if re.match(_MESSAGE_START, text):
            hint = "; the text looks like a whole e-mail: use parse_message() for those"
        raise NoResponseError(f"no '### DRS Response' block found{hint}")
    if len(responses) > 1:
        second = responses[1].fields[0].line if responses[1].fields else None
        raise SeveralResponsesError(
            f"{len(responses)} responses found where one was expected; use parse_all()",
            line=second,
        )
    return responses[0]


# The start of an e-mail message: header fields (RFC 5322 field names), perhaps after an mbox
# "From " line, up to one that a robot mail always has. Only an error message needs it: a
# pattern, compiled (and cached by re) at its first use, not at every start of a mail pipe.
_MESSAGE_START = (
    r"(?:From [^\n]*\n)?(?:[!-9;-~]+:[^\n]*\n(?:[ \t][^\n]*\n)*)*?"
    r"(?i:content-type|mime-version|received|from|message-id|date|subject):"
)


def _check_arguments(name: str, text: object, limits: object, codes: object) -> None:
    if not isinstance(text, str):
        raise TypeError(f"{name}() takes text (str), not {type(text).__name__}")
    if not isinstance(limits, Limits):
        raise TypeError(f"{name}() takes limits=Limits(...), not {type(limits).__name__}")
    if not isinstance(codes, CodeTable):
        raise TypeError(f"{name}() takes codes=CodeTable, not {type(codes).__name__}")


def responses_in(
    text: str,
    limits: Limits,
    codes: CodeTable,
    origin: Callable[[], Origin] | None = None,
    *,
    first_line: int = 1,
    quoted: bool = False,
    room: int | None = None,
) -> list[Response]:
    """:func:`parse_all` for the mail stage, which knows where the responses of ``text`` come
    from before parsing it: each is built once, with its origin.

    ``origin`` is called at the first block, so a text without one (a reply's prose that
    quotes a block) costs no origin: the message's headers are read for the responses only.
    ``first_line`` and ``quoted`` are those of :func:`drsparse._text.blocks`. ``room``: how
    many more responses the caller takes (by default ``limits.max_responses``); one more
    raises :class:`LimitExceededError`, before it is built.
    """
    most = limits.max_responses if room is None else room
    responses: list[Response] = []
    where: Origin | None = None
    for block in blocks(text, limits, first_line=first_line, quoted=quoted):
        if len(responses) >= most:
            raise LimitExceededError(
                f"more than {limits.max_responses} responses, beyond the limit "
                f"max_responses={limits.max_responses}",
                line=block.first_line,
            )
        if where is None and origin is not None:
            where = origin()
        responses.append(build_response(block, limits, codes, where))
    return responses
