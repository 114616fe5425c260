"""OpenAI Chat Completions streams: ``chat.completion.chunk`` objects (docs/format.md, section 10).

A chunk's ``choices[0].delta`` carries text (``content``, or a ``refusal``) and
tool-call argument deltas (``tool_calls[].function.arguments``, one call per
``index``, each its own stream); a ``finish_reason`` ends the output. The usage
chunk (``choices: []``) and ``[DONE]`` that follow still belong to the stream.
``{"error": {...}}`` is an error the server sent mid-stream.
"""

from __future__ import annotations

from typing import Any

from l0core.events import SerializedError
from l0core.importers.builder import failure_type_of
from l0core.importers.detect import OPENAI_CHAT
from l0core.importers.options import IMPORT_KEY, request_params, request_prompt
from l0core.importers.records import DONE, OBJECT, Record
from l0core.importers.stream import FileContext, StreamDecoder
from l0core.importers.values import as_code, as_dict, as_number, as_str


class ChatDecoder(StreamDecoder):
    format = OPENAI_CHAT
    provider = "openai"
    api = "chat.completions"
    terminal = "finish_reason"

    def __init__(self, ctx: FileContext, first: Record, request: Record | None) -> None:
        super().__init__(ctx, first, request)
        obj = first.obj
        self.raw_id = as_str(obj.get("id")) or None  # Azure's first chunk has "id": ""
        self.done = False
        created = as_number(obj.get("created"))
        self.begin(created * 1000 if created else None)
        req = self.request or {}
        head = {k: v for k, v in obj.items() if k not in ("choices", "usage", "error")}
        model = obj.get("model") or req.get("model")
        self.builder.start(self.options(
            model, prompt=request_prompt(req), params=request_params(req),
            responseId=self.raw_id, head=head or None), first.ts)
        self.feed(first)

    @classmethod
    def can_open(cls, rec: Record) -> bool:
        """Not a chunk that carries nothing (Azure's prompt filter results come first)."""
        obj = rec.obj
        return bool(obj.get("choices") or obj.get("id") or "error" in obj or "usage" in obj
                    or "choices" not in obj)

    def starts_new(self, rec: Record) -> bool:
        if rec.kind != OBJECT:
            return False
        if self.done:
            return True
        rid = rec.obj.get("id")
        if not isinstance(rid, str) or not rid:
            return False
        if self.raw_id is None:
            self.raw_id = rid
            return False
        return rid != self.raw_id

    def feed(self, rec: Record) -> None:
        b = self.builder
        if rec.kind == DONE:
            self.done = True
            b.complete(rec.ts)
            return
        obj = rec.obj
        error = obj.get("error")
        if isinstance(error, dict) and "choices" not in obj:
            self._error(error, rec)
            return
        choices = obj.get("choices")
        if not isinstance(choices, list):
            if isinstance(obj.get("usage"), dict):
                self.usage = obj["usage"]
                return
            raise self.refuse(rec, "an OpenAI chat.completion.chunk")
        if isinstance(obj.get("usage"), dict):
            self.usage = obj["usage"]
        for choice in choices:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            if isinstance(delta, dict):
                self._delta(delta, rec.ts)
            reason = choice.get("finish_reason")
            if isinstance(reason, str):
                self.finish_reason = reason
                b.complete(rec.ts)

    def _delta(self, delta: dict[str, Any], ts: float | None) -> None:
        b = self.builder
        b.text(delta.get("content"), ts)
        b.text(delta.get("refusal"), ts)
        if delta.get("reasoning_content"):
            self.skipped += 1
        calls = delta.get("tool_calls")
        if isinstance(calls, list):
            for call in calls:
                if not isinstance(call, dict):
                    continue
                fn = as_dict(call.get("function"))
                key = call.get("index", 0)
                b.tool_start(key, ts, call.get("id"), fn.get("name"))
                b.tool_args(key, fn.get("arguments"), ts)
        legacy = delta.get("function_call")
        if isinstance(legacy, dict):
            b.tool_start("function_call", ts, None, legacy.get("name"))
            b.tool_args("function_call", legacy.get("arguments"), ts)

    def _error(self, error: dict[str, Any], rec: Record) -> None:
        name = as_str(error.get("type"))
        code = as_code(error.get("code"))
        message = as_str(error.get("message"))
        meta: dict[str, Any] = {"line": rec.line, "event": error}
        if self.finish_reason is not None:
            meta["finishReason"] = self.finish_reason
        if self.usage is not None:
            meta["usage"] = self.usage
        self.builder.error(SerializedError(
            name=name or "APIError", message=message or "", code=code,
            metadata={IMPORT_KEY: meta}), failure_type_of(name or str(code or "")), rec.ts)
