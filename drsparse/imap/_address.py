"""The folder to read: a URL (``imaps://user@host[:port]/FOLDER``) in, an :class:`Address` out,
and the labels that name one of its messages (the ``source`` of its records) and the folder
in the state file.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

from drsparse.imap._failures import UsageError

__all__ = ["Address", "parse_address"]

#: The schemes and their ports (RFC 8314: implicit TLS on 993; 143 with STARTTLS).
PORTS = {"imaps": 993, "imap": 143}

# RFC 5092 (IMAP URLs): what a mailbox name keeps unencoded in a URL, "/" included as the
# usual hierarchy delimiter.
_MAILBOX_SAFE = "/!$&'()*+,=:@-._~"


class Address(NamedTuple):
    """A folder on an IMAP server, and the account that reads it."""

    #: ``imaps`` (implicit TLS) or ``imap`` (STARTTLS, or plain text with --insecure).
    scheme: str
    host: str
    port: int
    #: ``None`` when the URL names no user: ~/.netrc then gives it.
    user: str | None
    folder: str

    @property
    def implicit_tls(self) -> bool:
        return self.scheme == "imaps"

    @property
    def server(self) -> str:
        """``host:port`` for messages (an IPv6 address in brackets)."""
        return f"{_host(self.host)}:{self.port}"

    def url(self) -> str:
        """The URL again, for logs: scheme, account, server and folder."""
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        return f"{self.scheme}://{user}{self.server}/{quote(self.folder, safe=_MAILBOX_SAFE)}"

    def key(self) -> str:
        """The folder's name in the state file: account, host and folder.

        Neither scheme nor port: the same folder read over 993 or over 143 is the same folder
        (its UIDVALIDITY tells when it is not).
        """
        return f"{self.user}@{_host(self.host)}/{self.folder}"

    def source(self, uidvalidity: int, uid: int) -> str:
        """The label of one message: an IMAP URL of RFC 5092,
        ``imap://user@host/FOLDER;UIDVALIDITY=v/;UID=n``, which names it for as long as the
        folder keeps its UIDVALIDITY."""
        port = "" if self.port in PORTS.values() else f":{self.port}"
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        folder = quote(self.folder, safe=_MAILBOX_SAFE)
        return (
            f"imap://{user}{_host(self.host)}{port}/{folder};UIDVALIDITY={uidvalidity}/;UID={uid}"
        )


def parse_address(url: str) -> Address:
    """The :class:`Address` of ``url``; :class:`UsageError` saying what is wrong with it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # a port that is not a number, a bad IPv6 literal
        raise UsageError(f"not an IMAP URL: {url!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in PORTS or not parts.hostname:
        raise UsageError(
            f"not an IMAP URL: {url!r} (expected imaps://USER@HOST[:PORT]/FOLDER, "
            "or imap://... for STARTTLS)"
        )
    if parts.password is not None:
        raise UsageError(
            "a password in the URL would be seen by every user of this machine (ps): put it "
            "in DRSPARSE_IMAP_PASSWORD, a --password-file or ~/.netrc"
        )
    if parts.query or parts.fragment:
        raise UsageError(f"an IMAP URL names a folder, nothing after it: {url!r}")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    user = unquote(parts.username) if parts.username else None
    return Address(scheme, parts.hostname, port or PORTS[scheme], user, folder)


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
