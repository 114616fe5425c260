"""l0tui: a Textual time-travel debugger for recorded LLM streams, and its command line."""
