"""The negative corpus: about 830 real foreign e-mails (bounces), none holding a response.

Every one must be read, none may yield a response, and nothing but our own errors may come
out, whatever the line endings (LF, CRLF, bare CR), charsets or broken MIME.
"""

from __future__ import annotations

import mailbox
import time
from collections import Counter

import pytest

from drsparse import DrsParseError
from drsparse._mailbox import parse_messages, read_messages
from tests.helpers import SHARED

CORPUS = SHARED / "corpora" / "set-of-emails"

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"the corpus is not checked out at {CORPUS}"
)


def test_corpus_holds_no_response() -> None:
    start = time.perf_counter()
    outcomes: Counter[str] = Counter()
    sources = []
    for source, outcome in parse_messages(CORPUS, include_quoted=True):
        sources.append(source)
        if isinstance(outcome, DrsParseError):
            outcomes[type(outcome).__name__] += 1
            assert outcome.source == source
        else:
            assert outcome == [], source
            outcomes["no response"] += 1
    elapsed = time.perf_counter() - start
    files = sum(1 for path in CORPUS.rglob("*") if path.is_file())
    print(f"\n{len(sources)} messages from {files} files in {elapsed:.2f} s: {dict(outcomes)}")
    assert len(sources) == len(set(sources))
    # Every file is read: each is a message, or an mbox of several ("path#N").
    assert {source.partition("#")[0] for source in sources} == {
        str(path) for path in CORPUS.rglob("*") if path.is_file()
    }
    assert len(sources) >= 800


@pytest.mark.parametrize("name", ["mbox-0", "mbox-1"])
def test_corpus_mboxes_agree_with_the_mailbox_module(name: str) -> None:
    path = CORPUS / "mailbox" / name
    box = mailbox.mbox(path)
    theirs = [message["Message-ID"] for message in box]
    box.close()
    ours = []
    for item in read_messages(path):
        assert item.data is not None, item.error
        ours.append(mailbox.mboxMessage(item.data)["Message-ID"])
    assert ours == theirs
