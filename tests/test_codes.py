"""The code tables and their interpretation.

The expectations come from the seed documents themselves, parsed here, so that every numbered
code of each document is checked, not a hand-copied list of them.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from importlib.resources import files
from pathlib import Path
from typing import get_args

import attrs
import pytest

from drsparse._codes import (
    CATEGORIES,
    DEFAULT_CODES,
    SYSTEMS,
    Category,
    CodeInfo,
    explain,
    load_codes,
)
from drsparse._errors import DrsParseError, InvalidValueError, UnreadableInputError
from drsparse._model import Response, Result, SubResult
from tests.helpers import SHARED, needs_shared, shared_text

table = DEFAULT_CODES.table
check_msg = DEFAULT_CODES.check_msg

KNIPP_PAGE = "seeds/knipp-drs-robot-responses.txt"
REFERENCE = "reference/drs-format.md"


def _must(found: dict[int, str], what: str) -> dict[int, str]:
    # An empty result means the document moved or changed shape: fail, never test nothing.
    # Without ../shared (a plain clone) there is no document: the tests that need it skip.
    assert found or not SHARED.is_dir(), f"no codes found in {what}"
    return found


def _knipp_codes() -> dict[int, str]:
    """Every ``result.code`` and ``result.N.code`` of Knipp's example page, with its msg."""
    text = shared_text(KNIPP_PAGE) or ""
    found = {int(m[1]): "" for m in re.finditer(r"^result(?:\.\d+)?\.code: (\d+)$", text, re.M)}
    return _must(found, "the Knipp page")


def _reference_drs() -> dict[int, str]:
    """The DRS code table of the reference: ``| 10000 | Command completed successfully | ...``."""
    text = shared_text(REFERENCE) or ""
    found = {int(m[1]): m[2] for m in re.finditer(r"^\| (\d{5}) \| ([^|]+?) \|", text, re.M)}
    return _must(found, "the reference's DRS table")


def _rfc_epp() -> dict[int, str]:
    """The RFC 5730 codes listed in the reference (``1000 Command ... · 1001 ...``)."""
    text = shared_text(REFERENCE) or "## EPP result codes"
    section = text.split("## EPP result codes", 1)[1].split("How clients treat them", 1)[0]
    found = {int(m[1]): "" for m in re.finditer(r"\b([12]\d{3})\s", section)}
    return _must(found, "the reference's EPP list")


def _nominet_epp() -> dict[int, str]:
    text = shared_text("seeds/nominet-epp-response-codes.txt") or ""
    found = {int(m[1]): "" for m in re.finditer(r"^([12]\d{3})(?!\d)", text, re.M)}
    return _must(found, "the Nominet page")


def _opensrs() -> dict[int, str]:
    """``200 | Command Successful. ... |``: every numbered row, with its text."""
    text = shared_text("seeds/opensrs-response-codes.txt") or ""
    found = {int(m[1]): m[2] for m in re.finditer(r"^(\d{3}) \| (.*?) \|\s*$", text, re.M)}
    return _must(found, "the OpenSRS page")


KNIPP = _knipp_codes()
REFERENCE_DRS = _reference_drs()
RFC_EPP = _rfc_epp()
NOMINET_EPP = _nominet_epp()
OPENSRS = _opensrs()

# The flags each system documents; every other code of the tables has them False.
PENDING = {"drs": {10310, 10320, 10360}, "epp": {1001}, "opensrs": {250}}
RETRYABLE = {
    "drs": set(),
    "epp": {2400, 2502},
    "opensrs": {300, 310, 350, 486, 702, 703, 704, 705},
}
UNREQUESTED = {10300, 10302, 10303, 10304}


# -- Every code of the seed documents is known -----------------------------------------------


@needs_shared
def test_the_documents_were_read_whole() -> None:
    # RFC 5730 §3 defines 34 codes; the reference's DRS table has 27 rows; OpenSRS numbers 37.
    assert len(RFC_EPP) == 34
    assert len(REFERENCE_DRS) == 27
    assert len(OPENSRS) == 37
    assert set(KNIPP) <= set(REFERENCE_DRS)


@pytest.mark.parametrize("code", sorted(set(KNIPP) | set(REFERENCE_DRS)))
def test_every_drs_code_is_known(code: int) -> None:
    info = explain(code)
    assert info.known
    assert info.system == "drs"
    assert info.source == "Knipp DRS robot result codes"
    if code in REFERENCE_DRS:
        assert info.msg == REFERENCE_DRS[code]


@pytest.mark.parametrize("code", sorted(set(RFC_EPP) | set(NOMINET_EPP)))
def test_every_epp_code_is_known(code: int) -> None:
    info = explain(code, "epp")
    assert info.known
    assert info.epp == code
    assert info.source.startswith("RFC 5730 §3")


@needs_shared
def test_nominet_notes_are_credited() -> None:
    assert "Nominet" in explain(2400, "epp").source
    assert "2 and 4am" in explain(2400, "epp").description
    # A code Nominet does not use keeps the RFC alone as its source.
    assert explain(2106, "epp").source == "RFC 5730 §3"


@pytest.mark.parametrize("code", sorted(OPENSRS))
def test_every_opensrs_code_is_known(code: int) -> None:
    info = explain(code, "opensrs")
    assert info.known
    assert info.msg == OPENSRS[code]
    assert info.source == "OpenSRS response codes"
    assert info.epp is None


@needs_shared
def test_the_tables_hold_nothing_but_the_documents() -> None:
    assert {i.code for i in table("drs")} == set(REFERENCE_DRS)
    assert {i.code for i in table("epp")} == set(RFC_EPP)
    assert {i.code for i in table("opensrs")} == set(OPENSRS)


# -- Flags -----------------------------------------------------------------------------------


def _first_digit_success(system: str, code: int) -> bool:
    return str(code)[0] == ("2" if system == "opensrs" else "1")


@pytest.mark.parametrize("system", SYSTEMS)
def test_flags_of_every_known_code(system: str) -> None:
    for info in table(system):
        code = info.code
        assert info.success == _first_digit_success(system, code), code
        assert info.pending == (code in PENDING[system]), code
        assert info.retryable == (code in RETRYABLE[system]), code
        assert info.unrequested == (system == "drs" and code in UNREQUESTED), code
        assert info.needs_attention == (not info.success or code == 10300), code
        assert info.pending == (info.category == "pending"), code
        if info.category == "retry":
            assert info.retryable


@pytest.mark.parametrize(
    ("system", "code", "category"),
    [
        ("drs", 10000, "done"),
        ("drs", 10300, "notice"),
        ("drs", 10303, "notice"),
        ("drs", 10320, "pending"),
        ("drs", 20206, "fix-request"),
        ("drs", 22002, "auth"),
        ("drs", 23002, "conflict"),
        ("drs", 23300, "fix-request"),
        ("epp", 1001, "pending"),
        ("epp", 2104, "billing"),
        ("epp", 2101, "unsupported"),
        ("epp", 2400, "retry"),
        ("epp", 2500, "server-error"),
        ("epp", 2502, "session"),
        # The same meaning has the same category in every system.
        ("opensrs", 250, "pending"),
        ("opensrs", 210, "done"),
        ("opensrs", 211, "done"),
        ("opensrs", 310, "session"),
        ("opensrs", 410, "auth"),
        ("opensrs", 440, "billing"),
        ("opensrs", 460, "fix-request"),
        ("opensrs", 480, "conflict"),
        ("opensrs", 485, "conflict"),
        ("opensrs", 705, "retry"),
        ("opensrs", 400, "failed"),
    ],
)
def test_categories(system: str, code: int, category: str) -> None:
    assert explain(code, system).category == category


def test_opensrs_lookup_answers_are_successes() -> None:
    # "Domain taken" answers a lookup: the lookup succeeded, whatever the domain's state.
    for code in (210, 211, 221):
        info = explain(code, "opensrs")
        assert info.success
        assert not info.needs_attention


def test_23300_under_a_success_needs_attention() -> None:
    response = Response(
        result=Result(10000, "Command completed successfully"),
        sub_results=(SubResult(code=23300, msg="Object not delegated"),),
    )
    assert response.status == "succeeded"
    assert response.attention == response.sub_results
    assert response.result.info.needs_attention is False


@pytest.mark.parametrize(
    ("code", "status"),
    [(10000, "succeeded"), (10303, "succeeded"), (10320, "pending"), (23002, "failed")],
)
def test_response_status(code: int, status: str) -> None:
    assert Response(result=Result(code)).status == status


def test_10300_needs_an_answer() -> None:
    sub = SubResult(code=10300, msg="Outgoing transfer initiated")
    response = Response(result=Result(10300), sub_results=(sub,))
    assert response.status == "succeeded"
    assert response.attention == (sub,)


def test_every_category_is_used_and_documented() -> None:
    assert set(CATEGORIES) == set(get_args(Category))
    used = {info.category for system in SYSTEMS for info in table(system)}
    assert used == set(CATEGORIES)


# -- DRS and EPP ---------------------------------------------------------------------------


def _epp_root(code: int) -> int | None:
    digits = str(code)
    return int(digits[0:2] + digits[3:5]) if digits[2] == "0" else None


def test_every_epp_rooted_drs_code_corresponds() -> None:
    rooted = [info for info in table("drs") if _epp_root(info.code) is not None]
    assert {info.code for info in rooted} == {10000, 20001, 20004, 20005, 22002, 23000, 23002}
    for info in rooted:
        assert info.epp == _epp_root(info.code)
        assert info.epp is not None
        epp = explain(info.epp, "epp")
        assert epp.known
        assert (epp.category, epp.success, epp.pending, epp.retryable) == (
            info.category,
            info.success,
            info.pending,
            info.retryable,
        )
        # "With d = 0 the DRS code is the EPP code and carries the EPP text."
        assert epp.msg == info.msg


def test_drs_own_codes_have_no_epp_equivalent() -> None:
    for info in table("drs"):
        if _epp_root(info.code) is None:
            assert info.epp is None, info.code


def test_every_drs_number_follows_the_structure() -> None:
    # Exhaustive over the DRS range: known or not, a code with middle digit 0 means what its
    # EPP code means, and the first digit decides success.
    for code in range(10000, 30000):
        info = explain(code)
        assert info.success == (code < 20000), code
        root = _epp_root(code)
        assert info.epp == root, code
        if root is not None:
            epp = explain(root, "epp")
            assert (info.category, info.pending, info.retryable) == (
                epp.category,
                epp.pending,
                epp.retryable,
            ), code


def test_every_number_of_every_range_is_explained() -> None:
    for system, numbers in (("epp", range(900, 3100)), ("opensrs", range(1100))):
        for code in numbers:
            info = explain(code, system)
            assert info.category in CATEGORIES
            assert info.known or info.needs_attention


# -- Unknown codes ---------------------------------------------------------------------------


# (system, code, success, category, retryable, epp) of codes in no table.
UNKNOWN = [
    # DRS: middle digit 0 takes over the EPP code's meaning.
    ("drs", 10001, True, "pending", False, 1001),
    ("drs", 15000, True, "done", False, 1500),
    ("drs", 20002, False, "fix-request", False, 2002),
    ("drs", 22001, False, "auth", False, 2201),
    ("drs", 23003, False, "conflict", False, 2303),
    ("drs", 24000, False, "retry", True, 2400),
    ("drs", 25002, False, "session", True, 2502),
    ("drs", 29000, False, "failed", False, 2900),
    # DRS's own codes (middle digit not 0): first digit, then the EPP class.
    ("drs", 10399, True, "done", False, None),
    ("drs", 10500, True, "done", False, None),
    ("drs", 11100, True, "done", False, None),
    ("drs", 20299, False, "fix-request", False, None),
    ("drs", 20999, False, "fix-request", False, None),
    ("drs", 21100, False, "unsupported", False, None),
    ("drs", 22900, False, "auth", False, None),
    ("drs", 23301, False, "conflict", False, None),
    ("drs", 24100, False, "server-error", False, None),
    ("drs", 25500, False, "session", False, None),
    ("drs", 26100, False, "failed", False, None),
    # Outside the DRS range.
    ("drs", 30000, False, "failed", False, None),
    ("drs", 35000, False, "failed", False, None),
    ("drs", 9999, False, "failed", False, None),
    ("drs", 999, False, "failed", False, None),
    ("drs", 123456, False, "failed", False, None),
    ("drs", 0, False, "failed", False, None),
    ("drs", -10000, False, "failed", False, None),
    # EPP, by the first two digits.
    ("epp", 1002, True, "done", False, None),
    ("epp", 1999, True, "done", False, None),
    ("epp", 2009, False, "fix-request", False, None),
    ("epp", 2199, False, "unsupported", False, None),
    ("epp", 2203, False, "auth", False, None),
    ("epp", 2309, False, "conflict", False, None),
    ("epp", 2401, False, "server-error", False, None),
    ("epp", 2503, False, "session", False, None),
    ("epp", 2600, False, "failed", False, None),
    ("epp", 42, False, "failed", False, None),
    ("epp", 3000, False, "failed", False, None),
    # OpenSRS, by the hundred.
    ("opensrs", 201, True, "done", False, None),
    ("opensrs", 299, True, "done", False, None),
    ("opensrs", 301, False, "retry", True, None),
    ("opensrs", 401, False, "failed", False, None),
    ("opensrs", 500, False, "failed", False, None),
    ("opensrs", 600, False, "failed", False, None),
    ("opensrs", 701, False, "retry", True, None),
    ("opensrs", 800, False, "failed", False, None),
    ("opensrs", 100, False, "failed", False, None),
    ("opensrs", 50, False, "failed", False, None),
    ("opensrs", 1000, False, "failed", False, None),
]


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [(system, code, tuple(rest)) for system, code, *rest in UNKNOWN],
)
def test_unknown_codes(system: str, code: int, expected: tuple[object, ...]) -> None:
    info = explain(code, system)
    assert not info.known
    assert info.msg is None
    assert (info.success, info.category, info.retryable, info.epp) == expected
    assert info.needs_attention
    assert not info.unrequested
    assert info.source == "code structure (not in the table)"
    assert info.description.startswith("Not in the")


def test_a_huge_number_is_unknown_too() -> None:
    # Beyond Python's int-to-str digit limit: no str() of it may be taken.
    info = explain(10**5000)
    assert not info.known
    assert info.category == "failed"


@pytest.mark.parametrize("code", ["10000", " 10000", "10000\n", "\t10000 ", "010000"])
def test_strings_of_digits(code: str) -> None:
    assert explain(code) == explain(10000)


@pytest.mark.parametrize(
    "code",
    [
        "abc",
        "",
        " ",
        "10 000",
        "1_000",
        "+10000",
        "1e4",
        "10000.0",
        "\u0661\u0660\u0660\u0660\u0660",
        "0x2710",
        "1" * 51,
    ],
)
def test_text_that_is_not_a_number_raises(code: str) -> None:
    with pytest.raises(ValueError, match="not a result code"):
        explain(code)


@pytest.mark.parametrize("code", [True, False, 1.5, 10000.0, None, b"10000", [10000]])
def test_other_types_raise(code: object) -> None:
    with pytest.raises(ValueError, match="a result code is an int or a string"):
        explain(code)  # type: ignore[arg-type]


@pytest.mark.parametrize("system", ["EPP", " Epp ", "epp"])
def test_system_names_ignore_case(system: str) -> None:
    assert explain(2400, system) == explain(2400, "epp")


@pytest.mark.parametrize("system", ["", "knipp", "rfc5730"])
def test_unknown_system_raises(system: str) -> None:
    with pytest.raises(ValueError, match="drs, epp, opensrs"):
        explain(10000, system)
    with pytest.raises(ValueError, match="drs, epp, opensrs"):
        table(system)


# -- CodeInfo ------------------------------------------------------------------------------

AS_DICT_KEYS = [
    "code",
    "system",
    "known",
    "msg",
    "description",
    "category",
    "success",
    "pending",
    "retryable",
    "epp",
    "unrequested",
    "needs_attention",
    "source",
]


def test_code_info_is_frozen_and_slotted() -> None:
    info = explain(10000)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        info.code = 1  # type: ignore[misc]
    assert not hasattr(info, "__dict__")


@pytest.mark.parametrize("system", SYSTEMS)
def test_as_dict_is_json(system: str) -> None:
    for info in [*table(system), explain(2999 if system == "epp" else 299, system)]:
        record = info.as_dict()
        assert list(record) == AS_DICT_KEYS
        assert json.loads(json.dumps(record)) == record
        assert CodeInfo(**record) == info  # type: ignore[arg-type]


def test_the_tables_are_loaded_once() -> None:
    # The same object every time: the table is read once and then only looked up.
    assert explain(10000) is explain("10000")
    assert table("epp")[0] is explain(1000, "epp")


def test_importing_reads_no_table() -> None:
    script = (
        "import drsparse, drsparse._codes as c; "
        "print(c._shipped.cache_info().currsize); "
        "c.explain(10000); print(c._shipped.cache_info().currsize)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split() == ["0", "1"]


# -- check_msg -----------------------------------------------------------------------------


def test_check_msg_names_the_code_whose_text_it_is() -> None:
    # The Knipp page's slip: "Outgoing transfer canceled" sent with 10303.
    warning = check_msg(10303, "Outgoing transfer canceled")
    assert warning is not None
    assert "10304" in warning
    assert "10303" in warning
    assert "code decides" in warning


@pytest.mark.parametrize(
    "msg",
    [
        "Outgoing transfer completed",
        "outgoing transfer completed",
        "OUTGOING TRANSFER COMPLETED.",
        "  Outgoing transfer completed.  ",
        "Outgoing  transfer\tcompleted",
        None,
        "",  # an empty text says nothing that could contradict the code
        "   ",
    ],
)
def test_check_msg_accepts_the_table_text(msg: str | None) -> None:
    assert check_msg(10303, msg) is None


def test_check_msg_with_a_text_of_no_code() -> None:
    warning = check_msg(20204, "field missing")
    assert warning is not None
    assert warning.startswith("msg 'field missing'")
    assert "required field missing" in warning


def test_check_msg_is_silent_for_unknown_codes() -> None:
    assert check_msg(10399, "Something new") is None
    assert check_msg(99999, "Something new") is None


def test_check_msg_other_systems() -> None:
    assert check_msg(2201, "Authorization error", "epp") is None
    warning = check_msg(2201, "Object exists", "epp")
    assert warning is not None
    assert "2302" in warning
    assert check_msg(211, "Domain taken", "opensrs") is None


@needs_shared
def test_check_msg_on_the_seed_example() -> None:
    # Every result.msg of Knipp's page fits its code, but for the two slips the seeds name.
    text = shared_text(KNIPP_PAGE) or ""
    warned = []
    for block in text.split("### DRS Response")[1:]:
        fields = dict(re.findall(r"^(result(?:\.\d+)?\.(?:code|msg)): (.*)$", block, re.M))
        for key, code in fields.items():
            if key.endswith(".code") and check_msg(int(code), fields.get(key[:-4] + "msg")):
                warned.append(int(code))
    # The canceled transfer sent as 10303, and 20204's "field missing".
    assert sorted(warned) == [10303, 20204]


# -- The data files --------------------------------------------------------------------------


def _raw_rows(system: str) -> tuple[str, list[str], list[tuple[int, list[str]]]]:
    """The file's text, its header and its rows with their line numbers, read as csv does."""
    text = (files("drsparse") / "data" / f"{system}.tsv").read_text(encoding="utf-8")
    header: list[str] = []
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line or line.startswith("#"):
            continue
        cells = next(csv.reader([line], delimiter="\t", quoting=csv.QUOTE_NONE, strict=True))
        if header:
            rows.append((number, cells))
        else:
            header = cells
    return text, header, rows


@pytest.mark.parametrize("system", SYSTEMS)
def test_lint_data_file(system: str) -> None:
    low, high = {"drs": (10000, 29999), "epp": (1000, 2999), "opensrs": (100, 999)}[system]
    text, header, rows = _raw_rows(system)
    # The format is documented at the top of the file.
    assert text.startswith("# ")
    assert "# Format" in text
    expected = ["code", "category", "flags", "epp", "msg", "description", "source"]
    if system != "drs":
        expected.remove("epp")
    assert header == expected
    seen: set[int] = set()
    for number, cells in rows:
        where = f"{system}.tsv:{number}"
        assert len(cells) == len(header), where
        for cell in cells:
            assert cell == cell.strip(), f"{where}: stray whitespace in {cell!r}"
            assert "  " not in cell, f"{where}: double space in {cell!r}"
        row = dict(zip(header, cells, strict=True))
        code = int(row["code"])
        assert row["code"] == str(code), where
        assert low <= code <= high, where
        assert code not in seen, f"{where}: {code} twice"
        seen.add(code)
        assert row["category"] in CATEGORIES, where
        assert row["category"] != "failed" or system == "opensrs", where
        flags = row["flags"].split(",") if row["flags"] else []
        assert set(flags) <= {"retryable", "unrequested", "attention"}, where
        assert len(flags) == len(set(flags)), where
        assert row["msg"], where
        assert row["description"].endswith((".", ")")), where
        assert row["source"], where
    # The rows are in code order, and the loader kept every one of them.
    assert [int(cells[0]) for _, cells in rows] == sorted(seen)
    assert len(table(system)) == len(rows)


def test_lint_drs_epp_column() -> None:
    _, header, rows = _raw_rows("drs")
    for number, cells in rows:
        row = dict(zip(header, cells, strict=True))
        root = _epp_root(int(row["code"]))
        assert row["epp"] == ("" if root is None else str(root)), f"drs.tsv:{number}"


# -- Overrides -----------------------------------------------------------------------------

OVERRIDE = (
    "# my additions to the DRS table\n"
    "code\tcategory\tflags\tmsg\tdescription\tsource\n"
    "\n"
    "10370\tpending\t\tUpdate initiated\tThe update follows.\tKnipp support, 2024-05\n"
    "20204\tfix-request\t\tfield missing\t\t\n"
)


def _write(tmp_path: Path, text: str, name: str = "my-codes.tsv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_override_adds_and_replaces(tmp_path: Path) -> None:
    path = _write(tmp_path, OVERRIDE)
    assert not explain(10370).known
    codes = load_codes(path)

    added = codes.explain(10370)
    assert added.known
    assert added.pending
    assert added.success
    assert added.msg == "Update initiated"
    assert added.source == f"{path}:4 (Knipp support, 2024-05)"

    replaced = codes.explain(20204)
    assert replaced.msg == "field missing"
    assert replaced.source == f"{path}:5"
    assert replaced.description == "The request or its data are wrong: fix them and send again."
    assert codes.check_msg(20204, "field missing") is None
    assert {10370, 20204} <= {info.code for info in codes.table()}
    # Overrides are DRS only.
    assert not codes.explain(10370, "epp").known
    # A value: the shipped tables are unchanged.
    assert not explain(10370).known
    assert explain(20204).msg == "required field missing"
    assert explain(10370, codes=codes) == added


def test_override_is_forgiving_about_hand_written_details(tmp_path: Path) -> None:
    # A byte-order mark, CRLF line ends, columns in another order, spaces around cells, and no
    # flags or source column at all.
    text = "\ufeffmsg\tcode\tcategory\tdescription\r\n Update initiated \t 10370 \tpending\t\r\n"
    info = load_codes(str(_write(tmp_path, text))).explain(10370)
    assert info.msg == "Update initiated"
    assert info.pending
    assert info.source.endswith("my-codes.tsv:2")


def test_override_cells_are_taken_as_written(tmp_path: Path) -> None:
    # No quoting and no escapes: quotes, backslashes and a huge cell are text like any other.
    msg = 'Update "initiated", see \\\\drs\\queue'
    text = f"code\tcategory\tmsg\tdescription\n10370\tpending\t{msg}\t{'x' * 200_000}\n"
    info = load_codes(_write(tmp_path, text)).explain(10370)
    assert info.msg == msg
    assert info.description == "x" * 200_000


def test_later_override_wins(tmp_path: Path) -> None:
    first = load_codes(_write(tmp_path, OVERRIDE))
    codes = first.load(
        _write(tmp_path, "code\tcategory\tmsg\tdescription\n10370\tdone\tDone\t\n", "b")
    )
    assert codes.explain(10370).category == "done"
    assert codes.explain(20204).msg == "field missing"
    assert first.explain(10370).category == "pending"


H = "code\tcategory\tflags\tepp\tmsg\tdescription\n"


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        pytest.param(H + "1037x\tpending\t\t\tX\t\n", 2, 1, id="not-a-number"),
        pytest.param(H + "30000\tfailed\t\t\tX\t\n", 2, 1, id="out-of-range"),
        pytest.param(H + "2400\tretry\tretryable\t\tX\t\n", 2, 1, id="epp-code"),
        pytest.param(H + "010370\tpending\t\t\tX\t\n", 2, 1, id="leading-zero"),
        pytest.param(H + "10370\tpending\t\t\tX\n", 2, 18, id="too-few-cells"),
        pytest.param(H + "10370\tpending\t\t\tX\t\textra\n", 2, 20, id="too-many-cells"),
        pytest.param(H + "10370\twaiting\t\t\tX\t\n", 2, 7, id="unknown-category"),
        pytest.param(H + "20370\tdone\t\t\tX\t\n", 2, 7, id="success-for-failure"),
        pytest.param(H + "10370\tfix-request\t\t\tX\t\n", 2, 7, id="failure-for-success"),
        pytest.param(H + "10370\tpending\tlater\t\tX\t\n", 2, 15, id="unknown-flag"),
        pytest.param(H + "24370\tretry\t\t\tX\t\n", 2, 13, id="retry-not-retryable"),
        pytest.param(H + "10370\tdone\tretryable\t\tX\t\n", 2, 12, id="retryable-success"),
        pytest.param(H + "20006\tfix-request\t\t2005\tX\t\n", 2, 20, id="wrong-epp"),
        pytest.param(H + "20206\tfix-request\t\t2006\tX\t\n", 2, 20, id="epp-for-own-code"),
        pytest.param(H + "10370\tpending\t\t\t\t\n", 2, 17, id="empty-msg"),
        pytest.param(H + "10370\tpending\t\t\tX\t\n\n10370\tdone\t\t\tY\t\n", 4, 1, id="twice"),
        pytest.param("code\tcategory\tmsg\tnote\n", 1, 19, id="unknown-column"),
        pytest.param("code\tcategory\tmsg\tmsg\tdescription\n", 1, 19, id="column-twice"),
        pytest.param("code\tcategory\tdescription\n", 1, 1, id="missing-column"),
        pytest.param("# nothing but a comment\n", None, None, id="no-header"),
    ],
)
def test_broken_override(tmp_path: Path, text: str, line: int | None, column: int | None) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InvalidValueError) as caught:
        load_codes(path)
    assert (caught.value.source, caught.value.line, caught.value.column) == (
        str(path),
        line,
        column,
    )
    assert str(caught.value).startswith(str(path))


def test_broken_override_changes_nothing(tmp_path: Path) -> None:
    good = "10370\tpending\t\t\tUpdate initiated\t\n"
    path = _write(tmp_path, H + good + "10371\tbogus\t\t\tX\t\n")
    with pytest.raises(DrsParseError):
        load_codes(path)
    assert not explain(10370).known


def test_unreadable_override(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError) as caught:
        load_codes(tmp_path / "missing.tsv")
    assert caught.value.source == str(tmp_path / "missing.tsv")
    path = tmp_path / "latin1.tsv"
    path.write_bytes(H.encode() + "10370\tpending\t\t\tVerl\xe4ngert\t\n".encode("latin-1"))
    with pytest.raises(UnreadableInputError, match="UTF-8"):
        load_codes(path)
