"""read_messages and parse_messages: mbox and Maildir fixtures built with the mailbox module."""

from __future__ import annotations

import contextlib
import email
import io
import mailbox
import os
import re
import sys
import tempfile
import tracemalloc
from collections.abc import Iterator
from email.message import Message
from email.policy import compat32
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drsparse import (
    DrsParseError,
    LimitExceededError,
    Limits,
    MissingKeyError,
    UnreadableInputError,
    _mailbox,
    testing,
)
from drsparse._mailbox import (
    Files,
    MailItem,
    Span,
    parse_messages,
    read_messages,
    read_span,
    read_spans,
)


def robot_mail(number: int, body_extra: str = "") -> Message:
    """A signed robot mail of the test kit for ``acme{number}.de``, its Message-ID
    ``<{number}@drs.knipp.de>``, with the lines ``body_extra`` at the start of its body."""
    response = testing.response(10000, domain=f"acme{number}.de")
    data = testing.robot_mail(response, shape="plain", message_id=f"<{number}@drs.knipp.de>")
    head, _, body = data.partition(b"\n\n")
    return email.message_from_bytes(head + b"\n\n" + body_extra.encode() + b"\n" + body)


def items(path: str | Path | None, **kw: Limits) -> list[MailItem]:
    return list(read_messages(path, **kw))


Described = list[tuple[str, bytes | None, tuple[str, ...], str]]


def described(found: list[MailItem]) -> Described:
    """What each item holds, its error in words (errors compare as objects, not as values)."""
    return [(item.source, item.data, item.warnings, repr(item.error)) for item in found]


def read(path: str | Path, *, limits: Limits | None = None) -> Described:
    return described(items(path, limits=limits or Limits()))


def spanned(
    path: str | Path, *, messages: int = 2, size: int = 1 << 20, limits: Limits | None = None
) -> Described:
    """The messages of ``path`` as worker processes read them: in spans, each read alone."""
    limits = limits or Limits()
    found: list[MailItem] = []
    for unit in read_spans(str(path), limits=limits, messages=messages, size=size):
        found += [unit] if isinstance(unit, MailItem) else read_span(unit, limits=limits)
    return described(found)


def message_ids(found: list[MailItem]) -> list[str | None]:
    ids = []
    for item in found:
        assert item.data is not None, item.error
        ids.append(email.message_from_bytes(item.data, policy=compat32)["Message-ID"])
    return ids


# -------------------------------------------------------------------------------------------
# mbox
# -------------------------------------------------------------------------------------------

# Body lines an mbox writer must escape, and one it must leave alone.
TRICKY = "From the robot, with love\n>From the quoted robot\n\nFrom here on\nFromage\n"


@pytest.fixture
def mbox_path(tmp_path: Path) -> Path:
    path = tmp_path / "inbox"
    box = mailbox.mbox(path)
    for number in range(1, 6):
        box.add(robot_mail(number, TRICKY if number == 2 else ""))
    box.flush()
    box.close()
    return path


def test_mbox_agrees_with_the_mailbox_module(mbox_path: Path) -> None:
    found = items(mbox_path)
    assert [item.source for item in found] == [f"{mbox_path}#{n}" for n in range(1, 6)]
    box = mailbox.mbox(mbox_path)
    theirs = [box.get_bytes(key) for key in box.iterkeys()]
    box.close()
    assert len(found) == len(theirs)
    for item, their_bytes in zip(found, theirs, strict=True):
        # mailbox.mbox escapes "From " lines when writing and leaves them escaped when
        # reading; the reader here undoes the escape, which is the only difference.
        assert item.data == re.sub(rb"(?m)^>(>*From )", rb"\1", their_bytes)


def test_mbox_restores_escaped_lines(mbox_path: Path) -> None:
    second = items(mbox_path)[1]
    assert second.data is not None
    body = email.message_from_bytes(second.data, policy=compat32).get_payload()
    # mailbox.mbox writes mboxo, which leaves ">From " alone, so that line cannot come back
    # as it was: an mbox reader must choose, and this one reads mboxrd (see the next test).
    assert TRICKY.replace(">From", "From") in body


def test_mboxrd_unescaping(tmp_path: Path) -> None:
    path = tmp_path / "rd"
    path.write_bytes(
        b"From a@b Mon Oct 21 10:00:00 2024\nSubject: x\n\n"
        b">From one\n>>From two\n>>>From three\n> From four\n>Fromage\n"
    )
    (item,) = items(path)
    assert item.data == b"Subject: x\n\nFrom one\n>From two\n>>From three\n> From four\n>Fromage\n"


@pytest.mark.parametrize("ending", [b"\r\n", b"\r"])
def test_mbox_line_endings(mbox_path: Path, tmp_path: Path, ending: bytes) -> None:
    other = tmp_path / "other-endings"
    other.write_bytes(mbox_path.read_bytes().replace(b"\n", ending))
    lf = items(mbox_path)
    found = items(other)
    assert [item.source.rpartition("#")[2] for item in found] == ["1", "2", "3", "4", "5"]
    assert spanned(other) == described(found)
    for mine, reference in zip(found, lf, strict=True):
        assert mine.data is not None
        assert mine.data.replace(ending, b"\n") == reference.data


def test_mbox_split_needs_blank_line_and_date(tmp_path: Path) -> None:
    path = tmp_path / "box"
    path.write_bytes(
        b"From drs@knipp.de Mon Oct 21 10:00:00 2024\n"
        b"Subject: one\n\nbody\nFrom drs@knipp.de Mon Oct 21 10:00:00 2024\n"  # no blank before
        b"\nFrom the robot, no date\nstill one\n"
        b"\nFrom - Tue Oct 22 11:00:00 2024\nSubject: two\n\nbody two\n"
    )
    found = items(path)
    assert [item.source for item in found] == [f"{path}#1", f"{path}#2"]
    assert spanned(path, messages=1) == described(found)
    assert found[0].data is not None
    assert found[0].data.endswith(b"\nFrom the robot, no date\nstill one\n")
    assert found[1].data == b"Subject: two\n\nbody two\n"


def test_long_lines_and_chunk_boundaries(tmp_path: Path) -> None:
    # A line far longer than a read chunk, and CRLFs that straddle chunk boundaries.
    long_line = b"x" * 200_000
    crlf_box = b"".join(
        b"From a@b Mon Oct 21 10:00:00 2024\r\nSubject: %d\r\n\r\n" % n
        + b"y" * (65_536 - 40 + n)
        + b"\r\n\r\n"
        for n in range(6)
    )
    path = tmp_path / "box"
    path.write_bytes(
        b"From a@b Mon Oct 21 10:00:00 2024\nSubject: long\n\n" + long_line + b"\n\n" + crlf_box
    )
    found = items(path)
    assert len(found) == 7
    assert spanned(path, messages=3) == spanned(path, messages=1) == described(found)
    assert found[0].data == b"Subject: long\n\n" + long_line + b"\n"
    for n, item in enumerate(found[1:]):
        assert item.data == b"Subject: %d\r\n\r\n" % n + b"y" * (65_536 - 40 + n) + b"\r\n"


def test_a_crlf_is_never_cut_in_two(tmp_path: Path) -> None:
    # A line whose CR is the last byte of a chunk's worth: cut between CR and LF, the LF would
    # read as a blank line, and the "From " line after it as the start of a message.
    for length in range(16 * 1024 - 3, 16 * 1024 + 3):
        path = tmp_path / f"box{length}"
        body = b"y" * length + b"\r\nFrom a@b Mon Oct 21 10:00:00 2024\r\n"
        path.write_bytes(b"From a@b Mon Oct 21 10:00:00 2024\r\nSubject: x\r\n\r\n" + body)
        (item,) = items(path)
        assert item.data == b"Subject: x\r\n\r\n" + body
        assert spanned(path) == described([item])


def test_mbox_memory_stays_flat(tmp_path: Path) -> None:
    path = tmp_path / "big"
    message = b"From a@b Mon Oct 21 10:00:00 2024\nSubject: x\n\n" + b"line of text\n" * 400 + b"\n"
    path.write_bytes(message * 400)  # 2 MB
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_messages(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 400
    # A chunk, a message and their copies: far less than the file.
    assert peak < path.stat().st_size // 3, peak


def test_mbox_message_beyond_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "box"
    box = mailbox.mbox(path)
    for number, extra in ((1, ""), (2, "z" * 5000), (3, "")):
        box.add(robot_mail(number, extra))
    box.flush()
    box.close()
    # The kit's mails are some 1.9 KB; the second carries 5,000 bytes more.
    found = items(path, limits=Limits(max_message_bytes=4000))
    assert [item.source for item in found] == [f"{path}#{n}" for n in (1, 2, 3)]
    assert spanned(path, limits=Limits(max_message_bytes=4000)) == described(found)
    assert found[0].data is not None
    assert found[2].data is not None
    assert isinstance(found[1].error, LimitExceededError)
    assert found[1].error.source == f"{path}#2"
    assert found[1].data is None


# -------------------------------------------------------------------------------------------
# Spans: an mbox read by several processes
# -------------------------------------------------------------------------------------------

# Lines that start a message, or may, or must not; and lines of every other kind.
_FROM_LINES = [
    b"From a@b Mon Oct 21 10:00:00 2024",
    b"From a@b",  # without a date: a separator only when a header follows
    b"From MAILER-DAEMON x",
    b"From the robot 1:23",
    b"From ",
]
_OTHER_LINES = [b"", b"Subject: x", b"x-a: b", b"body", b">From q", b">>From q", b"From: a@b"]
_line = st.one_of(
    st.sampled_from(_FROM_LINES + _OTHER_LINES),
    # Long lines: cut in pieces at the small chunk sizes below.
    st.builds(lambda n, end: b"x" * n + end, st.integers(0, 70), st.sampled_from(_FROM_LINES)),
    # A blank line and a "From " line, whatever their line breaks.
    st.builds(
        lambda blank, brk, line: blank + brk + line,
        st.sampled_from([b"", b"\r", b"\n"]),
        st.sampled_from([b"\n", b"\r\n", b"\r"]),
        st.sampled_from(_FROM_LINES),
    ),
)
_mboxes = st.lists(
    st.tuples(_line, st.sampled_from([b"\n", b"\r\n", b"\r", b""])), max_size=50
).map(lambda lines: _FROM_LINES[0] + b"\n" + b"".join(line + brk for line, brk in lines))


@contextlib.contextmanager
def reading_sizes(chunk: int, block: int) -> Iterator[None]:
    """Smaller read sizes: the edge cases of a few megabytes (a line cut in pieces, a "From "
    at the end of a block) in a file of a few hundred bytes."""
    saved = _mailbox._CHUNK, _mailbox._BLOCK
    _mailbox._CHUNK, _mailbox._BLOCK = chunk, block
    try:
        yield
    finally:
        _mailbox._CHUNK, _mailbox._BLOCK = saved


@settings(max_examples=400, deadline=None)
@given(
    data=_mboxes,
    chunk=st.sampled_from([8, 13, 40, 16 * 1024]),
    block=st.sampled_from([1, 7, 64, 1 << 20]),
    span=st.tuples(st.sampled_from([1, 2, 16]), st.sampled_from([1, 100, 1 << 20])),
    limit=st.sampled_from([30, 200, 1 << 20]),
)
def test_spans_read_as_the_whole_file_reads(
    data: bytes, chunk: int, block: int, span: tuple[int, int], limit: int
) -> None:
    # The worker processes of --jobs read an mbox file in spans that the search for "From "
    # lines found: the same messages, numbers, bytes, warnings and errors as one reader.
    with tempfile.TemporaryDirectory() as folder, reading_sizes(chunk, block):
        path = Path(folder) / "box"
        path.write_bytes(data)
        limits = Limits(max_message_bytes=limit)
        messages, size = span
        assert spanned(path, messages=messages, size=size, limits=limits) == read(
            path, limits=limits
        )


def test_spans_of_a_large_mbox(mbox_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "large"
    with open(path, "wb") as large:
        for _ in range(300):  # 3 MB: several blocks of the search
            large.write(mbox_path.read_bytes())
    units = list(read_spans(str(path), limits=Limits(), messages=64, size=1 << 20))
    spans = [unit for unit in units if isinstance(unit, Span)]
    assert len(spans) == len(units)
    assert [span.messages for span in spans[:2]] == [64, 64]
    assert sum(span.messages for span in spans) == 1500
    assert spanned(path, messages=64) == read(path)


def test_a_span_of_a_file_that_changed(mbox_path: Path) -> None:
    (_, second) = read_spans(str(mbox_path), limits=Limits(), messages=3, size=1 << 20)
    assert isinstance(second, Span)
    assert (second.first, second.messages) == (4, 2)
    mbox_path.write_bytes(mbox_path.read_bytes()[: second.offset + 100])  # cut short
    found = list(read_span(second, limits=Limits()))
    assert [item.source for item in found] == [f"{mbox_path}#4", f"{mbox_path}#4"]
    assert isinstance(found[-1].error, UnreadableInputError)
    assert "the mbox changed while it was read: 2 message(s)" in str(found[-1].error)
    mbox_path.unlink()
    gone = list(read_span(second, limits=Limits()))
    assert [item.source for item in gone] == [f"{mbox_path}#4", f"{mbox_path}#5"]
    assert all(isinstance(item.error, UnreadableInputError) for item in gone)


def test_spans_of_what_is_not_an_mbox_file(tmp_path: Path, mbox_path: Path) -> None:
    (tmp_path / "one.eml").write_bytes(robot_mail(1).as_bytes())
    maildir = tmp_path / "Maildir"
    (maildir / "new").mkdir(parents=True)
    (maildir / "new" / "1").write_bytes(robot_mail(2).as_bytes())
    (maildir / "new" / "2").write_bytes(mbox_path.read_bytes())
    (maildir / "new" / "3").symlink_to(tmp_path / "vanished")
    for path in (tmp_path / "one.eml", tmp_path / "missing"):
        # Read here, as read_messages reads them: a message, an error.
        (unit,) = read_spans(str(path), limits=Limits(), messages=2, size=1 << 20)
        assert isinstance(unit, MailItem)
        assert spanned(path) == read(path)
    for path in (maildir, tmp_path):
        # The files of a folder go by name, an mbox among them too (as spans if large).
        assert spanned(path) == read(path)
        assert spanned(path, size=100) == read(path)
    new = [str(maildir / "new" / name) for name in ("1", "2", "3")]
    units = list(read_spans(str(maildir), limits=Limits(), messages=2, size=1 << 20))
    assert units == [Files((new[0], new[1])), Files((new[2],))]
    units = list(read_spans(str(maildir), limits=Limits(), messages=2, size=3000))
    assert [type(unit) for unit in units] == [Files, Span, Span, Span, Files]
    assert [units[0], units[-1]] == [Files((new[0],)), Files((new[2],))]


# -------------------------------------------------------------------------------------------
# Maildir and folder trees
# -------------------------------------------------------------------------------------------


def test_maildir(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir")
    for number in range(1, 5):
        entry = mailbox.MaildirMessage(robot_mail(number))
        if number % 2:
            entry.set_subdir("cur")
        box.add(entry)
    box.add_folder("Sent")  # a Maildir++ folder: hidden, not read
    found = items(tmp_path / "Maildir")
    assert sorted(map(str, message_ids(found))) == [f"<{n}@drs.knipp.de>" for n in range(1, 5)]
    assert len(found) == len(box)
    names = [Path(item.source).name for item in found]
    assert names == sorted(names)
    assert {Path(item.source).parent.name for item in found} == {"cur", "new"}


def test_tree(tmp_path: Path) -> None:
    (tmp_path / "b" / "deeper").mkdir(parents=True)
    (tmp_path / "a").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ("b/deeper/2.eml", "a/1.eml", "c.eml", ".hidden/x.eml", "a/.DS_Store"):
        (tmp_path / name).write_bytes(robot_mail(len(name)).as_bytes())
    box = mailbox.mbox(tmp_path / "b" / "archive")
    box.add(robot_mail(7))
    box.add(robot_mail(8))
    box.close()
    found = items(tmp_path)
    assert [os.path.relpath(item.source, tmp_path) for item in found] == [
        "a/1.eml",
        "b/archive#1",
        "b/archive#2",
        "b/deeper/2.eml",
        "c.eml",
    ]


def test_single_file(tmp_path: Path) -> None:
    path = tmp_path / "one.eml"
    path.write_bytes(robot_mail(1).as_bytes())
    (item,) = items(path)
    assert item == MailItem(str(path), data=path.read_bytes())
    (only,) = items(str(path), limits=Limits(max_message_bytes=10))
    assert isinstance(only.error, LimitExceededError)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert items(path) == [MailItem(str(path), data=b"")]


def test_unreadable(tmp_path: Path) -> None:
    for path in (tmp_path / "missing", "nul\0in-path"):
        (item,) = items(path)
        assert item.data is None
        assert isinstance(item.error, UnreadableInputError)
        assert item.error.source == str(path)


def test_unreadable_file_in_a_tree(tmp_path: Path) -> None:
    # A dangling symbolic link: listed in the tree, unreadable even for root (as CI runs).
    (tmp_path / "a.eml").write_bytes(robot_mail(1).as_bytes())
    (tmp_path / "b.eml").symlink_to(tmp_path / "vanished.eml")
    (tmp_path / "c.eml").write_bytes(robot_mail(3).as_bytes())
    found = items(tmp_path)
    assert [item.error is None for item in found] == [True, False, True]


def test_stdin(monkeypatch: pytest.MonkeyPatch, mbox_path: Path) -> None:
    class Stdin:
        def __init__(self, data: bytes) -> None:
            self.buffer = io.BytesIO(data)

    one = robot_mail(1).as_bytes()
    monkeypatch.setattr(sys, "stdin", Stdin(one))
    assert items(None) == [MailItem("-", data=one)]
    monkeypatch.setattr(sys, "stdin", Stdin(mbox_path.read_bytes()))
    assert [item.source for item in items("-")] == [f"-#{n}" for n in range(1, 6)]
    for limit in (len(one) - 1, 10):  # beyond the limit within the first chunk read, too
        monkeypatch.setattr(sys, "stdin", Stdin(one + b"x" * 100_000))
        (item,) = items("-", limits=Limits(max_message_bytes=limit))
        assert isinstance(item.error, LimitExceededError)
        assert sys.stdin.buffer.tell() <= 64 * 1024 + limit + 1  # read no further than needed


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_file_that_fails_to_read() -> None:
    # /proc/self/mem opens, but reading at offset 0 fails with an I/O error.
    (item,) = items("/proc/self/mem")
    assert isinstance(item.error, UnreadableInputError)
    assert item.error.source == "/proc/self/mem"


def test_stream_that_fails_in_the_middle_of_an_mbox(
    monkeypatch: pytest.MonkeyPatch, mbox_path: Path
) -> None:
    class Failing:
        """A pipe that breaks after its first chunk."""

        def __init__(self, data: bytes) -> None:
            self.chunks = [data]

        def read(self, size: int = -1) -> bytes:
            if not self.chunks:
                raise OSError(5, "Input/output error")
            return self.chunks.pop()

    class Stdin:
        buffer = Failing(mbox_path.read_bytes()[:5000])

    monkeypatch.setattr(sys, "stdin", Stdin())
    found = items("-")
    # The message being read when the pipe broke is the one reported.
    assert found[-1].source == f"-#{len(found)}"
    assert found[-1].data is None
    assert isinstance(found[-1].error, UnreadableInputError)
    assert all(item.error is None for item in found[:-1])
    assert len(found) >= 2


# -------------------------------------------------------------------------------------------
# parse_messages
# -------------------------------------------------------------------------------------------


def test_parse_messages_goes_on_after_a_broken_message(tmp_path: Path) -> None:
    path = tmp_path / "box"
    box = mailbox.mbox(path)
    box.add(robot_mail(1))
    broken = robot_mail(2)
    broken.set_payload("### DRS Response\n###\ndomain.name: acme2.de\n")
    box.add(broken)
    box.add(robot_mail(3))
    box.close()
    outcomes = list(parse_messages(path))
    assert [source for source, _ in outcomes] == [f"{path}#{n}" for n in (1, 2, 3)]
    first, second, third = (outcome for _, outcome in outcomes)
    assert isinstance(first, list)
    assert isinstance(third, list)
    assert [r.domain for r in first + third] == ["acme1.de", "acme3.de"]
    assert first[0].origin is not None
    assert first[0].origin.source == f"{path}#1"
    assert isinstance(second, MissingKeyError)
    assert (second.source, second.line) == (f"{path}#2", 1)


def test_parse_messages_reports_unreadable_input(tmp_path: Path) -> None:
    ((source, outcome),) = list(parse_messages(tmp_path / "missing"))
    assert source == str(tmp_path / "missing")
    assert isinstance(outcome, DrsParseError)
