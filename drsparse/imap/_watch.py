"""Staying connected: in, a way to connect and a :class:`FolderReader`; out, each new message
read as it arrives, until a signal asks to stop.

The server says when a message arrives (IDLE, RFC 2177) where it can; elsewhere the folder is
looked at every ``interval`` seconds. A network fault or a server restart ends the connection:
the next one is tried after 1 s, then 2, 4, ... up to 5 minutes, and the reading goes on from
the state file, so nothing is lost or read twice. A refused login, a TLS failure and a folder
missing at the start end the command: retrying cannot fix them, and retrying a wrong password
can lock the account.

Each event is one line through ``log``: connected, messages read, connection lost, stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from drsparse.imap._connection import Connection
from drsparse.imap._failures import ConnectionLost, NoFolder
from drsparse.imap._reader import FolderReader, Stop

__all__ = ["watch"]

#: IDLE is renewed this often: RFC 2177 asks for less than 29 minutes, and routers doing NAT
#: forget a silent connection sooner. Renewing also finds a connection that died silently.
IDLE_RENEW = 300.0
#: How often a wait looks at the stop flag, in seconds.
STEP = 0.5
FIRST_DELAY = 1.0
MAX_DELAY = 300.0


def watch(
    connect: Callable[[], Connection],
    reader: FolderReader,
    *,
    interval: float,
    stop: Stop,
    log: Callable[[str], None],
) -> None:
    """Read new messages as they come until ``stop`` is set; raise what cannot be retried."""
    delay = FIRST_DELAY
    started = False  # whether a first catch-up has worked: a missing folder is fatal before
    url = reader.address.url()
    while not stop:
        try:
            connection = connect()
        except ConnectionLost as exc:
            log(f"cannot connect: {exc}; trying again in {delay:g} s")
            _sleep(delay, stop)
            delay = min(delay * 2, MAX_DELAY)
            continue
        lost: ConnectionLost | NoFolder | None = None
        try:
            idle = connection.has("IDLE")
            how = "IDLE" if idle else f"the server has no IDLE: looking every {interval:g} s"
            log(f"watching {url} ({how})")
            while not stop:
                counts = reader.catch_up(connection, stop)
                started = True
                delay = FIRST_DELAY
                if counts.read:
                    # Again before waiting: the server told of what arrived meanwhile in
                    # answers to the commands of the catch-up, and will not tell it again.
                    log(str(counts))
                    continue
                if stop:
                    break
                if idle:
                    _idle(connection, stop)
                else:
                    _sleep(interval, stop)
        except (ConnectionLost, NoFolder) as exc:
            if isinstance(exc, NoFolder) and not started:
                raise
            lost = exc
        finally:
            connection.close()
        if lost is not None:
            what = "connection lost: " if isinstance(lost, ConnectionLost) else ""
            log(f"{what}{lost}; reconnecting in {delay:g} s")
            _sleep(delay, stop)
            delay = min(delay * 2, MAX_DELAY)
    log(f"stopped ({stop.reason})")


def _idle(connection: Connection, stop: Stop) -> None:
    """Wait in IDLE until the server says something, ``stop`` is set or it is time to renew.

    Whatever the server says ends the wait (a new message, a flag changed, "still here"): the
    catch-up that follows finds what is new, if anything, at the cost of one SELECT.
    """
    connection.idle()
    began = time.monotonic()
    while not stop:
        left = IDLE_RENEW - (time.monotonic() - began)
        if left <= 0 or connection.idle_wait(min(STEP, left)):
            break
    connection.idle_done()


def _sleep(seconds: float, stop: Stop) -> None:
    end = time.monotonic() + seconds
    while not stop:
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(STEP, left))
