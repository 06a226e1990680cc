"""Shared by the tests: where things are, and line-ending variants of a text."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SHARED = ROOT.parent / "shared"

#: Set DRSPARSE_REGEN=1 to rewrite the expected files of the samples from the current output;
#: review every changed file with `git diff` before committing it.
REGEN = os.environ.get("DRSPARSE_REGEN") == "1"

LINE_ENDINGS = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}


def with_line_endings(text: str, ending: str) -> str:
    """``text`` (LF line endings) with every line break replaced by ``ending``."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", ending)


def expect_json(path: Path, actual: Any) -> Any:
    """The expected JSON stored at ``path`` (written from ``actual`` in regen mode)."""
    if REGEN:
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return json.loads(path.read_text(encoding="utf-8"))
