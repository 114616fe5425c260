"""The wire format: typed events <-> JSON objects, one codec for every store and export.

The format is declared once, as tables of fields, in :mod:`l0core.codec.schema`
(each event kind, the nested payloads, snapshots, replayed state, stream
metadata). :mod:`l0core.codec.fields` turns those tables into the decode and
encode functions of :mod:`l0core.codec.wire`, so reading both spellings,
writing camelCase, validation messages and kept unknown keys follow one rule.
:mod:`l0core.codec.checks` says what a valid value is, and
:mod:`l0core.codec.tokens` holds the fast TOKEN paths, which must agree with the
checked path (a test pins them). The format is described in ``docs/format.md``.
"""

from l0core.codec.checks import check_json
from l0core.codec.tokens import decode_token_line, decode_token_run, token_event
from l0core.codec.wire import (
    coerce_event,
    decode_drift_result,
    decode_envelope,
    decode_error,
    decode_event,
    decode_guardrail_result,
    decode_options,
    decode_snapshot,
    dumps,
    encode_drift_result,
    encode_envelope,
    encode_envelope_line,
    encode_error,
    encode_event,
    encode_guardrail_result,
    encode_lines,
    encode_metadata,
    encode_options,
    encode_snapshot,
    encode_state,
    loads,
)

__all__ = [
    "check_json",
    "coerce_event",
    "decode_drift_result",
    "decode_envelope",
    "decode_error",
    "decode_event",
    "decode_guardrail_result",
    "decode_options",
    "decode_snapshot",
    "decode_token_line",
    "decode_token_run",
    "dumps",
    "encode_drift_result",
    "encode_envelope",
    "encode_envelope_line",
    "encode_error",
    "encode_event",
    "encode_guardrail_result",
    "encode_lines",
    "encode_metadata",
    "encode_options",
    "encode_snapshot",
    "encode_state",
    "loads",
    "token_event",
]
