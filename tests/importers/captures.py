"""Provider stream captures for the importer tests, built from the documented event shapes.

Chat Completions chunks, Responses API events and Anthropic Messages events as the
APIs stream them (every object here validates against the ``openai`` and
``anthropic`` SDKs' own types: ``test_fixture_shapes.py``), written as SSE or JSON
Lines the way capture tools write them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

Obj = dict[str, Any]

CHAT_MODEL = "gpt-4o-mini-2024-07-18"
CHAT_CREATED = 1733000000
RESPONSES_MODEL = "gpt-4.1-2025-04-14"
RESPONSES_CREATED = 1733000100
ANTHROPIC_MODEL = "claude-sonnet-4-5-20250929"


# ───────────────────────────── containers ─────────────────────────────


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def sse_data(objs: Iterable[Obj], *, done: bool = True) -> str:
    """``data: {...}`` events (Chat Completions has no ``event:`` lines), then ``[DONE]``."""
    text = "".join(f"data: {dumps(o)}\n\n" for o in objs)
    return text + ("data: [DONE]\n\n" if done else "")


def sse_events(objs: Iterable[Obj]) -> str:
    """``event: <type>`` + ``data: {...}`` events (Anthropic, Responses API)."""
    return "".join(f"event: {o['type']}\ndata: {dumps(o)}\n\n" for o in objs)


def jsonl(objs: Iterable[Obj], *, ts: Sequence[float] | None = None) -> str:
    """One object per line; with ``ts``, each wrapped as ``{"ts": ..., "data": {...}}``."""
    items = list(objs)
    if ts is None:
        return "".join(dumps(o) + "\n" for o in items)
    return "".join(dumps({"ts": t, "data": o}) + "\n" for t, o in zip(ts, items, strict=True))


def request_line(request: Obj) -> str:
    return dumps({"request": request}) + "\n"


# ───────────────────────────── OpenAI Chat Completions ─────────────────────────────


def chat_chunk(cid: str, delta: Obj | None = None, *, finish: str | None = None,
               usage: Obj | None = None, empty_choices: bool = False) -> Obj:
    chunk: Obj = {"id": cid, "object": "chat.completion.chunk", "created": CHAT_CREATED,
                  "model": CHAT_MODEL, "system_fingerprint": "fp_0ba0d124f1"}
    chunk["choices"] = [] if empty_choices else [
        {"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish}]
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def chat_usage(prompt: int = 9, completion: int = 3) -> Obj:
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def chat_text(cid: str, texts: Sequence[str], *, finish: str | None = "stop",
              usage: bool = True) -> list[Obj]:
    """A streamed answer: the role chunk, one chunk per text, the finish chunk, usage."""
    chunks = [chat_chunk(cid, {"role": "assistant", "content": "", "refusal": None})]
    chunks += [chat_chunk(cid, {"content": t}) for t in texts]
    if finish is not None:
        chunks.append(chat_chunk(cid, {}, finish=finish))
        if usage:
            chunks.append(chat_chunk(cid, empty_choices=True,
                                     usage=chat_usage(completion=len(texts))))
    return chunks


def chat_tool_calls(cid: str, calls: Sequence[tuple[str, str, Sequence[str]]]) -> list[Obj]:
    """Tool calls (call id, function name, argument pieces), one ``index`` each."""
    chunks = [chat_chunk(cid, {"role": "assistant", "content": None, "refusal": None})]
    for index, (call_id, name, parts) in enumerate(calls):
        chunks.append(chat_chunk(cid, {"tool_calls": [{
            "index": index, "id": call_id, "type": "function",
            "function": {"name": name, "arguments": ""}}]}))
        chunks += [chat_chunk(cid, {"tool_calls": [{"index": index,
                                                     "function": {"arguments": p}}]})
                   for p in parts]
    chunks.append(chat_chunk(cid, {}, finish="tool_calls"))
    return chunks


def chat_error(message: str = "The server had an error while processing your request.",
               kind: str = "server_error", code: str | None = None) -> Obj:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


# ───────────────────────────── OpenAI Responses API ─────────────────────────────


class Responses:
    """Responses API events of one response, numbered by ``sequence_number``."""

    def __init__(self, rid: str, *, model: str = RESPONSES_MODEL, seq: int = 0) -> None:
        self.rid = rid
        self.model = model
        self.seq = seq

    def _event(self, kind: str, **fields: Any) -> Obj:
        event = {"type": kind, "sequence_number": self.seq, **fields}
        self.seq += 1
        return event

    def response(self, status: str, **more: Any) -> Obj:
        return {"id": self.rid, "object": "response", "created_at": RESPONSES_CREATED,
                "status": status, "error": None, "incomplete_details": None,
                "instructions": "Answer briefly.", "max_output_tokens": 256, "model": self.model,
                "output": [], "parallel_tool_calls": True, "temperature": 0.2,
                "tool_choice": "auto", "tools": [], "top_p": 1.0, "usage": None, **more}

    def created(self) -> list[Obj]:
        return [self._event("response.created", response=self.response("in_progress")),
                self._event("response.in_progress", response=self.response("in_progress"))]

    def message(self, item: str, texts: Sequence[str], *, output_index: int = 0,
                done: bool = True) -> list[Obj]:
        events = [
            self._event("response.output_item.added", output_index=output_index, item={
                "id": item, "type": "message", "status": "in_progress", "role": "assistant",
                "content": []}),
            self._event("response.content_part.added", item_id=item, output_index=output_index,
                        content_index=0, part={"type": "output_text", "text": "",
                                               "annotations": []}),
        ]
        events += [self._event("response.output_text.delta", item_id=item,
                               output_index=output_index, content_index=0, delta=t, logprobs=[])
                   for t in texts]
        if done:
            text = "".join(texts)
            events += [
                self._event("response.output_text.done", item_id=item, output_index=output_index,
                            content_index=0, text=text, logprobs=[]),
                self._event("response.output_item.done", output_index=output_index, item={
                    "id": item, "type": "message", "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": text, "annotations": []}]}),
            ]
        return events

    def function_call(self, item: str, call_id: str, name: str, parts: Sequence[str], *,
                      output_index: int = 0) -> list[Obj]:
        args = "".join(parts)
        return [
            self._event("response.output_item.added", output_index=output_index, item={
                "id": item, "type": "function_call", "status": "in_progress",
                "arguments": "", "call_id": call_id, "name": name}),
            *[self._event("response.function_call_arguments.delta", item_id=item,
                          output_index=output_index, delta=p) for p in parts],
            self._event("response.function_call_arguments.done", item_id=item,
                        output_index=output_index, arguments=args, name=name),
            self._event("response.output_item.done", output_index=output_index, item={
                "id": item, "type": "function_call", "status": "completed",
                "arguments": args, "call_id": call_id, "name": name}),
        ]

    def completed(self, output_tokens: int = 3) -> Obj:
        usage = {"input_tokens": 11,
                 "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                 "output_tokens": output_tokens,
                 "output_tokens_details": {"reasoning_tokens": 0},
                 "total_tokens": 11 + output_tokens}
        return self._event("response.completed", response=self.response("completed",
                                                                         usage=usage))

    def failed(self, code: str = "server_error", message: str = "The model crashed.") -> Obj:
        return self._event("response.failed", response=self.response(
            "failed", error={"code": code, "message": message}))

    def incomplete(self, reason: str = "max_output_tokens") -> Obj:
        return self._event("response.incomplete", response=self.response(
            "incomplete", incomplete_details={"reason": reason}))

    def error(self, code: str = "server_error", message: str = "Something went wrong.") -> Obj:
        return self._event("error", code=code, message=message, param=None)

    def answer(self, item: str, texts: Sequence[str]) -> list[Obj]:
        return [*self.created(), *self.message(item, texts), self.completed(len(texts))]


# ───────────────────────────── Anthropic Messages ─────────────────────────────


def message_start(mid: str, *, model: str = ANTHROPIC_MODEL, input_tokens: int = 25) -> Obj:
    return {"type": "message_start", "message": {
        "id": mid, "type": "message", "role": "assistant", "content": [], "model": model,
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": 1}}}


def text_block(index: int, texts: Sequence[str], *, stop: bool = True) -> list[Obj]:
    events: list[Obj] = [{"type": "content_block_start", "index": index,
                          "content_block": {"type": "text", "text": ""}}]
    events += [{"type": "content_block_delta", "index": index,
                "delta": {"type": "text_delta", "text": t}} for t in texts]
    if stop:
        events.append({"type": "content_block_stop", "index": index})
    return events


def tool_block(index: int, tool_id: str, name: str, parts: Sequence[str]) -> list[Obj]:
    return [
        {"type": "content_block_start", "index": index,
         "content_block": {"type": "tool_use", "id": tool_id, "name": name, "input": {}}},
        *[{"type": "content_block_delta", "index": index,
           "delta": {"type": "input_json_delta", "partial_json": p}} for p in parts],
        {"type": "content_block_stop", "index": index},
    ]


def thinking_block(index: int, thought: str) -> list[Obj]:
    return [
        {"type": "content_block_start", "index": index,
         "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
        {"type": "content_block_delta", "index": index,
         "delta": {"type": "thinking_delta", "thinking": thought}},
        {"type": "content_block_delta", "index": index,
         "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM"}},
        {"type": "content_block_stop", "index": index},
    ]


def message_end(stop_reason: str = "end_turn", output_tokens: int = 15) -> list[Obj]:
    return [{"type": "message_delta", "delta": {"stop_reason": stop_reason,
                                                "stop_sequence": None},
             "usage": {"output_tokens": output_tokens}},
            {"type": "message_stop"}]


PING: Obj = {"type": "ping"}


def anthropic_error(kind: str = "overloaded_error", message: str = "Overloaded") -> Obj:
    return {"type": "error", "error": {"type": kind, "message": message}}


def anthropic_answer(mid: str, texts: Sequence[str]) -> list[Obj]:
    """A text answer with a ``ping`` after its first delta, as the API sends them."""
    block = text_block(0, texts)
    return [message_start(mid), *block[:2], PING, *block[2:],
            *message_end(output_tokens=len(texts))]


def cut(text: str, keep_of_last: int = 12) -> str:
    """``text`` cut inside its last line: that line's first characters, no newline."""
    body = text.rstrip("\n")
    head, _, last = body.rpartition("\n")
    return (head + "\n" if head else "") + last[:keep_of_last]
