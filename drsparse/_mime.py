"""The MIME stage: raw e-mail in, the standard library's ``Message`` tree out.

The e-mail package's parser (``compat32``) reads a message line by line in Python and, for
every multipart, compiles a regular expression from its boundary. Boundaries are unique per
message, so that compile is paid by every message: on the robot's mail it is over a third of
the parser's time, and the parser over half of drsparse's. The robot's mail has one shape:
headers, then one ``multipart/mixed`` of text parts, each with a few headers. For that shape
alone, :func:`parse_email` builds the very tree the e-mail package would build, from the
package's own pieces (``Message``, ``set_raw``, the policy's ``header_source_parse``), with
string searches in C instead of a compiled pattern. Anything else (a line the parser would
record a defect for, nesting, attached messages, digests, an ``mbox`` From line, a missing
boundary, an encoded multipart) is left to the e-mail package, whole: the fast path either
gives the package's tree or nothing.

What the package does, and the fast path with it (``email.feedparser``, RFC 2046):

- headers end at the first empty line; every line before it is a field (a name of printable
  ASCII but the colon, then a colon) or the continuation of one (a blank first);
- the body of a leaf is everything after that line;
- a multipart's boundary lines are ``--`` boundary, optionally ``--`` (the last one), then
  blanks only; the text before the first is the preamble, the text after the last is the
  epilogue, the line break before each boundary line belongs to the boundary;
- each part is a message of its own: headers, an empty line, its body.

A test parses the fake robot's mail, the bundled samples, the foreign corpora and generated
multiparts both ways and compares the trees, headers, payloads, preambles, epilogues and
defects.
"""

from __future__ import annotations

import email
import email.errors
import itertools
import re
from email.message import Message

from drsparse._errors import LimitExceededError, UnreadableInputError

__all__ = ["parse_email"]

# A header section the e-mail parser reads without a defect: fields, each perhaps continued
# on lines that start with a blank, every line ending with a line break.
_HEADERS = re.compile(r"(?:[!-9;-~]+:[^\n]*\n(?:[ \t][^\n]*\n)*)*")
# Where each field starts within such a section.
_FIELD = re.compile(r"^[!-9;-~]+:", re.MULTILINE)
# A multipart's transfer encodings that leave its body as it is (RFC 2045, section 6.4): the
# parser records a defect for any other.
_IDENTITY_ENCODINGS = ("7bit", "8bit", "binary")
_BLANKS = " \t"


def parse_email(data: bytes | str) -> Message:
    """The ``compat32`` tree of a message, as ``email.message_from_bytes`` (or ``_string``)
    would build it. ``data`` has ``\\n`` line breaks only."""
    text = data.decode("ascii", "surrogateescape") if isinstance(data, bytes) else data
    message = _common_shape(text)
    if message is not None:
        return message
    # compat32 is built not to raise on broken mail (it records defects instead); the
    # exceptions below are what remains, from pathological nesting mostly.
    try:
        # compat32 is this function's default policy: named by its import it would cost
        # start-up time (email.policy), for a mail pipe that starts once per e-mail. The
        # bytes were decoded the way message_from_bytes decodes them.
        return email.message_from_string(text)
    except RecursionError as exc:
        raise LimitExceededError(
            "MIME parts nested too deep for the e-mail parser (limit max_depth)"
        ) from exc
    except (email.errors.MessageError, ValueError, LookupError, IndexError, TypeError) as exc:
        raise UnreadableInputError(f"not a readable e-mail message: {exc}") from exc


def _common_shape(text: str) -> Message | None:
    """The tree of a single-part message or of a multipart of leaves; ``None`` for any other
    shape, and for anything the e-mail parser would record a defect for."""
    split = _headers_and_body(text)
    if split is None:
        return None
    message, body = split
    maintype = message.get_content_maintype()
    if maintype == "message":
        return None
    if maintype != "multipart":
        message.set_payload(body)
        return message
    boundary = message.get_boundary()
    if (
        boundary is None
        or message.get_content_type() == "multipart/digest"  # its parts default to messages
        or str(message.get("content-transfer-encoding", "8bit")).lower() not in _IDENTITY_ENCODINGS
    ):
        return None
    lines = _boundary_lines(body, "--" + boundary)
    if lines is None:
        return None
    first = lines[0][0]
    if first:
        message.preamble = body[: first - 1]  # the line break before the boundary dropped
    for (_, start), (end, _) in itertools.pairwise(lines):
        part = _headers_and_body(body[start + 1 : end])
        if part is None:
            return None
        child, payload = part
        if child.get_content_maintype() in ("multipart", "message"):
            return None
        # The line break before the boundary line belongs to the boundary.
        child.set_payload(payload.removesuffix("\n"))
        message.attach(child)
    message.epilogue = body[lines[-1][1] + 1 :]
    return message


def _headers_and_body(text: str) -> tuple[Message, str] | None:
    """A message of the headers of ``text``, and its body; ``None`` unless the headers are
    all well-formed fields ending at an empty line."""
    if text.startswith("\n"):
        return Message(), text[1:]
    end = text.find("\n\n")
    if end < 0:
        return None
    head = text[: end + 1]
    if _HEADERS.fullmatch(head) is None:
        return None
    message = Message()
    starts = [field.start() for field in _FIELD.finditer(head)]
    parse = message.policy.header_source_parse
    for start, stop in itertools.pairwise([*starts, len(head)]):
        # The policy joins a field's lines and strips the last line break: given the field
        # in one piece it returns what it returns for its lines.
        message.set_raw(*parse([head[start:stop]]))
    return message, text[end + 2 :]


def _boundary_lines(body: str, separator: str) -> list[tuple[int, int]] | None:
    """Where each boundary line of a multipart starts and ends (before its line break), up to
    and with the closing one; ``None`` unless there are a first boundary and a closing one.
    (Boundary lines in a row leave an empty part, which has no header section: the caller
    leaves that message to the e-mail parser, which skips the extra lines.)"""
    if body.startswith(separator):
        start = 0
    else:
        start = body.find("\n" + separator) + 1
        if not start:
            return None
    found: list[tuple[int, int]] = []
    while True:
        end = body.find("\n", start)
        if end < 0:
            end = len(body)
        rest = body[start + len(separator) : end]
        close = rest.startswith("--") and not rest[2:].strip(_BLANKS)
        if close or not rest.strip(_BLANKS):
            if close and not found:
                return None  # no first boundary: the parser's own reading
            found.append((start, end))
            if close:
                return found
        start = body.find("\n" + separator, end) + 1
        if not start:
            return None
