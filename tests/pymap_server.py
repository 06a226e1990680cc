"""pymap, the IMAP server of the tests, with what they need beyond its command line.

Run as ``python tests/pymap_server.py [--imaps-port N --tls-cert F --tls-key F] [--without CAP]
PYMAP-ARGUMENTS...``:

* ``--imaps-port``: also listen on port N with TLS from the first byte (imaps), which pymap
  lacks: it offers STARTTLS only. The connections are served as those of the main port.
* ``--without CAP`` (IDLE, MOVE, UIDPLUS): a server that does not announce CAP, and refuses
  IDLE: how drsparse does without them is tested against a real server.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import sys
from typing import Any


def main() -> None:
    ours = argparse.ArgumentParser(add_help=False)
    ours.add_argument("--imaps-port", type=int)
    ours.add_argument("--tls-cert")
    ours.add_argument("--tls-key")
    ours.add_argument("--without", action="append", default=[])
    options, rest = ours.parse_known_args()
    if options.without:
        _without({name.encode("ascii") for name in options.without})
    if options.imaps_port:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(options.tls_cert, options.tls_key)
        _imaps(options.imaps_port, context)
    sys.argv = ["pymap", *rest]
    from pymap.main import main as pymap

    pymap()


def _without(names: set[bytes]) -> None:
    from pymap.config import IMAPConfig

    announced = IMAPConfig.login_capability

    def login_capability(self: IMAPConfig) -> list[bytes]:
        return [name for name in announced.fget(self) if name not in names]  # type: ignore[attr-defined]

    IMAPConfig.login_capability = property(login_capability)  # type: ignore[assignment,method-assign]


def _imaps(port: int, context: ssl.SSLContext) -> None:
    start_server = asyncio.start_server
    servers = []

    async def both(callback: Any, **kwargs: Any) -> Any:
        server = await start_server(callback, **kwargs)
        # Served as long as the main one: pymap stops the process with it.
        servers.append(await start_server(callback, host=kwargs["host"], port=port, ssl=context))
        return server

    asyncio.start_server = both  # type: ignore[assignment]


if __name__ == "__main__":
    main()
