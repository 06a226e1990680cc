"""One folder's new messages: in, a logged-in :class:`Connection` and the state file; out, each
message parsed and handed to the sink, then remembered in the state file and moved
(``--move-to``, ``--failed-to``).

Each message is handled whole before the next: parsed, given to the sink (its records are
written and flushed), then its UID is written to the state file. A stop (SIGTERM, SIGINT) is
looked at between messages only, so a message is never half handled: its records are out and
the state file says so, or neither.

Fetching overlaps parsing: while the messages of one batch are parsed here, the next batch is
on its way in a second thread (the server works in its own process meanwhile). The thread
and this one never use the connection at the same time: moves are sent between two fetches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from drsparse import DEFAULT_LIMITS, DrsParseError, LimitExceededError, Response
from drsparse.imap._address import Address
from drsparse.imap._connection import Connection
from drsparse.imap._failures import ConnectionLost, ImapFailure
from drsparse.imap._sink import Sink
from drsparse.imap._state import Mark, State

__all__ = ["Counts", "FolderReader", "Stop"]

#: Messages per fetch: few enough to stop soon and to keep memory flat, enough that the round
#: trips do not count. A message larger than LARGE is fetched alone (robot mails take 4 KB).
BATCH_MESSAGES = 100
LARGE = 256 << 10
#: Up to this many UIDs between the last one read and UIDNEXT are asked for by number, with
#: their sizes, in one command; more are searched for (SEARCH costs pymap 40 ms a command).
ASK_DIRECTLY = 500

#: :func:`drsparse.parse_message` with the command's options: a message and its label in, its
#: responses or the error that stopped it out (never raises).
Parse = Callable[[bytes, str], list[Response] | DrsParseError]


class Stop:
    """Whether the command was asked to stop (by a signal), and why."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def __bool__(self) -> bool:
        return self.reason is not None


@dataclass
class Counts:
    """What one catch-up did."""

    read: int = 0
    failed: int = 0
    uids: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        first, last = self.uids[0], self.uids[-1]
        where = f"UID {first}" if first == last else f"UIDs {first}-{last}"
        errors = f", {self.failed} with an error record" if self.failed else ""
        return f"read {self.read} new message{'s' if self.read != 1 else ''} ({where}{errors})"


class FolderReader:
    """Reads the new messages of one folder each time :meth:`catch_up` is called."""

    def __init__(
        self,
        address: Address,
        state: State,
        sink: Sink,
        parse: Parse,
        *,
        move_to: str | None = None,
        failed_to: str | None = None,
        max_bytes: int = DEFAULT_LIMITS.max_message_bytes,
        note: Callable[[str], None],
    ) -> None:
        self.address = address
        self.state = state
        self.sink = sink
        self.parse = parse
        self.move_to = move_to
        self.failed_to = failed_to
        self.max_bytes = max_bytes
        self.note = note
        self._unexpunged_noted = False

    def catch_up(self, connection: Connection, stop: Stop) -> Counts:
        """Read every message that arrived since the last call (or run), until ``stop``."""
        moving = self.move_to is not None or self.failed_to is not None
        selected = connection.select(self.address.folder, readonly=not moving)
        key = self.address.key()
        mark = self.state.get(key)
        last = 0
        if mark is not None and mark.uidvalidity == selected.uidvalidity:
            last = mark.last_uid
        elif mark is not None:
            self.note(
                f"{self.address.folder}: the UIDVALIDITY changed from {mark.uidvalidity} to "
                f"{selected.uidvalidity} (the folder was re-created): reading it again from "
                "the start"
            )
        uidvalidity = selected.uidvalidity
        self.state.set(key, Mark(uidvalidity, last))
        counts = Counts()
        if selected.uidnext is not None and selected.uidnext <= last + 1:
            return counts  # nothing new: no search
        uids, sizes = self._new(connection, last, selected.uidnext)
        if not uids:
            return counts
        batches = _batches(uids, sizes)
        moves: dict[str, list[int]] = {}

        def fetch(batch: Sequence[int]) -> dict[int, bytes]:
            wanted = [uid for uid in batch if sizes.get(uid, 0) <= self.max_bytes]
            return connection.bodies(wanted) if wanted else {}

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="drsparse-fetch") as pool:
            coming: Future[dict[int, bytes]] | None = pool.submit(fetch, batches[0])
            try:
                for number, batch in enumerate(batches):
                    bodies = coming.result() if coming is not None else {}
                    coming = None
                    self._move(connection, moves)  # the connection is free until the next submit
                    if stop:
                        break
                    if number + 1 < len(batches):
                        coming = pool.submit(fetch, batches[number + 1])
                    for uid in batch:
                        if stop:
                            break
                        self._handle(
                            uid,
                            uidvalidity=uidvalidity,
                            size=sizes.get(uid),
                            bodies=bodies,
                            moves=moves,
                            counts=counts,
                        )
            finally:
                if coming is not None:  # the connection must be free before anything else
                    wait([coming])
                try:
                    self._move(connection, moves)
                finally:
                    self.state.sync()
        return counts

    def _new(
        self, connection: Connection, last: int, uidnext: int | None
    ) -> tuple[list[int], dict[int, int]]:
        """The UIDs above ``last``, and the sizes of the large messages among them."""
        if uidnext is not None and uidnext - 1 - last <= ASK_DIRECTLY:
            # A few new messages (watch): one command asks for the UIDs between and their
            # sizes; those that do not exist (expunged) are not in the answer.
            sizes = connection.sizes(range(last + 1, uidnext))
            return sorted(sizes), {uid: size for uid, size in sizes.items() if size > LARGE}
        # Many (a first fetch): a search, and the sizes of the large messages only, found by a
        # second search: every size costs the server as much as sending the messages.
        uids = connection.new_uids(last)
        large = sorted(connection.larger(last, LARGE)) if uids else []
        return uids, connection.sizes(large) if large else {}

    def _handle(
        self,
        uid: int,
        *,
        uidvalidity: int,
        size: int | None,
        bodies: dict[int, bytes],
        moves: dict[str, list[int]],
        counts: Counts,
    ) -> None:
        source = self.address.source(uidvalidity, uid)
        data = bodies.get(uid)
        parsed: list[Response] | DrsParseError
        if size is not None and size > self.max_bytes:
            # Not fetched: the limit is there so that no message is held beyond it.
            parsed = LimitExceededError(
                f"message beyond the limit max_message_bytes={self.max_bytes}", source=source
            )
        elif data is None:  # expunged since the search, by another client
            self.state.set(self.address.key(), Mark(uidvalidity, uid))
            return
        else:
            parsed = self.parse(data, source)
        self.sink.message(data, source, parsed)
        self.state.set(self.address.key(), Mark(uidvalidity, uid))
        counts.read += 1
        counts.uids.append(uid)
        failed = not isinstance(parsed, list)
        counts.failed += failed
        destination = self.failed_to if failed else self.move_to
        if destination is not None:
            moves.setdefault(destination, []).append(uid)

    def _move(self, connection: Connection, moves: dict[str, list[int]]) -> None:
        """Send the moves of the messages handled so far."""
        while moves:
            destination, uids = moves.popitem()
            try:
                expunged = connection.move(uids, destination)
            except ImapFailure as exc:
                # Read and remembered, but not moved: say so, and which.
                self.note(
                    f"{len(uids)} message(s) read but not moved to {destination} "
                    f"(UIDs {_uid_set(uids)} stay in {self.address.folder}): {exc}"
                )
                if isinstance(exc, ConnectionLost):
                    moves.clear()
                    raise
                continue
            if not expunged and not self._unexpunged_noted:
                self._unexpunged_noted = True
                self.note(
                    f"the server has neither MOVE nor UIDPLUS: the messages copied to "
                    f"{destination} stay in {self.address.folder}, marked \\Deleted, until a "
                    "mail client expunges the folder"
                )


def _batches(uids: Sequence[int], sizes: dict[int, int]) -> list[list[int]]:
    """``uids`` in order, cut into batches of at most BATCH_MESSAGES; a large message (one
    with a size in ``sizes``) alone in its batch."""
    batches: list[list[int]] = [[]]
    for uid in uids:
        large = uid in sizes
        if batches[-1] and (large or len(batches[-1]) >= BATCH_MESSAGES):
            batches.append([])
        batches[-1].append(uid)
        if large:
            batches.append([])
    return [batch for batch in batches if batch]


def _uid_set(uids: Sequence[int]) -> str:
    """``1:3,7`` for [1, 2, 3, 7]: the IMAP way of writing a set of UIDs."""
    ranges: list[list[int]] = []
    for uid in sorted(uids):
        if ranges and uid == ranges[-1][1] + 1:
            ranges[-1][1] = uid
        else:
            ranges.append([uid, uid])
    return ",".join(str(a) if a == b else f"{a}:{b}" for a, b in ranges)
