"""Reading the robot's mail where it lives: an IMAP folder in, one record per response out.

``drsparse fetch URL`` reads the messages that arrived in a folder since the last run;
``drsparse watch URL`` then stays connected and reads each message as it arrives. Every
message goes, with what :func:`drsparse.parse_message` made of it, to a :class:`Sink`: the
records of ``drsparse parse`` on standard output, or anything else that takes a message
(a ledger of the conversation with the robot).

The modules, as a message travels: ``_address`` (the URL: server, account, folder; a
message's source label) -> ``_password`` (the credentials) -> ``_connection`` (TLS, login and
the IMAP commands, through imapclient) -> ``_reader`` (new UIDs -> bytes -> parse -> sink ->
``_state``, the state file, and moves) -> ``_sink``; ``_watch`` keeps a connection (IDLE or
polling, reconnecting, signals); ``_commands`` is the command line; ``_failures`` what stops
it, with its exit status.

imapclient is an optional extra (``pip install 'drsparse[imap]'``): it is imported when a
command runs, never by importing this package.
"""

from typing import TYPE_CHECKING

from drsparse.imap._commands import add_commands

if TYPE_CHECKING:
    from drsparse.imap._sink import RecordSink, Sink

__all__ = ["RecordSink", "Sink", "add_commands"]


def __getattr__(name: str) -> object:
    # The sinks on first use: building the parser of every drsparse command imports this
    # package, and needs add_commands only.
    if name in ("RecordSink", "Sink"):
        from drsparse.imap import _sink

        return getattr(_sink, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
