"""The mailbox stage: a path (or standard input) in, its messages out, one at a time.

What users point drsparse at is whatever their mail system keeps: a single message file, an
mbox, a Maildir, a folder tree of ``.eml`` files, or a pipe. :func:`read_messages` tells them
apart and yields the raw bytes of each message with a label saying where it came from:

* a directory with ``cur/`` or ``new/`` is a Maildir: the files of both, sorted by name
  (Maildir names start with the delivery time);
* any other directory is a tree: every regular file in it, folders and files sorted by
  name, hidden ones (``.name``) skipped; each file is read as below;
* a file (or standard input, ``-``) whose first line is an mbox ``From `` line is an mbox,
  detected by content whatever the file is called; its messages are labelled ``path#1``,
  ``path#2`` ...;
* anything else is one message, labelled with its path.

Reading is lazy and memory stays flat: an mbox is read as a stream of lines, one message at
a time, and no message is held beyond :attr:`Limits.max_message_bytes`. A message that
cannot be read yields an item with its error, and the iteration goes on with the next one.

For ``--jobs``, :func:`read_spans` gives the same messages in parts that worker processes
read themselves (:func:`read_span`): spans of an mbox file, found by a search for the lines
that start its messages, and the names of a folder's files.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from typing import IO, NamedTuple

from attrs import evolve, frozen

from drsparse._codes import DEFAULT_CODES, CodeTable
from drsparse._errors import DrsParseError, LimitExceededError, UnreadableInputError
from drsparse._limits import DEFAULT_LIMITS, Limits, check_limits
from drsparse._mail import DEFAULT_TRUST, Trust, check_arguments, parse_message
from drsparse._model import Response

__all__ = [
    "Files",
    "MailItem",
    "Span",
    "parse_messages",
    "read_messages",
    "read_span",
    "read_spans",
    "with_warnings",
]

#: How much is read at a time from a file or pipe. Its lines are split at once, so a chunk of
#: short lines is a list of a thousand objects for a moment: small enough to keep memory flat.
_CHUNK = 16 * 1024
_CR, _LF = 13, 10


@frozen
class MailItem:
    """One message of an input: its label and either its raw bytes or why it cannot be read."""

    #: A path, ``path#N`` for the N-th message of an mbox (from 1), ``-`` for standard input.
    source: str
    data: bytes | None = None
    error: DrsParseError | None = None
    #: What the reader noticed about how the message was told apart (an mbox "From " line
    #: without a date); added to the warnings of each of its responses.
    warnings: tuple[str, ...] = ()


def read_messages(
    path: str | os.PathLike[str] | None, *, limits: Limits = DEFAULT_LIMITS
) -> Iterator[MailItem]:
    """Every message of a file, an mbox, a Maildir, a folder tree or (``None``/``"-"``) stdin.

    Lazily, in a stable order (see the module documentation for how the kind of input is
    told). Exactly one of ``data`` and ``error`` is set in each item; an error (a file that
    vanished, a permission, a message beyond ``limits.max_message_bytes``) ends nothing.

    Raises ``TypeError`` at the call (not at the first message) for a ``path`` that is no
    path or ``limits`` that are no :class:`~drsparse.Limits`.
    """
    check_limits("read_messages", limits)
    if path is not None and not isinstance(path, str | os.PathLike):
        raise TypeError(f"read_messages() takes a path (str), not {type(path).__name__}")
    return _messages(path, limits)


def _messages(path: str | os.PathLike[str] | None, limits: Limits) -> Iterator[MailItem]:
    if path is None or os.fspath(path) == "-":
        yield from _stream(sys.stdin.buffer, "-", limits, size=None)
        return
    name = os.fspath(path)
    try:
        mode = os.stat(name).st_mode
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        yield _unreadable(name, exc)
        return
    if stat.S_ISDIR(mode):
        yield from _directory(name, limits)
    else:
        # Not only regular files: a named pipe or /dev/stdin is read as a stream too.
        yield from _file(name, limits)


def parse_messages(
    path: str | os.PathLike[str] | None,
    *,
    include_quoted: bool = False,
    trust: Trust | None = None,
    limits: Limits = DEFAULT_LIMITS,
    codes: CodeTable = DEFAULT_CODES,
) -> Iterator[tuple[str, list[Response] | DrsParseError]]:
    """:func:`read_messages` and :func:`~drsparse.parse_message` in one: for each message,
    its label and either its responses (often none) or the error that stopped it.

    A broken message yields its error (with ``source`` filled in) and the iteration goes on.
    Invalid arguments raise ``TypeError`` at the call.
    """
    check_arguments("parse_messages", DEFAULT_TRUST if trust is None else trust, limits, codes)
    items = read_messages(path, limits=limits)
    return _parsed(items, include_quoted, trust, limits, codes)


def _parsed(
    items: Iterator[MailItem],
    include_quoted: bool,
    trust: Trust | None,
    limits: Limits,
    codes: CodeTable,
) -> Iterator[tuple[str, list[Response] | DrsParseError]]:
    for item in items:
        if item.data is None:
            yield item.source, item.error or UnreadableInputError("no data", source=item.source)
            continue
        try:
            responses = parse_message(
                item.data,
                include_quoted=include_quoted,
                trust=trust,
                limits=limits,
                source=item.source,
                codes=codes,
            )
        except DrsParseError as err:
            yield item.source, err
        else:
            yield item.source, with_warnings(responses, item.warnings)


def with_warnings(responses: list[Response], warnings: tuple[str, ...]) -> list[Response]:
    """``responses`` with the reader's ``warnings`` about their message added."""
    if not warnings:
        return responses
    return [evolve(response, warnings=response.warnings + warnings) for response in responses]


def _unreadable(source: str, exc: OSError | ValueError) -> MailItem:
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return MailItem(source, error=UnreadableInputError(f"cannot read: {reason}", source=source))


# -------------------------------------------------------------------------------------------
# Directories
# -------------------------------------------------------------------------------------------


def _directory(root: str, limits: Limits) -> Iterator[MailItem]:
    for found in _files(root):
        if isinstance(found, str):
            yield from _file(found, limits)
        else:
            yield found


def _files(root: str) -> Iterator[str | MailItem]:
    """The files of a folder in the order their messages are read, and the errors met."""
    subdirs = [os.path.join(root, sub) for sub in ("cur", "new")]
    if any(os.path.isdir(sub) for sub in subdirs):
        # A Maildir: the messages of cur/ and new/ together, in the order of their names.
        files: list[tuple[str, str]] = []
        for sub in subdirs:
            if os.path.isdir(sub):
                entries, error = _entries(sub)
                if error is not None:
                    yield error
                files += [(entry.name, entry.path) for entry in entries if _is_file(entry)]
        for _, file in sorted(files):
            yield file
        return
    # A tree, walked depth first in name order with an explicit stack: no recursion limit,
    # and an error in one folder is reported where it happens instead of ending the walk.
    stack: list[os.DirEntry[str] | str] = [root]
    while stack:
        entry = stack.pop()
        if isinstance(entry, os.DirEntry) and not _is_dir(entry):
            yield entry.path
            continue
        folder = entry if isinstance(entry, str) else entry.path
        entries, error = _entries(folder)
        if error is not None:
            yield error
        # A Maildir inside the tree: its tmp/ holds messages still being delivered.
        maildir = any(found.name in ("cur", "new") and _is_dir(found) for found in entries)
        kept: list[os.DirEntry[str]] = []
        for found in entries:
            if _is_dir(found):
                if not (maildir and found.name == "tmp"):
                    kept.append(found)
            elif _is_file(found):
                kept.append(found)
            elif _is_link_to_folder(found):
                # Not followed (a link may lead out of the tree, or round in a loop), but
                # said: a folder of mail must not go missing without a word.
                yield MailItem(
                    found.path,
                    error=UnreadableInputError(
                        "a link to a folder, not followed: name the folder itself to read it",
                        source=found.path,
                    ),
                )
        stack += reversed(kept)


def _entries(folder: str) -> tuple[list[os.DirEntry[str]], MailItem | None]:
    """The visible entries of a folder sorted by name, or the error reading it."""
    try:
        with os.scandir(folder) as found:
            entries = [entry for entry in found if not entry.name.startswith(".")]
    except OSError as exc:
        return [], _unreadable(folder, exc)
    return sorted(entries, key=lambda entry: entry.name), None


def _is_dir(entry: os.DirEntry[str]) -> bool:
    # Links to folders are not followed: a link loop would never end the walk.
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _is_link_to_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink() and entry.is_dir()
    except OSError:
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    # Only regular files (links to them too): a named pipe or a device in a tree would block.
    # A link to nothing counts as a file, so that reading it reports the broken link instead
    # of the message silently missing from the run.
    try:
        return entry.is_file() or (entry.is_symlink() and not os.path.exists(entry.path))
    except OSError:
        return False


# -------------------------------------------------------------------------------------------
# Files and streams
# -------------------------------------------------------------------------------------------


def _file(name: str, limits: Limits) -> Iterator[MailItem]:
    opened = _open(name)
    if isinstance(opened, MailItem):
        yield opened
        return
    handle, status = opened
    with handle:
        size = status.st_size if stat.S_ISREG(status.st_mode) else None
        yield from _stream(handle, name, limits, size=size)


def _open(name: str) -> tuple[IO[bytes], os.stat_result] | MailItem:
    """A file opened for reading, with its status; or an item saying why it cannot be."""
    try:
        handle = open(name, "rb")  # noqa: SIM115 - the caller closes it
    except OSError as exc:
        return _unreadable(name, exc)
    try:
        return handle, os.fstat(handle.fileno())
    except OSError as exc:
        handle.close()
        return _unreadable(name, exc)


# An mbox "From " line (RFC 4155): "From ", the envelope sender, and the date, which holds a
# time "hh:mm". The time keeps a body line like "From the robot:" from starting a message in
# an mbox whose writer did not escape it.
_FROM_ = re.compile(rb"From \S+ [^\r\n]*[0-9]:[0-9]{2}")
# The patterns of mboxes alone are compiled (and cached by re) when an mbox is read, not at
# every start of a mail pipe that reads one message.
# A "From " line without the date RFC 4155 requires, as some writers make them: the envelope
# sender, an address or MAILER-DAEMON. Taken for a separator only when a header follows.
_FROM_WITHOUT_DATE = rb"From (?:\S*@\S*|MAILER-DAEMON)(?:[ \t][^\r\n]*)?[\r\n]*\Z"
# A header field that starts a message (a line of a DRS block looks like a header too).
_MESSAGE_HEADER = (
    rb"(?i)(?:return-path|received|from|to|date|subject|message-id|delivered-to|reply-to|sender"
    rb"|mime-version|content-type|authentication-results|dkim-signature|arc-[a-z-]+"
    rb"|x-[!-9;-~]+)[ \t]*:"
)
# mboxrd: a writer adds one ">" in front of every body line that matches ">*From ".
_ESCAPED_FROM = rb">+From "
_BLANK_LINES = frozenset({b"\n", b"\r\n", b"\r"})


def _stream(
    handle: IO[bytes], source: str, limits: Limits, *, size: int | None
) -> Iterator[MailItem]:
    """The messages of an open file or pipe: an mbox if its first line says so, else one."""
    # read1 returns what a pipe holds now, where read would wait for a whole chunk: a message
    # of an mbox written slowly into a pipe is parsed (and its records written) as soon as the
    # next one starts, not when 64 KB have come together.
    read = getattr(handle, "read1", handle.read)
    try:
        first = read(_CHUNK)
        # The first line whole (or a chunk of it), to tell an mbox.
        while first and b"\n" not in first and len(first) < _CHUNK:
            more = read(_CHUNK - len(first))
            if not more:
                break
            first += more
    except OSError as exc:
        yield _unreadable(source, exc)
        return
    if _FROM_.match(first):
        yield from _mbox(_lines(read, first), source, limits)
        return
    if size is not None and size > limits.max_message_bytes:
        yield MailItem(source, error=_too_large(source, size, limits))
        return
    try:
        # One byte beyond the limit tells a pipe that is too long from one that fits.
        data = first + handle.read(max(limits.max_message_bytes + 1 - len(first), 0))
    except OSError as exc:
        yield _unreadable(source, exc)
        return
    if len(data) > limits.max_message_bytes:
        yield MailItem(source, error=_too_large(source, None, limits))
    else:
        yield MailItem(source, data=data)


def _too_large(source: str, size: int | None, limits: Limits) -> LimitExceededError:
    what = f"message of {size} bytes" if size is not None else "message"
    return LimitExceededError(
        f"{what} beyond the limit max_message_bytes={limits.max_message_bytes}", source=source
    )


def _lines(read: Callable[[int], bytes], first: bytes = b"") -> Iterator[bytes]:
    """The lines of a stream with their line breaks (LF, CRLF or bare CR), read in chunks.

    A line longer than a chunk comes in pieces (see :func:`_pieces`), so that one endless
    line never sits in memory whole; every piece but the last of such a line lacks a line
    break. Where the pieces fall depends on the line alone, not on where the chunks fall: a
    reader that starts at a line in the middle of a file (:func:`read_span`) sees the pieces
    that a reader from the start of the file sees. Raises OSError.
    """
    pending = b""
    chunk = first or read(_CHUNK)
    while chunk:
        # bytes.splitlines breaks at LF, CRLF and bare CR only, in C: most of the time of a
        # sweep over an mbox went into finding line breaks one match at a time.
        lines = (pending + chunk).splitlines(keepends=True)
        # The last line waits for the next chunk unless it is whole: without its line break,
        # or ending in a CR that may be the first half of a CRLF.
        pending = b"" if lines[-1].endswith(b"\n") else lines.pop()
        if lines and max(map(len, lines)) > _CHUNK:
            lines = [piece for line in lines for piece in _pieces(line)]
        yield from lines
        if len(pending) > _CHUNK:
            *whole, pending = _pieces(pending)
            yield from whole
        chunk = read(_CHUNK)
    if pending:
        yield pending


def _pieces(line: bytes) -> list[bytes]:
    """A line (or the start of one) in pieces of a chunk, counted from its start, the last
    with the rest: a line of up to a chunk is one piece. A CRLF is never cut in two (a piece
    ending in CR ends a line), and a line holds a CR only at its end."""
    pieces = []
    while len(line) > _CHUNK:
        cut = _CHUNK - (line[_CHUNK - 1] == _CR)
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return pieces


def _mbox(
    lines: Iterator[bytes], source: str, limits: Limits, *, first: int = 1
) -> Iterator[MailItem]:
    """The messages of an mbox, one at a time, numbered from ``first``.

    A message starts at a "From " line that starts the file or follows a blank line, and
    ends before the blank line in front of the next one (that blank line is the mbox's, not
    the message's). The "From " line itself is the mbox's envelope and is dropped, and the
    mboxrd escape is undone: ">From " becomes "From ", ">>From " becomes ">From ". A "From "
    line without its date starts a message too when a header follows it, with a warning.
    """
    number = first - 1
    begun = False  # whether a message has started
    message: list[bytes] = []
    size = 0
    too_large = False
    at_line_start = True  # whether the next piece starts a line
    after_blank = True  # whether the last complete line was blank (or there was none)
    warnings: tuple[str, ...] = ()
    escaped_from = re.compile(_ESCAPED_FROM)

    def finish() -> MailItem:
        label = f"{source}#{number}"
        if too_large:
            return MailItem(label, error=_too_large(label, None, limits))
        if message and message[-1] in _BLANK_LINES:
            message.pop()
        return MailItem(label, data=b"".join(message), warnings=warnings)

    try:
        for piece, undated in _undated_separators(lines):
            starts_line, at_line_start = at_line_start, piece.endswith((b"\n", b"\r"))
            if not starts_line:
                is_blank = False
            elif after_blank and (undated or _FROM_.match(piece)):
                if begun:
                    yield finish()
                number += 1
                begun = True
                message, size, too_large, warnings = [], 0, False, ()
                if undated:
                    line = piece.strip().decode("latin-1")
                    warnings = (
                        f"the mbox line {line!r} before this message has no date (RFC 4155): "
                        "taken as the start of a message, because headers follow it",
                    )
                after_blank = False
                continue
            else:
                is_blank = piece in _BLANK_LINES
                if piece.startswith(b">") and escaped_from.match(piece):
                    piece = piece[1:]  # noqa: PLW2901 - the line as the message had it
            if at_line_start:
                after_blank = starts_line and is_blank
            size += len(piece)
            if size > limits.max_message_bytes:
                too_large = True
                message = []  # keep reading to the next message, holding nothing
            elif not too_large:
                message.append(piece)
    except OSError as exc:
        yield _unreadable(f"{source}#{number + (not begun)}", exc)
        return
    if begun:
        yield finish()


def _undated_separators(lines: Iterator[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Each line, and whether it is a "From " line without a date followed by a header: a
    separator whose writer left the date out. The line after it is looked at first."""
    held: bytes | None = None
    message_header = re.compile(_MESSAGE_HEADER)
    from_without_date = re.compile(_FROM_WITHOUT_DATE)
    for line in lines:
        if held is not None:
            yield held, message_header.match(line) is not None
            held = None
        if (
            line.startswith(b"From ")
            and from_without_date.match(line)
            and not _FROM_.match(line)  # one with its date is known for what it is at once
        ):
            held = line
        else:
            yield line, False
    if held is not None:
        yield held, False


# -------------------------------------------------------------------------------------------
# Spans: an mbox file read by several processes
# -------------------------------------------------------------------------------------------


class Span(NamedTuple):
    """Messages of an mbox file, for another process to read (:func:`read_span`): ``messages``
    messages from the ``first``-th, in the ``length`` bytes from ``offset``, where the "From "
    line of the first starts. A named tuple: one crosses a process boundary per batch."""

    path: str
    offset: int
    length: int
    first: int
    messages: int


class Files(NamedTuple):
    """Files of a folder, for another process to read (:func:`read_span`) as
    :func:`read_messages` reads a file: each one message, or the messages of an mbox."""

    paths: tuple[str, ...]


def read_spans(
    path: str | None, *, limits: Limits, messages: int, size: int
) -> Iterator[MailItem | Span | Files]:
    """What :func:`read_messages` yields, but in parts for worker processes to read
    themselves: an mbox file as :class:`Span` of at most ``messages`` messages, ending with
    the first message that reaches ``size`` bytes, and the files of a folder as
    :class:`Files` in the same measure (a file larger than ``size`` as the spans of a file
    named by ``path``). Standard input and named pipes are read here.

    Telling where each message starts takes a search for "From " lines (:func:`_starts`), a
    fraction of the time that reading every line of the mbox takes.
    """
    if path is None or path == "-":
        yield from _messages(path, limits)
    elif os.path.isdir(path):
        group: list[str] = []
        group_size = 0
        for found in _files(path):
            found_size = 0 if isinstance(found, MailItem) else _size(found)
            if group and (isinstance(found, MailItem) or found_size > size):
                yield Files(tuple(group))  # what comes next is read here
                group, group_size = [], 0
            if isinstance(found, MailItem):
                yield found
            elif found_size > size:
                yield from _spans(found, limits, messages, size)
            else:
                group.append(found)
                group_size += found_size
                if len(group) >= messages or group_size >= size:
                    yield Files(tuple(group))
                    group, group_size = [], 0
        if group:
            yield Files(tuple(group))
    else:
        yield from _spans(path, limits, messages, size)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except (OSError, ValueError):
        return 0  # a file that cannot be read: its reader says why


def _spans(path: str, limits: Limits, messages: int, size: int) -> Iterator[MailItem | Span]:
    """The spans of an mbox file; the messages of any other file, read here."""
    opened = _open(path)
    if isinstance(opened, MailItem):
        yield opened
        return
    handle, status = opened
    with handle:
        try:
            # Not a named pipe or a device: they are read once, as they come.
            regular = stat.S_ISREG(status.st_mode)
            mbox = regular and _FROM_.match(handle.read(_CHUNK)) is not None
            if regular:
                handle.seek(0)
        except OSError as exc:
            yield _unreadable(path, exc)
            return
        if not mbox:
            yield from _stream(handle, path, limits, size=status.st_size if regular else None)
            return
        group: list[int] = []  # where the messages of the next span start
        number = 0  # the messages found
        try:
            for offset in _starts(handle.read):
                if group and (len(group) >= messages or offset - group[0] >= size):
                    yield Span(
                        path, group[0], offset - group[0], number - len(group) + 1, len(group)
                    )
                    group = []
                group.append(offset)
                number += 1
        except OSError as exc:  # a span of the messages whose end is known, then the error
            if len(group) > 1:
                yield Span(
                    path, group[0], group[-1] - group[0], number - len(group) + 1, len(group) - 1
                )
            yield _unreadable(f"{path}#{max(number, 1)}", exc)
            return
        # The last offset is where the file ends.
        if len(group) > 1:
            yield Span(
                path, group[0], group[-1] - group[0], number - len(group) + 1, len(group) - 1
            )


def read_span(span: Span | Files, *, limits: Limits) -> Iterator[MailItem]:
    """The messages of ``span``, as :func:`read_messages` reads them from the whole file.

    If the file changed since the span was found (an mbox rewritten while it was read), an
    error says so after the messages found.
    """
    if isinstance(span, Files):
        for path in span.paths:
            yield from _file(path, limits)
        return
    found = 0
    try:
        handle = open(span.path, "rb")  # noqa: SIM115 - closed below, after a lazy iteration
        handle.seek(span.offset)
    except OSError as exc:
        for number in range(span.first, span.first + span.messages):
            yield _unreadable(f"{span.path}#{number}", exc)
        return
    with handle:
        left = span.length

        def read(size: int) -> bytes:
            nonlocal left
            data = handle.read(min(size, left))
            left -= len(data)
            return data

        for item in _mbox(_lines(read), span.path, limits, first=span.first):
            found += 1
            yield item
    if found != span.messages:
        source = f"{span.path}#{span.first}"
        yield MailItem(
            source,
            error=UnreadableInputError(
                f"the mbox changed while it was read: {span.messages} message(s) were in its "
                f"bytes {span.offset} to {span.offset + span.length}, {found} are now",
                source=source,
            ),
        )


# Read at a time when searching for where messages start.
_BLOCK = 1 << 20


def _starts(read: Callable[[int], bytes]) -> Iterator[int]:
    """Where each message of an mbox starts (its "From " line), exactly as :func:`_mbox` tells
    them, and last where the mbox ends. Raises OSError.

    A message starts at a line that _mbox takes for a separator: one that starts with "From "
    and follows a blank line (so a line break is before it, and one of the blank lines LF,
    CRLF or CR before that). Every "From " in a block of the file is found by a search, and
    one after a line break is looked at as _mbox looks at it (see :func:`_separator`); the
    lines between are never split: that is what makes this fast.
    """
    # Enough bytes after a "From " line's start for the two pieces _mbox looks at to tell a
    # separator: the line's first, and the next (of the next line, or of the same long line).
    look_ahead = 2 * (_CHUNK + 2)
    buffer = b""
    base = 0  # the offset of buffer[0] in the file
    look = 0  # where in buffer the search for the next "From " goes on
    ended = False
    first = True
    while True:
        # Enough read to look at the line of any "From " found in the first half of a block.
        while not ended and len(buffer) - look <= look_ahead + _BLOCK // 2:
            more = read(_BLOCK)
            ended = not more
            # What was looked at already is dropped, but for the three bytes a blank line
            # and the line break before it take.
            keep = max(look - 3, 0)
            buffer, base, look = buffer[keep:] + more, base + keep, look - keep
        # The first line starts the first message when _mbox takes it for a separator
        # (always, but for a line longer than any mbox writer makes).
        if first and buffer and _separator(buffer, 0):
            yield 0
        first = False
        while True:
            # bytes.find, not a pattern: sre searches for "[\r\n]From " ten times slower.
            at = buffer.find(b"From ", look)
            if at < 0 or (not ended and at + look_ahead > len(buffer)):
                break
            look = at + 1
            if (
                at
                and buffer[at - 1] in (_CR, _LF)
                and _after_blank(buffer, at)
                and _separator(buffer, at)
            ):
                yield base + at
        if ended:
            yield base + len(buffer)
            return
        # Not looked at yet: a "From " too near the end, or one the end of the block cuts.
        look = at if at >= 0 else max(len(buffer) - 4, look)


def _after_blank(buffer: bytes, at: int) -> bool:
    """Whether the line before ``buffer[at]`` (which follows a line break) is a blank line."""
    if buffer[at - 1] == _LF:
        if at >= 2 and buffer[at - 2] == _LF:  # LF LF
            return True
        # CR LF is one line break: a blank line only after another line break.
        return at >= 3 and buffer[at - 2] == _CR and buffer[at - 3] in (_CR, _LF)
    return at >= 2 and buffer[at - 2] in (_CR, _LF)  # a bare CR after a line break


def _separator(buffer: bytes, at: int) -> bool:
    """Whether _mbox takes the line at ``buffer[at]`` for a separator if a blank line is
    before it: its first piece, and the next one for a "From " line without a date."""
    end = _piece_end(buffer, at)
    piece = buffer[at:end]
    if _FROM_.match(piece):
        return True
    if not re.match(_FROM_WITHOUT_DATE, piece):
        return False
    return re.match(_MESSAGE_HEADER, buffer[end : _piece_end(buffer, end)]) is not None


def _piece_end(buffer: bytes, at: int) -> int:
    """Where the piece of a line that starts at ``buffer[at]`` ends (see :func:`_pieces`)."""
    found = re.compile(_BREAK).search(buffer, at, at + _CHUNK + 2)
    if found is None or found.end() - at > _CHUNK:
        # A long line: _pieces cuts it a chunk in, or one byte before a CRLF there.
        return min(at + _CHUNK - (buffer[at + _CHUNK - 1 : at + _CHUNK] == b"\r"), len(buffer))
    return found.end()


_BREAK = rb"\r\n?|\n"
