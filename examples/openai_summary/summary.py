"""The code under test: summarise a text with one streamed OpenAI Chat Completions call.

Nothing here knows about recordings: it takes an ``openai.OpenAI`` client, as
production code does, and the tests hand it one that replays a recording.
"""

from __future__ import annotations

from openai import OpenAI

PROMPT = "Summarise this in one sentence of at most {words} words:\n\n{text}"


def summarize(client: OpenAI, text: str, *, model: str = "gpt-4o-mini", words: int = 25) -> str:
    """One sentence about ``text``, streamed and joined."""
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": PROMPT.format(words=words, text=text)}],
        temperature=0,
        stream=True,
    )
    parts = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    return "".join(parts).strip()
