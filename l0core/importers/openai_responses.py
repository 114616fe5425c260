"""OpenAI Responses API streams (docs/format.md, section 10).

``response.created`` opens a stream and echoes the request's parameters;
``response.output_text.delta`` (and a refusal's delta) carries text,
``response.function_call_arguments.delta`` a function call's arguments (the call,
announced by ``response.output_item.added``, becomes a stream of its own);
reasoning is not read. ``response.completed`` ends
it; ``response.failed``, ``response.incomplete`` and ``error`` end it in an ERROR.
``sequence_number`` increases through a stream: an event that does not move it
forward is a duplicate in the capture and is skipped.
"""

from __future__ import annotations

from typing import Any

from l0core.events import SerializedError
from l0core.importers.builder import failure_type_of
from l0core.importers.detect import OPENAI_RESPONSES, classify
from l0core.importers.options import IMPORT_KEY, request_params, request_prompt
from l0core.importers.records import OBJECT, Record
from l0core.importers.stream import FileContext, StreamDecoder
from l0core.importers.values import as_code, as_dict, as_number

_NOT_PARAMS = frozenset({
    "id", "object", "created_at", "status", "output", "usage", "error", "incomplete_details",
    "model", "output_text", "completed_at",
})
_TOOL_ITEMS = frozenset({"function_call", "custom_tool_call", "mcp_call"})
_ARG_DELTAS = frozenset({
    "response.function_call_arguments.delta", "response.custom_tool_call_input.delta",
    "response.mcp_call_arguments.delta",
})
_REASONING_DELTAS = frozenset({
    "response.reasoning_summary_text.delta", "response.reasoning_text.delta",
})


def _response_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    response = obj.get("response")
    return response if isinstance(response, dict) else None


class ResponsesDecoder(StreamDecoder):
    format = OPENAI_RESPONSES
    provider = "openai"
    api = "responses"
    terminal = "response.completed"

    def __init__(self, ctx: FileContext, first: Record, request: Record | None) -> None:
        super().__init__(ctx, first, request)
        obj = first.obj
        response = _response_of(obj) or {}
        self.raw_id = response["id"] if isinstance(response.get("id"), str) else None
        self.last_seq: int | None = None
        created = as_number(response.get("created_at"))
        self.begin(created * 1000 if created is not None else None)
        req = self.request or {}
        params = {**request_params(req),
                  **{k: v for k, v in response.items() if k not in _NOT_PARAMS}}
        head = {k: response[k] for k in ("id", "object", "created_at", "status")
                if k in response}
        self.builder.start(self.options(
            response.get("model") or req.get("model"), prompt=request_prompt(req),
            params=params, responseId=self.raw_id, head=head or None), first.ts)
        self.feed(first)

    def starts_new(self, rec: Record) -> bool:
        if rec.kind != OBJECT:
            return False
        obj = rec.obj
        if obj.get("type") == "response.created":
            return True
        response = _response_of(obj)
        rid = response.get("id") if response is not None else None
        if not isinstance(rid, str):
            return False
        if self.raw_id is None:
            self.raw_id = rid
            return False
        return rid != self.raw_id

    def feed(self, rec: Record) -> None:
        obj = rec.obj
        kind = obj.get("type", rec.sse_event)
        if not isinstance(kind, str) or classify(obj) not in (OPENAI_RESPONSES, None):
            raise self.refuse(rec, "a Responses API stream event")
        seq = obj.get("sequence_number")
        if isinstance(seq, int) and not isinstance(seq, bool):
            if self.last_seq is not None and seq <= self.last_seq:
                self.skipped += 1
                return
            self.last_seq = seq
        b = self.builder
        ts = rec.ts
        if kind == "response.output_text.delta":
            b.text(obj.get("delta"), ts)
        elif kind in _ARG_DELTAS:
            b.tool_args(obj.get("item_id"), obj.get("delta"), ts)
        elif kind == "response.output_item.added":
            self._item_added(obj, ts)
        elif kind == "response.refusal.delta":
            b.text(obj.get("delta"), ts)
        elif kind in _REASONING_DELTAS:
            self.skipped += 1
        elif kind == "response.completed":
            self._usage(obj)
            b.complete(ts)
        elif kind == "response.failed":
            self._usage(obj)
            error = (_response_of(obj) or {}).get("error")
            error = error if isinstance(error, dict) else {}
            self._error(error.get("code"), error.get("message"), rec, "ResponseFailed")
        elif kind == "response.incomplete":
            self._usage(obj)
            details = (_response_of(obj) or {}).get("incomplete_details")
            reason = details.get("reason") if isinstance(details, dict) else None
            self.finish_reason = reason if isinstance(reason, str) else None
            self._error(reason, f"response incomplete: {reason or 'no reason given'}", rec,
                        "ResponseIncomplete", name="ResponseIncomplete")
        elif kind == "error":
            self._error(obj.get("code"), obj.get("message"), rec, "ResponseError")
        elif kind.startswith("response."):
            if kind not in ("response.created", "response.in_progress", "response.queued"):
                self.skipped += 1
        else:
            raise self.refuse(rec, "a Responses API stream event")

    def _item_added(self, obj: dict[str, Any], ts: float | None) -> None:
        item = as_dict(obj.get("item"))
        if item.get("type") not in _TOOL_ITEMS:
            return
        key = item.get("id")
        self.builder.tool_start(key, ts, item.get("call_id"), item.get("name"))
        self.builder.tool_args(key, item.get("arguments", item.get("input")), ts)

    def _usage(self, obj: dict[str, Any]) -> None:
        usage = (_response_of(obj) or {}).get("usage")
        if isinstance(usage, dict):
            self.usage = usage

    def _error(self, code: object, message: object, rec: Record, fallback: str, *,
               name: str | None = None) -> None:
        """An ERROR named after the error's ``code`` (``fallback`` without one)."""
        name = name or (code if isinstance(code, str) and code else fallback)
        meta: dict[str, Any] = {"line": rec.line, "event": rec.obj}
        if self.finish_reason is not None:
            meta["finishReason"] = self.finish_reason
        if self.usage is not None:
            meta["usage"] = self.usage
        self.builder.error(SerializedError(
            name=name, message=message if isinstance(message, str) else "",
            code=as_code(code),
            metadata={IMPORT_KEY: meta}), failure_type_of(name), rec.ts)
