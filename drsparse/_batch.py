"""The batch stage: paths in, one result per message out, in input order.

``drsparse parse`` and ``drsparse scan`` read many messages the same way: every PATH through
:func:`~drsparse.read_messages` (which tells a message, an mbox, a Maildir and a folder tree
apart), each message through :func:`~drsparse.parse_message`. :func:`parse_items` yields each
message with what it gave, its responses or the error that stopped it, whether the messages
were parsed here or by ``--jobs N`` worker processes. One bad message never stops a batch,
nor does a worker process that dies (its messages are parsed again, see :func:`_pooled`).

What crosses a process boundary is a batch of messages per task. The messages of an mbox
file go as a :class:`~drsparse._mailbox.Span`, where they are in the file, and the worker
reads them itself: the main process only searches the file for where messages start, a
fraction of reading it (it was a third of the main process's time, and the main process's
time is what keeps two workers from halving a run). The files of a Maildir or a folder tree go
by name (:class:`~drsparse._mailbox.Files`). Messages from a pipe go as ``(source, bytes, the
mail reader's warnings)``. What comes back is what each message gave,
made into what the caller wants in the worker (``then``: ``drsparse parse`` has its records
written there, a few strings that cost less to pass back than the typed values they were made
from) or its error, with the message's bytes for an error (the quarantine keeps them).
At most ``IN_FLIGHT * N`` batches are read ahead, so a 200 MB mbox is never read into memory.
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
from drsparse._mailbox import (
    Files,
    MailItem,
    Span,
    read_messages,
    read_span,
    read_spans,
    with_warnings,
)
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
    "Message",
    "Options",
    "Parsed",
    "parse_data",
    "parse_item",
    "parse_items",
    "typed",
]

#: The name of the thread that reads the messages (or finds the spans of an mbox file) while
#: the workers parse (the command looks for it when it stops early, see ``_cli.py``).
READER_THREAD = "drsparse-reader"

#: Messages go to a worker process in batches of at most BATCH messages or BATCH_BYTES bytes:
#: one task per message cost more in passing it between processes than in parsing it.
BATCH = 16
BATCH_BYTES = 1 << 20
#: The messages of an mbox file go in spans of at most SPAN messages, up to the first that
#: reaches SPAN_BYTES: all that crosses is where they are, and what comes back is small, so a
#: span can hold more than a batch of messages read here (fewer, larger tasks cost the main
#: process less; a span is one batch for IN_FLIGHT).
SPAN = 4 * BATCH
SPAN_BYTES = 4 * BATCH_BYTES
#: Batches in flight per worker process: enough to keep every worker busy while the main
#: process reads the next messages and writes the results, few enough to keep memory flat.
IN_FLIGHT = 4

#: What one message gave: its responses (often none), or the error that stopped it.
Parsed = list[Response] | DrsParseError
#: What a caller of :func:`parse_items` makes of a message's responses (see ``then``).
T = TypeVar("T")


class Message(NamedTuple):
    """A message as :func:`parse_items` hands it on, with what it gave."""

    #: A path, ``path#N`` for the N-th message of an mbox, ``-`` for standard input.
    source: str
    #: Its bytes; None for one that could not be read, and for one that a worker process read
    #: and parsed without an error (its bytes stay there; those of an error come back, for
    #: the quarantine).
    data: bytes | None
    #: Its size in bytes (0 for one that could not be read).
    size: int


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
) -> Generator[tuple[Message, T | DrsParseError], None, None]:
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
    if jobs <= 1:
        for item in _items(paths, options):
            message = Message(item.source, item.data, len(item.data or b""))
            yield message, _then(parse_item(item, options), then, item.source)
    else:
        yield from _pooled(
            _units(paths, options),
            options,
            then=then,
            jobs=jobs,
            note=note or _nothing,
            waiting=waiting or _nothing,
        )


def _items(paths: Sequence[str | None], options: Options) -> Iterator[MailItem]:
    for path in paths or [None]:
        for item in read_messages(path, limits=options.limits):
            if not _note(item.source, path):
                yield item


def _units(paths: Sequence[str | None], options: Options) -> Iterator[MailItem | Span | Files]:
    """The messages of ``paths`` for worker processes, which read them themselves: those of an
    mbox file in spans of up to SPAN messages, the files of a folder by name."""
    for path in paths or [None]:
        units = read_spans(path, limits=options.limits, messages=SPAN, size=SPAN_BYTES)
        for unit in units:
            if isinstance(unit, Files):
                kept = tuple(file for file in unit.paths if not _note(file, path))
                if kept:
                    yield Files(kept)
            elif isinstance(unit, Span) or not _note(unit.source, path):
                yield unit


def _note(source: str, path: str | None) -> bool:
    """Whether ``source`` is a quarantine note found in a folder: not a message (a path named
    on the command line is read, whatever its name: the user asked for it)."""
    return source != path and source.endswith(NOTE_SUFFIX)


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


#: What a worker is given: the bytes of a message read by the main process, or a span of an
#: mbox file or a file of a folder to read itself.
_Unit = tuple[str, bytes, tuple[str, ...]] | Span | Files
#: What each message of a unit gave, in order.
_Done = list[tuple[Message, Any]]


def _work(batch: list[_Unit]) -> list[_Done]:
    return [
        [_worked(item) for item in read_span(unit, limits=_worker_options.limits)]
        if isinstance(unit, Span | Files)
        else [_worked(MailItem(unit[0], unit[1], warnings=unit[2]))]
        for unit in batch
    ]


def _worked(item: MailItem) -> tuple[Message, Any]:
    result = _then(parse_item(item, _worker_options), _worker_then, item.source)
    # The bytes of a message that failed go back for the quarantine; the others stay here.
    data = item.data if isinstance(result, DrsParseError) else None
    return Message(item.source, data, len(item.data or b"")), result


def _settled(item: MailItem) -> tuple[Message, Any]:
    """A message that could not be read, with its error."""
    error = item.error or InternalError("the mail reader gave neither data nor an error")
    return Message(item.source, None, 0), error


class _Slot:
    """A unit in the window (a message, or a span of an mbox): the future of the batch it went
    in with and its place there, or what its messages gave once settled."""

    __slots__ = ("future", "index", "results", "unit")

    def __init__(self, unit: MailItem | Span | Files) -> None:
        self.unit = unit
        self.future: Future[list[_Done]] | None = None
        self.index = 0
        #: What its messages gave, once settled: at once for a message that could not be
        #: read, after its worker process died for the others.
        self.results: _Done | None = None
        if isinstance(unit, MailItem) and unit.data is None:
            self.results = [_settled(unit)]

    def messages(self) -> int:
        """Its messages, as far as known here (a file of a folder counts as one)."""
        if isinstance(self.unit, Files):
            return len(self.unit.paths)
        return self.unit.messages if isinstance(self.unit, Span) else 1

    def size(self) -> int:
        """Its bytes, as far as known here (those of files are not)."""
        if isinstance(self.unit, MailItem):
            return len(self.unit.data or b"")
        return self.unit.length if isinstance(self.unit, Span) else 0

    def done(self) -> bool:
        # One still waiting for its batch to be sent (no future yet) is not done.
        if self.results is not None:
            return True
        return self.future is not None and self.future.done()

    def lost(self) -> bool:
        """Whether the worker process that held it died (this waits for it to be done)."""
        from concurrent.futures import BrokenExecutor

        if self.results is not None or self.future is None:
            return False
        return isinstance(self.future.exception(), BrokenExecutor)

    def result(self) -> _Done:
        if self.results is not None:
            return self.results
        assert self.future is not None
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
        self.running: set[Future[list[_Done]]] = set()
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
        """Send the units of ``slots`` to a worker as one task; ``wake`` when it is done."""
        from concurrent.futures import BrokenExecutor, Future

        batch: list[_Unit] = [
            (slot.unit.source, slot.unit.data or b"", slot.unit.warnings)
            if isinstance(slot.unit, MailItem)
            else slot.unit
            for slot in slots
        ]
        future: Future[list[_Done]]
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

    def close(self, *, now: bool) -> str:
        """Shut the pool down; ``now``: stop the workers without waiting for their messages
        (a signal, output that failed, a consumer that stopped early). Returns how a worker
        process that died ended, in words: ``killed by SIGKILL``.

        Read once the pool is shut down: until then the executor's own thread may be reaping
        the dead worker, and a look at its exit status from here at that moment finds none.
        """
        processes = self._processes()  # the executor forgets them when shut down
        if now:
            for process in processes:
                process.terminate()
        self.executor.shutdown(wait=True, cancel_futures=True)
        return _ended(processes)

    def _processes(self) -> list[multiprocessing.process.BaseProcess]:
        # Private, but the only place that knows the worker processes; there since 3.2.
        processes = getattr(self.executor, "_processes", None) or {}
        return list(processes.values())


def _ended(processes: list[multiprocessing.process.BaseProcess]) -> str:
    """How a worker process of ``processes`` ended, in words: ``killed by SIGKILL``."""
    import signal

    codes = [code for process in processes if (code := process.exitcode) is not None and code]
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


def _pooled(
    units: Iterable[MailItem | Span | Files],
    options: Options,
    *,
    then: Callable[[list[Response]], Any],
    jobs: int,
    note: Callable[[str], None],
    waiting: Callable[[], None],
) -> Generator[tuple[Message, Any], None, None]:
    """The messages of ``units`` parsed by ``jobs`` processes, in the order of ``units``.

    Not ``executor.map``: it submits the whole iterable at once, which would read every
    message of an archive into memory before the first result comes back. Here a thread
    reads the messages (or finds the spans) while fewer than ``IN_FLIGHT * jobs`` batches wait,
    and each result is handed on as soon as it and all before it are in: a slow input (a
    mailbox still being written into a pipe) does not hold back the records of messages
    parsed already.

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
        target=_read, args=(units, news, room, stopped), name=READER_THREAD, daemon=True
    ).start()
    window: deque[_Slot] = deque()
    batch: list[_Slot] = []
    batch_messages = batch_bytes = 0  # the batch's messages and their size, kept as they join
    finished = False
    try:
        ended = False
        while not ended or window:
            # A batch goes to a worker when it is full, or when a worker is idle and no more
            # messages are waiting to join it: a slow input is not held back to fill one.
            full = batch_messages >= BATCH or batch_bytes >= BATCH_BYTES
            if batch and (ended or full or (news.empty() and pool.idle())):
                pool.submit(batch, wake)
                batch, batch_messages, batch_bytes = [], 0, 0
            while window and (ended or window[0].done()):
                if window[0].lost():
                    pool = _recover(pool, window, note)
                slot = window.popleft()
                room.give(_places(slot.unit))
                yield from slot.result()
            if ended:
                continue
            if news.empty():
                waiting()
            event = news.get()
            if event is _END:
                ended = True
            elif isinstance(event, _Failed):
                raise event.exc
            elif isinstance(event, MailItem | Span | Files):
                slot = _Slot(event)
                if slot.results is None:
                    batch.append(slot)
                    batch_messages += slot.messages()
                    batch_bytes += slot.size()
                window.append(slot)
        finished = True
    finally:
        # Also when the consumer stops early (a closed pipe, a signal): drop what waits.
        stopped.set()
        room.give(IN_FLIGHT * jobs * BATCH)
        pool.close(now=not finished)


def _read(
    units: Iterable[MailItem | Span | Files],
    news: queue.SimpleQueue[object],
    room: _Room,
    stopped: threading.Event,
) -> None:
    """The reading thread: each unit into ``news`` while there is ``room``, then _END."""
    try:
        for unit in units:
            room.take(_places(unit))
            if stopped.is_set():
                return
            news.put(unit)
    except BaseException as exc:  # handed to the main thread, which raises it
        news.put(_Failed(exc))
    news.put(_END)


def _places(unit: MailItem | Span | Files) -> int:
    """The places of the reading thread's room that ``unit`` takes: a span is one batch."""
    return 1 if isinstance(unit, MailItem) else BATCH


class _Room:
    """The messages the reading thread may read ahead of the results handed on: a place per
    message read here, a batch's places for a span. Freed places wake it a batch at a time,
    not once per message (a wake is a switch between threads, as costly as a small message's
    records)."""

    def __init__(self, places: int) -> None:
        import threading

        self.free = places
        self.changed = threading.Condition()

    def take(self, places: int = 1) -> None:
        with self.changed:
            while self.free < places:
                self.changed.wait()
            self.free -= places

    def give(self, places: int = 1) -> None:
        with self.changed:
            self.free += places
            if self.free >= BATCH:
                self.changed.notify()


def _recover(pool: _Pool, window: deque[_Slot], note: Callable[[str], None]) -> _Pool:
    """After a worker process died: parse each message the broken pool held once more, alone,
    in a fresh pool (the messages of a span are read here for that); return the pool that
    goes on with the next messages."""
    from concurrent.futures import BrokenExecutor

    lost = [slot for slot in window if slot.lost()]
    cause = pool.close(now=True)
    note(
        f"drsparse: a worker process was {cause}; the {sum(slot.messages() for slot in lost)} "
        "message(s) it held in the pool are parsed again"
    )
    pool = pool.again()
    limits = pool.options.limits
    for slot in lost:
        unit = slot.unit
        results: _Done = []
        for item in [unit] if isinstance(unit, MailItem) else read_span(unit, limits=limits):
            alone = _Slot(item)
            if alone.results is None:
                pool.submit([alone], lambda: None)
                try:
                    alone.result()
                except BrokenExecutor:
                    again = pool.close(now=True)
                    note(f"drsparse: {item.source}: its worker process was {again} again")
                    alone.results = [
                        (
                            Message(item.source, item.data, len(item.data or b"")),
                            InternalError(
                                f"the worker process parsing this message was {cause}, and "
                                f"{again} when it was parsed again (out of memory? killed?)",
                                source=item.source,
                            ),
                        )
                    ]
                    pool = pool.again()
            results += alone.result()
        slot.results = results
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
