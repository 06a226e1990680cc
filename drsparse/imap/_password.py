"""The account's password: from a file, an environment variable or ~/.netrc, never from the
command line (every user of the machine can read a command line with ``ps``).

In: the :class:`Address` (its user, if the URL names one) and ``--password-file``. Out: the
user, the password and where the password came from, to name it when the server refuses it.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from drsparse.imap._address import Address
from drsparse.imap._failures import UsageError

__all__ = ["PASSWORD_VARIABLE", "Credentials", "find_credentials"]

#: The environment variable holding the password (for a service manager's credentials or a
#: secret store that sets it; a shell's history would keep an ``export`` typed by hand).
PASSWORD_VARIABLE = "DRSPARSE_IMAP_PASSWORD"


class Credentials(NamedTuple):
    user: str
    password: str
    #: Where the password came from, for people: ``$DRSPARSE_IMAP_PASSWORD``, a path.
    origin: str


def find_credentials(address: Address, password_file: str | None) -> Credentials:
    """The first of: ``password_file``, ``$DRSPARSE_IMAP_PASSWORD``, the ~/.netrc entry of the
    host (whose login must be the URL's user, if it names one)."""
    if password_file is not None:
        return Credentials(_need_user(address), _read_password_file(password_file), password_file)
    password = os.environ.get(PASSWORD_VARIABLE)
    if password:
        return Credentials(_need_user(address), password, f"${PASSWORD_VARIABLE}")
    entry = _netrc_entry(address)
    if entry is not None:
        return entry
    user = address.user or "USER"
    raise UsageError(
        f"no password for {user}@{address.host}: set {PASSWORD_VARIABLE}, give "
        f"--password-file FILE, or add a line to ~/.netrc: "
        f"machine {address.host} login {user} password ..."
    )


def _need_user(address: Address) -> str:
    if address.user is None:
        raise UsageError(
            f"the URL names no user: imaps://USER@{address.server}/{address.folder} "
            "(or give the login in ~/.netrc)"
        )
    return address.user


def _read_password_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            line = file.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the password file {path}: {exc}") from exc
    # The first line, without its line break: `echo secret > file` adds one.
    password = line.rstrip("\r\n")
    if not password:
        raise UsageError(f"the password file {path} is empty")
    return password


def _netrc_entry(address: Address) -> Credentials | None:
    import netrc

    path = os.path.join(os.path.expanduser("~"), ".netrc")
    if not os.path.exists(path):
        return None
    try:
        # Without a path, the standard library refuses a ~/.netrc that others can read or
        # another user owns, as ftp does.
        entry = netrc.netrc().authenticators(address.host)
    except (OSError, netrc.NetrcParseError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    if entry is None:
        return None
    login, _account, password = entry
    if not password or (address.user is not None and login != address.user):
        return None
    return Credentials(address.user or login, password, path)
