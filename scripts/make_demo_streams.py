#!/usr/bin/env python3
"""Write the demo streams: a file store of realistic recorded LLM runs.

    python scripts/make_demo_streams.py              # rewrite the committed scenarios
    python scripts/make_demo_streams.py --long       # add 09-long-stream (120k+ events) if missing
    python scripts/make_demo_streams.py --out DIR    # write somewhere else

Deterministic: every timestamp counts from a fixed epoch and every gap comes from a
random generator seeded with the stream id, so two runs write identical bytes. It
writes through the public API (``create_event_store`` and the recording session of
``l0core.record``), so the files are in the real on-disk format (``<id>.jsonl``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from l0core import BaseEventStore, SerializedError, create_event_store  # noqa: E402
from l0core.record import RecordingSession  # noqa: E402

DEFAULT_OUT = ROOT / "demo_streams"
LONG_STREAM_ID = "09-long-stream"
EPOCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""The demo morning: every stream starts some minutes after this instant."""


def epoch_ms(minutes: float) -> int:
    return int(EPOCH.timestamp() * 1000 + minutes * 60_000)


# ───────────────────────────── tokens and timing ─────────────────────────────

_PIECE = re.compile(r"\s*[A-Za-z0-9_']+|\s*[^\sA-Za-z0-9_']|\s+")


def tokenize(text: str, rng: random.Random) -> list[str]:
    """Split ``text`` the way a BPE model streams it: whitespace-led words and
    punctuation, long words often in two or three pieces."""
    out: list[str] = []
    for piece in _PIECE.findall(text):
        word = piece.lstrip()
        lead = piece[: len(piece) - len(word)]
        if len(word) > 7 and word.isalpha() and word.islower() and rng.random() < 0.55:
            cut = rng.randint(3, len(word) - 3)
            out.append(lead + word[:cut])
            rest = word[cut:]
            if len(rest) > 6 and rng.random() < 0.4:
                cut2 = rng.randint(2, len(rest) - 2)
                out.extend([rest[:cut2], rest[cut2:]])
            else:
                out.append(rest)
        else:
            out.append(piece)
    assert "".join(out) == text
    return out


class Run:
    """Writes one scripted stream: a clock that moves by realistic gaps."""

    def __init__(self, store: BaseEventStore, stream_id: str, minute: float, *,
                 checkpoint_every: int = 20) -> None:
        self.rng = random.Random(stream_id)
        self.t = epoch_ms(minute) + self.rng.randint(0, 59_999)
        self.session = RecordingSession(store, stream_id, checkpoint_every=checkpoint_every,
                                        max_batch=20_000)
        self.s = self.session

    def wait(self, lo: int, hi: int) -> int:
        self.t += self.rng.randint(lo, hi)
        return self.t

    def start(self, options: dict[str, Any]) -> None:
        self.s.start(options, ts=self.t)

    def stream(
        self,
        tokens: list[str],
        *,
        first_token: tuple[int, int] = (300, 900),
        after: Callable[[int], None] | None = None,
    ) -> None:
        """Emit ``tokens``: first-token latency, then 15-60 ms gaps with jitter, longer
        after sentences and paragraphs, and the odd hiccup."""
        for n, token in enumerate(tokens):
            if n == 0:
                self.wait(*first_token)
            else:
                gap = self.rng.randint(15, 60)
                prev = tokens[n - 1]
                if prev.endswith((".", "!", "?", ":")):
                    gap += self.rng.randint(30, 140)
                if "\n" in token:
                    gap += self.rng.randint(20, 90)
                if self.rng.random() < 0.015:
                    gap += self.rng.randint(150, 450)
                self.t += gap
            self.s.token(token, ts=self.t)
            if after is not None:
                after(self.s.token_count - 1)

    def soon(self) -> int:
        """A moment after the last event (a check runs right after its token)."""
        return self.wait(1, 4)


def passing_guardrail(run: Run) -> None:
    run.s.guardrail({"violations": [], "shouldRetry": False, "shouldHalt": False},
                    ts=run.soon())


RETRY_OPTIONS = {"attempts": 3, "maxRetries": 6, "baseDelay": 1000, "maxDelay": 10000,
                 "backoff": "fixed-jitter"}
TIMEOUTS = {"initialToken": 5000, "interToken": 10000}

# ───────────────────────────── the scenarios ─────────────────────────────

HTTP_RETRIES = """\
Retries help with transient failures, but during an outage they multiply the load on a \
service that is already struggling. If every client retries three times straight away, a \
backend that can serve half its usual traffic suddenly receives four times the requests.

A safer configuration has four parts:

1. **Retry only what is safe.** GET, PUT and DELETE are idempotent; retry a POST only when \
it carries an idempotency key that the server honours.
2. **Back off exponentially, with jitter.** Wait about 100 ms, then 200 ms, then 400 ms, \
and randomise each delay so that thousands of clients do not retry in lockstep.
3. **Cap the total budget.** Stop after three attempts or two seconds, whichever comes \
first, and hand the error to the caller.
4. **Listen to the server.** Honour `Retry-After` on 429 and 503 responses, and stop \
retrying while a circuit breaker is open.

With these limits a short network blip is absorbed silently, while a real outage fails \
fast instead of being amplified."""


async def clean_completion(store: BaseEventStore) -> None:
    run = Run(store, "01-clean-completion", 3)
    run.start({
        "prompt": "Why do my HTTP client retries make outages worse, and how should I "
                  "configure them?",
        "model": "gpt-4o-mini", "retry": RETRY_OPTIONS, "timeout": TIMEOUTS,
        "checkIntervals": {"guardrails": 15, "drift": 25, "checkpoint": 20},
        "guardrailCount": 2, "metadata": {"service": "docs-assistant", "user": "u_3817"},
    })
    run.stream(tokenize(HTTP_RETRIES, run.rng))
    passing_guardrail(run)
    run.s.complete(ts=run.soon())
    await run.session.close()


SQL_QUERY = ("SELECT c.name, SUM(o.total) AS revenue\nFROM customers c\n"
             "JOIN orders o ON o.customer_id = c.id\nWHERE o.created_at >= '2025-01-01'\n"
             "GROUP BY c.name\nORDER BY revenue DESC\nLIMIT 10;")

SQL_EXPLANATION = """\
The query ranks your ten highest-earning customers since the start of 2025. It joins every \
order to its customer, keeps the orders created on or after 1 January 2025, adds up \
`total` per customer name and returns the ten largest sums.

It is slow for three reasons:

- **The date filter has no index to use.** Without an index on `orders.created_at`, \
PostgreSQL reads the whole orders table and throws most rows away afterwards.
- **Grouping by name is wider than it needs to be.** Two customers who share a name are \
merged into one row, and sorting text costs more than sorting integers. Group by `c.id` \
and select the name next to it.
- **The join happens before the aggregation.** Summing the orders first and joining only \
the ten winners to `customers` touches far fewer rows.

A faster version:

```sql
WITH revenue AS (
  SELECT customer_id, SUM(total) AS revenue
  FROM orders
  WHERE created_at >= DATE '2025-01-01'
  GROUP BY customer_id
  ORDER BY revenue DESC
  LIMIT 10
)
SELECT c.id, c.name, r.revenue
FROM revenue r
JOIN customers c ON c.id = r.customer_id
ORDER BY r.revenue DESC;
```

With `CREATE INDEX ON orders (created_at) INCLUDE (customer_id, total);` the planner can \
answer the inner query from the index alone."""


async def network_retry_continuation(store: BaseEventStore) -> None:
    run = Run(store, "02-network-retry-continuation", 11)
    run.start({
        "prompt": "Explain what this query does and why it is slow:\n\n" + SQL_QUERY,
        "model": "gpt-4o", "retry": RETRY_OPTIONS, "timeout": TIMEOUTS,
        "continueFromLastKnownGoodToken": True,
        "checkIntervals": {"guardrails": 15, "drift": 25, "checkpoint": 20},
        "metadata": {"service": "sql-review-bot", "db": "orders-replica"},
    })
    tokens = tokenize(SQL_EXPLANATION, run.rng)
    cut = 93  # the connection drops after token 92; the last checkpoint is at 79
    run.stream(tokens[:cut])
    resume_at = run.s.checkpoint_at
    run.wait(4_100, 4_600)  # the stream stalls, then the socket reports the reset
    run.s.retry("network_error: Connection reset by peer (ECONNRESET) after 4.3 s without "
                "data", counts_toward_limit=False, restart=False, ts=run.t)
    run.wait(900, 1_400)  # backoff
    run.s.continuation(ts=run.t)
    run.stream(tokens[resume_at + 1:], first_token=(380, 650))
    run.s.complete(ts=run.soon())
    await run.session.close()


BOTTLE_FIRST = """\
Meet the Tidewater 750, the bottle that keeps up with you from the first meeting of the \
day to the last mile of the trail. Its double-wall vacuum insulation holds water cold for \
24 hours and coffee hot for 12. The powder-coated steel shell shrugs off drops, and the \
copper lining is clinically proven to"""

BOTTLE_FINAL = """\
Meet the Tidewater 750, the bottle that keeps up with you from the first meeting of the \
day to the last mile of the trail. Double-wall vacuum insulation keeps water cold for 24 \
hours and coffee hot for 12, while the powder-coated steel shell shrugs off drops and \
scuffs. The lid seals with a quarter turn, so the bottle can ride upside down in a bag \
without surprises. A wide mouth takes ice cubes and a bottle brush, and every part is \
dishwasher safe. At 750 ml it covers a long afternoon; at 410 g it still fits a cup \
holder. Choose from five matte colours and carry one bottle for everything."""


async def guardrail_retry(store: BaseEventStore) -> None:
    run = Run(store, "03-guardrail-retry", 19)
    run.start({
        "prompt": "Write a 120-word product description for the Tidewater 750 insulated "
                  "steel water bottle. Do not make medical or regulatory claims.",
        "model": "gpt-4o-mini", "retry": RETRY_OPTIONS, "guardrailCount": 2,
        "checkIntervals": {"guardrails": 5, "drift": 25, "checkpoint": 20},
        "metadata": {"service": "catalog-writer", "sku": "TW-750-SLATE"},
    })
    run.stream(tokenize(BOTTLE_FIRST, run.rng))
    run.s.guardrail({
        "violations": [{
            "rule": "no-medical-claims",
            "message": "'clinically proven' is a medical claim; the brief forbids them",
            "severity": "error", "recoverable": True,
            "position": BOTTLE_FIRST.index("clinically"),
            "suggestion": "describe the material without health benefits",
        }],
        "shouldRetry": True, "shouldHalt": False,
    }, ts=run.soon())
    run.wait(2, 9)
    run.s.retry("guardrail_violation: no-medical-claims", counts_toward_limit=True, ts=run.t)
    run.wait(700, 1_100)
    run.stream(tokenize(BOTTLE_FINAL, run.rng))
    passing_guardrail(run)
    run.s.complete(ts=run.soon())
    await run.session.close()


INCIDENT_FIRST = ("Between 14:02 and 14:47 UTC, roughly one in five checkout requests in the "
                  "EU region")
INCIDENT_SUMMARY = """\
Between 14:02 and 14:47 UTC, about 18% of checkout requests in the EU region failed or \
timed out. A configuration change shrank the payments service's database connection pool \
from 200 to 20 connections, and requests queued behind it until they timed out; rolling \
the change back restored normal service. We are adding a pre-deploy check on pool sizes \
and an alert on queue depth, so that a repeat is caught within minutes."""


async def fallback_after_two_failures(store: BaseEventStore) -> None:
    run = Run(store, "04-fallback-after-two-failures", 27)
    run.start({
        "prompt": "Summarise this incident report for the public status page in three "
                  "sentences. Report: checkout-eu degraded 14:02-14:47 UTC; payments DB pool "
                  "200 -> 20 by config push 7f3a; p99 latency 31 s; 18% of checkouts failed; "
                  "rollback at 14:41; follow-ups: pre-deploy pool check, queue-depth alert.",
        "model": "gpt-4o", "retry": {**RETRY_OPTIONS, "maxRetries": 1},
        "timeout": TIMEOUTS, "fallbackCount": 1,
        "metadata": {"service": "statuspage-drafts",
                     "fallbackModels": ["llama-3.1-70b-instruct"]},
    })
    run.stream(tokenize(INCIDENT_FIRST, run.rng))
    run.wait(1_200, 1_800)
    run.s.retry("server_error: 503 Service Unavailable (model overloaded)",
                counts_toward_limit=False, ts=run.t)
    run.wait(900, 1_300)  # backoff, then the second attempt never sends a first token
    run.wait(5_000, 5_000)
    run.s.fallback(1, ts=run.t)
    run.stream(tokenize(INCIDENT_SUMMARY, run.rng), first_token=(450, 800))
    run.s.complete(ts=run.soon())
    await run.session.close()


SUPPORT_REPLY = """\
Your data is safe: exports are built from a copy, and nothing in your workspace changes \
while one runs. An export that sits at 99% is usually waiting for the final file to be \
compressed and uploaded, which can take a while for very large workspaces.

Here is what you can do right now:

1. Keep the tab open for another ten minutes; the download starts by itself when the \
upload finishes.
2. If it is still stuck, cancel the export under Settings > Data > Exports and start it \
again. Cancelling never deletes anything.

As an AI language model, I do not have access to your account and I cannot see your \
export. I should point out that my previous answer may not reflect your actual \
situation. I hope this helps! I hope this helps! Let me know if there is anything else I \
can help you with today, I am always happy to help!"""


async def drift_detected(store: BaseEventStore) -> None:
    run = Run(store, "05-drift-mid-stream", 34)
    run.start({
        "prompt": "Reply to this customer: 'My export to CSV has been stuck at 99% for an "
                  "hour. Is my data lost?'",
        "model": "gpt-4o-mini", "detectDrift": True,
        "checkIntervals": {"guardrails": 15, "drift": 25, "checkpoint": 20},
        "metadata": {"service": "support-copilot", "ticket": "SUP-20931"},
    })
    tokens = tokenize(SUPPORT_REPLY, run.rng)

    def check(index: int) -> None:
        if (index + 1) % 25:
            return
        content = run.s.content
        if "I hope this helps! I hope" in content:
            result = {"detected": True, "types": ["repetition", "tone_shift"],
                      "confidence": 0.83}
        elif "As an AI language model" in content:
            result = {"detected": True, "types": ["meta_commentary"], "confidence": 0.71}
        else:
            result = {"detected": False, "types": [], "confidence": 0.0}
        run.s.drift(result, ts=run.soon())

    run.stream(tokens, after=check)
    run.s.complete(ts=run.soon())
    await run.session.close()


ZERO_TOKEN_STACK = """\
Traceback (most recent call last):
  File "/srv/translate/worker.py", line 142, in translate_release_notes
    async for event in result:
  File "/srv/translate/.venv/lib/python3.11/site-packages/l0/types.py", line 863, in __anext__
    return await self._iterator.__anext__()
  File "/srv/translate/.venv/lib/python3.11/site-packages/l0/runtime.py", line 652, in run_stream
    raise TimeoutError(
l0.runtime.TimeoutError: Timeout waiting for first token (timeout=5.0s)
"""


async def error_zero_tokens(store: BaseEventStore) -> None:
    run = Run(store, "06-error-zero-tokens", 41)
    run.start({
        "prompt": "Translate the attached release notes (v4.12.0, 2,300 words) into German. "
                  "Keep Markdown headings and code blocks unchanged.",
        "model": "gpt-4o", "retry": {**RETRY_OPTIONS, "maxRetries": 2},
        "timeout": TIMEOUTS, "detectZeroTokens": True,
        "metadata": {"service": "docs-translation", "locale": "de-DE"},
    })
    for attempt, backoff in ((1, (900, 1_300)), (2, (1_800, 2_500))):
        run.wait(5_000, 5_004)
        run.s.retry("timeout: no first token within 5000 ms", attempt=attempt,
                    counts_toward_limit=False, ts=run.t)
        run.wait(*backoff)
    run.wait(5_000, 5_004)
    run.s.error(
        SerializedError(name="TimeoutError", code="INITIAL_TOKEN_TIMEOUT",
                        message="Timeout waiting for first token (timeout=5.0s)",
                        stack=ZERO_TOKEN_STACK,
                        metadata={"timeoutType": "initial_token", "timeoutMs": 5000}),
        "timeout", "halt",
        {"retryEnabled": True, "fallbackEnabled": False, "maxRetries": 2, "maxFallbacks": 0,
         "attempt": 3, "fallbackIndex": 0},
        ts=run.t,
    )
    await run.session.close()


COMPARE_PROMPT = ("Write a PostgreSQL query that returns the five customers with the highest "
                  "total order value in 2025, with their email addresses.")

COMPARE_GOOD = """\
```sql
SELECT c.id, c.email, SUM(o.total) AS total_2025
FROM customers AS c
JOIN orders AS o ON o.customer_id = c.id
WHERE o.created_at >= DATE '2025-01-01'
  AND o.created_at <  DATE '2026-01-01'
GROUP BY c.id, c.email
ORDER BY total_2025 DESC
LIMIT 5;
```

The half-open date range keeps every order placed in 2025, including those late on \
31 December, and lets PostgreSQL use an index on `orders.created_at`. Grouping by `c.id` \
keeps apart two customers who happen to share an email address."""

COMPARE_BAD = """\
```sql
SELECT c.id, c.email, SUM(o.total) AS total_2025
FROM customers AS c
JOIN orders AS o ON o.customer_id = c.id
WHERE EXTRACT(YEAR FROM o.created_at) = 2025
  AND o.status = 'paid'
GROUP BY c.email
ORDER BY SUM(o.total)
LIMIT 5;
```

This returns the five customers with the highest total order value in 2025. Filtering \
on the year with `EXTRACT` keeps the query easy to read, and only paid orders are \
counted."""


async def compare_pair(store: BaseEventStore) -> None:
    for stream_id, minute, text, temperature in (
        ("07a-compare-good", 48, COMPARE_GOOD, 0.2),
        ("07b-compare-bad", 49, COMPARE_BAD, 1.3),
    ):
        run = Run(store, stream_id, minute)
        run.start({"prompt": COMPARE_PROMPT, "model": "gpt-4o-mini", "guardrailCount": 1,
                   "metadata": {"service": "sql-playground", "temperature": temperature,
                                "pair": "07-compare"}})
        run.stream(tokenize(text, run.rng))
        if text is COMPARE_BAD:
            run.s.guardrail({
                "violations": [{
                    "rule": "sql-lint", "severity": "warning", "recoverable": True,
                    "message": "ORDER BY without DESC returns the lowest totals; c.id is "
                               "selected but not grouped",
                }],
                "shouldRetry": False, "shouldHalt": False,
            }, ts=run.soon())
        else:
            passing_guardrail(run)
        run.s.complete(ts=run.soon())
        await run.session.close()


def hostile_tokens(rng: random.Random) -> list[str]:
    blob = base64.b64encode(rng.randbytes(150_000)).decode("ascii")
    return [
        "Rendering", " test", " for", " the", " debugger", ":", "\n\n",
        "Markup", ": ", "[bold red]", "this must not be red", "[/bold red]", ", ",
        "[link=https://example.invalid/phish]", "not a link", "[/link]", ", ",
        "[/]", " a stray close tag", " and ", "[", "reverse", "]", " brackets", ".\n",
        "ANSI", ": ", "\x1b[31m", "red?", "\x1b[0m", " ", "\x1b[1;5;41m", "blink", "\x1b[0m",
        " clear:", "\x1b[2J", " home:", "\x1b[H", " up:", "\x1b[3A", ".\n",
        "OSC", ": ", "\x1b]8;;https://example.invalid\x1b\\", "hyperlink",
        "\x1b]8;;\x1b\\", " ", "\x1b]0;window title hijack\x07", " ",
        "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07", " clipboard", ".\n",
        "Control", ": ", "NUL\x00", " BEL\x07", " BS\x08\x08", " CR:visible\rHIDDEN",
        " DEL\x7f", " NEL\x85", " LS\u2028", " tab\t\tstop", " ZW\u200b\u200dJ", ".\n",
        "Bidi", ": ", "\u202eoverride\u202c", " ", "\u2067isolate\u2069", " ",
        "مرحبا بالعالم", " ", "שלום עולם", " ", "العدد 42 هنا", ".\n",
        "Emoji", ": ", "👩‍💻", " ", "🧑🏽‍🚀", " ", "🇩🇪", " ", "👍🏿", " ", "❤️‍🔥", " ",
        "Z̤͔ͧ̑̓ä͖̭̈̇l̖͎g̞̥o", " ", "全角テキスト", ".\n",
        "Long token", ": ", "data:image/png;base64," + blob, "\n", "End", ".",
    ]


async def hostile_content(store: BaseEventStore) -> None:
    run = Run(store, "08-hostile-content", 55)
    run.start({
        "prompt": "[bold red]Echo these back literally[/bold red] \x1b[31m<- an escape\x1b[0m",
        "model": "render-harness",
        "metadata": {"service": "[blink]fuzz[/blink]", "note": "\x1b]0;title\x07",
                     "rtl": "\u202etxet desrever"},
    })
    tokens = hostile_tokens(run.rng)
    run.stream(tokens)
    run.s.guardrail({
        "violations": [{
            "rule": "[red]escape-sequences[/red]",
            "message": "output contains terminal control sequences: \x1b[5m\\x1b[5m\x1b[0m",
            "severity": "warning", "recoverable": True,
        }],
        "shouldRetry": False, "shouldHalt": False,
    }, ts=run.soon())
    run.s.complete(ts=run.soon())
    await run.session.close()


SCENARIOS: list[Callable[[BaseEventStore], Awaitable[None]]] = [
    clean_completion,
    network_retry_continuation,
    guardrail_retry,
    fallback_after_two_failures,
    drift_detected,
    error_zero_tokens,
    compare_pair,
    hostile_content,
]

# ───────────────────────────── the long stream ─────────────────────────────

_HOSTS = ["api-1", "api-2", "api-3", "worker-7", "edge-fra", "edge-iad"]
_PATHS = ["/v1/orders", "/v1/orders/{id}", "/v1/carts", "/v1/payments/intents",
          "/v1/search?q=...", "/healthz", "/v1/users/{id}/sessions"]
_VERDICTS = [
    "normal for this endpoint",
    "slower than the 250 ms budget, but the upstream database was busy at the time",
    "a client error: the request body failed validation",
    "part of the burst of 5xx responses that the connection pool change caused",
    "retried once by the client and succeeded",
]


def long_text(rng: random.Random, lines: int) -> str:
    out = ["Line-by-line review of the access log excerpt you attached (times are UTC).\n"]
    minute = 14 * 60
    for n in range(lines):
        if n % 40 == 0:
            out.append(f"\n## {minute // 60:02d}:{minute % 60:02d}\n")
            minute += 1
        status = rng.choice([200, 200, 200, 201, 204, 400, 404, 499, 502, 503])
        ms = rng.randint(4, 2400)
        out.append(
            f"- {rng.choice(_HOSTS)} served {rng.choice(['GET', 'POST', 'PUT', 'DELETE'])} "
            f"{rng.choice(_PATHS)} with {status} in {ms} ms: {rng.choice(_VERDICTS)}.\n"
        )
    return "".join(out)


async def long_stream(store: BaseEventStore) -> None:
    run = Run(store, LONG_STREAM_ID, 70, checkpoint_every=10_000)
    run.start({
        "prompt": "Go through this access log line by line and explain every request "
                  "that looks unusual.",
        "model": "gpt-4o", "retry": RETRY_OPTIONS, "timeout": TIMEOUTS,
        "continueFromLastKnownGoodToken": True,
        "checkIntervals": {"guardrails": 5000, "drift": 25000, "checkpoint": 10000},
        "metadata": {"service": "log-explainer", "lines": 4200},
    })
    tokens = tokenize(long_text(run.rng, 4_200), run.rng)

    def check(index: int) -> None:
        if (index + 1) % 5_000 == 0:
            passing_guardrail(run)

    cut = 61_337  # the connection drops here; continue from the checkpoint at 59,999
    run.stream(tokens[:cut], after=check)
    resume_at = run.s.checkpoint_at
    run.wait(3_000, 6_000)
    run.s.retry("network_error: Connection reset by peer (ECONNRESET)",
                counts_toward_limit=False, restart=False, ts=run.t)
    run.wait(900, 1_400)
    run.s.continuation(ts=run.t)
    run.stream(tokens[resume_at + 1:], after=check)
    run.s.complete(ts=run.soon())
    await run.session.close()


# ───────────────────────────── main ─────────────────────────────


async def write_scenarios(out: Path) -> list[str]:
    """(Re)write every committed scenario into ``out``; returns the stream ids."""
    store = await create_event_store(str(out))
    try:
        for stream_id in await store.list_streams():
            if stream_id != LONG_STREAM_ID:
                await store.delete(stream_id)
        for scenario in SCENARIOS:
            await scenario(store)
        return sorted(s for s in await store.list_streams() if s != LONG_STREAM_ID)
    finally:
        await store.close()


async def write_long_stream(out: Path, *, force: bool = False) -> bool:
    """Write the long stream into ``out`` unless it is already there; True if written."""
    store = await create_event_store(str(out))
    try:
        if await store.exists(LONG_STREAM_ID):
            if not force:
                return False
            await store.delete(LONG_STREAM_ID)
        await long_stream(store)
        return True
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="store directory (default: demo_streams/)")
    parser.add_argument("--long", action="store_true",
                        help=f"only write {LONG_STREAM_ID} (120k+ events), if it is missing")
    parser.add_argument("--force", action="store_true",
                        help="with --long: rewrite the long stream even if it exists")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    if args.long:
        where = args.out / f"{LONG_STREAM_ID}.jsonl"
        if not args.quiet and (args.force or not where.exists()):
            print(f"writing {where} (about 128,000 events, a few seconds)...", flush=True)
        written = asyncio.run(write_long_stream(args.out, force=args.force))
        if not args.quiet:
            print(f"wrote {where}" if written else f"{where} already exists")
        return 0
    ids = asyncio.run(write_scenarios(args.out))
    if not args.quiet:
        print(f"wrote {len(ids)} streams to {args.out}: {', '.join(ids)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
