"""What has been read: per folder, its UIDVALIDITY and the last UID handled, in a JSON file.

IMAP numbers the messages of a folder with UIDs that only grow, valid as long as the folder
keeps its UIDVALIDITY (RFC 3501 2.3.1.1). Remembering both is enough to read each message
once: the next run asks for the UIDs above the last one, and a new UIDVALIDITY (the folder was
re-created or the server rebuilt it) means reading the folder again from the start.

The file (by default ``$XDG_STATE_HOME/drsparse/imap.json``)::

    {"version": 1, "folders": {"robot@mail.example.net/DRS": {"uidvalidity": 1714, "last_uid": 52}}}

It is rewritten after every message handled: written beside itself and renamed over the old
one, so that a reader or a crash sees the old file or the new one, never half of either. The
data reaches the disk (fsync) at the end of each batch and when the command stops: after a
power failure, the last messages of a batch may be read again, never skipped. One command at
a time uses a state file: a lock beside it (``imap.json.lock``) says which.
"""

from __future__ import annotations

import json
import os
from typing import IO, Any, NamedTuple

from drsparse.imap._failures import ImapFailure, StateBusy, UsageError

__all__ = ["Mark", "State", "default_state_path"]

VERSION = 1


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
    """The state file of one command, locked while it runs (use :meth:`open`, then
    :meth:`close`)."""

    def __init__(self, path: str, folders: dict[str, Mark], lock: IO[bytes] | None) -> None:
        self.path = path
        self.folders = folders
        self._lock = lock
        self._unsynced = False

    @classmethod
    def open(cls, path: str) -> State:
        """Lock the state file at ``path`` and read it (a file that does not exist yet is an
        empty state). :class:`StateBusy` when another command holds it, :class:`UsageError`
        when it cannot be read."""
        directory = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            lock = open(path + ".lock", "ab")  # noqa: SIM115 (held until close())
        except OSError as exc:
            raise UsageError(f"cannot use the state file {path}: {exc}") from exc
        try:
            _lock(lock, path)
            return cls(path, _read(path), lock)
        except BaseException:
            lock.close()
            raise

    def get(self, key: str) -> Mark | None:
        return self.folders.get(key)

    def set(self, key: str, mark: Mark) -> None:
        """Remember ``mark`` for the folder ``key``: the file is replaced at once."""
        if self.folders.get(key) == mark:
            return
        self.folders[key] = mark
        document = {
            "version": VERSION,
            "folders": {name: m._asdict() for name, m in sorted(self.folders.items())},
        }
        temporary = f"{self.path}.{os.getpid()}.tmp"
        try:
            # 0600: the file names the accounts read from this machine.
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(json.dumps(document, indent=1) + "\n")
            os.replace(temporary, self.path)
        except OSError as exc:  # a full disk: stop before the next message, which is read again
            raise ImapFailure(f"cannot write the state file {self.path}: {exc}") from exc
        self._unsynced = True

    def sync(self) -> None:
        """Make the last :meth:`set` survive a power failure (the file, then its directory)."""
        if not self._unsynced:
            return
        for path, flags in ((self.path, os.O_RDONLY), (os.path.dirname(self.path) or ".", 0)):
            try:
                handle = os.open(path, flags)
            except OSError:  # a directory cannot be opened on every system; the rename stands
                continue
            try:
                os.fsync(handle)
            except OSError:
                pass
            finally:
                os.close(handle)
        self._unsynced = False

    def close(self) -> None:
        self.sync()
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None


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


def _read(path: str) -> dict[str, Mark]:
    try:
        with open(path, encoding="utf-8") as file:
            document: Any = json.load(file)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"cannot read the state file {path}: {exc} (without it, every message of the "
            "folder is read again: remove it only if that is what you want)"
        ) from exc
    try:
        if document["version"] != VERSION:
            raise ValueError(f"version {document['version']!r}, this drsparse writes {VERSION}")
        return {
            str(key): Mark(int(value["uidvalidity"]), int(value["last_uid"]))
            for key, value in document["folders"].items()
        }
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"the state file {path} is not drsparse's: {exc}") from exc
