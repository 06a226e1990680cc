"""Every sample text in samples/ against its expected output, in every line-ending style.

The expected JSON of a valid sample is the list of the records ``drsparse parse`` prints for it;
an invalid sample has its error class, line and column beside it (never the wording).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import drsparse
from drsparse._records import response_record
from drsparse._typed import key_slot
from tests.helpers import LINE_ENDINGS, SAMPLES, expect_json, with_line_endings

VALID = sorted([*SAMPLES.glob("knipp/*.txt"), *SAMPLES.glob("blocks/*.txt")])
INVALID = sorted(SAMPLES.glob("invalid/*.txt"))


def test_the_sample_folders_are_not_empty() -> None:
    # A glob that finds nothing would make every parametrized test below vanish silently.
    assert len(list(SAMPLES.glob("knipp/*.txt"))) == 18  # every example of the Knipp page
    assert len(list(SAMPLES.glob("blocks/*.txt"))) >= 10
    assert len(INVALID) >= 10


def _records(text: str) -> list[dict[str, object]]:
    return [response_record(r) for r in drsparse.parse_all(text)]


@pytest.mark.parametrize("ending", LINE_ENDINGS)
@pytest.mark.parametrize("path", VALID, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_valid_sample(path: Path, ending: str) -> None:
    text = with_line_endings(path.read_text(encoding="utf-8"), LINE_ENDINGS[ending])
    records = _records(text)
    expected = expect_json(path.with_suffix(".json"), records) if ending == "lf" else None
    if expected is None:
        expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert records == expected


@pytest.mark.parametrize("path", VALID, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_valid_sample_survives_format(path: Path) -> None:
    for response in drsparse.parse_all(path.read_text(encoding="utf-8")):
        again = drsparse.parse(drsparse.format(response))
        assert again == response
        # Keys the model does not know are written back too (known ones are renumbered when
        # their indexes had gaps, which is why only the unknown ones are compared).
        unknown = {(f.key, f.value) for f in response.fields if key_slot(f.key) is None}
        assert {(f.key, f.value) for f in again.fields if key_slot(f.key) is None} == unknown


@pytest.mark.parametrize("ending", LINE_ENDINGS)
@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_sample(path: Path, ending: str) -> None:
    expected = json.loads(path.with_suffix(".error.json").read_text(encoding="utf-8"))
    text = with_line_endings(path.read_text(encoding="utf-8"), LINE_ENDINGS[ending])
    with pytest.raises(drsparse.DrsParseError) as caught:
        drsparse.parse(text)
    error = caught.value
    assert (type(error).__name__, error.line, error.column) == (
        expected["error"],
        expected["line"],
        expected["column"],
    ), str(error)
    # The message says where, not only the attributes.
    if error.line is not None:
        assert str(error.line) in str(error)
