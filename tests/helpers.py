"""Shared by the tests: where things are, and line-ending variants of a text."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
#: The documents and corpora beside the repository; absent from a plain clone.
SHARED = ROOT.parent / "shared"
#: Set (to 1) where ../shared must be there: its tests then fail instead of skipping. CI does.
REQUIRE_SHARED = os.environ.get("DRSPARSE_REQUIRE_SHARED") == "1"

#: For a test whose data lies in ../shared: skipped, with the reason, where it is absent.
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"needs the documents and corpora at {SHARED}"
)

#: Set DRSPARSE_REGEN=1 to rewrite the expected files of the samples from the current output;
#: review every changed file with `git diff` before committing it.
REGEN = os.environ.get("DRSPARSE_REGEN") == "1"

LINE_ENDINGS = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}


def shared_text(relative: str) -> str | None:
    """The text of a file under ../shared, ``None`` where ../shared is absent."""
    path = SHARED / relative
    return path.read_text(encoding="utf-8") if SHARED.is_dir() else None


def with_line_endings(text: str, ending: str) -> str:
    """``text`` (LF line endings) with every line break replaced by ``ending``."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", ending)


def expect_json(path: Path, actual: Any) -> Any:
    """The expected JSON stored at ``path`` (written from ``actual`` in regen mode)."""
    if REGEN:
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return json.loads(path.read_text(encoding="utf-8"))
