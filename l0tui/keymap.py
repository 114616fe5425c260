"""User key remapping: ``$XDG_CONFIG_HOME/l0tui/keymap.toml`` (or ``$L0TUI_KEYMAP``).

Every binding in l0tui has an id; the file maps ids to keys, for example::

    [keys]
    "debugger.step_forward" = "down,l"
    "debugger.play" = "p"

Textual's keymap then replaces the default keys of those bindings everywhere. A file
that cannot be read is reported once (as a notification), never fatal.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path


def default_keymap_path() -> Path:
    env = os.environ.get("L0TUI_KEYMAP")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "l0tui" / "keymap.toml"


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], str | None]:
    """The keymap in ``path`` (default location when None) and a problem, if any."""
    path = path or default_keymap_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, f"ignoring {path}: {exc}"
    table = data.get("keys", data)
    if not isinstance(table, dict):
        return {}, f"ignoring {path}: [keys] must be a table"
    keymap: dict[str, str] = {}
    bad: list[str] = []
    for binding_id, keys in table.items():
        if isinstance(keys, str) and keys.strip():
            keymap[str(binding_id)] = keys
        elif isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys):
            keymap[str(binding_id)] = ",".join(keys)
        else:
            bad.append(str(binding_id))
    problem = f"{path}: ignored bad entries: {', '.join(bad)}" if bad else None
    return keymap, problem
