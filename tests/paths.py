"""Where the tests' data lives in this checkout."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INTEROP = REPO / "tests" / "fixtures" / "interop"
"""Recordings written by the TypeScript library and by ai2070-l0 (tests/fixtures/README.md)."""
DEMO_STREAMS = REPO / "demo_streams"
