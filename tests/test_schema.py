"""The published JSON Schema of the records, and every record of every sample against it.

``drsparse/data/record.schema.json`` is the contract with the scripts downstream. It is strict
(every key required, no others, exact types), so a record that gains, loses or retypes a key
fails here before it reaches a consumer. :func:`check_records` is also used by the command's
tests (tests/test_cli.py) on what the real command prints.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

# jsonschema ships no type information (no py.typed, and types-jsonschema is not a test
# dependency); its three names are used in a few lines here.
from jsonschema import (  # type: ignore[import-untyped]
    Draft202012Validator,
    FormatChecker,
    ValidationError,
)

import drsparse
from drsparse._mail import parse_message
from drsparse._records import error_record, response_record
from tests.helpers import ROOT, SAMPLES

SCHEMA_PATH = ROOT / "drsparse" / "data" / "record.schema.json"

TEXTS = sorted([*SAMPLES.glob("knipp/*.txt"), *SAMPLES.glob("blocks/*.txt")])
MAILS = sorted(SAMPLES.glob("mail/*.eml"))
INVALID = sorted(SAMPLES.glob("invalid/*.txt"))

# RFC 3339 date-time: what format "date-time" means. jsonschema checks it only with an extra
# package installed, and silently passes it otherwise; checked here with the standard library.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_FORMATS = FormatChecker()


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # formats apply to strings only
    if _RFC3339.fullmatch(value) is None:
        return False
    dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))  # a real date and time
    return True


# Registered with a call, not as a decorator: an untyped decorator would untype the function.
_FORMATS.checks("date-time", raises=ValueError)(_date_time)


@functools.cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_FORMATS)


def check_records(records: Iterable[Any]) -> None:
    """Fail with the first schema violation of any record (a JSON-able value)."""
    validator = _validator()
    for record in records:
        # Through JSON text: what a consumer reads, not the Python objects.
        data = json.loads(json.dumps(record))
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        assert not errors, f"{_describe(errors[0])}\nin {json.dumps(data)[:400]}"


def _describe(error: ValidationError) -> str:
    path = "/".join(str(part) for part in error.absolute_path)
    return f"{path or '(record)'}: {error.message}"


def _fails(record: dict[str, Any]) -> bool:
    return any(True for _ in _validator().iter_errors(record))


# -------------------------------------------------------------------------------------------
# The schema itself
# -------------------------------------------------------------------------------------------


def _objects(node: object) -> Iterator[dict[str, Any]]:
    """Every object schema (``type: object`` with ``properties``) anywhere in the schema."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def test_schema_is_valid_and_strict() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    objects = list(_objects(schema))
    assert len(objects) >= 7  # response, result, sub-result, data, ns, contact, error
    for node in objects:
        if node["additionalProperties"] is False:
            assert set(node["required"]) == set(node["properties"]), node["required"]
        else:
            # Only a sub-result's data has open keys (the robot's own), all strings.
            assert node["additionalProperties"] == {"type": "string"}
    assert schema["$defs"]["category"]["enum"] == list(drsparse.CATEGORIES)


def test_schema_ships_in_the_package() -> None:
    # The wheel carries drsparse/ whole; the schema must be inside it, not beside it.
    assert SCHEMA_PATH.is_file()
    assert SCHEMA_PATH.parent == Path(drsparse.__file__).parent / "data"


# -------------------------------------------------------------------------------------------
# Every record the library produces from the samples
# -------------------------------------------------------------------------------------------


def test_the_sample_folders_are_not_empty() -> None:
    assert len(TEXTS) >= 28
    assert len(MAILS) >= 10
    assert len(INVALID) >= 10


def test_records_of_text_samples() -> None:
    records = [response_record(r) for path in TEXTS for r in drsparse.parse_all(path.read_text())]
    assert len(records) >= len(TEXTS)
    check_records(records)
    # The timestamps of the samples are there, and checked as date-time.
    stamps = [v for r in records for sub in r["sub_results"] for v in sub["data"].values()]
    assert any(_RFC3339.fullmatch(str(v)) for v in stamps)


def test_records_of_mail_samples() -> None:
    records = []
    for path in MAILS:
        source = path.relative_to(ROOT).as_posix()
        records += [response_record(r) for r in parse_message(path.read_bytes(), source=source)]
        records += [
            response_record(r)
            for r in parse_message(path.read_bytes(), source=source, include_quoted=True)
        ]
    assert {r["authentic"] for r in records} == {True, False, None}
    assert any(r["quoted"] for r in records)
    assert any(r["part"] is not None for r in records)
    check_records(records)


def test_error_records_of_invalid_samples() -> None:
    records = []
    for path in INVALID:
        try:
            drsparse.parse(path.read_text())
        except drsparse.DrsParseError as error:
            error.source = str(path)
            records.append(error_record(error))
    assert len(records) == len(INVALID)
    assert any(r["column"] is None for r in records)  # no response: no position
    check_records(records)
    check_records(
        [error_record(drsparse.UnreadableInputError("cannot read", source="missing.eml"))]
    )


def test_expected_files_of_the_samples() -> None:
    # What the sample tests compare with is itself valid output.
    files = [p for p in SAMPLES.rglob("*.json") if not p.name.endswith(".error.json")]
    assert len(files) >= len(TEXTS) + len(MAILS)
    for path in files:
        check_records(json.loads(path.read_text(encoding="utf-8")))


# -------------------------------------------------------------------------------------------
# What the schema refuses
# -------------------------------------------------------------------------------------------


@functools.cache
def _sample_record() -> dict[str, Any]:
    """A record with a sub-result whose data holds a timestamp (``expire.date``)."""
    text = (SAMPLES / "knipp" / "04-registration-not-delegated.txt").read_text(encoding="utf-8")
    record = response_record(drsparse.parse(text))
    assert "expire.date" in record["sub_results"][0]["data"]
    return record


def _changed(path: tuple[str | int, ...], value: object, *, delete: bool = False) -> bool:
    """Whether the schema refuses the sample record with ``path`` set to ``value``."""
    record = copy.deepcopy(_sample_record())
    node: Any = record
    for part in path[:-1]:
        node = node[part]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return _fails(record)


def test_sample_record_is_valid() -> None:
    assert not _fails(_sample_record())


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("extra",), 1),
        (("schema",), 2),
        (("type",), "warning"),
        (("quoted",), None),
        (("authentic",), "yes"),
        (("part",), "0"),
        (("result", "code"), "10000"),
        (("result", "category"), "fine"),
        (("result", "extra"), True),
        (("sub_results", 0, "data", "expire.date"), "2003-11-28"),
        (("sub_results", 0, "data", "expire.date"), "next tuesday"),
        (("sub_results", 0, "data", "other"), 5),
        (("sub_results", 0, "keys"), [1]),
        (("nameservers",), [{"name": "ns1.example"}]),
        (("fields",), [["key", "value"]]),
        (("fields",), [["key", "value", 0]]),
        (("fields",), [["key", "value", 1, "extra"]]),
        (("warnings",), "none"),
    ],
)
def test_schema_refuses(path: tuple[str | int, ...], value: object) -> None:
    assert _changed(path, value)


@pytest.mark.parametrize(
    "key", list(response_record(drsparse.parse("### DRS Response\n###\nresult.code: 1\n")))
)
def test_every_key_is_required(key: str) -> None:
    assert _changed((key,), None, delete=True)


def test_error_record_refusals() -> None:
    good = error_record(drsparse.MalformedLineError("bad", line=3, column=1, source="x.eml"))
    assert not _fails(good)
    assert _fails({**good, "line": 0})
    assert _fails({**good, "error": "bad class"})
    assert _fails({**good, "extra": None})
    assert _fails({key: value for key, value in good.items() if key != "message"})
