"""Record this example's calls against a local fake OpenAI server, with no API key.

``python record.py`` starts :class:`l0core.testing.fake_provider.FakeProvider`
scripted with the answer below, points the OpenAI SDK at it (``OPENAI_BASE_URL``)
and runs this directory's tests with ``--l0-record=all``. Against the real API,
set ``OPENAI_API_KEY`` and run ``pytest --l0-record=all`` instead.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

from l0core.testing.fake_provider import FakeProvider, Reply

ANSWER = ["SSD", " flash", " cells", " wear", " out", " with", " writes,", " but", " wear",
          " levelling", " and", " spare", " blocks", " make", " most", " drives", " outlast",
          " their", " computers."]
"""What the fake model streams, one chunk per entry."""


def plugin_args() -> list[str]:
    """``-p l0core.pytest_plugin`` unless its entry point is installed."""
    installed = any(ep.value == "l0core.pytest_plugin"
                    for ep in importlib.metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", "l0core.pytest_plugin"]


def main() -> int:
    here = Path(__file__).resolve().parent
    with FakeProvider(default=Reply(texts=ANSWER)) as fake:
        env = {**os.environ, "OPENAI_BASE_URL": fake.openai_base_url,
               "OPENAI_API_KEY": "fake-key"}
        done = subprocess.run([sys.executable, "-m", "pytest", *plugin_args(), str(here),
                               "--l0-record=all", "-q", "-p", "no:cacheprovider"],
                              env=env, cwd=here, check=False)
        print(f"the fake server answered {len(fake.requests)} request(s); recordings in "
              f"{here / 'recordings'}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
