"""Where the shared reference material lives relative to this checkout."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
INTEROP = SHARED / "fixtures" / "interop"
DEMO_STREAMS = REPO / "demo_streams"
