"""Session-wide setup: the shared servers first get foreign data (``tests.foreign_data``)."""

from __future__ import annotations

import anthropic  # noqa: F401
import httpcore2  # noqa: F401
import httpx2  # noqa: F401
import openai  # noqa: F401
import pytest

from tests.foreign_data import fill_foreign_data

# The SDKs are imported before any test runs: pytester's in-process runs (tests/plugin)
# drop from sys.modules whatever a run imported first, and a later import would then
# build a second copy of httpx2's exception classes that the SDK no longer maps to
# its own errors (APIConnectionError), breaking every SDK test that runs after.

_NOTES: list[str] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _NOTES.extend(fill_foreign_data())


def pytest_report_header(config: pytest.Config) -> list[str]:
    return list(_NOTES)
