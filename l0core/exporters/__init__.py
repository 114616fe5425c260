"""Exporters: recorded streams written in other programs' formats.

:mod:`.otlp` writes OTLP JSON (the OpenTelemetry file exporter's JSON Lines of
``TracesData``, GenAI semantic conventions); the mapping is in ``docs/format.md``,
section "OTLP mapping".
"""

from l0core.exporters.otlp import otlp_chunks, otlp_line, span_id, trace_id, write_otlp

__all__ = ["otlp_chunks", "otlp_line", "span_id", "trace_id", "write_otlp"]
