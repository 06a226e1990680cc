"""The batch stage: paths in, one result per message out, in input order.

``drsparse parse`` and ``drsparse scan`` read many messages the same way: every PATH through
:func:`~drsparse.read_messages` (which tells a message, an mbox, a Maildir and a folder tree
apart), each message through :func:`~drsparse.parse_message`. :func:`parse_items` yields each
message with what it gave, its responses or the error that stopped it, whether the messages
were parsed here or by ``--jobs N`` worker processes. One bad message never stops a batch.

What crosses a process boundary is the typed values themselves: ``(source, bytes)`` to a
worker, the responses or the error back (they pickle). At most ``IN_FLIGHT * N`` messages are
held at once, so a 200 MB mbox is never read into memory.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

from drsparse._auth import DEFAULT_TRUST, Trust
from drsparse._codes import DEFAULT_CODES, CodeTable
from drsparse._errors import DrsParseError, InternalError
from drsparse._limits import DEFAULT_LIMITS, Limits
from drsparse._mailbox import MailItem, read_messages
from drsparse._model import Response
from drsparse._quarantine import NOTE_SUFFIX

if TYPE_CHECKING:
    import multiprocessing.context
    from concurrent.futures import Future

__all__ = ["IN_FLIGHT", "Options", "Parsed", "parse_item", "parse_items"]

#: Messages in flight per worker process: enough to keep every worker busy while the main
#: process reads the next messages and writes the results, few enough to keep memory flat.
IN_FLIGHT = 4

#: What one message gave: its responses (often none), or the error that stopped it.
Parsed = list[Response] | DrsParseError


class Options(NamedTuple):
    """How each message is read; the same in the main process and in every worker.

    A named tuple, not an attrs class: defining an attrs class costs about a millisecond at
    import, on the start-up path of every mail pipe.
    """

    include_quoted: bool = False
    trust: Trust = DEFAULT_TRUST
    limits: Limits = DEFAULT_LIMITS
    #: The code table, with the user's ``--codes`` rows; it pickles into the workers.
    codes: CodeTable = DEFAULT_CODES


def parse_item(item: MailItem, options: Options) -> Parsed:
    """The responses of one message, or the error that stopped it. Never raises."""
    if item.data is None:
        return item.error or InternalError("the mail reader gave neither data nor an error")
    return _parse(item.source, item.data, options)


def _parse(source: str, data: bytes, options: Options) -> Parsed:
    from drsparse._mail import parse_message

    try:
        return parse_message(
            data,
            include_quoted=options.include_quoted,
            trust=options.trust,
            limits=options.limits,
            source=source,
            codes=options.codes,
        )
    except DrsParseError as err:
        return err
    except Exception as exc:  # a bug must not end a sweep: see InternalError
        return internal_error(source, exc)


def internal_error(source: str, exc: BaseException) -> InternalError:
    """``exc`` as an :class:`InternalError` of ``source``, its traceback on standard error."""
    import traceback

    print(f"drsparse: internal error while reading {source}; please report it:", file=sys.stderr)
    traceback.print_exception(exc, file=sys.stderr)
    return InternalError(
        f"internal error: {type(exc).__name__}: {exc} (a bug in drsparse; please report it)",
        source=source,
    )


def parse_items(
    paths: Sequence[str | None], options: Options, *, jobs: int = 1
) -> Iterator[tuple[MailItem, Parsed]]:
    """Every message of every path (``None`` or ``-``: standard input) with what it gave, in
    input order. ``jobs`` above 1 parses in that many worker processes."""
    items = _items(paths, options)
    if jobs <= 1:
        for item in items:
            yield item, parse_item(item, options)
    else:
        yield from _pooled(items, options, jobs)


def _items(paths: Sequence[str | None], options: Options) -> Iterator[MailItem]:
    for path in paths or [None]:
        for item in read_messages(path, limits=options.limits):
            # A quarantine note found in a folder is not a message (a path named on the
            # command line is read, whatever its name: the user asked for it).
            if item.source != path and item.source.endswith(NOTE_SUFFIX):
                continue
            yield item


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


def _work(source: str, data: bytes) -> Parsed:
    return _parse(source, data, _worker_options)


def _pooled(
    items: Iterable[MailItem], options: Options, jobs: int
) -> Iterator[tuple[MailItem, Parsed]]:
    """The messages of ``items`` parsed by ``jobs`` processes, in the order of ``items``.

    Not ``executor.map``: it submits the whole iterable at once, which would read every
    message of an archive into memory before the first result comes back. Here a thread
    reads the messages while fewer than ``IN_FLIGHT * jobs`` wait, and each result is handed
    on as soon as it and all before it are in: a slow input (a mailbox still being written
    into a pipe) does not hold back the records of messages parsed already.
    """
    import queue
    import threading
    from concurrent.futures import ProcessPoolExecutor

    # One queue for both kinds of news: a message read, or a result come in.
    news: queue.SimpleQueue[object] = queue.SimpleQueue()
    room = threading.Semaphore(IN_FLIGHT * jobs)
    stopped = threading.Event()

    def read() -> None:
        try:
            for item in items:
                room.acquire()
                if stopped.is_set():
                    return
                news.put(item)
        except BaseException as exc:  # handed to the main thread, which raises it
            news.put(_Failed(exc))
        news.put(_END)

    # A daemon: reading may block on a pipe that the main thread has stopped waiting for.
    threading.Thread(target=read, name="drsparse-reader", daemon=True).start()
    window: deque[tuple[MailItem, Future[Parsed] | None]] = deque()
    pool = ProcessPoolExecutor(
        jobs, mp_context=_context(), initializer=_start_worker, initargs=(options,)
    )
    try:
        ended = False
        while not ended or window:
            while window and (ended or _done(window[0][1])):
                item, future = window.popleft()
                room.release()
                yield _collect(item, future, options)
            if ended:
                continue
            event = news.get()
            if event is _END:
                ended = True
            elif isinstance(event, _Failed):
                raise event.exc
            elif isinstance(event, MailItem):
                future = None
                if event.data is not None:
                    future = pool.submit(_work, event.source, event.data)
                    future.add_done_callback(lambda _: news.put(None))
                window.append((event, future))
    finally:
        # Also when the consumer stops early (a closed pipe, Ctrl-C): drop what waits.
        stopped.set()
        room.release()
        pool.shutdown(wait=True, cancel_futures=True)


_END = object()


class _Failed(NamedTuple):
    """The reading thread met an exception (a bug): the main thread raises it."""

    exc: BaseException


def _context() -> multiprocessing.context.BaseContext:
    """Workers forked from a server process that runs no other thread.

    A plain fork copies the reading thread's lock on standard input in whatever state it is:
    a worker that then closes its standard input, as multiprocessing's do, waits forever.
    The server imports the parser once, so that each worker starts with it loaded.
    """
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["drsparse._mail", "drsparse._text", "drsparse._drs_parser"])
    return context


def _done(future: Future[Parsed] | None) -> bool:
    return future is None or future.done()


def _collect(
    item: MailItem, future: Future[Parsed] | None, options: Options
) -> tuple[MailItem, Parsed]:
    if future is None:
        return item, parse_item(item, options)
    return item, future.result()
