"""Header values and charsets: the decoding that both the mail reader and the authenticity
check need, robust against whatever a sender wrote."""

from __future__ import annotations

import binascii
import codecs
import email.charset
import re
from email.message import Message

__all__ = ["codec", "escaped", "header_text", "raw_headers"]


def escaped(text: str) -> bool:
    """True for a str that holds bytes as surrogate escapes (how compat32 keeps 8-bit data)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


def raw_headers(message: Message, name: str) -> list[str]:
    """The values of every header ``name``, top first, unfolded, 8-bit bytes decoded.

    ``raw_items`` gives the values as they were parsed; ``get`` would turn a value with
    8-bit bytes into a Header object that loses them.
    """
    values = []
    for key, value in message.raw_items():
        if key.lower() != name:
            continue
        text = str(value)
        if escaped(text):
            raw = text.encode("ascii", "surrogateescape")
            try:
                text = raw.decode("utf-8")  # RFC 6532 allows UTF-8 in headers
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
        # RFC 5322 unfolding: a line break followed by white space is removed.
        if "\n" in text or "\r" in text:
            text = _LINE_BREAKS.sub("", text)
        values.append(text.strip())
    return values


def header_text(message: Message, name: str) -> str | None:
    """The first header ``name`` as text: RFC 2047 encoded words decoded, ``None`` if absent."""
    values = raw_headers(message, name)
    return _decode_words(values[0]) if values else None


# RFC 2047: "encoded-word = "=?" charset "?" encoding "?" encoded-text "?="", where the
# charset may carry an RFC 2231 language ("utf-8*de"). Compiled (and cached by re) at its
# first use: most headers have no encoded word.
_ENCODED_WORD = r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([QqBb])\?([^?\s]*)\?="


_BLANKS = re.compile(r"[ \t]*")


def _decode_words(value: str) -> str:
    """A header value with its encoded words decoded; a word that cannot be is kept as sent.

    "Any 'linear-white-space' that separates a pair of adjacent 'encoded-word's is ignored."
    Written here rather than taken from ``email.header.decode_header``, which turns the
    non-ASCII text of a value read from a ``str`` into escape sequences.
    """
    if "=?" not in value:
        return value
    out: list[str] = []
    end = 0
    after_word = False
    for match in re.finditer(_ENCODED_WORD, value):
        between = value[end : match.start()]
        word = _decode_word(*match.groups())
        if not (after_word and word is not None and _BLANKS.fullmatch(between)):
            out.append(between)
        out.append(match.group(0) if word is None else word)
        after_word = word is not None
        end = match.end()
    out.append(value[end:])
    return "".join(out)


def _decode_word(charset: str, encoding: str, text: str) -> str | None:
    try:
        data = text.encode("ascii")
        if encoding in "Qq":
            raw = binascii.a2b_qp(data, header=True)
        else:
            raw = binascii.a2b_base64(data + b"=" * (-len(data) % 4), strict_mode=True)
    except (UnicodeError, binascii.Error, ValueError):
        return None
    name = codec(charset.lower())
    if name is not None:
        try:
            return raw.decode(name)
        except (UnicodeError, ValueError, LookupError):
            pass
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# Codecs Python knows that are no charset a mail can declare: escape-sequence decoders and the
# IDNA/punycode codecs (quadratic on long input, a way to make a part expensive).
_NOT_CHARSETS = frozenset(
    {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined", "unicode-internal"}
)


def codec(charset: str) -> str | None:
    """The Python codec of a charset label, ``None`` if Python has none or it is no charset."""
    label = email.charset.ALIASES.get(charset, charset)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):  # ValueError: a label with a NUL in it
        return None
    # bytes-to-bytes codecs (base64, zlib) are no text encodings: decode() refuses them.
    if info.name in _NOT_CHARSETS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name
