"""Authenticity: may a script act on a response that this message carries?

The threat: anyone can send an e-mail that looks like a robot response. ``From:
drs@knipp.de`` and a ``### DRS Response`` block cost an attacker nothing, and the scripts that
read these mails act on them unattended: a domain marked as transferred away, a deadline set,
an order closed. Each response therefore carries ``origin.authentic``, a verdict on the
message it came from, computed for every message that holds a response:

* ``True``: a *counting* ``Authentication-Results`` header (RFC 8601) shows ``dkim=pass`` for
  a trusted domain (``header.d=knipp.de``, or ``header.i=@knipp.de``; subdomains of a trusted
  domain count), and the message has exactly one From address, whose domain is the signing
  domain or a subdomain of it.
* ``False``: there is a counting header, and it contradicts the claim: DMARC failed for a From
  in a trusted domain; or no trusted signature passed with the From aligned to it (DKIM
  failed, was absent, neutral or a permanent error, passed only for another domain, as for a
  colleague's forward or a look-alike domain, or the From is elsewhere); or there is not
  exactly one From address (two From headers are a known way to have one address checked
  and another one shown).
* ``None``: no counting header, so no evidence either way; or only a temporary DKIM error for
  a trusted domain (try again later).

Which headers count: for each authserv-id of ``Trust.authserv_ids``, the topmost
``Authentication-Results`` header with that id, which that server added last (RFC 8601,
section 5: a header below it may be one the sender wrote with the same id, and is never
read); when no authserv-ids are configured (the default), only the topmost header of all.
Headers further down may have been written by the sender, so they never count.
``Trust.domains`` defaults to ``("knipp.de",)``. A result names its signing domain once;
one that names several (``header.d`` twice) passes for a trusted domain if any of them is
trusted and aligned with the From: the verdict never depends on their order.

What it proves, and what it does not. drsparse verifies no signature itself: it reads the
verdict that your own receiving server wrote, and trusts that header and nothing else. With
``authserv_ids`` configured, a header forged with your server's id is harmless only if your
server removes such headers from incoming mail, as RFC 8601 (section 5) requires. Without
``authserv_ids``, the topmost header is taken to be your server's; if your server adds none,
it is the sender's, and the verdict is worth nothing: configure ``authserv_ids``. Mail that
did not pass through your server (a file someone hands you, a message delivered locally)
carries no evidence worth reading. ``True`` says that a trusted domain signed the message;
it does not say that the robot wrote it (anyone who can send mail through Knipp's servers,
or a compromised Knipp account, passes too), nor that it was meant for you: a genuine
signed robot mail to another reseller, sent on to you unchanged, still passes (DKIM replay).
Check that the ``reference`` and the domain are yours. The verdict is on the message as
delivered: a response in a forwarded attachment gets the forward's verdict, never the one
the original message once had. A signature covers the whole message, also the part where the
robot echoes the application it received, which is the applicant's text: a block found
after the robot's response part (``_mail.py`` says how it is told) is read as quoted, and
its verdict is at most ``None``, never ``True``. The check assumes that Knipp signs its
robot mail with DKIM; look at the headers of one genuine message before relying on it.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable
from email.message import Message
from typing import NamedTuple

from attrs import field, frozen

from drsparse._headers import raw_headers

__all__ = ["DEFAULT_TRUST", "Trust", "authentic"]


def _domain(name: str) -> str | None:
    """A domain name in comparable form: lowercase ASCII (IDNs as ACE), no final dot."""
    name = name.strip().rstrip(".").lower()
    if not name or len(name) > 253 or any(c.isspace() or c in "@<>()[];," for c in name):
        return None
    if name.isascii():
        return name
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def _names(value: str | Iterable[str]) -> tuple[str, ...]:
    # A single string is one name, not a sequence of one-letter names.
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"Trust takes names (str), not {type(item).__name__}")
    return tuple(item.strip().lower() for item in items)


def _domains(value: str | Iterable[str]) -> tuple[str, ...]:
    domains = []
    for name in _names(value):
        domain = _domain(name)
        if domain is None:
            raise ValueError(f"not a domain name: {name!r}")
        domains.append(domain)
    return tuple(domains)


@frozen
class Trust:
    """Whom the authenticity check trusts (see the module documentation for the rules).

    ``domains``: DKIM signing domains whose signature makes a message authentic; their
    subdomains count too. ``authserv_ids``: the authserv-ids of your own receiving servers,
    the first word of the ``Authentication-Results`` headers they add (``mx.example.net``);
    the topmost header of each counts. Without them only the topmost
    ``Authentication-Results`` header of all counts.
    """

    domains: tuple[str, ...] = field(default=("knipp.de",), converter=_domains)
    authserv_ids: tuple[str, ...] = field(default=(), converter=_names)


DEFAULT_TRUST = Trust()


def _within(name: str, domains: Iterable[str]) -> bool:
    """``name`` is one of ``domains`` or a subdomain of one."""
    return any(name == domain or name.endswith("." + domain) for domain in domains)


class _AuthResult(NamedTuple):
    """One result of an ``Authentication-Results`` header: ``dkim=pass header.d=knipp.de``.

    ``properties`` holds every value of each property, in the order written.
    """

    method: str
    result: str
    properties: dict[str, list[str]]


# A token of an Authentication-Results value outside comments: a quoted string (its closing
# quote may be missing), one of the specials, or a word. Inside a comment only nesting and
# quoted-pairs matter (RFC 5322: a quote is ordinary text in a comment).
_AUTHRES_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"?|([();=])|([^\s"();=]+))', re.DOTALL)


_COMMENT_SPECIAL = re.compile(r"\\.|[()]", re.DOTALL)


_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)


def _authres_statements(value: str) -> list[list[str]]:
    """The words of an ``Authentication-Results`` value, statement by statement.

    Comments (nested parentheses) are dropped, a quoted string is one word whatever it holds,
    ``=`` is a word of its own (RFC 8601 allows white space around it) and ``;`` ends a
    statement. The receiving server may copy text the sender chose into the header (in
    comments or quoted strings), so these are read exactly, never guessed at.
    """
    statements: list[list[str]] = [[]]
    depth = 0
    position = 0
    while position < len(value):
        if depth:
            special = _COMMENT_SPECIAL.search(value, position)
            if special is None:
                break  # the rest of the value is an unclosed comment
            depth += {"(": 1, ")": -1}.get(special.group(), 0)
            position = special.end()
            continue
        token = _AUTHRES_TOKEN.match(value, position)
        if token is None:
            break  # only white space is left
        position = token.end()
        quoted, special_char, word = token.groups()
        if quoted is not None:
            statements[-1].append(_QUOTED_PAIR.sub(r"\1", quoted))
        elif special_char == "(":
            depth = 1
        elif special_char == ";":
            statements.append([])
        elif special_char == "=":
            statements[-1].append("=")
        elif word is not None:
            statements[-1].append(word)
    return statements


def _split_authres(value: str) -> tuple[str, list[_AuthResult]]:
    """The authserv-id and the results of one ``Authentication-Results`` value (RFC 8601).

    Anything unreadable yields fewer results, never an exception.
    """
    head, *rest = _authres_statements(value)
    authserv_id = head[0].lower() if head else ""
    results = []
    for words in rest:
        pairs = [
            (words[i - 1], words[i + 1])
            for i in range(1, len(words) - 1)
            if words[i] == "=" and words[i - 1] != "=" and words[i + 1] != "="
        ]
        if not pairs:
            continue  # "none": no method was checked
        (method, result), *properties = pairs
        values: dict[str, list[str]] = {}
        for key, item in properties:
            values.setdefault(key.lower(), []).append(item)
        results.append(_AuthResult(method.split("/")[0].lower(), result.lower(), values))
    return authserv_id, results


def _counting_results(message: Message, trust: Trust) -> list[_AuthResult] | None:
    """The results of the Authentication-Results headers that count, ``None`` if none does."""
    headers = [_split_authres(value) for value in raw_headers(message, "authentication-results")]
    if trust.authserv_ids:
        # The topmost header of each trusted id; headers come top first.
        topmost: dict[str, list[_AuthResult]] = {}
        for authserv_id, results in headers:
            if authserv_id in trust.authserv_ids:
                topmost.setdefault(authserv_id, results)
        counting = list(topmost.values())
    else:
        # The topmost header is the last one added: the receiving server's.
        counting = [headers[0][1]] if headers else []
    if not counting:
        return None
    return [result for results in counting for result in results]


def _from_domain(message: Message) -> str | None:
    """The domain of the one From address; ``None`` for none, several, or nonsense.

    Two From headers, or two addresses in one, are a known way to have a signature checked
    for one address and another one shown: nothing is aligned with such a message.
    """
    values = raw_headers(message, "from")
    if len(values) != 1:
        return None
    addresses = [addr for _, addr in email.utils.getaddresses(values) if addr]
    if len(addresses) != 1 or addresses[0].count("@") != 1:
        return None
    return _domain(addresses[0].rpartition("@")[2])


def authentic(message: Message, trust: Trust) -> bool | None:
    """The verdict of the module documentation's rules on one message."""
    results = _counting_results(message, trust)
    if results is None:
        return None
    sender = _from_domain(message)
    claims_trusted = sender is not None and _within(sender, trust.domains)
    if claims_trusted and any(r.method == "dmarc" and r.result == "fail" for r in results):
        return False
    temporary = False
    for r in results:
        if r.method != "dkim":
            continue
        for signer in _signing_domains(r.properties):
            if not _within(signer, trust.domains):
                continue
            if r.result == "pass" and sender is not None and _within(sender, (signer,)):
                return True
            temporary = temporary or r.result == "temperror"
    return None if temporary else False


def _signing_domains(properties: dict[str, list[str]]) -> list[str]:
    """The signing domains a result names: its ``header.d``, else the domain of its
    ``header.i``; every one of them, when it names several."""
    if "header.d" in properties:
        names = properties["header.d"]
    else:
        names = [i.rpartition("@")[2] for i in properties.get("header.i", ()) if "@" in i]
    return [domain for name in names if (domain := _domain(name)) is not None]
