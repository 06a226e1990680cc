"""The command's reading stage: paths in, an ordered stream of outcomes out.

``drsparse parse`` and ``drsparse scan`` read many messages the same way: every PATH through
:func:`~drsparse._mailbox.read_messages` (which tells a message, an mbox, a Maildir and a
folder tree apart), each message through :func:`~drsparse.parse_message`, and every response
into its schema-1 record. :func:`outcomes` yields one :class:`Outcome` per message, in input
order, whether the messages were parsed here or by ``--jobs N`` worker processes.

What crosses a process boundary is plain data: ``(source, bytes)`` to a worker, records
(dicts) and a :class:`~drsparse.DrsParseError` back (the errors pickle). At most
``IN_FLIGHT * N`` messages are held at once, so a 200 MB mbox is never read into memory.

:class:`Quarantine` is the other half of "one bad message never stops the run": it keeps a
copy of every message that failed, with a note saying why, to be replayed after an upgrade.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from drsparse._errors import DrsParseError
from drsparse._limits import DEFAULT_LIMITS, Limits
from drsparse._mail import DEFAULT_TRUST, Trust

if TYPE_CHECKING:
    from concurrent.futures import Future

    from drsparse._mailbox import MailItem

__all__ = [
    "IN_FLIGHT",
    "NOTE_SUFFIX",
    "Found",
    "InternalError",
    "Options",
    "Outcome",
    "Quarantine",
    "outcomes",
    "parse_one",
]

#: Messages in flight per worker process: enough to keep every worker busy while the main
#: process reads the next messages and writes the results, few enough to keep memory flat.
IN_FLIGHT = 4

#: The name ending of a quarantine note. Such files found inside a folder are skipped, so that
#: ``drsparse parse QUARANTINE`` replays the messages without reading the notes as messages.
NOTE_SUFFIX = ".why.json"


class InternalError(DrsParseError):
    """A bug in drsparse, met while reading one message.

    Reported like a bad message (an error record, a line on standard error, the message
    quarantined), so that a sweep over years of mail does not end at the first bug; the
    traceback goes to standard error. ``--mda`` exits 75 on it, so the mail is retried.
    """


class Options(NamedTuple):
    """How each message is read; the same in the main process and in every worker.

    A named tuple, not an attrs class: defining an attrs class costs about a millisecond at
    import, on the start-up path of every mail pipe.
    """

    include_quoted: bool = False
    trust: Trust = DEFAULT_TRUST
    limits: Limits = DEFAULT_LIMITS
    #: ``--codes`` files, loaded again in each worker: a worker started with ``spawn`` or
    #: ``forkserver`` does not inherit the tables the main process loaded.
    codes: tuple[str, ...] = ()


class Found(NamedTuple):
    """One response as the command writes it: its record and two decisions records lack."""

    record: dict[str, Any]
    #: ``Response.status``: succeeded, pending or failed.
    status: str
    #: The codes of ``Response.attention``: what a person must act on, even under a success.
    attention: tuple[int, ...]


class Outcome(NamedTuple):
    """What one message gave: its responses (often none), or the error that stopped it."""

    source: str
    found: list[Found]
    error: DrsParseError | None = None
    #: The raw message, kept only when it failed (for the quarantine); ``None`` when it
    #: could not be read at all.
    data: bytes | None = None
    #: Bytes read, for the throughput.
    size: int = 0


#: What parsing one message gives: the responses found, or the error that stopped it.
_Parsed = tuple[list[Found], DrsParseError | None]


def parse_one(source: str, data: bytes, options: Options) -> _Parsed:
    """The responses of one raw message as records, or the error that stopped it.

    Never raises: the command reports every failure as a record. This runs in worker
    processes, so it takes and returns plain, picklable data.
    """
    from drsparse._mail import parse_message
    from drsparse._records import response_record

    try:
        responses = parse_message(
            data,
            include_quoted=options.include_quoted,
            trust=options.trust,
            limits=options.limits,
            source=source,
        )
        return [
            Found(
                response_record(response),
                response.status,
                tuple(sub.code for sub in response.attention if sub.code is not None),
            )
            for response in responses
        ], None
    except DrsParseError as err:
        return [], err.with_source(source)
    except Exception as exc:  # a bug must not end a sweep: see InternalError
        return [], internal_error(source, exc)


def internal_error(source: str, exc: BaseException) -> InternalError:
    """``exc`` as an :class:`InternalError` of ``source``, its traceback on standard error."""
    import traceback

    print(f"drsparse: internal error while reading {source}; please report it:", file=sys.stderr)
    traceback.print_exception(exc, file=sys.stderr)
    return InternalError(
        f"internal error: {type(exc).__name__}: {exc} (a bug in drsparse; please report it)",
        source=source,
    )


def outcomes(paths: Sequence[str | None], options: Options, *, jobs: int = 1) -> Iterator[Outcome]:
    """One outcome per message of every path (``None`` or ``-``: standard input), in order.

    ``jobs`` above 1 parses in that many worker processes; the order stays the input's.
    """
    items = _items(paths, options.limits)
    if jobs <= 1:
        for item in items:
            yield _in_process(item, options)
    else:
        yield from _pooled(items, options, jobs)


def _items(paths: Sequence[str | None], limits: Limits) -> Iterator[MailItem]:
    from drsparse._mailbox import read_messages

    for path in paths or [None]:
        for item in read_messages(path, limits=limits):
            # A quarantine note found in a folder is not a message (a path named on the
            # command line is read, whatever its name: the user asked for it).
            if item.source != path and item.source.endswith(NOTE_SUFFIX):
                continue
            yield item


def _in_process(item: MailItem, options: Options) -> Outcome:
    if item.data is None:
        return _unreadable(item)
    found, error = parse_one(item.source, item.data, options)
    return _outcome(item.source, item.data, found, error)


def _unreadable(item: MailItem) -> Outcome:
    error = item.error or InternalError("the mail reader gave neither data nor an error")
    return Outcome(item.source, [], error.with_source(item.source))


def _outcome(source: str, data: bytes, found: list[Found], error: DrsParseError | None) -> Outcome:
    return Outcome(source, found, error, data if error is not None else None, len(data))


# -------------------------------------------------------------------------------------------
# Worker processes
# -------------------------------------------------------------------------------------------

_worker_options = Options()


def _start_worker(options: Options) -> None:
    import signal

    global _worker_options  # noqa: PLW0603 - one process, one set of options
    _worker_options = options
    # Ctrl-C reaches the whole process group: the main process ends the run, and workers
    # printing a KeyboardInterrupt traceback each would only bury its message.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from drsparse._codes import load_codes

    for path in options.codes:
        load_codes(path)  # checked by the main process already


def _work(source: str, data: bytes) -> _Parsed:
    return parse_one(source, data, _worker_options)


def _pooled(items: Iterable[MailItem], options: Options, jobs: int) -> Iterator[Outcome]:
    """The outcomes of ``items`` parsed by ``jobs`` processes, in the order of ``items``.

    Not ``executor.map``: it submits the whole iterable at once, which would read every
    message of an archive into memory before the first result comes back. Here a message is
    submitted only while fewer than ``IN_FLIGHT * jobs`` wait, and the oldest is waited for.
    """
    from concurrent.futures import ProcessPoolExecutor

    window: deque[tuple[MailItem, Future[_Parsed] | None]] = deque()
    pool = ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=(options,))
    try:
        for item in items:
            future = None if item.data is None else pool.submit(_work, item.source, item.data)
            window.append((item, future))
            if len(window) >= IN_FLIGHT * jobs:
                yield _collect(*window.popleft())
        while window:
            yield _collect(*window.popleft())
    finally:
        # Also when the consumer stops early (a closed pipe, Ctrl-C): drop what waits.
        pool.shutdown(wait=True, cancel_futures=True)


def _collect(item: MailItem, future: Future[_Parsed] | None) -> Outcome:
    if future is None or item.data is None:
        return _unreadable(item)
    found, error = future.result()
    return _outcome(item.source, item.data, found, error)


# -------------------------------------------------------------------------------------------
# Quarantine
# -------------------------------------------------------------------------------------------

# What a file name keeps of a source label; everything else becomes "_".
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_NAME_LENGTH = 60


class Quarantine:
    """A folder keeping every message that failed: ``NAME.eml`` and the note ``NAME.why.json``.

    ``NAME`` is the source label made safe for any file system (at most 60 characters of its
    end, characters other than ASCII letters, digits, ``.``, ``_`` and ``-`` replaced) and the
    start of the SHA-256 of the label and the message: two different failures never share a
    name, the same failure kept twice (a retried mail) is one file. The note holds the error
    record and the drsparse version. Files are written under a hidden temporary name and
    renamed, so that a reader (a replay, another ``--mda`` process) never sees half a file.
    Replay with ``drsparse parse FOLDER``: notes found in a folder are not read as messages.

    A failure without a message (a path that does not exist) gets a note alone.
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def keep(self, source: str, chunks: Iterable[bytes] | None, error: DrsParseError) -> str:
        """Keep the message (given as ``chunks`` of bytes) and its note; return the note's path.

        Raises OSError when the folder cannot be created or written.
        """
        import hashlib

        from drsparse._records import error_record

        os.makedirs(self.folder, exist_ok=True)
        digest = hashlib.sha256(source.encode("utf-8", "surrogateescape") + b"\0")
        message_tmp = None
        try:
            if chunks is not None:
                message_tmp = self._write_message(chunks, digest.update)
            name = f"{_safe_label(source)}-{digest.hexdigest()[:12]}"
            message_file = None
            if message_tmp is not None:
                message_file = name + ".eml"
                os.replace(message_tmp, os.path.join(self.folder, message_file))
                message_tmp = None
            note = {
                "drsparse": _version(),
                "message_file": message_file,
                "error": error_record(error, source),
            }
            return self._write_note(name + NOTE_SUFFIX, note)
        finally:
            if message_tmp is not None:
                _remove(message_tmp)

    def _write_message(self, chunks: Iterable[bytes], seen: Callable[[bytes], None]) -> str:
        """Write ``chunks`` to a hidden temporary file, passing each to ``seen``; its path."""
        import tempfile

        handle, path = tempfile.mkstemp(prefix=".tmp-", suffix=".eml", dir=self.folder)
        try:
            with os.fdopen(handle, "wb") as file:
                for chunk in chunks:
                    seen(chunk)
                    file.write(chunk)
        except BaseException:
            _remove(path)
            raise
        return path

    def _write_note(self, name: str, note: dict[str, Any]) -> str:
        import json
        import tempfile

        handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(note, file, ensure_ascii=False, indent=2)
                file.write("\n")
            path = os.path.join(self.folder, name)
            os.replace(temporary, path)
        except BaseException:
            _remove(temporary)
            raise
        return path


def _safe_label(source: str) -> str:
    if source == "-":
        return "stdin"
    # No leading dot: the folder walker skips hidden files, and the replay must see them.
    label = _UNSAFE.sub("_", source)[-_NAME_LENGTH:].strip("._-")
    return label or "message"


def _remove(path: str) -> None:
    # Cleaning up after a failure that is being reported already.
    with contextlib.suppress(OSError):
        os.remove(path)


def _version() -> str:
    from drsparse import __version__

    return __version__
