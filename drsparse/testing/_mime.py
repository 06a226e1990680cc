"""MIME written by hand, for the fake robot: text in, the bytes of parts and messages out.

Not ``email.mime``: the layout is the robot's own, and boundaries and Message-IDs come from
the caller's ``random.Random`` (the standard library draws boundaries from the global
generator), so that one seed always gives the same bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import quopri
import random
import zlib
from collections.abc import Iterable

__all__ = [
    "Headers",
    "address",
    "boundary",
    "checked_date",
    "encode",
    "head",
    "header_value",
    "message_id",
    "multipart",
    "multipart_type",
    "random_from",
    "text_part",
]


def checked_date(date: object, name: str) -> dt.datetime:
    if not isinstance(date, dt.datetime):
        raise TypeError(f"{name} must be a datetime, not {type(date).__name__}")
    if date.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, not the naive {date}")
    return date


def random_from(rnd: random.Random | None) -> random.Random:
    if rnd is None:
        return random.Random(0)
    if not isinstance(rnd, random.Random):
        raise TypeError(f"rnd must be a random.Random, not {type(rnd).__name__}")
    return rnd


def message_id(rnd: random.Random, date: dt.datetime, host: str | None, text: str) -> str:
    # The robot's own form (time and a queue number), or a mail program's (a UUID-like one).
    if host is not None:
        stamp = date.astimezone(dt.UTC)
        return (
            f"<{stamp:%Y%m%d%H%M%S}.{zlib.crc32(text.encode()) ^ rnd.getrandbits(32):08X}@{host}>"
        )
    hex_ = f"{rnd.getrandbits(128):032x}"
    return f"<{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}@reseller.example>"


# ---------------------------------------------------------------------------------------------
# Writing MIME
# ---------------------------------------------------------------------------------------------

Headers = list[tuple[str, str]]


def header_value(value: str) -> str:
    """An unstructured header value; RFC 2047 encoded words for anything beyond ASCII."""
    if value.isascii():
        return value
    from email.header import Header

    return Header(value, "utf-8").encode()


def address(name: str, address: str) -> str:
    if name.isascii():
        return f"{name} <{address}>"
    return f"{header_value(name)} <{address}>"


def head(headers: Headers) -> bytes:
    return "".join(f"{name}: {value}\n" for name, value in headers).encode("ascii")


def encode(text: str, charset: str, encoding: str) -> bytes:
    raw = text.encode(charset)
    if encoding == "base64":
        return base64.encodebytes(raw)
    if encoding == "quoted-printable":
        return quopri.encodestring(raw)
    return raw


def text_part(
    text: str,
    *,
    subtype: str = "plain",
    charset: str | None = None,
    encoding: str | None = None,
    extra: Iterable[tuple[str, str]] = (),
) -> bytes:
    """A text leaf: headers, a blank line, the encoded body.

    Without a charset: US-ASCII for ASCII text, else UTF-8; without an encoding: 7bit or 8bit.
    """
    if charset is None:
        charset = "us-ascii" if text.isascii() else "utf-8"
    if encoding is None:
        encoding = "7bit" if text.isascii() else "8bit"
    label = charset.upper() if charset != "utf-8" else "UTF-8"
    headers: Headers = [
        ("Content-Type", f"text/{subtype}; charset={label}"),
        ("Content-Transfer-Encoding", encoding),
        *extra,
    ]
    return head(headers) + b"\n" + encode(text, charset, encoding)


def boundary(rnd: random.Random, prefix: str, parts: Iterable[bytes]) -> str:
    body = b"".join(parts)
    while True:
        boundary = f"{prefix}{rnd.getrandbits(32)}_{rnd.getrandbits(40)}"
        if boundary.encode() not in body:
            return boundary


def multipart(boundary: str, parts: list[bytes], *, preamble: bool = True) -> bytes:
    delimiter = b"--" + boundary.encode()
    body = b"This is a multi-part message in MIME format.\n" if preamble else b""
    for part in parts:
        body += b"\n" + delimiter + b"\n" + part.rstrip(b"\n") + b"\n"
    return body + b"\n" + delimiter + b"--\n"


def multipart_type(subtype: str, boundary: str) -> str:
    return f'multipart/{subtype};\n\tboundary="{boundary}"'
