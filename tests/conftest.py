"""Where ../shared is required (CI), its absence fails the run instead of skipping tests."""

from __future__ import annotations

import pytest

from tests.helpers import REQUIRE_SHARED, SHARED


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_SHARED and not SHARED.is_dir():
        raise pytest.UsageError(
            f"DRSPARSE_REQUIRE_SHARED=1, but the documents and corpora are not at {SHARED}"
        )
