"""``drsparse parse``, ``scan`` and ``--mda``, run as the real command in a subprocess.

Real files (the samples, and mailboxes built with the standard library's ``mailbox`` module),
real pipes and a real pseudo-terminal; no mocks. Every record printed is validated against
the published schema. The command runs from the repository root with relative paths, so that
``source`` is the path as given.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import mailbox
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import pytest

import drsparse
from drsparse._writers import CSV_COLUMNS
from tests.helpers import ROOT, SAMPLES
from tests.test_schema import check_records

Record = dict[str, Any]

VALID_DIRS = ("samples/knipp", "samples/blocks", "samples/mail")
INVALID = sorted(SAMPLES.glob("invalid/*.txt"))
# Texts the library refuses with parse() but that are fine for a reader of many responses.
NOT_ERRORS_HERE = {"NoResponseError", "SeveralResponsesError"}


class Run:
    """A finished run of the command: exit status, records, and the lines on stderr."""

    def __init__(self, done: subprocess.CompletedProcess[bytes]) -> None:
        self.status = done.returncode
        self.out = done.stdout.decode("utf-8")
        self.err = done.stderr.decode("utf-8")

    @property
    def records(self) -> list[Record]:
        """The JSON Lines of stdout, validated against the schema."""
        records = [json.loads(line) for line in self.out.splitlines()]
        check_records(records)
        return records

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


def run(*args: str | Path, stdin: bytes | IO[Any] | None = None) -> Run:
    """``python -m drsparse ARGS`` in the repository root."""
    data = stdin if isinstance(stdin, bytes) else None
    handle = None if isinstance(stdin, bytes) else stdin
    done = subprocess.run(
        [sys.executable, "-m", "drsparse", *map(str, args)],
        input=data,
        stdin=handle if data is None else None,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    return Run(done)


def expected(path: str, source: str | None = None) -> list[Record]:
    """The records the samples say ``drsparse parse PATH`` prints (with ``source`` set)."""
    records = json.loads((ROOT / path).with_suffix(".json").read_text(encoding="utf-8"))
    return [{**record, "source": path if source is None else source} for record in records]


def samples_in(folder: str) -> list[str]:
    """The sample messages of a folder, in the order the folder walk reads them."""
    return sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / folder).iterdir()
        if p.suffix in (".txt", ".eml")
    )


def error_line(record: Record) -> str:
    """The stderr line of an error record: SOURCE:LINE:COLUMN: message."""
    where = [str(record[key]) for key in ("source", "line", "column") if record[key] is not None]
    return f"{':'.join(where)}: {record['message']}"


def without_source(records: list[Record]) -> list[Record]:
    return [{key: value for key, value in r.items() if key != "source"} for r in records]


# -------------------------------------------------------------------------------------------
# parse: the samples, every format
# -------------------------------------------------------------------------------------------


def test_parse_the_valid_samples() -> None:
    # What `make demo` runs: every valid sample, the expected JSON files beside them read as
    # messages without a response (exit 0, nothing on stderr).
    done = run("parse", *VALID_DIRS)
    assert done.status == 0, done.err
    assert done.err == ""
    files = [path for folder in VALID_DIRS for path in samples_in(folder)]
    assert len(files) >= 40
    assert done.records == [record for path in files for record in expected(path)]


MIXED = (
    "samples/knipp/04-registration-not-delegated.txt",
    "samples/mail/several-responses.eml",
    "samples/invalid/malformed-line.txt",
    "samples/blocks/idn-domain.txt",
)


@pytest.fixture(scope="module")
def mixed() -> Run:
    return run("parse", *MIXED)


def test_jsonl_errors_among_the_records(mixed: Run) -> None:
    assert mixed.status == 1
    records = mixed.records
    error = records[len(expected(MIXED[0])) + len(expected(MIXED[1]))]
    assert records == [*expected(MIXED[0]), *expected(MIXED[1]), error, *expected(MIXED[3])]
    assert (error["type"], error["source"], error["error"], error["line"], error["column"]) == (
        "error",
        MIXED[2],
        "MalformedLineError",
        6,
        1,
    )
    assert mixed.err_lines == [error_line(error)]


def test_json_format(mixed: Run) -> None:
    done = run("parse", "--format", "json", *MIXED)
    assert done.status == 1
    records = json.loads(done.out)
    check_records(records)
    assert records == mixed.records
    assert done.err == mixed.err
    # The layout of the samples' expected files: json.dumps(records, indent=2).
    assert done.out == json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    assert run("parse", "--format", "json", "samples/invalid/no-response.txt").out == "[]\n"


def test_csv_format(mixed: Run) -> None:
    done = run("parse", "--format", "csv", *MIXED)
    assert done.status == 1
    assert done.err == mixed.err
    rows = list(csv.DictReader(io.StringIO(done.out)))
    assert list(rows[0]) == list(CSV_COLUMNS)
    records = mixed.records
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        assert row["type"] == record["type"]
        assert row["source"] == record["source"]
        if record["type"] == "error":
            assert (row["error"], row["line"], row["column"]) == ("MalformedLineError", "6", "1")
            assert row["message"] == record["message"]
            assert row["code"] == row["domain"] == ""
            continue
        result = record["result"]
        assert row["code"] == str(result["code"])
        assert row["category"] == result["category"]
        assert row["domain_unicode"] == record["domain_unicode"]
        assert row["success"] == ("true" if result["success"] else "false")
        assert row["authentic"] == {True: "true", False: "false", None: ""}[record["authentic"]]
        assert row["warnings"] == str(len(record["warnings"]))
        assert row["sub_codes"].split() == [str(s["code"]) for s in record["sub_results"]]
        assert row["error"] == row["message"] == ""
    not_delegated = rows[0]
    assert (not_delegated["status"], not_delegated["attention"]) == ("succeeded", "23300")


def test_table_format(mixed: Run) -> None:
    done = run("parse", "--format", "table", *MIXED)
    assert done.status == 1
    assert done.err == mixed.err
    head, *lines = done.out.splitlines()
    assert head.split() == [
        "SOURCE",
        "DOMAIN",
        "CODE",
        "STATUS",
        "ATTENTION",
        "AUTHENTIC",
        "REFERENCE",
    ]
    assert len(lines) == len(mixed.records)
    assert re.match(
        r"samples/knipp/04\S+ +organisierdich\.de +10000 +succeeded \(done\) +23300 +unknown ",
        lines[0],
    )
    error = next(line for line in lines if " error " in line)
    assert error.startswith("samples/invalid/malformed-line.txt:6:1 ")
    assert "MalformedLineError" in error
    assert "münchen.de" in lines[-1]  # the IDN for people
    # Columns line up: every row's CODE starts where the header's does.
    column = head.index("CODE")
    assert all(line[column - 2 : column] == "  " for line in lines)


def test_standard_input() -> None:
    message = (SAMPLES / "mail" / "plain-single.eml").read_bytes()
    want = expected("samples/mail/plain-single.eml", source="-")
    for args in (("parse", "-"), ("parse",)):
        done = run(*args, stdin=message)
        assert done.status == 0, done.err
        assert done.records == want


def test_missing_path_is_an_error_and_the_run_goes_on() -> None:
    done = run("parse", "missing.eml", "samples/knipp/02-registration-success.txt")
    assert done.status == 1
    error, *records = done.records
    assert (error["error"], error["source"], error["line"], error["column"]) == (
        "UnreadableInputError",
        "missing.eml",
        None,
        None,
    )
    assert records == expected("samples/knipp/02-registration-success.txt")
    assert done.err_lines == [error_line(error)]
    assert done.err_lines[0].startswith("missing.eml: ")


def test_invalid_samples() -> None:
    done = run("parse", "samples/invalid")
    assert done.status == 1
    errors = iter(r for r in done.records if r["type"] == "error")
    count = 0
    for path in INVALID:
        want = json.loads(path.with_suffix(".error.json").read_text(encoding="utf-8"))
        if want["error"] in NOT_ERRORS_HERE:
            continue
        error = next(errors)
        count += 1
        assert error["source"] == path.relative_to(ROOT).as_posix()
        assert (error["error"], error["line"], error["column"]) == (
            want["error"],
            want["line"],
            want["column"],
        )
    assert next(errors, None) is None
    assert count == len(INVALID) - 2
    error_records = [r for r in done.records if r["type"] == "error"]
    assert done.err_lines == [error_line(r) for r in error_records]
    # "several responses" is an error of parse() only: the command prints both.
    several = [r for r in done.records if r["source"].endswith("several-responses.txt")]
    assert len(several) == 2


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("frobnicate",),
        ("parse", "--format", "xml"),
        ("parse", "--jobs", "-1"),
        ("parse", "--trust-domain", "not a domain"),
        ("scan",),
    ],
)
def test_usage_errors(args: tuple[str, ...]) -> None:
    done = run(*args)
    assert done.status == 2
    assert done.out == ""
    assert "usage: drsparse" in done.err


# -------------------------------------------------------------------------------------------
# Mailboxes, folder trees, --jobs
# -------------------------------------------------------------------------------------------

BAD_MESSAGE = (
    b"From: DRS Robot <drs@knipp.de>\nSubject: broken\nMessage-ID: <bad@drs.knipp.de>\n\n"
    + (SAMPLES / "invalid" / "malformed-line.txt").read_bytes()
)


def test_mbox_and_maildir(tmp_path: Path) -> None:
    box = mailbox.mbox(tmp_path / "box.mbox")
    for name in ("plain-single.eml", "several-responses.eml"):
        box.add((SAMPLES / "mail" / name).read_bytes())
    box.add(BAD_MESSAGE)
    box.close()
    folder = mailbox.Maildir(tmp_path / "Maildir", create=True)
    keys = {
        folder.add((SAMPLES / "mail" / name).read_bytes()): name
        for name in ("base64.eml", "idn-domain.eml")
    }
    files = {str(tmp_path / "Maildir" / "new" / key): name for key, name in keys.items()}

    done = run("parse", tmp_path / "box.mbox", tmp_path / "Maildir")
    assert done.status == 1
    mbox = str(tmp_path / "box.mbox")
    by_source: dict[str, list[Record]] = {}
    for record in done.records:
        by_source.setdefault(record["source"], []).append(record)
    assert list(by_source)[:3] == [f"{mbox}#1", f"{mbox}#2", f"{mbox}#3"]
    assert without_source(by_source[f"{mbox}#1"]) == without_source(
        expected("samples/mail/plain-single.eml")
    )
    assert without_source(by_source[f"{mbox}#2"]) == without_source(
        expected("samples/mail/several-responses.eml")
    )
    (error,) = by_source[f"{mbox}#3"]
    assert (error["error"], error["line"], error["column"]) == ("MalformedLineError", 6, 1)
    assert done.err_lines == [error_line(error)]
    assert set(by_source) - {f"{mbox}#{n}" for n in (1, 2, 3)} == set(files)
    for path, name in files.items():
        assert without_source(by_source[path]) == without_source(expected(f"samples/mail/{name}"))


def _tree(root: Path) -> None:
    """A folder tree of every kind of input, enough messages to keep --jobs 2 busy."""
    shutil.copytree(SAMPLES / "knipp", root / "a-knipp")
    shutil.copytree(SAMPLES / "mail", root / "b" / "mail")
    shutil.copy(SAMPLES / "invalid" / "malformed-line.txt", root / "b" / "bad-1.txt")
    shutil.copy(SAMPLES / "invalid" / "duplicate-key.txt", root / "b" / "bad-2.txt")
    (root / ".hidden").mkdir()
    shutil.copy(SAMPLES / "mail" / "plain-single.eml", root / ".hidden" / "skipped.eml")
    shutil.copy(SAMPLES / "mail" / "plain-single.eml", root / ".skipped.eml")
    box = mailbox.mbox(root / "c.mbox")
    box.add((SAMPLES / "mail" / "base64.eml").read_bytes())
    box.add(BAD_MESSAGE)
    box.close()


def test_folder_tree_and_jobs(tmp_path: Path) -> None:
    _tree(tmp_path / "tree")
    one = run("parse", "--jobs", "1", "--quarantine", tmp_path / "q1", tmp_path / "tree")
    two = run("parse", "--jobs", "2", "--quarantine", tmp_path / "q2", tmp_path / "tree")
    assert one.status == two.status == 1
    assert two.out == one.out
    assert two.err == one.err
    # The workers read the files of the tree; the bytes of those that failed come back.
    kept = [
        {file.name: file.read_bytes() for file in (tmp_path / folder).iterdir()}
        for folder in ("q1", "q2")
    ]
    assert kept[0] == kept[1]
    sources = [record["source"] for record in one.records]
    assert ".hidden" not in one.out
    assert ".skipped" not in one.out
    # In the order of the walk: folders and files sorted by name, an mbox in its order.
    tree = str(tmp_path / "tree")
    assert sources == sorted(sources, key=lambda s: s.replace("#", "/"))
    assert sources[0] == f"{tree}/a-knipp/01-syntax-error.txt"
    assert sources[-2:] == [f"{tree}/c.mbox#1", f"{tree}/c.mbox#2"]
    errors = [r["source"] for r in one.records if r["type"] == "error"]
    assert errors == [f"{tree}/b/bad-1.txt", f"{tree}/b/bad-2.txt", f"{tree}/c.mbox#2"]

    scans = [run("scan", "--json", *jobs, tmp_path / "tree") for jobs in ((), ("-j", "2"))]
    figures = []
    for done in scans:
        assert done.status == 1
        assert done.err == one.err  # the same error lines, in the same order
        summary = json.loads(done.out)
        for key in ("seconds", "messages_per_second", "mb_per_second"):
            del summary[key]
        figures.append(summary)
    assert figures[0] == figures[1]
    assert figures[0]["responses"] == len(one.records) - len(errors)


def test_an_mbox_file_read_by_the_workers(tmp_path: Path) -> None:
    # With --jobs, the workers read the messages of an mbox file named on the command line
    # themselves, in spans: the same records, errors, figures and quarantine as one process.
    path = tmp_path / "box.mbox"
    box = mailbox.mbox(path)
    names = ("plain-single.eml", "several-responses.eml", "base64.eml", "robot-multipart.eml")
    mails = [(SAMPLES / "mail" / name).read_bytes() for name in names]
    for number in range(150):
        box.add(BAD_MESSAGE if number % 37 == 5 else mails[number % len(mails)])
    box.close()
    one = run("parse", "--jobs", "1", "--quarantine", tmp_path / "q1", path)
    two = run("parse", "--jobs", "2", "--quarantine", tmp_path / "q2", path)
    assert one.status == two.status == 1
    assert two.out == one.out
    assert two.err == one.err
    sources = list(dict.fromkeys(record["source"] for record in one.records))
    assert sources == [f"{path}#{number}" for number in range(1, 151)]
    errors = [record["source"] for record in one.records if record["type"] == "error"]
    assert errors == [f"{path}#{number + 1}" for number in range(150) if number % 37 == 5]
    # The bytes of a message that failed come back from the worker for the quarantine.
    kept = [
        {file.name: file.read_bytes() for file in (tmp_path / folder).iterdir()}
        for folder in ("q1", "q2")
    ]
    assert kept[0] == kept[1]
    assert len(kept[0]) == 2 * len(errors)
    scans = [json.loads(run("scan", "--json", *jobs, path).out) for jobs in ((), ("-j", "2"))]
    for summary in scans:
        for key in ("seconds", "messages_per_second", "mb_per_second"):
            del summary[key]
    assert scans[0] == scans[1]
    assert scans[0]["messages"] == 150


@pytest.mark.parametrize(
    ("output", "authentic"), [("json", False), ("csv", True), ("table", False), ("jsonl", True)]
)
def test_the_workers_write_what_the_command_writes(
    tmp_path: Path, output: str, authentic: bool
) -> None:
    # With --jobs the records are made in the worker processes: every format, the
    # responses --require-authentic leaves out, and a file name that is not UTF-8.
    tree = tmp_path / "tree"
    _tree(tree)
    robot = (SAMPLES / "mail" / "robot-multipart.eml").read_bytes()
    (tree / os.fsdecode(b"b/robot-\xff.eml")).write_bytes(robot)
    options = ["--format", output, *(["--require-authentic"] if authentic else [])]
    one = run("parse", "--jobs", "1", *options, tree)
    two = run("parse", "--jobs", "2", *options, tree)
    assert one.status == two.status == 1
    assert two.out == one.out
    assert two.err == one.err
    # The file name, escaped: as UTF-8 in the records, for the terminal in the table.
    if output == "table":
        assert "robot-\\udcff.eml" in one.out
    elif output == "csv":
        assert "robot-\\xff.eml" in one.out
    else:
        text = one.out if output == "json" else "[" + ",".join(one.out.splitlines()) + "]"
        sources = [record["source"] for record in json.loads(text)]
        assert any(source.endswith("robot-\\xff.eml") for source in sources)
    assert ("skipped 1 response(s): not authentic" in one.err) is authentic


@pytest.mark.parametrize(
    "argv",
    [
        ["parse", "a.eml"],
        ["--codes", "status", "parse", "-j", "2", "--format", "csv", "x"],
        ["--codes=mine.tsv", "scan", "--json", "box"],
        ["--cod", "mine.tsv", "explain", "10000"],
        ["codes", "--system", "epp"],
        ["status", "--all"],
        ["ledger", "rebuild"],
        ["fetch", "imaps://host/INBOX"],
        ["sample", "--mbox", "x.mbox"],
    ],
)
def test_a_command_line_reads_the_same_with_only_its_command_built(argv: list[str]) -> None:
    from drsparse import _cli

    command = _cli._command(argv)
    assert command in _cli.COMMANDS
    only = _cli.build_parser(command)
    every = _cli.build_parser()
    assert vars(only.parse_args(argv)) == vars(every.parse_args(argv))
    built = [_subcommands(parser) for parser in (only, every)]
    # Commands registered together come together (the ledger's four, fetch and watch).
    assert command in built[0]
    assert len(built[0]) <= 4
    helps = [subcommands[command].format_help() for subcommands in built]
    assert helps[0] == helps[1]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(action for action in parser._actions if action.dest == "command")
    assert isinstance(action.choices, dict)
    return action.choices


@pytest.mark.parametrize(
    "argv", [[], ["--help"], ["--version"], ["--mda"], ["-x", "parse"], ["pars"], ["--codes"]]
)
def test_help_and_mistakes_build_every_command(argv: list[str]) -> None:
    from drsparse import _cli

    assert _cli._command(argv) is None


def test_code_overrides_reach_the_workers(tmp_path: Path) -> None:
    table = tmp_path / "my-codes.tsv"
    table.write_text(
        "code\tcategory\tflags\tmsg\tdescription\tsource\n"
        "10000\tpending\t\tAccepted\tThe result follows.\tKnipp support\n",
        encoding="utf-8",
    )
    paths = [
        f"samples/knipp/{name}.txt"
        for name in (
            "02-registration-success",
            "03-registration-object-exists",
            "08-transfer-in-completed",
        )
    ]
    done = run("parse", "--jobs", "2", "--codes", table, *paths)
    assert done.status == 0, done.err
    assert [r["result"]["category"] for r in done.records] == ["pending", "conflict", "pending"]


# -------------------------------------------------------------------------------------------
# Authenticity
# -------------------------------------------------------------------------------------------


def test_require_authentic() -> None:
    authentic = "samples/mail/plain-single.eml"
    done = run(
        "parse",
        "--require-authentic",
        authentic,
        "samples/mail/spoofed-sender.eml",
        "samples/mail/idn-domain.eml",
    )
    assert done.status == 0
    assert done.records == expected(authentic)
    assert done.err_lines == [
        "samples/mail/spoofed-sender.eml: skipped 1 response(s): not authentic (authentic=False)",
        "samples/mail/idn-domain.eml: skipped 1 response(s): not authentic (authentic=None)",
    ]


def test_trust_options(tmp_path: Path) -> None:
    message = tmp_path / "signed.eml"
    message.write_bytes(
        b"Authentication-Results: mx.test.example; dkim=pass header.d=knipp.de\n"
        b"From: DRS Robot <drs@knipp.de>\nSubject: done\n\n"
        + (SAMPLES / "knipp" / "02-registration-success.txt").read_bytes()
    )
    (record,) = run("parse", "--require-authentic", message).records
    assert record["authentic"] is True  # the topmost header counts by default

    mine = run("parse", "--require-authentic", "--authserv-id", "MX.test.example", message)
    assert [r["authentic"] for r in mine.records] == [True]
    other = run("parse", "--require-authentic", "--authserv-id", "mx.other.example", message)
    assert other.records == []
    assert other.err_lines == [f"{message}: skipped 1 response(s): not authentic (authentic=None)"]
    (untrusted,) = run("parse", "--trust-domain", "robot.example", message).records
    assert untrusted["authentic"] is False


# -------------------------------------------------------------------------------------------
# Quarantine
# -------------------------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def test_quarantine_and_replay(tmp_path: Path) -> None:
    box = mailbox.mbox(tmp_path / "box.mbox")
    box.add((SAMPLES / "mail" / "base64.eml").read_bytes())
    box.add(BAD_MESSAGE)
    box.close()
    quarantine = tmp_path / "quarantine"
    bad = "samples/invalid/malformed-line.txt"
    args = ("parse", "--quarantine", quarantine, bad, "missing.eml", tmp_path / "box.mbox")
    done = run(*args)
    assert done.status == 1
    errors = {r["source"]: r for r in done.records if r["type"] == "error"}
    assert list(errors) == [bad, "missing.eml", f"{tmp_path / 'box.mbox'}#2"]

    files = sorted(p.name for p in quarantine.iterdir())
    assert all(_SAFE_NAME.fullmatch(name) for name in files), files
    notes = {}
    for name in files:
        if name.endswith(".why.json"):
            note = json.loads((quarantine / name).read_text(encoding="utf-8"))
            assert note["drsparse"] == drsparse.__version__
            notes[note["error"]["source"]] = note
    assert len(files) == 5  # two messages and three notes
    for source, note in notes.items():
        assert note["error"] == errors[source]
    assert notes["missing.eml"]["message_file"] is None  # nothing could be read
    kept = quarantine / notes[bad]["message_file"]
    assert kept.read_bytes() == (ROOT / bad).read_bytes()
    from_mbox = quarantine / notes[f"{tmp_path / 'box.mbox'}#2"]["message_file"]
    assert from_mbox.read_bytes().rstrip(b"\n") == BAD_MESSAGE.rstrip(b"\n")

    # The same failures again: the same names, nothing added.
    assert run(*args).status == 1
    assert sorted(p.name for p in quarantine.iterdir()) == files

    # Replay: the messages fail as before (after an upgrade they would parse); the notes
    # beside them are not read as messages.
    replay = run("parse", quarantine)
    assert replay.status == 1
    assert sorted(r["source"] for r in replay.records) == sorted(
        str(quarantine / note["message_file"]) for note in notes.values() if note["message_file"]
    )
    for record in replay.records:
        assert (record["error"], record["line"], record["column"]) == (
            "MalformedLineError",
            6,
            1,
        )


def test_scan_quarantine(tmp_path: Path) -> None:
    done = run("scan", "--json", "--quarantine", tmp_path / "q", "samples/invalid")
    assert done.status == 1
    failed = json.loads(done.out)["failed_messages"]
    assert failed == len(INVALID) - 2
    assert len(list((tmp_path / "q").glob("*.eml"))) == failed
    assert len(list((tmp_path / "q").glob("*.why.json"))) == failed


# -------------------------------------------------------------------------------------------
# --mda
# -------------------------------------------------------------------------------------------


def test_mda_parsed_and_not_a_robot_mail() -> None:
    message = (SAMPLES / "mail" / "plain-single.eml").read_bytes()
    done = run("--mda", stdin=message)
    assert done.status == 0, done.err
    assert done.records == expected("samples/mail/plain-single.eml", source="-")
    # procmail hands over the mbox "From " line too.
    envelope = run("--mda", stdin=b"From drs@knipp.de  Fri Oct 25 09:15:02 2024\n" + message)
    assert envelope.status == 0, envelope.err
    assert envelope.records == done.records

    chat = run("--mda", "--format", "csv", stdin=b"From: a@example.org\nSubject: hi\n\nhello\n")
    assert chat.status == 0
    assert chat.out.splitlines() == [",".join(CSV_COLUMNS)]
    assert chat.err == ""


def test_mda_malformed_response_and_quarantine(tmp_path: Path) -> None:
    data = (SAMPLES / "invalid" / "malformed-line.txt").read_bytes()
    done = run("--mda", "--quarantine", tmp_path / "q", stdin=data)
    assert done.status == 65
    (error,) = done.records
    assert (error["source"], error["error"], error["line"], error["column"]) == (
        "-",
        "MalformedLineError",
        6,
        1,
    )
    assert done.err_lines == [error_line(error)]
    (kept,) = (tmp_path / "q").glob("stdin-*.eml")
    assert kept.read_bytes() == data
    note = json.loads(kept.with_name(kept.stem + ".why.json").read_text(encoding="utf-8"))
    assert note["error"] == error


def test_mda_temporary_failures(tmp_path: Path) -> None:
    # Standard input that cannot be read (open for writing only): the mail system retries.
    with open(tmp_path / "write-only", "wb") as stdin:
        unreadable = run("--mda", stdin=stdin)
    assert unreadable.status == 75
    assert "cannot read standard input" in unreadable.err

    # A malformed message whose copy cannot be kept: 75 rather than 65, which would bounce
    # the mail without a copy.
    (tmp_path / "not-a-folder").write_text("")
    data = (SAMPLES / "invalid" / "malformed-line.txt").read_bytes()
    lost = run("--mda", "--quarantine", tmp_path / "not-a-folder", stdin=data)
    assert lost.status == 75
    assert "cannot quarantine" in lost.err

    # A mistake in the mail rule must not bounce mail either.
    assert run("--mda", "--format", "xml", stdin=b"").status == 75


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_mda_output_cannot_be_written() -> None:
    message = (SAMPLES / "mail" / "plain-single.eml").read_bytes()
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "drsparse", "--mda"],
            input=message,
            stdout=full,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
    assert done.returncode == 75
    assert b"cannot write the records" in done.stderr


# -------------------------------------------------------------------------------------------
# scan
# -------------------------------------------------------------------------------------------


def _counts_of_samples() -> tuple[int, int, Counter[str]]:
    """Files under samples/, responses the samples hold, and the classes of their errors."""
    files = [p for p in SAMPLES.rglob("*") if p.is_file() and not p.name.startswith(".")]
    responses = sum(
        len(expected(p.relative_to(ROOT).as_posix()))
        for folder in VALID_DIRS
        for p in (ROOT / folder).iterdir()
        if p.suffix in (".txt", ".eml")
    )
    errors: Counter[str] = Counter()
    for path in INVALID:
        name = json.loads(path.with_suffix(".error.json").read_text(encoding="utf-8"))["error"]
        if name not in NOT_ERRORS_HERE:
            errors[name] += 1
    return len(files), responses + 2, errors  # + the two of several-responses.txt


def test_scan_summary() -> None:
    done = run("scan", "--json", "samples/")
    assert done.status == 1
    summary = json.loads(done.out)
    files, responses, errors = _counts_of_samples()
    assert summary["messages"] == files
    assert summary["responses"] == responses
    assert summary["errors"] == dict(errors)
    assert summary["failed_messages"] == sum(errors.values())
    assert sum(row["count"] for row in summary["codes"]) == responses
    assert sum(summary["categories"].values()) == responses
    assert sum(summary["status"].values()) == responses
    assert sum(summary["authentic"].values()) == responses
    assert {"registry.id", "ns.N.ipv4"} <= set(summary["unknown_keys"])
    assert {"code": 23300, "msg": "Object not delegated"}.items() <= next(
        row for row in summary["attention"] if row["code"] == 23300
    ).items()
    assert summary["warnings"]["total"] >= len(summary["warnings"]["top"]) > 0
    assert summary["bytes"] > 0
    # On a pipe: the error lines, no progress bar.
    assert len(done.err_lines) == summary["failed_messages"]
    assert "\r" not in done.err


def test_scan_text() -> None:
    done = run("scan", "samples/knipp")
    assert done.status == 0
    assert done.err == ""
    assert done.out.startswith("messages ")
    assert "36 read: 18 with responses, 0 failed" in done.out
    assert re.search(r"^  10000  done +\d+  Command completed successfully$", done.out, re.M)
    assert "\nsub-results needing attention\n" in done.out


def _scan_on_a_terminal(*options: str) -> bytes:
    """What ``scan`` writes on standard error when it is a pseudo-terminal."""
    import fcntl
    import struct
    import termios

    main, child = os.openpty()
    # A new pseudo-terminal has 0 columns, where tqdm draws nothing; a real one has some.
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "drsparse", "scan", *options, "samples/knipp"],
        stdout=subprocess.PIPE,
        stderr=child,
        cwd=ROOT,
    )
    os.close(child)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    assert process.stdout is not None
    assert b"18 with responses" in process.stdout.read()
    process.stdout.close()
    assert process.wait(timeout=60) == 0
    return seen


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_progress_bar_on_a_terminal_only() -> None:
    assert b" msg" in _scan_on_a_terminal()  # tqdm's counter, "36 msg [...]"
    assert b" msg" not in _scan_on_a_terminal("--no-progress")
    # Forced on a pipe; off by default there (test_scan_summary).
    forced = run("scan", "--progress", "samples/knipp")
    assert " msg" in forced.err


# -------------------------------------------------------------------------------------------
# Help and version
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--help",), ("parse", "scan", "explain", "codes", "--mda", "examples:")),
        (("parse", "--help"), ("--format", "--quarantine", "jq", "cron", "exit status")),
        (("scan", "--help"), ("--jobs", "--progress", "--json", "exit status")),
        (("--mda", "--help"), ("procmail", "maildrop", "65", "75")),
    ],
)
def test_help_has_examples(args: Sequence[str], words: Sequence[str]) -> None:
    done = run(*args)
    assert done.status == 0
    for word in words:
        assert word in done.out, word


def test_version() -> None:
    done = run("--version")
    assert (done.status, done.out) == (0, f"drsparse {drsparse.__version__}\n")


def test_the_table_says_when_a_mail_is_not_the_robots() -> None:
    done = run("parse", "--format", "table", "samples/mail/spoofed-sender.eml")
    (row,) = done.out.splitlines()[1:]
    assert "NO (spoofed?)" in row


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_records_come_as_the_messages_are_parsed(jobs: str) -> None:
    # A slow pipe (a mailbox being written): the first message's record is out while the
    # writer has not finished, as soon as the next message begins.
    message = (SAMPLES / "mail" / "plain-single.eml").read_bytes()
    envelope = b"From robot@knipp.de Wed Oct 23 15:31:09 2024\n"
    with subprocess.Popen(
        [sys.executable, "-m", "drsparse", "parse", "--jobs", jobs],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            process.stdin.write(envelope + message + b"\n" + envelope)
            process.stdin.flush()
            first = json.loads(process.stdout.readline())  # waits until the record is out
            assert first["source"] == "-#1"
            process.stdin.write(message)
            process.stdin.close()
            second = json.loads(process.stdout.readline())
            assert second["source"] == "-#2"
            assert process.wait(timeout=60) == 0
        finally:
            process.kill()


def test_a_run_imports_nothing_it_does_not_need() -> None:
    # A mail pipe starts drsparse for every e-mail: argparse's own formatter would import
    # shutil for the terminal width, the ledger, IMAP and test-kit commands their modules.
    script = (
        "import sys, drsparse._cli as c; c.main(['parse', sys.argv[1]]); "
        "print(sorted({'shutil', 'sqlite3', 'imapclient', 'drsparse.testing._mails', "
        "'drsparse.ledger._store', 'dateutil', 'lark'} & set(sys.modules)), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(SAMPLES / "mail" / "robot-multipart.eml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stderr.strip() == "[]"
