"""Mailboxes of the fake robot's mail: :class:`Mail` values in, a Maildir or an mbox out.

Both are written the way mail systems write them, so that every reader takes them as such
(drsparse, the standard library's ``mailbox``, mutt): a Maildir's messages go to ``tmp/``
and are then renamed into ``new/``, named by their date so that the order of the names is
that of the dates; an mbox is mboxrd, each message after a ``From`` line with its date, body
lines that start with ``From`` (after any number of ``>``) escaped with one more ``>``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable

from drsparse.testing._mails import Mail

__all__ = ["write_maildir", "write_mbox"]

_FROM_LINE = re.compile(rb"^(>*From )", re.MULTILINE)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _mails(mails: Iterable[Mail]) -> Iterable[Mail]:
    for mail in mails:
        if not isinstance(mail, Mail):
            raise TypeError(f"mails must be Mail values, not {type(mail).__name__}")
        yield mail


def write_maildir(mails: Iterable[Mail], directory: str | os.PathLike[str]) -> int:
    """Deliver ``mails`` into the Maildir ``directory`` (made if missing); return how many.

    Each message is named ``<seconds since the epoch>.M<n>.drsparse`` in ``new/``; the
    same mails give the same files.
    """
    root = os.fspath(directory)
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    count = 0
    for count, mail in enumerate(_mails(mails), start=1):
        name = f"{int(mail.date.timestamp()):010d}.M{count:06d}.drsparse"
        temporary = os.path.join(root, "tmp", name)
        with open(temporary, "wb") as out:
            out.write(mail.data)
        os.replace(temporary, os.path.join(root, "new", name))
    return count


def _separator(date: dt.datetime) -> bytes:
    # "From sender asctime", the date written by hand: strftime's names follow the locale.
    utc = date.astimezone(dt.UTC)
    stamp = (
        f"{_DAYS[utc.weekday()]} {_MONTHS[utc.month - 1]} {utc.day:2d} {utc:%H:%M:%S} {utc.year}"
    )
    return f"From MAILER-DAEMON {stamp}\n".encode("ascii")


def mbox_entry(mail: Mail) -> bytes:
    """One message of an mbox: the ``From`` line, the escaped message, a blank line."""
    body = _FROM_LINE.sub(rb">\1", mail.data)
    if not body.endswith(b"\n"):
        body += b"\n"
    return _separator(mail.date) + body + b"\n"


def write_mbox(mails: Iterable[Mail], path: str | os.PathLike[str]) -> int:
    """Write ``mails`` to the mbox file ``path`` (replacing it); return how many.

    One message at a time is in memory, so ``mails`` may be a stream of any length.
    """
    count = 0
    with open(path, "wb") as out:
        for mail in _mails(mails):
            out.write(mbox_entry(mail))
            count += 1
    return count
