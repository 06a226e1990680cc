"""The code stage: what a result code means, decided on the code alone.

Knipp: programs must decide on ``result.code``, never on ``result.msg``. A script reading a
response has five things it can do: be done, wait for a follow-up, fix the request, retry later,
or tell a person. :func:`explain` turns a code into a :class:`CodeInfo` that says which, for the
three systems drsparse knows: ``drs`` (Knipp's DRS, the default), ``epp`` (RFC 5730, with
Nominet's notes) and ``opensrs`` (the OpenSRS reseller API).

The tables are data files in ``drsparse/data/`` (``drs.tsv``, ``epp.tsv``, ``opensrs.tsv``; their
format is described at the top of each), read at the first :func:`explain` of a system, never at
import. Users extend or override the DRS table with a file of the same format
(:func:`load_codes`, ``drsparse --codes FILE``): Knipp adds codes without notice.

Categories
----------
One closed vocabulary for the three systems; a code of one system has the category of a code of
another when they mean the same (DRS 23002, EPP 2302 and OpenSRS 485 are all ``conflict``).

============  ========  ===================================================================
category      success   meaning, and what a program does
============  ========  ===================================================================
done          yes       carried out, or a query answered: done
pending       yes       accepted; the final result follows later: wait for it
notice        yes       information about an object, sent unrequested: read it
fix-request   no        the request or its data are wrong: fix them and send again
auth          no        credentials or authorization information wrong, or not permitted
conflict      no        the state of the object stands in the way: exists, does not exist,
                        transfer pending, status prohibits, transfer refused
billing       no        funds, credit or a quota of the account
unsupported   no        the server does not implement what was asked
retry         no        transient: the same request may succeed later unchanged
session       no        the session or connection was refused or ended: reconnect
server-error  no        a fault of the server or registry that is not said to be transient
failed        no        a failure the table cannot classify further (catch-alls and unknown
                        codes): tell a person
============  ========  ===================================================================

Flags
-----
* ``success`` and ``pending`` follow from the category (``pending`` is a success). For DRS and
  EPP the category must agree with the first digit: "Positive results ... can be identified by
  the leading cipher 1, as opposed to failures, which start with ciphers 2 and above."
* ``retryable``: the same request may succeed later unchanged. Every ``retry`` row has it;
  ``session`` rows may (EPP 2502, OpenSRS 310 and 350); a success never has it.
* ``unrequested`` (DRS only): the robot sends the code without an application (10300-10304).
* ``needs_attention``: a person must act. Every failure needs attention (even a retryable one:
  somebody should know that a request failed), every unknown code does (nobody documented it),
  and so do the successes flagged ``attention`` in the table: 10300, to be answered before its
  deadline. 23300 (not delegated, fix before ``expire.date``) is a failure, so it needs
  attention also when it comes as a sub-result under 10000.
* ``epp``: the EPP equivalent. An EPP code is its own; a DRS code whose middle digit is 0 is the
  EPP code with that digit removed (20001 is 2001); DRS's own codes and OpenSRS codes have none.

Unknown codes
-------------
A number that is in no table never raises: it gets ``known=False``, ``msg=None``,
``needs_attention=True`` and what its structure says.

* DRS (five digits, 10000-29999): first digit 1 success, 2 failure; the second digit is the EPP
  class (0 protocol syntax, 1 implementation-specific, 2 security, 3 data management, 4 server
  system, 5 connection management); a middle digit 0 means an EPP equivalent, whose
  interpretation (known or itself by structure) the DRS code takes over. Without one, a success
  is ``done`` and a failure gets its class's category: ``fix-request``, ``unsupported``,
  ``auth``, ``conflict``, ``server-error``, ``session`` (other classes: ``failed``).
* EPP (1000-2999), by the first two digits: 1x success (``done``), 2x failure with the class's
  category as above. Only 2400 is known to be transient, so no unknown code is ``retryable``.
* OpenSRS (100-999), by the hundred: 2xx ``done``; 3xx (rate and connection limits) and 7xx
  (registry communication) ``retry`` and retryable; anything else ``failed``.
* Anything outside a system's range (DRS 999, EPP 42, negative numbers) is ``failed``.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, cast

from attrs import asdict, field, frozen

from drsparse._errors import InvalidValueError, UnreadableInputError

__all__ = [
    "CATEGORIES",
    "DEFAULT_CODES",
    "SYSTEMS",
    "Category",
    "CodeInfo",
    "CodeTable",
    "explain",
    "load_codes",
]

Category = Literal[
    "done",
    "pending",
    "notice",
    "fix-request",
    "auth",
    "conflict",
    "billing",
    "unsupported",
    "retry",
    "session",
    "server-error",
    "failed",
]

#: The closed vocabulary of categories, each with its meaning (see the module docstring).
CATEGORIES: Mapping[Category, str] = MappingProxyType(
    {
        "done": "carried out, or a query answered",
        "pending": "accepted; the final result follows later",
        "notice": "information about an object, sent unrequested",
        "fix-request": "the request or its data are wrong: fix them and send again",
        "auth": "credentials or authorization information wrong, or not permitted",
        "conflict": "the state of the object stands in the way",
        "billing": "funds, credit or a quota of the account",
        "unsupported": "the server does not implement what was asked",
        "retry": "transient: the same request may succeed later unchanged",
        "session": "the session or connection was refused or ended: reconnect",
        "server-error": "a fault of the server or registry, not said to be transient",
        "failed": "a failure the table cannot classify further: tell a person",
    }
)

#: The code systems :func:`explain` knows, the default first.
SYSTEMS = ("drs", "epp", "opensrs")

_SUCCESS_CATEGORIES = frozenset({"done", "pending", "notice"})
_FLAGS = frozenset({"retryable", "unrequested", "attention"})
_NAMES = {"drs": "DRS", "epp": "EPP", "opensrs": "OpenSRS"}
# The lint range of each table; the unknown-code structure rules apply inside it.
_RANGES = {"drs": (10000, 29999), "epp": (1000, 2999), "opensrs": (100, 999)}
# RFC 5730 §3: "The second digit denotes the response category" (for DRS the second digit too).
_EPP_CLASSES: Mapping[str, tuple[Category, str]] = {
    "0": ("fix-request", "protocol syntax"),
    "1": ("unsupported", "implementation-specific rules"),
    "2": ("auth", "security"),
    "3": ("conflict", "data management"),
    "4": ("server-error", "server system"),
    "5": ("session", "connection management"),
}
_REQUIRED_COLUMNS = ("code", "category", "msg", "description")
_OPTIONAL_COLUMNS = ("flags", "epp", "source")
# Only ASCII digits: int() would also take "1_000" and other scripts' digits. The length cap
# keeps int() far below Python's limit on converting long digit strings. Compiled (and cached
# by re) at its first use: responses carry their codes as ints already.
_NUMBER = r"-?[0-9]{1,50}"
_UNKNOWN_SOURCE = "code structure (not in the table)"


@frozen
class CodeInfo:
    """What one result code means; see the module docstring for the vocabulary and flags."""

    code: int
    #: ``drs``, ``epp`` or ``opensrs``.
    system: str
    #: False: the code is in no table; the rest comes from its structure.
    known: bool
    #: The documented text; ``None`` for an unknown code.
    msg: str | None
    #: A sentence for people.
    description: str
    category: Category
    success: bool
    #: Accepted; the final result follows later (a pending code is also a success).
    pending: bool
    #: The same request may succeed later unchanged.
    retryable: bool
    #: The EPP equivalent, ``None`` where there is none.
    epp: int | None
    #: DRS: the robot sends this code without an application.
    unrequested: bool
    #: A person must act, even when the code comes as a sub-result under a success.
    needs_attention: bool
    #: Where the row came from: a document, an override file's ``path:line``, or the structure.
    source: str

    def as_dict(self) -> dict[str, object]:
        """The fields as a JSON-able dict, in declaration order."""
        return asdict(self)


@frozen
class CodeTable:
    """The code tables a response is interpreted with: the shipped DRS, EPP and OpenSRS tables,
    and a user's DRS rows over the shipped ones (Knipp adds codes without notice).

    A value, like the responses interpreted with it: :meth:`load` gives a new table, and a
    response keeps the interpretation it was parsed with. It pickles, so worker processes get
    the same table. The shipped tables are read at the first lookup of a system, never at
    import.
    """

    #: The user's DRS rows, in the order loaded (a later row for a code wins).
    overrides: tuple[CodeInfo, ...] = ()
    _by_code: dict[int, CodeInfo] = field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {info.code: info for info in self.overrides})

    def explain(self, code: int | str, system: str = "drs") -> CodeInfo:
        """Interpret ``code`` of ``system`` (``drs``, ``epp`` or ``opensrs``, any case).

        ``code`` is an ``int`` or a string of ASCII digits (surrounding whitespace allowed). A
        code that is not a number, or an unknown system, raises :class:`ValueError`; an unknown
        number never raises: it is interpreted by its structure, with ``known=False``.
        """
        name = _system(system)
        number = _number(code)
        if name == "drs":
            info = self._by_code.get(number)
            if info is not None:
                return info
        info = _shipped(name).get(number)
        return info if info is not None else _fallback(number, name)

    def table(self, system: str = "drs") -> tuple[CodeInfo, ...]:
        """Every known code of ``system`` in code order, the user's DRS rows included."""
        name = _system(system)
        rows = dict(_shipped(name))
        if name == "drs":
            rows.update(self._by_code)
        return tuple(rows[code] for code in sorted(rows))

    def check_msg(self, code: int, msg: str | None, system: str = "drs") -> str | None:
        """A warning when ``msg`` is not the table's text for ``code``, else ``None``.

        The comparison ignores case, surrounding whitespace, runs of inner whitespace and one
        trailing period. ``None`` also when ``msg`` is ``None`` or empty (it says nothing that
        could contradict the code) or the code is unknown (there is no text to compare with).
        When ``msg`` is the text of another code, the warning names it: the Knipp page sends
        "Outgoing transfer canceled" (10304) with the code 10303.
        """
        if msg is None or not msg.strip():
            return None
        info = self.explain(code, system)
        if not info.known or info.msg is None:
            return None
        said = _normal(msg)
        if said == _normal(info.msg):
            return None
        shown = msg.strip()
        for other in self.table(system):
            if other.msg is not None and _normal(other.msg) == said:
                return (
                    f"msg {shown!r} is the text of {other.code}, not of {info.code}; "
                    "the code decides"
                )
        return f"msg {shown!r} is not the text of {info.code} ({info.msg!r}); the code decides"

    def load(self, path: str | os.PathLike[str]) -> CodeTable:
        """This table with the DRS rows of a user's file over it.

        The file has the format of ``drsparse/data/drs.tsv`` (described at its top); ``flags``,
        ``epp`` and ``source`` may be left out, an empty ``description`` takes the category's
        meaning. Each row's ``source`` becomes ``path:line``, followed by the row's own source
        in parentheses when it has one. The whole file is checked before any row is used: an
        error raises :class:`~drsparse.DrsParseError` naming ``path`` (as ``source``), line and
        column.
        """
        name = os.fspath(path)
        try:
            # utf-8-sig: editors on Windows put a byte-order mark in front of UTF-8 files.
            with open(name, encoding="utf-8-sig") as file:
                text = file.read()
        except OSError as exc:
            raise UnreadableInputError(
                f"cannot read the code table: {exc.strerror or exc}", source=name
            ) from exc
        except UnicodeDecodeError as exc:
            raise UnreadableInputError(
                f"the code table is not UTF-8 text (byte {exc.start})", source=name
            ) from exc
        rows = _read_table(text, "drs", name, user=True)
        return CodeTable((*self.overrides, *rows.values()))


#: The shipped tables, without a user's rows: what responses are interpreted with by default.
DEFAULT_CODES = CodeTable()


def explain(code: int | str, system: str = "drs", *, codes: CodeTable = DEFAULT_CODES) -> CodeInfo:
    """:meth:`CodeTable.explain` of ``codes``, by default the shipped tables."""
    return codes.explain(code, system)


def load_codes(path: str | os.PathLike[str], *, base: CodeTable = DEFAULT_CODES) -> CodeTable:
    """:meth:`CodeTable.load`: the table ``base`` with the DRS rows of the file ``path``."""
    if not isinstance(base, CodeTable):
        raise TypeError(f"load_codes() takes a CodeTable as base, not {type(base).__name__}")
    return base.load(path)


@functools.cache
def _shipped(system: str) -> Mapping[int, CodeInfo]:
    # Loaded once per process, at the first explain() of the system: a mail pipe that meets no
    # response never reads a table. A path beside this module rather than importlib.resources,
    # whose import alone costs more than reading the table (start-up time in mail pipes).
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", f"{system}.tsv")
    with open(path, encoding="utf-8") as file:
        text = file.read()
    return MappingProxyType(_read_table(text, system, f"drsparse/data/{system}.tsv", user=False))


def _system(system: object) -> str:
    name = system.strip().lower() if isinstance(system, str) else None
    if name not in SYSTEMS:
        raise ValueError(f"unknown code system {system!r}; valid: {', '.join(SYSTEMS)}")
    return name


def _number(code: object) -> int:
    # bool is an int to Python, but True is no result code.
    if isinstance(code, int) and not isinstance(code, bool):
        return code
    if isinstance(code, str) and re.fullmatch(_NUMBER, code.strip()):
        return int(code.strip())
    if isinstance(code, str):
        raise ValueError(f"{code!r} is not a result code: a code is a number")
    raise ValueError(f"a result code is an int or a string of digits, not {type(code).__name__}")


def _normal(text: str) -> str:
    text = text.strip()
    text = text.removesuffix(".")
    return " ".join(text.split()).casefold()


# -- The unknown-code fallback --------------------------------------------------------------


def _unknown(
    number: int,
    system: str,
    description: str,
    category: Category,
    *,
    pending: bool = False,
    retryable: bool = False,
    epp: int | None = None,
) -> CodeInfo:
    return CodeInfo(
        code=number,
        system=system,
        known=False,
        msg=None,
        description=description,
        category=category,
        success=category in _SUCCESS_CATEGORIES,
        pending=pending,
        retryable=retryable,
        epp=epp,
        unrequested=False,
        needs_attention=True,
        source=_UNKNOWN_SOURCE,
    )


def _fallback(number: int, system: str) -> CodeInfo:
    low, high = _RANGES[system]
    where = f"Not in the {_NAMES[system]} table."
    if not low <= number <= high:
        # No str(number) here: a huge int would exceed Python's int-to-str digit limit.
        return _unknown(
            number,
            system,
            f"{where} Outside the {_NAMES[system]} range {low}-{high}, so its structure says "
            "nothing either: treat it as a failure.",
            "failed",
        )
    digits = str(number)
    if system == "drs":
        return _drs_fallback(number, digits, where)
    if system == "epp":
        return _class_fallback(number, "epp", digits, where)
    hundred = digits[0]
    said = f"{where} By its hundred ({hundred}xx)"
    if hundred == "2":
        return _unknown(number, system, f"{said} a success.", "done")
    if hundred in "37":
        kind = "a rate or connection limit" if hundred == "3" else "a registry communication error"
        return _unknown(number, system, f"{said} {kind}: retry later.", "retry", retryable=True)
    return _unknown(number, system, f"{said} a failure.", "failed")


def _drs_fallback(number: int, digits: str, where: str) -> CodeInfo:
    if digits[2] != "0":
        return _class_fallback(number, "drs", digits, where)
    # Middle digit 0: DRS = EPP[0:2] + "0" + EPP[2:4], so the EPP code says what this one means.
    epp = int(digits[0:2] + digits[3:5])
    base = explain(epp, "epp")
    named = f"EPP {epp} ({base.msg})" if base.known else f"EPP {epp}, itself unknown"
    return _unknown(
        number,
        "drs",
        f"{where} Its middle digit 0 makes it {named}. {base.description}",
        base.category,
        pending=base.pending,
        retryable=base.retryable,
        epp=epp,
    )


def _class_fallback(number: int, system: str, digits: str, where: str) -> CodeInfo:
    # A DRS code without an EPP equivalent, or an EPP code: first digit, then the EPP class.
    if digits[0] == "1":
        return _unknown(number, system, f"{where} Its first digit 1 makes it a success.", "done")
    category, name = _EPP_CLASSES.get(digits[1], ("failed", ""))
    what = f"the EPP class {name}" if name else "no EPP class"
    return _unknown(
        number,
        system,
        f"{where} Its first digit 2 makes it a failure, its second digit {digits[1]} {what}.",
        category,
    )


# -- Reading a table ------------------------------------------------------------------------


def _read_table(text: str, system: str, where: str, *, user: bool) -> dict[int, CodeInfo]:
    """The rows of one table file, checked. ``where`` names the file in errors and sources."""
    header: dict[str, int] | None = None
    rows: dict[int, CodeInfo] = {}
    lines: dict[int, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        # Cells are separated by one TAB, with no quoting: what the csv module reads with
        # delimiter="\t" and QUOTE_NONE, without importing it (start-up time).
        cells = line.split("\t")
        columns = _starts(cells)
        # Users' files are written by hand: stray spaces around a cell are forgiven there. The
        # shipped tables are linted by the tests, so stripping never hides a mistake in them.
        cells = [cell.strip() for cell in cells]
        if header is None:
            header = _header(cells, columns, system, where, number)
            continue
        if len(cells) != len(header):
            # Point at the first cell too many, or at the end of a row that is too short.
            extra = len(cells) > len(header)
            raise InvalidValueError(
                f"the row has {len(cells)} cells, the header names {len(header)} columns "
                "(cells are separated by one TAB)",
                line=number,
                column=columns[len(header)] if extra else len(line) + 1,
                source=where,
            )
        info = _row(
            cells, columns, header=header, system=system, where=where, line=number, user=user
        )
        if info.code in lines:
            raise InvalidValueError(
                f"code {info.code} is already in line {lines[info.code]}",
                line=number,
                column=1,
                source=where,
            )
        lines[info.code] = number
        rows[info.code] = info
    if header is None:
        raise InvalidValueError("the table has no header line", source=where)
    return rows


def _starts(cells: list[str]) -> list[int]:
    # 1-based column of each cell: no quoting, so each cell is followed by exactly one TAB.
    starts, column = [], 1
    for cell in cells:
        starts.append(column)
        column += len(cell) + 1
    return starts


def _header(
    cells: list[str], columns: list[int], system: str, where: str, line: int
) -> dict[str, int]:
    known = _REQUIRED_COLUMNS + _OPTIONAL_COLUMNS
    header: dict[str, int] = {}
    for index, name in enumerate(cells):
        error = None
        if name not in known:
            error = f"unknown column {name!r}; the columns are: {', '.join(known)}"
        elif name in header:
            error = f"column {name!r} is named twice"
        elif name == "epp" and system != "drs":
            error = f"an {_NAMES[system]} table has no 'epp' column: its codes are not DRS codes"
        if error:
            raise InvalidValueError(error, line=line, column=columns[index], source=where)
        header[name] = index
    missing = [name for name in _REQUIRED_COLUMNS if name not in header]
    if missing:
        raise InvalidValueError(
            f"the header lacks the column(s) {', '.join(missing)}",
            line=line,
            column=1,
            source=where,
        )
    return header


def _row(
    cells: list[str],
    columns: list[int],
    *,
    header: dict[str, int],
    system: str,
    where: str,
    line: int,
    user: bool,
) -> CodeInfo:
    def cell(name: str) -> str:
        return cells[header[name]] if name in header else ""

    def fail(name: str, message: str) -> InvalidValueError:
        column = columns[header[name]] if name in header else 1
        return InvalidValueError(message, line=line, column=column, source=where)

    low, high = _RANGES[system]
    text = cell("code")
    # ASCII digits without a leading zero (isdigit() alone takes other scripts' digits too).
    if not (text.isascii() and text.isdigit() and text[0] != "0") or not low <= int(text) <= high:
        raise fail("code", f"{text!r} is not a {_NAMES[system]} code ({low}-{high})")
    code = int(text)

    category = cell("category")
    if category not in CATEGORIES:
        raise fail("category", f"unknown category {category!r}; valid: {', '.join(CATEGORIES)}")
    success = category in _SUCCESS_CATEGORIES
    if system in ("drs", "epp") and success != text.startswith("1"):
        raise fail(
            "category",
            f"category {category!r} is a {'success' if success else 'failure'}, but a "
            f"{_NAMES[system]} code starting with {text[0]} is "
            f"{'a success' if text.startswith('1') else 'a failure'}",
        )

    flags = {flag.strip() for flag in cell("flags").split(",") if flag.strip()}
    strange = sorted(flags - _FLAGS)
    if strange:
        raise fail("flags", f"unknown flag {strange[0]!r}; valid: {', '.join(sorted(_FLAGS))}")
    if "unrequested" in flags and system != "drs":
        raise fail("flags", "only DRS codes come unrequested")
    if category == "retry" and "retryable" not in flags:
        raise fail("flags", "a code of the category 'retry' needs the flag 'retryable'")
    if success and "retryable" in flags:
        raise fail("flags", "a success is never retried: the flag 'retryable' does not fit")

    epp: int | None = code if system == "epp" else None
    if system == "drs" and text[2] == "0":
        epp = int(text[0:2] + text[3:5])
    given = cell("epp")
    if given and given != str(epp):
        expected = f"its EPP equivalent is {epp}" if epp else "it has no EPP equivalent"
        raise fail("epp", f"epp {given!r} does not fit code {code}: {expected}")

    msg = cell("msg")
    if not msg:
        raise fail("msg", "the documented text (msg) is empty")
    source = cell("source")
    if user:
        source = f"{where}:{line}" + (f" ({source})" if source else "")
    elif not source:
        raise fail("source", "the row names no source")

    return CodeInfo(
        code=code,
        system=system,
        known=True,
        msg=msg,
        description=cell("description") or _sentence(CATEGORIES[cast(Category, category)]),
        category=cast(Category, category),
        success=success,
        pending=category == "pending",
        retryable="retryable" in flags,
        epp=epp,
        unrequested="unrequested" in flags,
        needs_attention=not success or "attention" in flags,
        source=source,
    )


def _sentence(meaning: str) -> str:
    return meaning[0].upper() + meaning[1:] + "."
