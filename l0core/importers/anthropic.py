"""Anthropic Messages streams (docs/format.md, section 10).

``message_start`` opens a stream; content blocks follow, each between
``content_block_start`` and ``content_block_stop``, their ``content_block_delta``s
carrying ``text_delta`` (text) or ``input_json_delta`` (the input of a ``tool_use``
block, which becomes the tool call's own stream); thinking is not read, as the SDK
recorder does not record it. ``message_delta`` brings the stop reason and usage,
``message_stop`` ends the stream, ``error`` reports a failure, ``ping`` is nothing.
"""

from __future__ import annotations

from typing import Any

import orjson

from l0core.events import SerializedError
from l0core.importers.builder import failure_type_of
from l0core.importers.detect import ANTHROPIC, classify
from l0core.importers.options import IMPORT_KEY, request_params, request_prompt
from l0core.importers.records import OBJECT, Record
from l0core.importers.stream import FileContext, StreamDecoder
from l0core.importers.values import as_dict, as_str

_TOOL_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
_SKIPPED_DELTAS = frozenset({"signature_delta", "citations_delta"})
"""Deltas that only restate or sign what other deltas carry."""


class AnthropicDecoder(StreamDecoder):
    format = ANTHROPIC
    provider = "anthropic"
    api = "messages"
    terminal = "message_stop"

    def __init__(self, ctx: FileContext, first: Record, request: Record | None) -> None:
        super().__init__(ctx, first, request)
        obj = first.obj
        message = obj.get("message") if obj.get("type") == "message_start" else None
        message = message if isinstance(message, dict) else {}
        self.raw_id = message["id"] if isinstance(message.get("id"), str) else None
        if isinstance(message.get("usage"), dict):
            self.usage = dict(message["usage"])
        self.begin(None)
        req = self.request or {}
        head = {k: v for k, v in message.items() if k != "content"}
        self.builder.start(self.options(
            message.get("model") or req.get("model"), prompt=request_prompt(req),
            params=request_params(req), responseId=self.raw_id, head=head or None), first.ts)
        if not message:
            self.feed(first)

    @classmethod
    def can_open(cls, rec: Record) -> bool:
        return rec.obj.get("type") != "ping"

    def starts_new(self, rec: Record) -> bool:
        return rec.kind == OBJECT and rec.obj.get("type") == "message_start"

    def feed(self, rec: Record) -> None:
        obj = rec.obj
        kind = obj.get("type", rec.sse_event)
        b = self.builder
        ts = rec.ts
        if kind == "content_block_delta":
            delta = obj.get("delta")
            if not isinstance(delta, dict):
                raise self.refuse(rec, "an Anthropic content_block_delta with a delta")
            dtype = delta.get("type")
            index = obj.get("index")
            if dtype == "text_delta":
                b.text(delta.get("text"), ts)
            elif dtype == "input_json_delta":
                b.tool_args(index, delta.get("partial_json"), ts)
            elif dtype not in _SKIPPED_DELTAS:
                self.skipped += 1
        elif kind == "content_block_start":
            self._block_start(obj, ts)
        elif kind == "content_block_stop":
            pass
        elif kind == "message_delta":
            reason = as_str(as_dict(obj.get("delta")).get("stop_reason"))
            if reason is not None:
                self.finish_reason = reason
            if isinstance(obj.get("usage"), dict):
                self.usage = {**(self.usage or {}), **obj["usage"]}
        elif kind == "message_stop":
            b.complete(ts)
        elif kind == "error" and classify(obj) in (ANTHROPIC, None):
            self._error(obj, rec)
        elif kind == "ping":
            pass
        elif isinstance(kind, str) and "type" in obj and classify(obj) in (None, ANTHROPIC):
            self.skipped += 1
        else:
            raise self.refuse(rec, "an Anthropic stream event")

    def _block_start(self, obj: dict[str, Any], ts: float | None) -> None:
        b = self.builder
        block = as_dict(obj.get("content_block"))
        index = obj.get("index")
        btype = block.get("type")
        if btype == "text":
            b.text(block.get("text"), ts)
        elif btype in _TOOL_BLOCKS:
            b.tool_start(index, ts, block.get("id"), block.get("name"))
            given = block.get("input")
            if given:  # the input is normally {} and arrives in deltas
                b.tool_args(index, orjson.dumps(given).decode("utf-8"), ts)
        elif btype == "redacted_thinking":
            self.skipped += 1

    def _error(self, obj: dict[str, Any], rec: Record) -> None:
        error = as_dict(obj.get("error"))
        name = as_str(error.get("type")) or "error"
        message = as_str(error.get("message"))
        meta: dict[str, Any] = {"line": rec.line, "event": obj}
        if self.finish_reason is not None:
            meta["finishReason"] = self.finish_reason
        if self.usage is not None:
            meta["usage"] = self.usage
        self.builder.error(SerializedError(
            name=name, message=message or "",
            metadata={IMPORT_KEY: meta}), failure_type_of(name), rec.ts)
