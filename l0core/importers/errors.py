"""Why an import stopped, in one line naming the file and the line (docs/format.md, section 10)."""

from __future__ import annotations

from l0core.errors import L0Error


class ImportFailure(L0Error, ValueError):
    """Base of the import errors. ``written`` names the streams imported before it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.written: list[str] = []

    def note_written(self, written: list[str]) -> None:
        """Say in the message which streams were imported before this error."""
        if written and not self.written:
            self.written = list(written)
            shown = ", ".join(written[:5]) + (f" and {len(written) - 5} more"
                                              if len(written) > 5 else "")
            self.args = (f"{self.args[0]} (imported before it: {shown})",)


class ImportFormatError(ImportFailure):
    """The input is not a capture we can read: empty, binary, unknown JSON, a bad line."""

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        where = f"{source}: line {line}" if line is not None else source
        super().__init__(f"{where}: {message}")


class StreamExistsError(ImportFailure):
    """The stream id already has events in the store: an import never overwrites."""

    def __init__(self, stream_id: str, store: str = "the store") -> None:
        self.stream_id = stream_id
        super().__init__(f"stream {stream_id!r} already exists in {store}; nothing written "
                         "for it (use --stream to import under another id)")
