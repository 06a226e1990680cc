"""The quarantine: "one bad message never stops the run" keeps the messages that failed.

A folder holds a copy of every message that failed, with a note saying why, to be replayed
after an upgrade (``drsparse parse FOLDER``).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from drsparse._errors import DrsParseError

__all__ = ["NOTE_SUFFIX", "Quarantine"]

#: The name ending of a quarantine note. Such files found inside a folder are skipped, so that
#: ``drsparse parse QUARANTINE`` replays the messages without reading the notes as messages.
NOTE_SUFFIX = ".why.json"


# -------------------------------------------------------------------------------------------

# What a file name keeps of a source label; everything else becomes "_".
_UNSAFE = r"[^A-Za-z0-9._-]+"  # compiled at its first use: most runs quarantine nothing
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
                "error": error_record(error),
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
    label = re.sub(_UNSAFE, "_", source)[-_NAME_LENGTH:].strip("._-")
    return label or "message"


def _remove(path: str) -> None:
    # Cleaning up after a failure that is being reported already.
    with contextlib.suppress(OSError):
        os.remove(path)


def _version() -> str:
    from drsparse import __version__

    return __version__
