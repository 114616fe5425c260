"""Session-wide setup: the shared servers first get foreign data (``tests.foreign_data``)."""

from __future__ import annotations

import pytest

from tests.foreign_data import fill_foreign_data

_NOTES: list[str] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _NOTES.extend(fill_foreign_data())


def pytest_report_header(config: pytest.Config) -> list[str]:
    return list(_NOTES)
