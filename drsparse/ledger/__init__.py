"""The ledger: what is still open with the robot, across e-mails.

The robot answers asynchronously: a .de registration sends 10320 and, hours later, 10000 with
the same reference; an outgoing transfer arrives unrequested as 10300 with a deadline, then
10302, 10303 or 10304. The ledger follows these conversations::

    >>> import drsparse
    >>> from drsparse.ledger import Ledger
    >>> with Ledger() as ledger:                  # $XDG_DATA_HOME/drsparse/ledger.sqlite3
    ...     for item in drsparse.read_messages("~/Maildir"):
    ...         if item.data is not None:
    ...             ledger.add(drsparse.parse_message(item.data, source=item.source),
    ...                        message=item.data)
    ...     for case in ledger.status().cases:    # the open cases
    ...         print(case.kind, case.domain, case.codes, case.due)

Two layers, apart like a protocol's state machine and its sockets:

* :func:`fold` is pure: :class:`Event` values (one per response, made with
  :meth:`Event.from_response`) in, a :class:`State` of :class:`Case` values out, the same
  whatever order the events come in; :func:`attention` and :func:`status` say what needs a
  person at a given moment.
* :class:`Ledger` keeps the events and their cases in an SQLite file, safe for several
  processes writing at once, and answers ``status`` through indexes.

The commands ``drsparse track``, ``status``, ``history`` and ``ledger rebuild`` are built on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drsparse.ledger._fold import (
        KINDS,
        Attention,
        Case,
        Event,
        Kind,
        State,
        Status,
        attention,
        fold,
        kind_of,
        status,
    )
    from drsparse.ledger._store import (
        SCHEMA_VERSION,
        Ledger,
        LedgerError,
        default_path,
        record_of,
    )

__all__ = [
    "KINDS",
    "SCHEMA_VERSION",
    "Attention",
    "Case",
    "Event",
    "Kind",
    "Ledger",
    "LedgerError",
    "State",
    "Status",
    "attention",
    "default_path",
    "fold",
    "kind_of",
    "record_of",
    "status",
]

_IN_STORE = frozenset({"SCHEMA_VERSION", "Ledger", "LedgerError", "default_path", "record_of"})


def __getattr__(name: str) -> Any:
    # Loaded at first use: the drsparse command imports this package to register its
    # subcommands, and every start of the command (a mail pipe runs one per e-mail) would
    # otherwise pay for SQLite and the attrs classes.
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name in _IN_STORE:
        from drsparse.ledger import _store as module
    else:
        from drsparse.ledger import _fold as module  # type: ignore[no-redef]
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
