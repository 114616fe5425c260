"""The import rules of docs/architecture.md, checked on the source.

Reads every module's imports (including ones inside functions and under
``TYPE_CHECKING``) and fails naming the module and the import that breaks a rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import REPO

PLAIN_TUI_MODULES = (
    "l0tui/debug_session.py",
    "l0tui/search.py",
    "l0tui/playback.py",
    "l0tui/loading.py",
    "l0tui/debug_export.py",
)
"""The parts of l0tui that must work without Textual."""


def imported_modules(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def top(name: str) -> str:
    return name.split(".")[0]


def sources(*patterns: str) -> list[Path]:
    found = sorted({p for pattern in patterns for p in REPO.glob(pattern)})
    assert found, patterns
    return found


def offending(paths: list[Path], forbidden: set[str]) -> list[str]:
    return [
        f"{path.relative_to(REPO)} imports {name}"
        for path in paths
        for name in imported_modules(path)
        if top(name) in forbidden
    ]


def test_l0core_imports_no_ui() -> None:
    assert offending(sources("l0core/**/*.py"), {"l0tui", "textual", "rich"}) == []


@pytest.mark.parametrize("module", PLAIN_TUI_MODULES)
def test_plain_parts_of_l0tui_import_no_textual(module: str) -> None:
    assert offending([REPO / module], {"textual", "textual_serve"}) == []


def test_display_layer_and_commands_import_no_textual() -> None:
    paths = [p for p in sources("l0tui/display/*.py", "l0tui/commands/*.py")
             if p.name != "theme.py"]  # theme.py resolves colours against the running theme
    assert offending(paths, {"textual", "textual_serve"}) == []


def test_the_rule_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from textual.app import App\n    import rich.text\n")
    assert sorted(imported_modules(module)) == ["rich.text", "textual.app"]
