"""A deterministic corpus of realistic DRS robot e-mails, for the benchmark and its test.

Made by the project's fake robot (:func:`drsparse.testing.mail_stream`), so that the benchmark
reads the same mail as the tests and as the users' own tests. Each robot mail is what Knipp
documents: "All DRS robot responses are encoded as Content-Type: multipart/mixed in MIME
standard ... The 3rd section is optional." Here the three parts are

1. prose for people: German text/plain, ISO-8859-1, quoted-printable (umlauts, soft breaks);
2. the response: text/plain us-ascii 7bit with one ``### DRS Response`` block, one of the
   documented examples (samples/knipp/) in a realistic mix, with its own references, domains
   and dates;
3. the application echoed: text/plain UTF-8 base64, ``key: value`` lines of an application form
   (which is *not* a response block, so a parser must not report it).

Messages carry the receiving server's ``Authentication-Results`` (``dkim=pass`` for knipp.de),
several Received headers, a DKIM-Signature, a Message-ID, a Date, ``From: drs@knipp.de`` and
a Subject: a few KB each, like the real ones. One message in twenty is foreign mail (a
newsletter about the DRS, a bounce, a colleague's mail): no response, and a reader must find
none. One seed always gives the same bytes, and message ``i`` depends only on the messages
before it: ``make_corpus(seed, 4 * n)[:n] == make_corpus(seed, n)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from drsparse import testing

__all__ = [
    "FOREIGN_SHARE",
    "HEADER",
    "KINDS",
    "Case",
    "iter_cases",
    "make_cases",
    "make_corpus",
    "write_mbox",
]

HEADER = "### DRS Response\n###\n\n"

#: The share of foreign mail between the robot's.
FOREIGN_SHARE = 0.05

#: What a message can be made from: a documented example, or a kind of foreign mail.
KINDS = (*testing.DOCUMENTED, *testing.FOREIGN)


@dataclass(frozen=True)
class Case:
    """One generated e-mail and what the generator put into its response block."""

    #: The whole e-mail, as it would be stored in a mailbox (LF line endings).
    data: bytes
    #: The response part's text: the bare block ("" for foreign mail).
    block: str
    #: The block's ``key: value`` lines, in the order written (none for foreign mail).
    pairs: tuple[tuple[str, str], ...]
    #: The documented example the block was made from, or the kind of foreign mail.
    kind: str
    message_id: str

    @property
    def robot(self) -> bool:
        """Whether the message holds a response (foreign mail does not)."""
        return bool(self.block)


def _case(mail: testing.Mail) -> Case:
    if not mail.responses:
        return Case(mail.data, "", (), mail.kind, mail.message_id)
    block = testing.block(*mail.responses)
    pairs = tuple(
        (key, value)
        for key, _, value in (line.partition(": ") for line in block[len(HEADER) :].splitlines())
    )
    return Case(mail.data, block, pairs, mail.scenario or mail.kind, mail.message_id)


def iter_cases(seed: int) -> Iterator[Case]:
    """The endless sequence of cases for ``seed``."""
    return map(_case, testing.mail_stream(seed, foreign=FOREIGN_SHARE))


def make_cases(seed: int, n: int) -> list[Case]:
    """The first ``n`` cases for ``seed``."""
    return list(itertools.islice(iter_cases(seed), n))


def make_corpus(seed: int, n: int) -> list[bytes]:
    """The first ``n`` e-mails for ``seed``, as bytes."""
    return [case.data for case in make_cases(seed, n)]


def write_mbox(path: str | Path, target_bytes: int, seed: int) -> int:
    """Write e-mails for ``seed`` to an mbox at ``path`` until it holds ``target_bytes``.

    Streams: one message at a time is in memory, whatever the size. Returns how many messages
    were written.
    """

    def until_full() -> Iterator[testing.Mail]:
        written = 0
        for mail in testing.mail_stream(seed, foreign=FOREIGN_SHARE):
            if written >= target_bytes:
                return
            written += len(mail.data)
            yield mail

    return testing.write_mbox(until_full(), path)
