"""What has been read: per folder, its UIDVALIDITY and the last UID handled, in a small file.

IMAP numbers the messages of a folder with UIDs that only grow, valid as long as the folder
keeps its UIDVALIDITY (RFC 3501 2.3.1.1). Remembering both is enough to read each message
once: the next run asks for the UIDs above the last one, and a new UIDVALIDITY (the folder was
re-created, or the server rebuilt it) means reading the folder again from the start.

The file (by default ``$XDG_STATE_HOME/drsparse/imap.json``) is JSON Lines: a first line
naming the format, then one line per folder; a later line for a folder replaces an earlier
one::

    {"drsparse": "imap-state", "version": 1}
    {"folder": "robot@mail.example.net/DRS", "uidvalidity": 1714, "last_uid": 52}

After every message handled, one line is appended, in one ``write``: a crash leaves the lines
before it whole, and a line cut short by a power failure is ignored when the file is read.
Appending, not rewriting: on ext4, replacing a file (written beside it, renamed over it)
costs about 0.2 ms, as much as parsing half a message; appending a line costs 2 us. When the
command starts and stops, and every few thousand lines, the file is rewritten with one line
per folder (beside itself, then renamed over itself: a reader sees the old file or the new
one). The lines are sent to the disk (fsync, in the background) after each batch of messages,
and when the command stops: after a power failure, the last messages read may be read again,
never skipped.

One command at a time uses a state file: a lock beside it (``imap.json.lock``) says which.
"""

from __future__ import annotations

import functools
import json
import os
from typing import IO, TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import threading

from drsparse.imap._failures import ImapFailure, StateBusy, UsageError

__all__ = ["Mark", "State", "default_state_path"]

HEADER = {"drsparse": "imap-state", "version": 1}
#: Lines appended before the file is rewritten with one line per folder.
COMPACT_AFTER = 5000


class Mark(NamedTuple):
    """How far a folder has been read."""

    uidvalidity: int
    last_uid: int


def default_state_path() -> str:
    """``$XDG_STATE_HOME/drsparse/imap.json``, ``~/.local/state/drsparse/imap.json`` without it
    (the XDG Base Directory specification)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(base, "drsparse", "imap.json")


class State:
    """The state file of one command, locked while it runs (:meth:`open`, then :meth:`close`)."""

    def __init__(self, path: str, folders: dict[str, Mark], lock: IO[bytes]) -> None:
        self.path = path
        self.folders = folders
        self._lock: IO[bytes] | None = lock
        self._journal = -1
        self._appended = 0
        self._unsynced = False
        self._syncing: threading.Thread | None = None

    @classmethod
    def open(cls, path: str) -> State:
        """Lock the state file at ``path`` and read it (a file that does not exist yet is an
        empty state). :class:`StateBusy` when another command holds it, :class:`UsageError`
        when it cannot be read or written."""
        directory = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            lock = open(path + ".lock", "ab")  # noqa: SIM115 (held until close())
        except OSError as exc:
            raise UsageError(f"cannot use the state file {path}: {exc}") from exc
        try:
            _lock(lock, path)
            folders, tidy = _read(path)
            state = cls(path, folders, lock)
            if not tidy:
                state._compact()
            else:
                state._journal = os.open(path, os.O_WRONLY | os.O_APPEND)
        except ImapFailure as exc:
            lock.close()
            if type(exc) is ImapFailure:  # cannot write: at the start, a usage error
                raise UsageError(str(exc)) from exc
            raise
        except BaseException:
            lock.close()
            raise
        return state

    def get(self, key: str) -> Mark | None:
        return self.folders.get(key)

    def set(self, key: str, mark: Mark) -> None:
        """Remember ``mark`` for the folder ``key``: one line appended at once."""
        if self.folders.get(key) == mark:
            return
        self.folders[key] = mark
        # The line as _compact() writes it, without json.dumps for the numbers (once a message).
        line = f'{{"folder": {_json(key)}, "uidvalidity": {mark[0]}, "last_uid": {mark[1]}}}\n'
        try:
            os.write(self._journal, line.encode("utf-8"))
        except OSError as exc:  # a full disk: stop before the next message, which is read again
            raise ImapFailure(f"cannot write the state file {self.path}: {exc}") from exc
        self._appended += 1
        self._unsynced = True

    def sync(self) -> None:
        """Make the lines written so far reach the disk, in the background; rewrite a long
        file.

        An fsync can take a second on a busy disk: ``watch`` must not wait for it before it
        reads the next message. One runs at a time; lines written meanwhile go with the next.
        """
        if self._appended >= COMPACT_AFTER:
            self._compact()  # which syncs
        if not self._unsynced or (self._syncing is not None and self._syncing.is_alive()):
            return
        import threading

        # A copy of the descriptor: _compact() may close the other while this one syncs.
        copy = os.dup(self._journal)
        self._syncing = threading.Thread(
            target=_fsync_and_close, args=(copy,), name="drsparse-state-sync", daemon=True
        )
        self._syncing.start()
        self._unsynced = False

    def close(self) -> None:
        """Rewrite the file with one line per folder (synced), and release the lock."""
        if self._lock is None:
            return
        try:
            if self._syncing is not None:
                self._syncing.join()
            if self._appended or self._unsynced:
                self._compact()
        finally:
            if self._journal >= 0:
                os.close(self._journal)
                self._journal = -1
            self._lock.close()  # releases the lock
            self._lock = None

    def _compact(self) -> None:
        """Rewrite the file with one line per folder, and append to the new file from now on."""
        lines = [HEADER] + [
            {"folder": key, **mark._asdict()} for key, mark in sorted(self.folders.items())
        ]
        text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        temporary = f"{self.path}.{os.getpid()}.tmp"
        try:
            # 0600: the file names the accounts read from this machine.
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(handle, text.encode("utf-8"))
                os.fsync(handle)
            finally:
                os.close(handle)
            os.replace(temporary, self.path)
            _sync_directory(self.path)
            journal = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            raise ImapFailure(f"cannot write the state file {self.path}: {exc}") from exc
        if self._journal >= 0:
            os.close(self._journal)
        self._journal = journal
        self._appended = 0
        self._unsynced = False


@functools.lru_cache(maxsize=64)
def _json(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)


def _lock(file: IO[bytes], path: str) -> None:
    try:
        import fcntl
    except ImportError:  # not on Unix: no lock, one command at a time is up to the user
        return
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        raise StateBusy(
            f"the state file {path} is in use by another drsparse fetch or watch; give each "
            "its own --state"
        ) from exc


def _read(path: str) -> tuple[dict[str, Mark], bool]:
    """The folders in the file at ``path``, and whether it is tidy: one whole line per folder
    (else it is missing, has lines to fold, or ends with a line cut short)."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        return {}, False
    except OSError as exc:
        raise UsageError(f"cannot read the state file {path}: {exc}") from exc
    if not data:  # created, and a power failure came before anything reached the disk
        return {}, False
    lines = data.split(b"\n")
    # The last piece is empty after a whole last line; anything else is a line cut short.
    whole = lines[:-1]
    folders = {}
    try:
        if not whole or json.loads(whole[0]) != HEADER:
            raise ValueError(f"its first line is not {json.dumps(HEADER)}")
        for number, line in enumerate(whole[1:], start=2):
            try:
                entry: Any = json.loads(line)
                folders[str(entry["folder"])] = Mark(
                    int(entry["uidvalidity"]), int(entry["last_uid"])
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"line {number}: {exc}") from exc
    except ValueError as exc:
        raise UsageError(
            f"the state file {path} is not one drsparse wrote: {exc} (without it, every "
            "message of the folders is read again: remove it only if that is what you want)"
        ) from exc
    return folders, len(whole) == len(folders) + 1 and not lines[-1]


def _fsync_and_close(handle: int) -> None:
    try:
        os.fsync(handle)
    except OSError:  # the lines stand; close() rewrites the file, and reports a failure then
        pass
    finally:
        os.close(handle)


def _sync_directory(path: str) -> None:
    """Make a rename in the directory of ``path`` survive a power failure, where possible."""
    try:
        handle = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    except OSError:  # a directory cannot be opened on every system; the rename stands
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
