"""The fake provider itself: routes, the request log, replies in order, errors."""

from __future__ import annotations

import subprocess
import sys

import anthropic
import openai
import pytest

from l0core.record.provider_sse import ApiError
from l0core.testing.fake_provider import FakeProvider, Reply
from tests.paths import REPO

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def test_replies_in_order_then_the_default_and_the_requests_are_kept() -> None:
    with FakeProvider(Reply(texts=["one"]), Reply(texts=["two"]),
                      default=Reply(texts=["default"])) as fake, \
            openai.OpenAI(base_url=fake.openai_base_url, api_key="k1", max_retries=0) as client:
        got = []
        for _ in range(3):
            stream = client.chat.completions.create(**CHAT, stream=True)
            got.append("".join(c.choices[0].delta.content or "" for c in stream if c.choices))
        assert got == ["one", "two", "default"]
        assert [r.path for r in fake.requests] == ["/v1/chat/completions"] * 3
        assert fake.requests[0].body["model"] == "gpt-4o-mini"
        assert fake.requests[0].body["stream"] is True
        assert fake.requests[0].headers["authorization"] == "Bearer k1"


def test_slow_chunks_still_arrive_whole() -> None:
    with FakeProvider(Reply(texts=["a", "b", "c"], delay=0.01)) as fake, \
            anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key="k",
                                max_retries=0) as client:
        with client.messages.stream(model="m", max_tokens=5,
                                    messages=[{"role": "user", "content": "x"}]) as stream:
            assert "".join(stream.text_stream) == "abc"
        assert "anthropic-version" in fake.requests[0].headers


def test_error_statuses_and_unscripted_requests() -> None:
    with FakeProvider(Reply(status=503, error=ApiError("down", "server_error", status=503))) \
            as fake, openai.OpenAI(base_url=fake.openai_base_url, api_key="k",
                                   max_retries=0) as client:
        with pytest.raises(openai.InternalServerError) as status:
            client.chat.completions.create(**CHAT, stream=True)
        assert status.value.status_code == 503
        with pytest.raises(openai.BadRequestError, match="only answers stream=True"):
            client.chat.completions.create(**CHAT)
        with pytest.raises(openai.NotFoundError):
            client.embeddings.create(model="e", input="x")


def test_base_urls() -> None:
    fake = FakeProvider()
    with pytest.raises(RuntimeError):
        _ = fake.base_url
    with fake:
        assert fake.base_url.startswith("http://127.0.0.1:")
        assert fake.openai_base_url == fake.base_url + "/v1"
        assert fake.anthropic_base_url == fake.base_url


def test_importable_without_pytest() -> None:
    code = ("import sys, l0core.testing.fake_provider, l0core.record.provider_sse; "
            "sys.exit('pytest' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0
