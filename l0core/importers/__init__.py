"""Importers: provider stream captures and OTLP JSON traces as recorded streams.

OpenAI Chat Completions and Responses streams, Anthropic Messages streams (SSE or
JSON Lines) and OTLP JSON traces (our own exports exactly, other programs' through
the GenAI and OpenInference conventions) become the spec's events. The mapping,
tool calls, timestamps and ids are described in ``docs/format.md``, sections 9
and 10.
"""

from l0core.importers.detect import FORMATS, detect_format
from l0core.importers.errors import ImportFailure, ImportFormatError, StreamExistsError
from l0core.importers.iterate import iter_imported
from l0core.importers.store_import import DEFAULT_BATCH, import_into
from l0core.importers.stream import ImportedStream

__all__ = [
    "DEFAULT_BATCH",
    "FORMATS",
    "ImportFailure",
    "ImportFormatError",
    "ImportedStream",
    "StreamExistsError",
    "detect_format",
    "import_into",
    "iter_imported",
]
