"""``drsparse explain`` and ``drsparse codes``, run as the real command in a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import drsparse
from drsparse._codes import DEFAULT_CODES
from tests.test_codes import AS_DICT_KEYS

KEYS = AS_DICT_KEYS


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drsparse", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def records(out: str) -> list[dict[str, object]]:
    lines = out.splitlines()
    assert lines, "no output"
    return [json.loads(line) for line in lines]


OVERRIDE = (
    "code\tcategory\tflags\tmsg\tdescription\tsource\n"
    "10370\tpending\t\tUpdate initiated\tThe update follows.\tKnipp support\n"
)


@pytest.fixture
def override(tmp_path: Path) -> Path:
    path = tmp_path / "my-codes.tsv"
    path.write_text(OVERRIDE, encoding="utf-8")
    return path


def test_explain_text() -> None:
    done = run("explain", "10000", "23300")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    first, second = done.stdout.split("\n\n")
    assert first.startswith("DRS 10000  Command completed successfully\n")
    assert "category:     done" in first
    assert "EPP:          1000" in first
    assert "source:       Knipp DRS robot result codes" in first
    assert second.startswith("DRS 23300  Object not delegated\n")
    assert "failure, attention" in second
    assert "expire.date" in second


def test_explain_json() -> None:
    done = run("explain", "--json", "10303", "10310", "23002")
    assert done.returncode == 0, done.stderr
    rows = records(done.stdout)
    assert [row["code"] for row in rows] == [10303, 10310, 23002]
    assert all(list(row) == KEYS for row in rows)
    notice, pending, exists = rows
    assert notice["unrequested"] is True
    assert notice["category"] == "notice"
    assert pending["pending"] is True
    assert exists["epp"] == 2302
    assert exists["success"] is False


def test_explain_unknown_code() -> None:
    done = run("explain", "24000")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("DRS 24000  unknown code")
    assert "retryable" in done.stdout
    row = records(run("explain", "--json", "24000").stdout)[0]
    assert row["known"] is False
    assert row["msg"] is None
    assert row["epp"] == 2400


@pytest.mark.parametrize("codes", [["abc"], ["10000", "ten"], [""], ["1.5"]])
def test_explain_not_a_number(codes: list[str]) -> None:
    done = run("explain", *codes)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "not a result code" in done.stderr


@pytest.mark.parametrize(
    ("system", "code", "flag"),
    [("epp", "2400", "retryable"), ("EPP", "1001", "pending"), ("opensrs", "250", "pending")],
)
def test_explain_other_systems(system: str, code: str, flag: str) -> None:
    done = run("explain", code, "--system", system, "--json")
    assert done.returncode == 0, done.stderr
    row = records(done.stdout)[0]
    assert row["system"] == system.lower()
    assert row["known"] is True
    assert row[flag] is True


def test_unknown_system_is_a_usage_error() -> None:
    done = run("explain", "10000", "--system", "knipp")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr


@pytest.mark.parametrize("system", ["drs", "epp", "opensrs"])
def test_codes_text(system: str) -> None:
    done = run("codes", "--system", system)
    assert done.returncode == 0, done.stderr
    head, *rows = done.stdout.splitlines()
    assert head.split() == ["CODE", "CATEGORY", "FLAGS", "EPP", "MSG"]
    expected = DEFAULT_CODES.table(system)
    assert [int(row.split()[0]) for row in rows] == [info.code for info in expected]
    # Aligned: the msg column starts at the same place on every line.
    starts = {row.index(info.msg or "") for row, info in zip(rows, expected, strict=True)}
    assert starts == {head.index("MSG")}


@pytest.mark.parametrize("system", ["drs", "epp", "opensrs"])
def test_codes_json(system: str) -> None:
    done = run("codes", "--json", "--system", system)
    assert done.returncode == 0, done.stderr
    rows = records(done.stdout)
    assert rows == [info.as_dict() for info in DEFAULT_CODES.table(system)]


@pytest.mark.parametrize("where", ["before", "after"])
def test_codes_option(override: Path, where: str) -> None:
    option = ["--codes", str(override)]
    args = [*option, "explain", "10370", "--json"]
    if where == "after":
        args = ["explain", "10370", "--json", *option]
    done = run(*args)
    assert done.returncode == 0, done.stderr
    row = records(done.stdout)[0]
    assert row["known"] is True
    assert row["pending"] is True
    assert row["source"] == f"{override}:2 (Knipp support)"


def test_codes_option_in_the_table(override: Path) -> None:
    done = run("codes", "--codes", str(override))
    assert done.returncode == 0, done.stderr
    assert re.search(r"^10370 +pending ", done.stdout, re.M)
    # Without the option, the code is not in the table.
    assert "10370" not in run("codes").stdout


def test_broken_codes_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.tsv"
    path.write_text("code\tcategory\tmsg\tdescription\n10370\twaiting\tX\t\n", encoding="utf-8")
    done = run("--codes", str(path), "explain", "10000")
    assert done.returncode == 2
    assert done.stdout == ""
    assert re.fullmatch(rf"{re.escape(str(path))}:2:7: .*category.*\n", done.stderr)


def test_missing_codes_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.tsv"
    done = run("codes", "--codes", str(path))
    assert done.returncode == 2
    assert done.stderr.startswith(f"{path}: ")


def test_version() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout == f"drsparse {drsparse.__version__}\n"


@pytest.mark.parametrize("args", [["--help"], ["explain", "--help"], ["codes", "--help"]])
def test_help(args: list[str]) -> None:
    done = run(*args)
    assert done.returncode == 0
    assert "examples:" in done.stdout
    assert "drsparse explain 10000 23300" in done.stdout


def test_no_command_is_a_usage_error() -> None:
    done = run()
    assert done.returncode == 2
    assert "usage: drsparse" in done.stderr


def test_console_script() -> None:
    # The entry point pyproject declares, as installed beside this Python.
    script = Path(sys.executable).parent / "drsparse"
    if not script.exists():
        pytest.skip("drsparse is not installed beside this Python")
    done = subprocess.run(
        [str(script), "explain", "10000"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("DRS 10000  Command completed successfully")


def test_explain_wraps_long_texts_at_the_terminal_width() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "drsparse", "explain", "350", "--system", "opensrs"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "60"},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) > 6  # the title and the meaning need more than a line each
    assert all(len(line) <= 60 for line in lines), lines
    # Continuation lines stand under the text, not under the labels.
    labels = [line for line in lines[1:] if re.match(r"  [A-Za-z]+: ", line)]
    assert len(labels) == 5
    assert all(line.startswith(" " * 16) for line in lines[1:] if line not in labels)
    assert "100 commands" in " ".join(line.strip() for line in lines)
