"""Where each message goes once it is read: the :class:`Sink` interface, and
:class:`RecordSink`, which writes the records of ``drsparse parse``.

A sink receives every message of the folder in UID order, with what
:func:`drsparse.parse_message` made of it. The message counts as read (the state file moves
past it, ``--move-to`` or ``--failed-to`` moves it) only once :meth:`Sink.message` has
returned: a sink that raises stops the run, and the message is read again next time. Between
its return and the state file's update a crash can still come, so a sink that counts (a
ledger) must take the same message twice as once; the source label names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from drsparse._errors import DrsParseError
    from drsparse._model import Response
    from drsparse._quarantine import Quarantine
    from drsparse._writers import Output
    from drsparse.ledger import Ledger

__all__ = ["LedgerSink", "RecordSink", "Sink"]


class Sink(Protocol):
    """Receives each message read from a folder."""

    def message(
        self, data: bytes | None, source: str, parsed: list[Response] | DrsParseError
    ) -> None:
        """Take one message.

        ``data`` is the message as the server stores it (``None`` when it was not fetched:
        a message beyond :attr:`drsparse.Limits.max_message_bytes`), ``source`` its label
        (``imap://user@host/FOLDER;UIDVALIDITY=v/;UID=n``), ``parsed`` its responses (often
        none: not every mail is the robot's) or the error that stopped it.
        """

    def close(self) -> None:
        """The run is over (a format that is written at the end is written now)."""


class RecordSink:
    """The records of ``drsparse parse``, through the same writer, with its ``--format``,
    ``--require-authentic`` and ``--quarantine``; each error also as one line
    ``SOURCE:LINE:COLUMN: message`` through ``note``."""

    def __init__(
        self,
        output: Output,
        *,
        require_authentic: bool,
        quarantine: Quarantine | None,
        note: Callable[[str], None],
    ) -> None:
        self.output = output
        self.require_authentic = require_authentic
        self.quarantine = quarantine
        self.note = note

    def message(
        self, data: bytes | None, source: str, parsed: list[Response] | DrsParseError
    ) -> None:
        from drsparse._cli import _emit, _keep, rendered
        from drsparse._writers import Format

        records = Format(self.output.name, self.require_authentic)
        _emit(source, rendered(parsed, records), self.output, note=self.note)
        if not isinstance(parsed, list):
            _keep(source, data, parsed, self.quarantine, self.note)

    def close(self) -> None:
        self.output.close()


class LedgerSink:
    """The responses of each message recorded in a ledger (``--ledger``), as ``drsparse track``
    records them: each message in one transaction, once however often it is read. A message
    that gave an error is reported through ``note`` and quarantined, as by ``track``.

    A ledger that cannot be written stops the run (a temporary failure, exit 75): the message
    is read again next time.
    """

    def __init__(
        self, ledger: Ledger, *, quarantine: Quarantine | None, note: Callable[[str], None]
    ) -> None:
        self.ledger = ledger
        self.quarantine = quarantine
        self.note = note

    def message(
        self, data: bytes | None, source: str, parsed: list[Response] | DrsParseError
    ) -> None:
        from drsparse._cli import _keep
        from drsparse._writers import printable
        from drsparse.imap._failures import ImapFailure
        from drsparse.ledger import LedgerError

        if not isinstance(parsed, list):
            self.note(printable(str(parsed)))
            _keep(source, data, parsed, self.quarantine, self.note)
        elif parsed:
            try:
                self.ledger.add(parsed, message=data)
            except LedgerError as exc:
                raise ImapFailure(f"cannot record {source} in the ledger: {exc}") from exc

    def close(self) -> None:
        self.ledger.close()
