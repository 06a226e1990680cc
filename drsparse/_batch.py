"""The batch stage: paths in, one result per message out, in input order.

``drsparse parse`` and ``drsparse scan`` read many messages the same way: every PATH through
:func:`~drsparse.read_messages` (which tells a message, an mbox, a Maildir and a folder tree
apart), each message through :func:`~drsparse.parse_message`. :func:`parse_items` yields each
message with what it gave, its responses or the error that stopped it, whether the messages
were parsed here or by ``--jobs N`` worker processes. One bad message never stops a batch,
nor does a worker process that dies (its messages are parsed again, see :func:`_pooled`).

What crosses a process boundary is a batch of messages per task: ``(source, bytes, the mail
reader's warnings)`` to a worker, and back what each gave, made into what the caller wants in
the worker (``then``: ``drsparse parse`` has its records written there, a few strings that
cost less to pass back than the typed values they were made from) or its error.
At most ``IN_FLIGHT * N * BATCH`` messages are held at once, so a 200 MB mbox is never read
into memory.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from drsparse._auth import DEFAULT_TRUST, Trust
from drsparse._codes import DEFAULT_CODES, CodeTable
from drsparse._errors import DrsParseError, InternalError
from drsparse._limits import DEFAULT_LIMITS, Limits
from drsparse._mailbox import MailItem, read_messages, with_warnings
from drsparse._model import Response
from drsparse._quarantine import NOTE_SUFFIX

if TYPE_CHECKING:
    import multiprocessing.context
    import multiprocessing.process
    import queue
    import threading
    from concurrent.futures import Future

__all__ = [
    "IN_FLIGHT",
    "READER_THREAD",
    "Options",
    "Parsed",
    "parse_data",
    "parse_item",
    "parse_items",
    "typed",
]

#: The name of the thread that reads the messages while the workers parse (the command
#: looks for it when it stops early, see ``_cli.py``).
READER_THREAD = "drsparse-reader"

#: Messages go to a worker process in batches of at most BATCH messages or BATCH_BYTES bytes:
#: one task per message cost more in passing it between processes than in parsing it.
BATCH = 16
BATCH_BYTES = 1 << 20
#: Batches in flight per worker process: enough to keep every worker busy while the main
#: process reads the next messages and writes the results, few enough to keep memory flat.
IN_FLIGHT = 4

#: What one message gave: its responses (often none), or the error that stopped it.
Parsed = list[Response] | DrsParseError
#: What a caller of :func:`parse_items` makes of a message's responses (see ``then``).
T = TypeVar("T")


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
    return _noted(item, parse_data(item.source, item.data, options))


def _noted(item: MailItem, parsed: Parsed) -> Parsed:
    """The responses with what the mail reader noticed about their message."""
    return with_warnings(parsed, item.warnings) if isinstance(parsed, list) else parsed


def _then(parsed: Parsed, then: Callable[[list[Response]], Any], source: str) -> Any:
    """``then`` of the responses, or the error; a bug in ``then`` is that message's error."""
    if not isinstance(parsed, list):
        return parsed
    try:
        return then(parsed)
    except Exception as exc:
        return internal_error(source, exc)


def typed(responses: list[Response]) -> list[Response]:
    """The ``then`` of :func:`parse_items` for a caller that wants the typed responses."""
    return responses


def _nothing(*_: object) -> None:
    pass


def parse_data(source: str, data: bytes, options: Options) -> Parsed:
    """The responses of one message's bytes, or the error that stopped it. Never raises."""
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
    paths: Sequence[str | None],
    options: Options,
    *,
    then: Callable[[list[Response]], T],
    jobs: int = 1,
    note: Callable[[str], None] | None = None,
    waiting: Callable[[], None] | None = None,
) -> Generator[tuple[MailItem, T | DrsParseError], None, None]:
    """Every message of every path (``None`` or ``-``: standard input) with what it gave, in
    input order: ``then`` of its responses (:func:`typed`: the responses themselves), or its
    error.
    ``jobs`` above 1 parses in that many worker processes, where ``then`` runs too (it must
    pickle: a function of a module, or an instance of a class of one); ``note`` hears of a
    worker process that died (its messages are parsed again). With ``jobs`` above 1,
    ``waiting`` is called whenever every result that has come in was handed on and the next
    must be waited for: where the caller flushes its output, once per batch of results
    rather than once per message.

    Close the iterator (``contextlib.closing``) to stop early: the worker processes are
    stopped at once, without finishing what they hold.
    """
    items = _items(paths, options)
    if jobs <= 1:
        for item in items:
            yield item, _then(parse_item(item, options), then, item.source)
    else:
        yield from _pooled(
            items,
            options,
            then=then,
            jobs=jobs,
            note=note or _nothing,
            waiting=waiting or _nothing,
        )


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
_worker_then: Callable[[list[Response]], Any] = typed


def _start_worker(options: Options, then: Callable[[list[Response]], Any]) -> None:
    import os
    import signal

    # One process, one set of options.
    global _worker_options, _worker_then
    _worker_options, _worker_then = options, then
    # Ctrl-C reaches the whole process group: the main process ends the run, and workers
    # printing a KeyboardInterrupt traceback each would only bury its message.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker has the command's handler, which ends a run cleanly; a worker stopped
    # with SIGTERM (the command stopping its pool) just ends.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # A worker writes nothing to standard output: were it to keep it open, a reader of the
    # output (drsparse parse -j 4 | ...) would wait for a worker that outlives the command.
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)


def _work(batch: list[tuple[str, bytes, tuple[str, ...]]]) -> list[Any]:
    return [
        _then(
            with_warnings(parsed, warnings) if isinstance(parsed, list) else parsed,
            _worker_then,
            source,
        )
        for source, data, warnings in batch
        for parsed in [parse_data(source, data, _worker_options)]
    ]


class _Slot:
    """A message in the window: its item, the future of the batch it went in with and its
    place there, or what it gave once settled."""

    __slots__ = ("future", "index", "item", "parsed", "settled")

    def __init__(self, item: MailItem) -> None:
        self.item = item
        self.future: Future[list[Any]] | None = None
        self.index = 0
        #: What the message gave, once settled after its worker process died.
        self.settled = False
        self.parsed: Any = None

    def done(self) -> bool:
        # A message that could not be read is settled at once; one still waiting for its
        # batch to be sent (no future yet) is not.
        if self.settled or self.item.data is None:
            return True
        return self.future is not None and self.future.done()

    def lost(self) -> bool:
        """Whether the worker process that held it died (this waits for it to be done)."""
        from concurrent.futures import BrokenExecutor

        if self.settled or self.future is None:
            return False
        return isinstance(self.future.exception(), BrokenExecutor)

    def result(self) -> Any:
        if self.settled:
            return self.parsed
        if self.future is None:  # a message that could not be read: its error
            return self.item.error or InternalError("the mail reader gave neither data nor error")
        return self.future.result()[self.index]


class _Pool:
    """The worker processes: a ProcessPoolExecutor that can say why one of them died."""

    def __init__(self, jobs: int, options: Options, then: Callable[[list[Response]], Any]) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self.jobs = jobs
        self.options = options
        self.then = then
        context = _context()
        self.executor = ProcessPoolExecutor(
            jobs, mp_context=context, initializer=_start_worker, initargs=(options, then)
        )
        self.running: set[Future[list[Any]]] = set()
        if context.get_start_method() == "fork":
            # The executor forks all its workers at the first task: now, while this is the
            # only thread (see _context).
            self.executor.submit(int)

    def again(self) -> _Pool:
        """A fresh pool like this one (after this one's workers were stopped)."""
        return _Pool(self.jobs, self.options, self.then)

    def idle(self) -> bool:
        """Whether a worker process has no batch to parse."""
        self.running = {future for future in self.running if not future.done()}
        return len(self.running) < self.jobs

    def submit(self, slots: list[_Slot], wake: Callable[[], None]) -> None:
        """Send the messages of ``slots`` to a worker as one task; ``wake`` when it is done."""
        from concurrent.futures import BrokenExecutor, Future

        batch = [
            (slot.item.source, slot.item.data, slot.item.warnings)
            for slot in slots
            if slot.item.data is not None
        ]
        future: Future[list[Any]]
        try:
            future = self.executor.submit(_work, batch)
        except BrokenExecutor as exc:  # broken before its news came in: lost like the others
            future = Future()
            future.set_exception(exc)
        except OSError as exc:  # no worker could be started (the fork server was killed)
            future = Future()
            future.set_exception(BrokenExecutor(f"cannot start a worker process: {exc}"))
        future.add_done_callback(lambda _: wake())
        self.running.add(future)
        for index, slot in enumerate(slots):
            slot.future, slot.index = future, index

    def cause(self) -> str:
        """How a worker process ended, in words: ``killed by SIGKILL``."""
        import signal

        codes = [
            code
            for process in self._processes()
            if (code := process.exitcode) is not None and code != 0
        ]
        # The executor terminates the other workers (SIGTERM) once one is gone.
        codes.sort(key=lambda code: code == -signal.SIGTERM)
        if not codes:
            return "ended abruptly"
        if codes[0] < 0:
            try:
                return f"killed by {signal.Signals(-codes[0]).name}"
            except ValueError:
                return f"killed by signal {-codes[0]}"
        return f"ended with exit status {codes[0]}"

    def close(self, *, now: bool) -> None:
        """Shut the pool down; ``now``: stop the workers without waiting for their messages
        (a signal, output that failed, a consumer that stopped early)."""
        if now:
            for process in self._processes():
                process.terminate()
        self.executor.shutdown(wait=True, cancel_futures=True)

    def _processes(self) -> list[multiprocessing.process.BaseProcess]:
        # Private, but the only place that knows the worker processes; there since 3.2.
        processes = getattr(self.executor, "_processes", None) or {}
        return list(processes.values())


def _pooled(
    items: Iterable[MailItem],
    options: Options,
    *,
    then: Callable[[list[Response]], Any],
    jobs: int,
    note: Callable[[str], None],
    waiting: Callable[[], None],
) -> Generator[tuple[MailItem, Any], None, None]:
    """The messages of ``items`` parsed by ``jobs`` processes, in the order of ``items``.

    Not ``executor.map``: it submits the whole iterable at once, which would read every
    message of an archive into memory before the first result comes back. Here a thread
    reads the messages while fewer than ``IN_FLIGHT * jobs`` batches wait, and each result is handed
    on as soon as it and all before it are in: a slow input (a mailbox still being written
    into a pipe) does not hold back the records of messages parsed already.

    A worker process that dies (the kernel's out-of-memory killer, a ``kill -9``) takes the
    pool with it, and every message in the pool with that: each is parsed once more, alone, in
    a fresh pool, and one that fails again is reported as an :class:`InternalError` naming
    how the process ended. The run goes on with the next messages.
    """
    import queue
    import threading

    # One queue for both kinds of news: a message read, or a result come in.
    news: queue.SimpleQueue[object] = queue.SimpleQueue()
    room = _Room(IN_FLIGHT * jobs * BATCH)
    stopped = threading.Event()

    def wake() -> None:
        news.put(None)

    # The workers first, while no other thread runs (see _context).
    pool = _Pool(jobs, options, then)
    # A daemon: reading may block on a pipe that the main thread has stopped waiting for.
    threading.Thread(
        target=_read, args=(items, news, room, stopped), name=READER_THREAD, daemon=True
    ).start()
    window: deque[_Slot] = deque()
    batch: list[_Slot] = []
    batch_bytes = 0  # the size of the batch's messages, kept as they join
    finished = False
    try:
        ended = False
        while not ended or window:
            # A batch goes to a worker when it is full, or when a worker is idle and no more
            # messages are waiting to join it: a slow input is not held back to fill one.
            full = len(batch) >= BATCH or batch_bytes >= BATCH_BYTES
            if batch and (ended or full or (news.empty() and pool.idle())):
                pool.submit(batch, wake)
                batch, batch_bytes = [], 0
            while window and (ended or window[0].done()):
                if window[0].lost():
                    pool = _recover(pool, window, note)
                slot = window.popleft()
                room.give()
                yield slot.item, slot.result()
            if ended:
                continue
            if news.empty():
                waiting()
            event = news.get()
            if event is _END:
                ended = True
            elif isinstance(event, _Failed):
                raise event.exc
            elif isinstance(event, MailItem):
                slot = _Slot(event)
                if event.data is not None:
                    batch.append(slot)
                    batch_bytes += len(event.data)
                window.append(slot)
        finished = True
    finally:
        # Also when the consumer stops early (a closed pipe, a signal): drop what waits.
        stopped.set()
        room.give(IN_FLIGHT * jobs * BATCH)
        pool.close(now=not finished)


def _read(
    items: Iterable[MailItem],
    news: queue.SimpleQueue[object],
    room: _Room,
    stopped: threading.Event,
) -> None:
    """The reading thread: each message into ``news`` while there is ``room``, then _END."""
    try:
        for item in items:
            room.take()
            if stopped.is_set():
                return
            news.put(item)
    except BaseException as exc:  # handed to the main thread, which raises it
        news.put(_Failed(exc))
    news.put(_END)


class _Room:
    """The messages the reading thread may read ahead of the results handed on. It takes a
    place per message; freed places wake it a batch at a time, not once per message (a wake
    is a switch between threads, as costly as a small message's records)."""

    def __init__(self, places: int) -> None:
        import threading

        self.free = places
        self.changed = threading.Condition()

    def take(self) -> None:
        with self.changed:
            while self.free <= 0:
                self.changed.wait()
            self.free -= 1

    def give(self, places: int = 1) -> None:
        with self.changed:
            self.free += places
            if self.free >= BATCH:
                self.changed.notify()


def _recover(pool: _Pool, window: deque[_Slot], note: Callable[[str], None]) -> _Pool:
    """After a worker process died: parse each message the broken pool held once more, alone,
    in a fresh pool; return the pool that goes on with the next messages."""
    from concurrent.futures import BrokenExecutor

    lost = [slot for slot in window if slot.lost()]
    cause = pool.cause()
    note(
        f"drsparse: a worker process was {cause}; the {len(lost)} message(s) it held in the "
        "pool are parsed again"
    )
    pool.close(now=True)
    pool = pool.again()
    for slot in lost:
        pool.submit([slot], lambda: None)
        assert slot.future is not None
        slot.settled = True
        try:
            (slot.parsed,) = slot.future.result()
        except BrokenExecutor:
            again = pool.cause()
            note(f"drsparse: {slot.item.source}: its worker process was {again} again")
            slot.parsed = InternalError(
                f"the worker process parsing this message was {cause}, and {again} when "
                "it was parsed again (out of memory? killed?)",
                source=slot.item.source,
            )
            pool.close(now=True)
            pool = pool.again()
    return pool


_END = object()


class _Failed(NamedTuple):
    """The reading thread met an exception (a bug): the main thread raises it."""

    exc: BaseException


def _context() -> multiprocessing.context.BaseContext:
    """Workers forked from this process while it runs one thread; else from a server process
    that runs no other thread.

    A fork copies every lock in whatever state it is: forked while the reading thread holds
    the lock on standard input, a worker that then closes its standard input (as
    multiprocessing's do) waits forever. So the first pool is forked before that thread
    starts: its workers start at once, with everything this process has loaded. A pool that
    replaces one whose worker died comes from the fork server, which imports the parser
    once, so that each worker starts with it loaded.
    """
    import multiprocessing
    import threading

    # macOS: its system libraries are not safe to use after a fork (Python's default is spawn).
    if (
        threading.active_count() == 1
        and sys.platform != "darwin"
        and "fork" in multiprocessing.get_all_start_methods()
    ):
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["drsparse._mail", "drsparse._text", "drsparse._drs_parser"])
    return context
