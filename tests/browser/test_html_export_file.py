"""The HTML export as a file (no browser): self-contained, script-safe, policy by hash."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

from l0tui.html_export import content_security_policy, script_safe_json
from tests.browser.chromium import DEMO_STREAMS
from tests.browser.recordings import cli, export_html


def test_script_safe_json_cannot_close_its_block() -> None:
    value = {"t": "</script><!-- & \u2028\u2029 >"}
    text = script_safe_json(value)
    assert not re.search("[<>&\u2028\u2029]", text)
    assert json.loads(text) == value


def _sha(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_the_file_carries_everything_and_allows_only_what_it_carries(tmp_path: Path) -> None:
    page = export_html(DEMO_STREAMS, "03-guardrail-retry", tmp_path / "r.html").read_text()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    policy = csp.group(1).replace("&#x27;", "'")
    assert policy.startswith("default-src 'none';")
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert style is not None and len(scripts) == 1
    assert policy == content_security_policy(scripts[0], style.group(1))
    assert f"'{_sha(scripts[0])}'" in policy and f"'{_sha(style.group(1))}'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert not re.search(r"\b(src|href)=", page), "nothing is loaded from anywhere"
    assert "http://" not in page.split('id="l0-recording"')[0]


def test_html_goes_to_stdout_without_o_and_refuses_from() -> None:
    text = cli("export", str(DEMO_STREAMS), "06-error-zero-tokens", "--format", "html")
    assert text.startswith("<!DOCTYPE html>") and text.endswith("</html>\n")
    from l0tui.cli import run

    assert run(["export", str(DEMO_STREAMS), "06-error-zero-tokens", "--format", "html",
                "--from", "2"]) == 2


def test_to_cuts_the_recording(tmp_path: Path) -> None:
    target = tmp_path / "cut.html"
    cli("export", str(DEMO_STREAMS), "03-guardrail-retry", "--format", "html", "--to", "9",
        "-o", str(target))
    page = target.read_text()
    data = json.loads(page.split('id="l0-recording">', 1)[1].split("</script>", 1)[0])
    assert data["count"] == 10 and len(data["kinds"]) == 10
