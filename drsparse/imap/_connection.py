"""The conversation with the server, through imapclient: in, an :class:`Address`, the
credentials and the TLS settings; out, UIDs and the bytes of messages.

TLS is the default and is verified: ``imaps://`` speaks it from the first byte (RFC 8314),
``imap://`` must upgrade with STARTTLS before the password is sent; only ``--insecure`` lets
``imap://`` stay in plain text. Messages are fetched with ``BODY.PEEK[]``, which leaves their
``\\Seen`` flag alone, and the folder is opened read-only (EXAMINE) unless messages are to be
moved out of it.

Every exception of imapclient, imaplib, ssl and socket becomes one of ``_failures.py`` here,
in :func:`_translated`, so that the rest of the package knows nothing of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from drsparse.imap._address import Address
from drsparse.imap._failures import (
    ConnectionLost,
    ImapFailure,
    LoginRefused,
    NoFolder,
    TlsFailure,
    UsageError,
)
from drsparse.imap._password import Credentials

__all__ = ["Connection", "Selected", "Tls"]

#: Seconds to wait for the server to accept the connection, and for any answer after it
#: (a fetch of many messages is answered as it goes, so this bounds a silence, not a fetch).
CONNECT_TIMEOUT = 15.0
READ_TIMEOUT = 60.0
#: UIDs per command when asking for sizes: a command line stays well under the 8 KB that
#: RFC 7162 asks servers to accept at least.
SIZES_PER_COMMAND = 500


class Tls(NamedTuple):
    """How to protect the connection."""

    #: Plain text for ``imap://`` (no STARTTLS): only with ``--insecure``.
    insecure: bool = False
    #: The CA certificates that signed the server's (PEM); ``None``: the system's.
    cafile: str | None = None


class Selected(NamedTuple):
    uidvalidity: int
    #: The UID the next message will get; ``None`` where the server does not say.
    uidnext: int | None


class Connection:
    """One logged-in connection (use :meth:`open`; :meth:`close` logs out)."""

    def __init__(self, client: Any, address: Address) -> None:
        self._client = client
        self.address = address

    @classmethod
    def open(cls, address: Address, credentials: Credentials, tls: Tls) -> Connection:
        """Connect, protect the connection as ``tls`` says, and log in."""
        import imapclient

        context = None if tls.insecure and not address.implicit_tls else _tls_context(tls)
        where = f"{credentials.user}@{address.server}"
        client = None
        try:
            with _translated(where):
                client = imapclient.IMAPClient(
                    address.host,
                    port=address.port,
                    ssl=address.implicit_tls,
                    ssl_context=context,
                    timeout=imapclient.SocketTimeout(CONNECT_TIMEOUT, READ_TIMEOUT),
                )
                if not address.implicit_tls and context is not None:
                    if not client.has_capability("STARTTLS"):
                        raise TlsFailure(
                            f"{address.server} offers no STARTTLS: the password would cross "
                            "the network in plain text (use imaps://, or --insecure for a "
                            "server on this machine)"
                        )
                    client.starttls(context)
                _keep_alive(client.socket())
                try:
                    client.login(credentials.user, credentials.password)
                except imapclient.exceptions.LoginError as exc:
                    if "[UNAVAILABLE]" in str(exc):  # RFC 5530: try again later
                        raise ConnectionLost(f"{where}: {_said(exc)}") from exc
                    raise LoginRefused(
                        f"{where}: the server refused the login: {_said(exc)} (the password "
                        f"came from {credentials.origin})"
                    ) from exc
        except BaseException:
            if client is not None:
                _shut(client)
            raise
        return cls(client, address)

    def has(self, capability: str) -> bool:
        with _translated(self.address.server):
            return bool(self._client.has_capability(capability))

    def select(self, folder: str, *, readonly: bool) -> Selected:
        """Open ``folder`` (EXAMINE when ``readonly``); :class:`NoFolder` when it is missing."""
        import imapclient

        with _translated(self.address.server):
            try:
                answer = self._client.select_folder(folder, readonly=readonly)
            except imapclient.exceptions.IMAPClientAbortError:
                raise
            except imapclient.exceptions.IMAPClientError as exc:
                if not self._client.folder_exists(folder):
                    raise NoFolder(f"no folder {folder!r} on {self.address.server}") from exc
                raise
        uidnext = answer.get(b"UIDNEXT")
        return Selected(int(answer[b"UIDVALIDITY"]), None if uidnext is None else int(uidnext))

    def folder_exists(self, folder: str) -> bool:
        with _translated(self.address.server):
            return bool(self._client.folder_exists(folder))

    def new_uids(self, after: int) -> list[int]:
        """The UIDs above ``after`` in the selected folder, in order."""
        with _translated(self.address.server):
            found = self._client.search(["UID", f"{after + 1}:*"])
        # "n:*" always matches the last message, even when its UID is below n (RFC 3501 6.4.8).
        return sorted(uid for uid in found if uid > after)

    def larger(self, after: int, size: int) -> set[int]:
        """The UIDs above ``after`` of the messages larger than ``size`` bytes."""
        with _translated(self.address.server):
            found = self._client.search(["UID", f"{after + 1}:*", "LARGER", str(size)])
        return {uid for uid in found if uid > after}

    def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        """The size in bytes of each message of ``uids`` still in the folder."""
        sizes = {}
        with _translated(self.address.server):
            for start in range(0, len(uids), SIZES_PER_COMMAND):
                some = list(uids[start : start + SIZES_PER_COMMAND])
                answer = self._client.fetch(some, ["RFC822.SIZE"])
                for uid, items in answer.items():
                    if b"RFC822.SIZE" in items:  # not an unasked-for FETCH of flags
                        sizes[uid] = int(items[b"RFC822.SIZE"])
        return sizes

    def bodies(self, uids: Sequence[int]) -> dict[int, bytes]:
        """The whole messages of ``uids``, without setting ``\\Seen`` (BODY.PEEK)."""
        with _translated(self.address.server):
            answer = self._client.fetch(list(uids), ["BODY.PEEK[]"])
        return {uid: items[b"BODY[]"] for uid, items in answer.items() if b"BODY[]" in items}

    def move(self, uids: Sequence[int], folder: str) -> bool:
        """Move ``uids`` to ``folder``: MOVE (RFC 6851) where the server has it, else COPY, then
        ``\\Deleted`` and UID EXPUNGE (RFC 4315). False when they could only be marked
        ``\\Deleted``: without UIDPLUS an EXPUNGE would also remove what others marked."""
        with _translated(self.address.server):
            if self._client.has_capability("MOVE"):
                self._client.move(list(uids), folder)
                return True
            self._client.copy(list(uids), folder)
            self._client.add_flags(list(uids), [b"\\Deleted"], silent=True)
            if not self._client.has_capability("UIDPLUS"):
                return False
            self._client.uid_expunge(list(uids))
            return True

    def idle(self) -> None:
        """Start IDLE (RFC 2177): the server tells of new messages as they come."""
        with _translated(self.address.server):
            self._client.idle()

    def idle_wait(self, timeout: float) -> bool:
        """Whether the server said something during IDLE within ``timeout`` seconds.

        What it said is read by :meth:`idle_done`, in whole lines: imapclient's idle_check
        reads without blocking and takes a line cut in two by the network for a lost
        connection.
        """
        import selectors
        import ssl

        sock = self._client.socket()
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True  # decrypted already, waiting in the TLS layer
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            return bool(selector.select(timeout))

    def idle_done(self) -> None:
        """End IDLE, reading what the server said meanwhile. This is also how a dead
        connection is found: the socket is closed, or the answer never comes."""
        with _translated(self.address.server):
            _text, said = self._client.idle_done()
        for response in said:
            if response and response[0] == b"BYE":
                words = b" ".join(part for part in response[1:] if isinstance(part, bytes))
                raise ConnectionLost(
                    f"{self.address.server} closed the connection: "
                    f"{words.decode('utf-8', 'replace')}"
                )

    def close(self) -> None:
        """Log out; a connection that is gone already is just closed."""
        _shut(self._client)


def _keep_alive(sock: Any) -> None:
    """TCP keep-alive probes after a minute of silence: a watch waiting in IDLE learns of a
    network that went away in about 90 s, not at the next renewal of IDLE."""
    import socket

    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, name):  # Linux; elsewhere the system's own timings
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


def _tls_context(tls: Tls) -> Any:
    import ssl

    try:
        # Verifies the certificate and the host name; TLS 1.2 at least (Python's defaults).
        return ssl.create_default_context(cafile=tls.cafile)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"cannot read the CA file {tls.cafile}: {exc}") from exc


@contextlib.contextmanager
def _translated(where: str) -> Iterator[None]:
    """Turn what imapclient, imaplib, ssl and socket raise into the failures of this package."""
    import imaplib
    import ssl

    try:
        yield
    except ImapFailure:
        raise
    except ssl.SSLCertVerificationError as exc:
        raise TlsFailure(
            f"{where}: the server's certificate is not trusted: {exc.verify_message} (if a "
            "private CA signed it, give the CA's certificate with --cafile)"
        ) from exc
    except ssl.SSLError as exc:
        raise TlsFailure(f"{where}: TLS failed: {exc.reason or exc}") from exc
    except TimeoutError as exc:
        raise ConnectionLost(f"{where}: no answer for {READ_TIMEOUT:.0f} s") from exc
    except OSError as exc:
        raise ConnectionLost(f"{where}: {exc.strerror or exc}") from exc
    except imaplib.IMAP4.abort as exc:
        raise ConnectionLost(f"{where}: the connection was lost: {_said(exc)}") from exc
    except imaplib.IMAP4.error as exc:
        raise ConnectionLost(f"{where}: the server failed a command: {_said(exc)}") from exc


def _said(exc: BaseException) -> str:
    """The server's words in an imaplib error (which holds them as the repr of bytes)."""
    text = str(exc)
    if text.startswith(("b'", 'b"')) and text.endswith(text[1]):
        text = text[2:-1]
    return text


def _shut(client: Any) -> None:
    try:
        client.logout()
    except Exception:  # the connection is gone already: just close the socket
        with contextlib.suppress(Exception):
            client.shutdown()
