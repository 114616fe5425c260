"""The screens of the TUI: stream browser, debugger, diff, help and small modals."""
