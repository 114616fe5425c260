"""How l0tui shows things, shared by the command line and the TUI.

- :mod:`l0tui.display.escape`: hostile stream text made visible (controls, escape
  sequences, bidi overrides, markup) and JSON escaping;
- :mod:`l0tui.display.formatting`: times, durations, counts and diff values for humans;
- :mod:`l0tui.display.vocabulary`: event kinds and statuses: letters, names, picker
  keys, one-line event summaries and the colour *role* of each;
- :mod:`l0tui.display.colours`: roles to colours on the command line (one table);
- :mod:`l0tui.display.theme`: roles to colours in the TUI, from the Textual theme.

Only :mod:`~l0tui.display.theme` imports Textual, so the command line starts without it.
"""
