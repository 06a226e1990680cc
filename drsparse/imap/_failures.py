"""What stops ``drsparse fetch`` and ``drsparse watch``, each with the exit status it ends with.

The IMAP library's, the socket's and the TLS layer's exceptions are translated into these in
one place (``_connection.py``); the commands print the message and exit with ``status``.
A malformed message is not among them: it is an error record, and the run goes on.
"""

from __future__ import annotations

__all__ = [
    "EX_NOPERM",
    "EX_PROTOCOL",
    "EX_TEMPFAIL",
    "EX_UNAVAILABLE",
    "USAGE_ERROR",
    "ConnectionLost",
    "ImapFailure",
    "LoginRefused",
    "NoFolder",
    "StateBusy",
    "TlsFailure",
    "UsageError",
]

#: A bad URL or option, no password found, an unreadable password, CA or state file, a folder
#: that does not exist: the same status as argparse's usage errors.
USAGE_ERROR = 2
#: sysexits.h EX_UNAVAILABLE: the imap extra (imapclient) is not installed.
EX_UNAVAILABLE = 69
#: sysexits.h EX_TEMPFAIL: the server cannot be reached, the connection was lost, the server
#: failed a command, the state file is in use: trying again later may succeed.
EX_TEMPFAIL = 75
#: sysexits.h EX_PROTOCOL: TLS failed (a certificate not trusted or for another name, a failed
#: handshake), or an ``imap://`` server offers no STARTTLS and --insecure was not given.
EX_PROTOCOL = 76
#: sysexits.h EX_NOPERM: the server refused the login (user or password).
EX_NOPERM = 77


class ImapFailure(Exception):
    """A failure that ends a command; ``str()`` is the message for people."""

    status = EX_TEMPFAIL


class UsageError(ImapFailure):
    status = USAGE_ERROR


class NoFolder(UsageError):
    """The folder to read or to move to does not exist on the server."""


class StateBusy(ImapFailure):
    """Another ``drsparse fetch`` or ``watch`` holds the state file."""


class ConnectionLost(ImapFailure):
    """The server cannot be reached, dropped the connection, or failed a command: temporary,
    ``watch`` reconnects."""


class TlsFailure(ImapFailure):
    status = EX_PROTOCOL


class LoginRefused(ImapFailure):
    status = EX_NOPERM
