"""The mail stage: one e-mail message in, the responses it carries out.

The robot answers with ``multipart/mixed``: prose for people, the response as a text part of
its own, and an optional third part that can echo the application (``key: value`` lines too).
The applicant wrote that echo, and may have written a ``### DRS Response`` block into it: in a
``multipart/mixed``, the parts after the first one that holds a fresh response are read as
that echo, like a quoted copy (only with ``include_quoted``, marked ``quoted``, ``authentic``
never ``True``). An attached message (``message/rfc822``) is a message of its own. Users
hand over whatever their mail system gives them: a whole message, a MIME tree with
forwards and replies, or a bare body. This module walks the MIME tree, decodes each part that
can hold a response, and hands its text to the text-level parser (that of
:func:`drsparse.parse_all`); it also says where each response came from
(:class:`drsparse.Origin`) and whether the message is authentic.

The tree is the standard library's, with the ``compat32`` policy, about ten times faster
than ``policy.default`` on such messages; ``_mime.py`` builds it (the robot's shape without
the e-mail parser's per-message costs, any other shape with that parser). The walk skips
parts that cannot hold a response (images, PDFs, delivery reports) before decoding them.
The e-mail parser's time grows with lines times nesting and its memory with the parts, so
both are counted before it runs
(:meth:`_Reader._check_structure`). Whatever the ``email``, ``codecs`` or ``binascii``
modules raise is translated at the call, with ``raise ... from``, into the
:class:`~drsparse.DrsParseError` family. What would be lost without a word gets a warning
on the responses of its part: a multipart whose parts cannot be found is read as text, a
charset that turns a response block into other characters or a base64 part that is plain
text is read as what it is.

Authenticity is judged in ``_auth.py``; header decoding lives in ``_headers.py``.
"""

from __future__ import annotations

import email
import email.charset
import email.errors
import email.utils
import functools
import re
from email.message import Message
from typing import Any, NamedTuple

from attrs import evolve

from drsparse._auth import DEFAULT_TRUST, Trust, authentic
from drsparse._codes import DEFAULT_CODES, CodeTable
from drsparse._errors import DrsParseError, LimitExceededError, UnreadableInputError
from drsparse._headers import codec, header_text, raw_headers
from drsparse._limits import DEFAULT_LIMITS, Limits
from drsparse._mime import parse_email
from drsparse._model import Origin, Response
from drsparse._text import may_hold_blocks, normalize_newlines, quoted_copies
from drsparse._typed import responses_in

__all__ = ["DEFAULT_TRUST", "Trust", "check_arguments", "parse_message"]


def parse_message(
    data: bytes | str | Message,
    *,
    include_quoted: bool = False,
    trust: Trust | None = None,
    limits: Limits = DEFAULT_LIMITS,
    source: str | None = None,
    codes: CodeTable = DEFAULT_CODES,
) -> list[Response]:
    """Every fresh response in one e-mail message, in the order of the message.

    ``data`` is the raw message (``bytes`` as read from a file or pipe, best), its text, an
    already parsed :class:`email.message.Message`, or a bare body without headers. Each
    response's ``origin`` names the message (``source``, Message-ID, Date, From, Subject, the
    date of the topmost Received header), the MIME part path (``"2"``, ``"3.1"``; ``None``
    for a single-part message), whether it was quoted, whether it was found in an attached
    message (``message/rfc822``, a copy someone sent on: ``origin.forwarded``), and whether
    the message is authentic (judged with ``trust``, by default the domain ``knipp.de``).
    Warnings about the decoding (a missing or wrong charset) are added to the ``warnings`` of
    the responses of that part.

    Quoted copies (``>`` lines, or an HTML ``<blockquote>``) are reported only with
    ``include_quoted=True``, marked ``origin.quoted``. Of the alternatives of a
    ``multipart/alternative``, the first that holds a response is reported, plain text first.

    A ``str`` message is taken as already decoded: its parts without a transfer encoding are
    used as they are, whatever charset they declare. Pass ``bytes`` where you can.

    Codes are interpreted with ``codes`` (by default the shipped tables).

    Raises :class:`DrsParseError` (with ``source`` filled in) for the first block that is
    not a valid response, naming the line and column within the decoded text of the part and
    the part in the message; :class:`LimitExceededError` for a message beyond ``limits``.
    """
    if trust is None:
        trust = DEFAULT_TRUST
    check_arguments("parse_message", trust, limits, codes, source)
    try:
        return _Reader(limits, include_quoted, source, trust, codes).read(data)
    except DrsParseError as err:
        # The one place where an error learns which input it is about.
        if source is not None and err.source is None:
            err.source = source
        raise


def check_arguments(
    function: str, trust: object, limits: object, codes: object, source: object = None
) -> None:
    """A ``TypeError`` naming the argument that is not of its type."""
    for name, value, kind in (
        ("trust", trust, Trust),
        ("limits", limits, Limits),
        ("codes", codes, CodeTable),
    ):
        if not isinstance(value, kind):
            raise TypeError(
                f"{function}() takes {name}={kind.__name__}(...), not {type(value).__name__}"
            )
    if source is not None and not isinstance(source, str):
        raise TypeError(f"{function}() takes source=str, not {type(source).__name__}")


# -------------------------------------------------------------------------------------------
# Reading the message
# -------------------------------------------------------------------------------------------

# RFC 5322: "field-name = 1*ftext", printable ASCII but the colon, then the colon. What the
# first line of a message looks like; an mbox "From " line may come before it.
_FIELD_LINE = re.compile(r"[!-9;-~]+:")
_FROM_LINE = re.compile(r">?From [^\n]*\n")


# Patterns of rare paths are compiled (and cached by re) at their first use, not at every
# start of a mail pipe.
# A Content-Type header whose value (continuation lines included) declares a multipart: the
# case-insensitive "multipart/" a multipart cannot do without, wherever a sender puts it.
_MULTIPART_HEADER = rb"(?im)^content-type[ \t]*+:(?:[^\n]|\n[ \t])*?multipart/"
# The rest of a header: its line and its continuation lines.
_HEADER_REST = rb"(?:[^\n]|\n[ \t])*+"
# A boundary that matches no line (one the e-mail parser cannot match either).
_NO_LINE = b"\n"


@functools.lru_cache(maxsize=64)
def _boundary_lines(boundaries: tuple[bytes, ...]) -> re.Pattern[bytes]:
    """A line that is a boundary of one of ``boundaries``, or its end: the e-mail parser's own
    test of a line ("--" boundary, perhaps "--", blanks), for all of them at once."""
    names = b"|".join(re.escape(name) for name in sorted(set(boundaries), key=len, reverse=True))
    return re.compile(rb"^--(" + names + rb")(--)?[ \t]*$", re.MULTILINE)


def _declared_boundary(value: bytes) -> bytes | None:
    """The boundary of a Content-Type value if it declares a multipart, read by the e-mail
    package itself, so that every spelling it knows counts: quoted, folded, RFC 2231
    (``boundary*=``, ``boundary*0*=``). :data:`_NO_LINE` when no line can match it."""
    first, _, rest = value.decode("ascii", "surrogateescape").partition("\n")
    header = Message()
    # What the parser makes of a header: the first line's blanks dropped, the lines joined.
    header["content-type"] = first.lstrip(" \t") + ("\n" + rest if rest else "")
    try:
        if header.get_content_maintype() != "multipart":
            return None
        boundary = header.get_boundary()
        if boundary is None:
            return None
        return boundary.encode("ascii", "surrogateescape")
    except (ValueError, LookupError, TypeError, IndexError, UnicodeError):
        return _NO_LINE


def _is_bare(head: str) -> bool:
    """True for a text that does not start like a message: no header field on its first line.

    The standard library would take the first lines of such a text for (broken) headers and
    start counting lines after them; a bare body is parsed as text instead.
    """
    start = _FROM_LINE.match(head)
    return _FIELD_LINE.match(head, start.end() if start else 0) is None


class _Part(NamedTuple):
    """Where a text was found, for origins, warnings and error messages."""

    #: The MIME part path, ``None`` for the body of a single-part message.
    path: str | None
    #: Whether the text was converted from HTML.
    html: bool


class _Reader:
    """One message's walk: the limits, the options and the responses found so far."""

    def __init__(
        self,
        limits: Limits,
        include_quoted: bool,
        source: str | None,
        trust: Trust,
        codes: CodeTable,
    ) -> None:
        self.limits = limits
        self.codes = codes
        self.include_quoted = include_quoted
        self.source = source
        self.trust = trust
        #: Whether the message was given as text, its 8-bit parts decoded already.
        self.from_text = False
        self.parts = 0
        self.found: list[Response] = []
        #: The message whose parts are read (``None`` for a bare body).
        self.message: Message | None = None
        #: While the parts after the robot's response part are read (its echo of the
        #: application): the path of that response part.
        self.echo: str | None = None
        #: While the parts of an attached message (``message/rfc822``) are read: their
        #: responses are a copy someone sent on (``Origin.forwarded``).
        self.forwarded = False
        #: Whether a boundary line follows the part being read: its text was not cut off,
        #: whether or not it ends with a line break (the one before a boundary belongs to
        #: the boundary). The end of the input may have cut the last part.
        self.bounded = False

    def read(self, data: bytes | str | Message) -> list[Response]:
        if isinstance(data, Message):
            self.message = data
        elif isinstance(data, bytes | bytearray | memoryview | str):
            if isinstance(data, str):
                self._check_size(len(data), "characters")
                self.from_text = True
                data = normalize_newlines(data)
            else:
                data = bytes(data)
                self._check_size(len(data), "bytes")
                # One line break, one "\n": line numbers stay, and the standard library's
                # quoted-printable decoder, which knows only "\n" (it drops the text after a
                # soft line break "=\r"), decodes bare-CR mail too.
                data = _LINE_BREAK_BYTES.sub(b"\n", data) if b"\r" in data else data
            head = data[:4096]
            if _is_bare(head if isinstance(head, str) else head.decode("latin-1")):
                text, warnings = (data, []) if isinstance(data, str) else _decode(data, None, None)
                # A byte order mark would hide a header on line 1 from the block finder.
                self._search(text.removeprefix("\ufeff"), _Part(None, False), warnings, bare=True)
                return self.found
            self._check_structure(
                data if isinstance(data, bytes) else data.encode("utf-8", "replace")
            )
            self.message = parse_email(data)
        else:
            raise TypeError(
                f"parse_message() takes bytes, str or an email Message, not {type(data).__name__}"
            )
        try:
            self._message(self.message, (), 0)
        except RecursionError as exc:  # only with a max_depth beyond what Python can do
            raise self._too_deep() from exc
        return self.found

    def _check_size(self, size: int, unit: str) -> None:
        if size > self.limits.max_message_bytes:
            raise LimitExceededError(
                f"message of {size} {unit}, beyond the limit "
                f"max_message_bytes={self.limits.max_message_bytes}"
            )

    def _check_structure(self, data: bytes) -> None:
        """Refuse multiparts nested beyond ``max_depth``, and more parts than ``max_parts``,
        before the e-mail parser builds anything.

        The standard library's parser checks every line against the boundary of every
        enclosing multipart, so its time grows with lines times depth (a 2 MB message nested
        900 deep takes a minute and a half), and it builds every part before the walk could
        count them (32 MB of empty parts: a minute and 2.7 GB). This scan follows the
        boundaries the way that parser does, at a small part of its cost: each multipart's
        boundary is read by the e-mail package itself, whatever its spelling, and the lines
        that are boundaries of the enclosing multiparts are found by one regular expression.
        It may count a multipart declared in a text part (a quoted message) as nesting: only
        a text quoting more than ``max_depth`` of them would be refused.
        """
        limits = self.limits
        # Each multipart declares its type, and each part follows a line that starts with
        # "--": with no more of them than allowed, neither limit can be passed (counting is
        # much cheaper than the scan).
        if (
            data.lower().count(b"multipart/") <= limits.max_depth
            and data.count(b"\n--") + data.startswith(b"--") <= limits.max_parts
        ):
            return
        enclosing: list[bytes] = []
        parts = declared = 0
        position = 0
        headers = re.finditer(_MULTIPART_HEADER, data)
        header = next(headers, None)
        while True:
            until = len(data) if header is None else header.start()
            line = None
            if enclosing:
                line = _boundary_lines(tuple(enclosing)).search(data, position, until)
            if line is not None:
                position = line.end()
                name = line.group(1)
                level = len(enclosing) - 1 - enclosing[::-1].index(name)
                if line.group(2):  # the end of that multipart, and of those inside it
                    del enclosing[level:]
                    continue
                del enclosing[level + 1 :]  # the next part of that multipart
                parts += 1
                if parts > limits.max_parts:
                    raise self._too_many_parts()
                continue
            if header is None:
                return
            # Each multipart is a part, or the message: more declarations than that are
            # text, and reading them all would cost more than the limits are there to save.
            declared += 1
            if declared > limits.max_parts + limits.max_depth:
                raise self._too_many_parts()
            rest = re.compile(_HEADER_REST).match(data, header.end())
            assert rest is not None  # it matches the empty string
            colon = data.index(b":", header.start())
            boundary = _declared_boundary(data[colon + 1 : rest.end()])
            if boundary is not None:
                enclosing.append(boundary)
                if len(enclosing) > limits.max_depth:
                    raise self._too_deep()
            position = max(position, rest.end())
            header = next(headers, None)

    def _too_many_parts(self) -> LimitExceededError:
        return LimitExceededError(
            f"more than {self.limits.max_parts} MIME parts, beyond the limit "
            f"max_parts={self.limits.max_parts}"
        )

    @functools.cached_property
    def headers(self) -> dict[str, Any]:
        """What the message's headers say of every response in it: read at the first block
        (see :meth:`_origin`), not for every message."""
        return _origin_headers(self.message, self.trust)

    def _origin(self, where: _Part, *, quoted: bool) -> Origin:
        headers = self.headers
        if self.echo is not None and headers.get("authentic") is True:
            # The message's signature covers the echo, but the echo holds the applicant's
            # words, not the robot's: no evidence that the robot wrote them.
            headers = {**headers, "authentic": None}
        return Origin(
            self.source,
            **headers,
            part=where.path,
            quoted=quoted or self.echo is not None,
            forwarded=self.forwarded,
        )

    # --- the MIME tree --------------------------------------------------------------------
    #
    # Part paths follow IMAP (RFC 3501, section 6.4.5): the children of a multipart are
    # numbered from 1; the parts of an attached message are numbered below the attachment's
    # own number, and the body of an attached single-part message is "N.1".

    def _message(self, message: Message, prefix: tuple[int, ...], depth: int) -> None:
        """A whole message: the top one, or one attached as ``message/rfc822``."""
        if message.is_multipart():
            ctype = message.get_content_type()
            if ctype.startswith("multipart/"):
                self._multipart(message, ctype, prefix, depth + 1)
                return
        self._part(message, (*prefix, 1) if prefix else (), depth)

    def _multipart(self, part: Message, ctype: str, path: tuple[int, ...], depth: int) -> None:
        # ctype: the caller has it already, and the stdlib parses the header anew at each call.
        if depth > self.limits.max_depth:
            raise self._too_deep()
        children = _children(part)
        numbered = list(enumerate(children, start=1))
        if ctype != "multipart/alternative":
            # The robot's mail: prose, the response, then the application as the robot
            # received it. What follows the first part with a fresh response is that echo:
            # the applicant's text, which may hold a block of its own making.
            answered = self.echo
            closed = not any(
                isinstance(defect, email.errors.CloseBoundaryNotFoundDefect)
                for defect in part.defects
            )
            for number, child in numbered:
                before = len(self.found)
                outer, self.echo = self.echo, answered
                bounded, self.bounded = self.bounded, closed or number < len(numbered)
                try:
                    self._part(child, (*path, number), depth)
                finally:
                    self.echo, self.bounded = outer, bounded
                if answered is None and any(not r.quoted for r in self.found[before:]):
                    answered = ".".join(map(str, (*path, number)))
            return
        # "multipart/alternative reports the text once": the alternatives say the same thing,
        # so the first that holds a response is reported. Plain text first: it is the text
        # the robot wrote; HTML is the same turned into markup, and costs a conversion.
        numbered.sort(key=lambda item: item[1].get_content_type() != "text/plain")
        for number, child in numbered:
            before = len(self.found)
            self._part(child, (*path, number), depth)
            if len(self.found) > before:
                return

    def _part(self, part: Message, path: tuple[int, ...], depth: int) -> None:
        self.parts += 1
        if self.parts > self.limits.max_parts:
            raise self._too_many_parts()
        ctype = part.get_content_type()  # parsed anew at each call: once per part
        maintype = ctype.partition("/")[0]
        if part.is_multipart():
            if maintype == "multipart":
                self._multipart(part, ctype, path, depth + 1)
            # message/delivery-status is a list of header blocks, not of messages.
            elif maintype == "message" and ctype != "message/delivery-status":
                if depth + 1 > self.limits.max_depth:
                    raise self._too_deep()
                # An attached message is a message of its own: its response part is its own.
                # It reached this message as a copy: the headers and the verdict that count
                # are the forwarding message's, not those of the robot's mail inside it.
                outer, self.echo = self.echo, None
                forwarded, self.forwarded = self.forwarded, True
                try:
                    for inner in _children(part):
                        self._message(inner, path, depth + 1)
                finally:
                    self.echo, self.forwarded = outer, forwarded
            return
        where = ".".join(map(str, path)) if path else None
        text, warnings, html = _leaf_text(part, ctype, where, from_text=self.from_text)
        if text is not None:
            if not text.endswith("\n") and (self.bounded or _encoded(part)):
                text += "\n"  # complete: the text stage warns of a last line without one
            self._search(text, _Part(where, html), warnings)

    def _too_deep(self) -> LimitExceededError:
        return LimitExceededError(
            f"MIME parts nested deeper than the limit max_depth={self.limits.max_depth}"
        )

    # --- the text of one part -------------------------------------------------------------

    def _search(self, text: str, where: _Part, warnings: list[str], *, bare: bool = False) -> None:
        """Parse the responses of one part's text, fresh ones and, if asked, quoted ones."""
        # Most parts stop here, before any parsing.
        if not may_hold_blocks(text):
            return
        if self.echo is not None:
            # The robot's echo of the application: the applicant's words, read like a
            # quoted copy (only when those are asked for, so that a block the applicant
            # wrote can neither be taken for the robot's nor fail the message).
            if not self.include_quoted:
                return
            warnings = [
                *warnings,
                f"found after the response in MIME part {self.echo}, where the robot echoes "
                "the application: the applicant's text, not the robot's",
            ]
        # Quoted lines start with ">", so they never look like a block header (which may
        # only be preceded by blanks): parsing the text as it is finds the fresh responses.
        found = self._parse(text, where, bare=bare)
        if self.include_quoted and ">" in text:
            for first_line, copy in quoted_copies(text):
                found += self._parse(copy, where, bare=bare, first_line=first_line, taken=found)
            # Quoted copies and fresh responses come out in the order of their lines.
            found.sort(key=lambda response: response.fields[0].line)
        if warnings:
            extra = tuple(warnings)
            found = [evolve(response, warnings=response.warnings + extra) for response in found]
        self.found += found

    def _parse(
        self,
        text: str,
        where: _Part,
        *,
        bare: bool,
        first_line: int | None = None,
        taken: list[Response] | None = None,
    ) -> list[Response]:
        """The responses of a part's text, or (from ``first_line``) of a quoted copy in it;
        ``taken``: those of the part found already (they count towards max_responses)."""
        quoted = first_line is not None
        try:
            origin = functools.partial(self._origin, where, quoted=quoted)
            return responses_in(
                text,
                self.limits,
                self.codes,
                origin,
                first_line=first_line or 1,
                quoted=quoted,
                room=self.limits.max_responses - len(self.found) - len(taken or ()),
            )
        except DrsParseError as err:
            if bare and not quoted:
                raise
            # Line and column stay those in the part's decoded text; the message says which.
            raise type(err)(
                f"{err.msg} ({_describe(where, quoted=quoted or self.echo is not None)})",
                line=err.line,
                column=err.column,
                source=self.source,
            ) from err


def _describe(where: _Part, *, quoted: bool) -> str:
    place = f"MIME part {where.path}" if where.path else "the message body"
    if where.html:
        place += ", as text converted from HTML"
    return f"in a quoted copy in {place}" if quoted else f"in {place}"


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, Message)] if payload else []


# -------------------------------------------------------------------------------------------
# Decoding one part
# -------------------------------------------------------------------------------------------

# Labels that say "no charset" in so many words.
_UNKNOWN_CHARSETS = frozenset({"unknown-8bit", "x-unknown", "unknown", "x-user-defined"})


def _leaf_text(
    part: Message, ctype: str, path: str | None, *, from_text: bool
) -> tuple[str | None, list[str], bool]:
    """The text of a leaf part that can hold a response, its warnings and whether it was HTML.

    ``None`` for a part that cannot hold one. The type decides, before anything is decoded:
    ``text/*`` is read (HTML converted to text), ``application/octet-stream`` only if the
    bytes hold "DRS" (a response saved to a file and attached), anything else is skipped.
    A multipart whose parts the e-mail parser could not find (no boundary, or none of its
    lines) is read as text, with a warning: its body would be lost otherwise.
    """
    warnings: list[str] = []
    if ctype.startswith("text/"):
        kind = "html" if ctype == "text/html" else "text"
    elif ctype == "application/octet-stream":
        kind = "binary"
    elif ctype.startswith("multipart/"):
        kind = "text"
        warnings.append(_no_parts(part, ctype, path))
    else:
        return None, [], False
    try:
        payload = _payload(part, from_text=from_text)
        charset = None if kind == "binary" else content_charset(part)
    except (email.errors.MessageError, ValueError, LookupError, TypeError) as exc:
        raise UnreadableInputError(f"MIME part {path or 'body'} cannot be decoded: {exc}") from exc
    if isinstance(payload, str):
        text = payload
    else:
        if kind == "binary" and b"DRS" not in payload:
            return None, [], False
        payload, encoding_warnings = _not_encoded(part, payload, path)
        text, decoding_warnings = _decode(payload, charset, path)
        warnings += encoding_warnings + decoding_warnings
    if kind == "html":
        if "DRS" not in text:
            return None, [], False
        from drsparse._html import html_text

        text, html_warnings = html_text(text, path)
        return text, warnings + html_warnings, True
    return text, warnings, False


def _no_parts(part: Message, ctype: str, path: str | None) -> str:
    """The warning for a multipart whose parts the e-mail parser did not find."""
    where = f"MIME part {path}" if path else "the message"
    boundary = part.get_boundary()
    if boundary is None:
        why = "declares no boundary"
    else:
        body = part.get_payload()
        lines = str(body).lower() if isinstance(body, str) else ""
        if f"--{boundary}".lower() in lines:
            why = (
                f"has boundary lines that differ from its boundary {boundary!r} in case only "
                "(boundaries are case-sensitive)"
            )
        else:
            why = f"has no line with its boundary {boundary!r}"
    return f"{where} is a {ctype} that {why}: its body was read as text"


# The charset parameter in the spelling nearly every mail uses: ";charset=NAME" or
# ';charset="NAME"', ending the header or followed by another parameter. Only the name is
# matched ignoring case (the value's classes hold both cases): case-folding the classes too
# tripled the pattern's compile time, which every run pays.
_CHARSET = re.compile(
    r';[ \t\r\n]*(?i:charset)[ \t\r\n]*=[ \t\r\n]*(?:"([!#-\[\]-~]*)"|([!#-\'*-+\--9A-Z^-~]+))'
    r"[ \t\r\n]*(?:;|$)"
)


def content_charset(part: Message) -> str | None:
    """``part.get_content_charset()``, read with one regular expression where the header has
    the usual spelling: the email package parses every parameter of the header for it, which
    cost a few per cent of a message's time. Any other spelling (RFC 2231, comments, several
    charset parameters) is left to the email package; a test checks that both agree."""
    value = part.get("content-type")
    if isinstance(value, str) and "*" not in value and value.lower().count("charset") == 1:
        match = _CHARSET.search(value)
        if match is not None:
            return (match.group(1) if match.group(1) is not None else match.group(2)).lower()
    return part.get_content_charset()


# The transfer encodings that turn bytes into ASCII (RFC 2045, and uuencode, which compat32
# also undoes). The others (7bit, 8bit, binary, none) leave the bytes as they are.
_TRANSFER_ENCODINGS = frozenset(
    {"quoted-printable", "base64", "x-uuencode", "uuencode", "uue", "x-uue"}
)
_LINE_BREAK_BYTES = re.compile(rb"\r\n?")


def _encoded(part: Message) -> bool:
    """Whether a transfer encoding says where the part ends (base64, quoted-printable)."""
    return str(part.get("content-transfer-encoding", "")).strip().lower() in _TRANSFER_ENCODINGS


def _payload(part: Message, *, from_text: bool) -> bytes | str:
    """The body of a leaf, transfer encoding undone: bytes to decode, or already a ``str``.

    A ``str`` message has its 8-bit parts as text already, and they are returned as text.
    """
    if from_text:
        cte = str(part.get("content-transfer-encoding", "")).strip().lower()
        if cte not in _TRANSFER_ENCODINGS:
            payload = part.get_payload()
            return payload if isinstance(payload, str) else ""
    decoded = part.get_payload(decode=True)
    return decoded if isinstance(decoded, bytes) else b""


def _not_encoded(part: Message, decoded: bytes, path: str | None) -> tuple[bytes, list[str]]:
    """The bytes of a part declared base64 that is plain text after all, with a warning.

    The standard library decodes anything as base64, skipping what is no base64: plain text
    comes out as a few bytes of nonsense, and a response in it would be lost without a word.
    """
    if b"DRS" in decoded or str(part.get("content-transfer-encoding", "")).lower() != "base64":
        return decoded, []
    try:
        raw = part.get_payload()  # as sent; 8-bit text it decodes, and may fail to
    except (ValueError, LookupError, TypeError):
        return decoded, []
    # A response is ASCII: plain text that is not is left to the base64 decoder.
    if not isinstance(raw, str) or not raw.isascii() or "DRS" not in raw or "###" not in raw:
        return decoded, []
    where = f"MIME part {path}" if path else "the message body"
    return raw.encode("ascii"), [f"{where} is declared base64 but is plain text: read as it is"]


def _decode(raw: bytes, charset: str | None, path: str | None) -> tuple[str, list[str]]:
    """Text from the bytes of a part, and what went wrong on the way.

    The declared charset first; when it is missing, unknown or does not fit, UTF-8, then
    Latin-1 (which never fails), with a warning. Pure ASCII without a charset is no news.
    A declared charset that turns a block the bytes hold in ASCII into other characters
    (UTF-16 or EBCDIC declared on ASCII text) does not fit either. Lone surrogates (which
    UTF-7 can produce) are replaced by U+FFFD, with a warning: they are no characters.
    """
    where = f"MIME part {path}" if path else "the message body"
    if charset is None or charset in _UNKNOWN_CHARSETS:
        if raw.isascii():
            return raw.decode("ascii"), []
        problem = "declares no charset"
    else:
        name = codec(charset)
        if name is None:
            problem = f"declares the unknown charset {charset!r}"
        else:
            try:
                text = raw.decode(name)
            except (UnicodeError, ValueError, LookupError):
                problem = f"is not valid {charset!r} as it declares"
            else:
                if may_hold_blocks(text) or b"###" not in raw or b"DRS" not in raw:
                    # Of the charsets, only UTF-7 can spell a lone surrogate ("+2AA-"); the
                    # record writer escapes any that come another way.
                    return _characters(text, where, charset) if name == "utf-7" else (text, [])
                problem = f"declares {charset!r}, which turns its response block into nonsense"
    try:
        text, fallback = raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        text, fallback = raw.decode("latin-1"), "Latin-1"
    if path is None and charset is None and fallback == "UTF-8":
        return text, []  # a body without headers: UTF-8 is what such a text is expected to be
    return text, [f"{where} {problem}; decoded as {fallback}"]


_SURROGATE = "[\ud800-\udfff]"  # UTF-7 only: compiled at its first use


def _characters(text: str, where: str, charset: str) -> tuple[str, list[str]]:
    if text.isascii() or re.search(_SURROGATE, text) is None:
        return text, []
    return re.sub(_SURROGATE, "\ufffd", text), [
        f"{where} decodes as {charset!r} to lone surrogates, which are no characters; "
        "each was replaced by U+FFFD"
    ]


# -------------------------------------------------------------------------------------------
# Provenance and authenticity
# -------------------------------------------------------------------------------------------


def _origin_headers(message: Message | None, trust: Trust) -> dict[str, Any]:
    """What the message's headers tell of every response in it (none for a bare body)."""
    if message is None:
        return {}
    return {
        "message_id": header_text(message, "message-id"),
        "date": header_text(message, "date"),
        "sender": header_text(message, "from"),
        "subject": header_text(message, "subject"),
        "received": _received_date(message),
        "authentic": authentic(message, trust),
    }


def _received_date(message: Message) -> str | None:
    """The date-time of the topmost ``Received`` header: the text after its last ``;``.

    "Received: ... ; date-time" (RFC 5322, section 3.6.7); the servers add theirs on top, so
    the topmost is the last hop's. A trace header holds no encoded words: read as sent.
    """
    hops = raw_headers(message, "received")
    if not hops or ";" not in hops[0]:
        return None
    return hops[0].rpartition(";")[2].strip() or None
