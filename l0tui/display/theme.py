"""Colours in the TUI: colour roles resolved against the running Textual theme.

A role (``warning``, ``error``, ...) becomes the theme's text variant of that colour
(``$text-warning``, ``$text-error``, ...), which themes tune to be readable on their
own background. Widgets pass ``app.theme_variables``; Textual replaces that mapping
whenever the theme or the CSS changes, so the styles built from it are cached by its
identity and rebuilt exactly when the theme changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.style import Style
from textual.color import Color, ColorParseError

from l0core.events import RecordedEventType
from l0tui.display.vocabulary import KIND_LOOKS, Look, Role

THEME_VARIABLES: dict[Role, str] = {
    Role.PRIMARY: "text-primary",
    Role.SECONDARY: "text-secondary",
    Role.ACCENT: "text-accent",
    Role.WARNING: "text-warning",
    Role.ERROR: "text-error",
    Role.SUCCESS: "text-success",
    Role.MUTED: "foreground-muted",
}
"""The theme variable each role takes its colour from."""


def _colour(variables: Mapping[str, str], role: Role) -> Color | None:
    try:
        colour = Color.parse(variables[THEME_VARIABLES[role]])
        if colour.a < 1.0:  # e.g. a muted foreground: blend it onto the background
            colour = Color.parse(variables.get("background", "#000000")) + colour
    except (KeyError, ColorParseError):
        return None
    return colour


def theme_style(variables: Mapping[str, str], look: Look) -> Style:
    """The Rich style of ``look`` under the theme whose variables are ``variables``."""
    colour = _colour(variables, look.role)
    return Style(color=None if colour is None else colour.rich_color, bold=look.bold or None)


_cache: tuple[Mapping[str, str], dict[RecordedEventType, Style]] | None = None


def kind_styles(variables: Mapping[str, str]) -> dict[RecordedEventType, Style]:
    """Every kind's style under ``variables`` (``app.theme_variables``), built once per theme."""
    global _cache
    cached = _cache
    if cached is not None and cached[0] is variables:
        return cached[1]
    styles = {kind: theme_style(variables, look) for kind, look in KIND_LOOKS.items()}
    _cache = (variables, styles)
    return styles
