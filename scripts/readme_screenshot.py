#!/usr/bin/env python3
"""Write docs/debugger.svg: the debugger on a demo stream, stepped to its retry.

    python scripts/readme_screenshot.py

The README shows this SVG; the app itself renders it (Textual's screenshot export).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from l0tui.app import L0TuiApp, open_store_readonly  # noqa: E402
from l0tui.screens.debugger import DebuggerScreen  # noqa: E402


async def main() -> None:
    store = await open_store_readonly(str(ROOT / "demo_streams"))
    app = L0TuiApp(store, location="demo_streams", stream_id="03-guardrail-retry")
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(50):
            await pilot.pause(0.05)
            screen = app.screen
            if isinstance(screen, DebuggerScreen) and screen.loaded:
                break
        await pilot.press("r", "j", "j", "j")
        await pilot.pause(0.2)
        out = ROOT / "docs"
        out.mkdir(exist_ok=True)
        app.save_screenshot(filename="debugger.svg", path=str(out))
    await store.close()
    print(f"wrote {out / 'debugger.svg'}")


if __name__ == "__main__":
    asyncio.run(main())
