"""Load on the whole stack: concurrent clients mixing every kind of request, streaming chats with
the real language model beside them, then the model service driven past its queue.

    python bench/bench_load.py [--csv PATH] [--clients 20] [--streams 4] [--seconds 60]

Uses bench_chat.py's catalog and stack: the 10k TMDB catalog in var/bench-chat (built once),
the model service with the default language model, the backend under gunicorn as `make run`
starts it, CHAT_RATE_LIMIT=off (the clients all come from one address). Then:

1. `--clients` asyncio clients (httpx) for `--seconds`, each looping over chat turns with
   `reply: false`, movie searches, "more like this" and feedback on films it was shown, while
   `--streams` clients send streaming chat turns whose replies the language model writes;
2. `/v1/chat/completions` of the model service sent 1 + GEN_QUEUE_SIZE + 6 requests at once:
   those beyond the queue must be refused at once with 503 and Retry-After, none time out;
3. every conversation read back through `GET /api/conversations/{id}/`: the user messages and
   feedback stored against the requests answered 200/201.

Prints requests, statuses and p50/p95 per kind. Figures only: nothing here fails on time.
tests/reliability/test_load.py runs the same code for 10 s on the demo catalog and asserts
zero 5xx and every accepted row stored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.bench_chat import (  # noqa: E402 - the repository must be importable first
    DEFAULT_CSV,
    EXPLICIT,
    VAGUE,
    ensure_catalog,
    percentile,
    start_stack,
)

SEARCHES = [
    "a heist that goes wrong",
    "space exploration",
    "a love story in Paris",
    "haunted house",
    "coming of age",
    "a detective in a rainy city",
    "robots and artificial intelligence",
    "a family road trip",
]
# How often each kind of request is sent by a load client (feedback needs a turn first).
MIX = {"chat": 0.35, "search": 0.30, "similar": 0.15, "feedback": 0.20}


@dataclass
class LoadResult:
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> ms
    statuses: dict[str, Counter] = field(default_factory=dict)  # kind -> status (or error name)
    turns: dict[str, int] = field(default_factory=dict)  # conversation -> user turns answered
    feedback: dict[tuple[int, int], int] = field(default_factory=dict)  # (message, movie) -> rating
    streams: dict[str, list[float]] = field(default_factory=dict)  # meta / first token / total ms
    stream_replies: Counter = field(default_factory=Counter)  # reply_source (+ " degraded")

    def record(self, kind: str, status: int | str, ms: float) -> None:
        self.statuses.setdefault(kind, Counter())[status] += 1
        self.latencies.setdefault(kind, []).append(ms)

    def server_errors(self) -> int:
        return sum(
            n
            for c in self.statuses.values()
            for s, n in c.items()
            if isinstance(s, int) and s >= 500
        )

    def transport_errors(self) -> int:
        return sum(n for c in self.statuses.values() for s, n in c.items() if isinstance(s, str))

    def lines(self) -> list[str]:
        total = sum(sum(c.values()) for c in self.statuses.values())
        out = [
            f"{total} requests in {self.seconds:.0f} s ({total / max(self.seconds, 1e-9):.1f}/s); "
            f"5xx {self.server_errors()}, transport errors/timeouts {self.transport_errors()}"
        ]
        for kind in sorted(self.statuses):
            values = self.latencies[kind]
            statuses = ", ".join(
                f"{s}×{n}" for s, n in sorted(self.statuses[kind].items(), key=str)
            )
            out.append(
                f"  {kind:<9} {len(values):>5}  p50 {percentile(values, 0.5):>7.0f} ms  "
                f"p95 {percentile(values, 0.95):>7.0f} ms  ({statuses})"
            )
        for name in ("meta", "first token", "done"):
            values = self.streams.get(name, [])
            if values:
                out.append(
                    f"  stream {name:<11} {len(values):>3}  p50 {percentile(values, 0.5):>7.0f} ms"
                    f"  p95 {percentile(values, 0.95):>7.0f} ms"
                )
        if self.stream_replies:
            replies = ", ".join(f"{k}×{n}" for k, n in sorted(self.stream_replies.items()))
            out.append(f"  streamed replies: {replies}")
        return out


async def _load_client(
    number: int, http: httpx.AsyncClient, deadline: float, result: LoadResult
) -> None:
    rng = random.Random(number)
    conversation, sent = str(uuid.uuid4()), 0
    shown: list[tuple[int, list[int]]] = []  # (assistant message id, film ids) of its turns
    films: list[int] = []
    kinds, weights = list(MIX), list(MIX.values())
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0]
        if kind == "feedback" and not shown:
            kind = "chat"
        if kind == "similar" and not films:
            kind = "search"
        started = time.perf_counter()
        try:
            if kind == "chat":
                if sent and sent % 4 == 0:
                    conversation = str(uuid.uuid4())
                sent += 1
                body = {"message": rng.choice(EXPLICIT), "reply": False,
                        "conversation_id": conversation}  # fmt: skip
                response = await http.post("/api/chat/", json=body)
                if response.status_code == 200:
                    answer = response.json()
                    result.turns[conversation] = result.turns.get(conversation, 0) + 1
                    ids = [movie["id"] for movie in answer["movies"]]
                    if ids:
                        shown.append((answer["message_id"], ids))
                        films = (films + ids)[-40:]
            elif kind == "search":
                params = {"q": rng.choice(SEARCHES + EXPLICIT), "limit": 10}
                response = await http.get("/api/movies/", params=params)
                if response.status_code == 200:
                    films = (films + [m["id"] for m in response.json()["results"]])[-40:]
            elif kind == "similar":
                response = await http.get(f"/api/movies/{rng.choice(films)}/similar/")
            else:
                message_id, ids = rng.choice(shown)
                movie, rating = rng.choice(ids), rng.choice((1, -1))
                body = {"message_id": message_id, "movie_id": movie, "rating": rating}
                response = await http.post("/api/feedback/", json=body)
                if response.status_code in (200, 201):
                    result.feedback[(message_id, movie)] = rating
            status: int | str = response.status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        result.record(kind, status, (time.perf_counter() - started) * 1000)


async def _stream_client(
    number: int, http: httpx.AsyncClient, deadline: float, result: LoadResult
) -> None:
    rng = random.Random(1000 + number)
    conversation, sent = str(uuid.uuid4()), 0
    while time.monotonic() < deadline:
        if sent and sent % 3 == 0:
            conversation = str(uuid.uuid4())
        sent += 1
        message = rng.choice(EXPLICIT[:8] + VAGUE[:4])
        body = {"message": message, "conversation_id": conversation}
        started = time.perf_counter()
        meta = first = None
        done = False
        status: int | str
        try:
            async with http.stream("POST", "/api/chat/stream/", json=body) as response:
                status = response.status_code
                event = ""
                async for line in response.aiter_lines():
                    now = (time.perf_counter() - started) * 1000
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        if event == "meta" and meta is None:
                            meta = now
                        elif event == "token" and first is None:
                            first = now
                        elif event == "done":
                            done = True
                            payload = json.loads(line[6:])
                            source = payload.get("reply_source", "?")
                            degraded = " degraded" if payload.get("degraded") else ""
                            result.stream_replies[f"{source}{degraded}"] += 1
                        elif event == "error":
                            status = f"error event: {json.loads(line[6:]).get('code')}"
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        total = (time.perf_counter() - started) * 1000
        result.record("stream", status, total)
        if done:
            result.turns[conversation] = result.turns.get(conversation, 0) + 1
            result.streams.setdefault("done", []).append(total)
        if meta is not None:
            result.streams.setdefault("meta", []).append(meta)
        if first is not None:
            result.streams.setdefault("first token", []).append(first)


async def run_load(base: str, *, clients: int, streams: int, seconds: float) -> LoadResult:
    """`clients` mixed clients and `streams` streaming chats against the backend at `base`."""
    result = LoadResult(seconds=seconds)
    limits = httpx.Limits(max_connections=clients + streams + 4)
    async with httpx.AsyncClient(base_url=base, timeout=180, limits=limits) as http:
        deadline = time.monotonic() + seconds
        await asyncio.gather(
            *(_load_client(i, http, deadline, result) for i in range(clients)),
            *(_stream_client(i, http, deadline, result) for i in range(streams)),
        )
    return result


@dataclass
class StoredCounts:
    conversations: int
    user_messages: int  # stored, of the conversations the load sent turns to
    feedback: int  # stored ratings matching the last one each client was told was accepted
    unreadable: int  # conversations the API would not return


async def stored_counts(base: str, result: LoadResult) -> StoredCounts:
    """Read every conversation the load wrote to back through the API."""
    counts = StoredCounts(len(result.turns), 0, 0, 0)
    ratings: dict[tuple[int, int], int] = {}
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        semaphore = asyncio.Semaphore(8)

        async def read(conversation: str) -> None:
            async with semaphore:
                response = await http.get(f"/api/conversations/{conversation}/")
            if response.status_code != 200:
                counts.unreadable += 1
                return
            for message in response.json()["messages"]:
                if message["role"] == "user":
                    counts.user_messages += 1
                for item in message.get("feedback", []):
                    ratings[(message["id"], item["movie_id"])] = item["rating"]

        await asyncio.gather(*(read(c) for c in result.turns))
    counts.feedback = sum(ratings.get(key) == rating for key, rating in result.feedback.items())
    return counts


@dataclass
class ShedResult:
    statuses: Counter
    retry_after: list[int]
    refused_ms: list[float]  # how long a 503 took to come back
    admitted_ms: list[float]
    timeouts: int

    def lines(self, sent: int, queue: int) -> list[str]:
        refused = self.statuses.get(503, 0)
        admitted = self.statuses.get(200, 0)
        out = [
            f"{sent} completions at once (1 generating + GEN_QUEUE_SIZE {queue} waiting): "
            f"{admitted} answered 200, {refused} refused 503, timeouts {self.timeouts}, "
            f"statuses {dict(sorted(self.statuses.items(), key=str))}"
        ]
        if self.retry_after:
            out.append(
                f"  503s carried Retry-After {min(self.retry_after)}–{max(self.retry_after)} s "
                f"and came back in p50 {percentile(self.refused_ms, 0.5):.0f} ms "
                f"(max {max(self.refused_ms):.0f} ms)"
            )
        if self.admitted_ms:
            out.append(
                f"  the admitted ones took {min(self.admitted_ms) / 1000:.1f}–"
                f"{max(self.admitted_ms) / 1000:.1f} s (waiting their turn included)"
            )
        return out


async def shed_burst(model_url: str, *, requests: int, max_tokens: int) -> ShedResult:
    """`requests` chat completions at once, straight to the model service."""
    body = {
        "messages": [{"role": "user", "content": "Describe a film about a lighthouse keeper."}],
        "max_tokens": max_tokens,
        "temperature": 0.7,
    }
    result = ShedResult(Counter(), [], [], [], 0)
    limits = httpx.Limits(max_connections=requests + 2)
    async with httpx.AsyncClient(base_url=model_url, timeout=300, limits=limits) as http:

        async def one() -> None:
            started = time.perf_counter()
            try:
                response = await http.post("/v1/chat/completions", json=body)
            except httpx.TimeoutException:
                result.timeouts += 1
                return
            except httpx.HTTPError as exc:
                result.statuses[type(exc).__name__] += 1
                return
            ms = (time.perf_counter() - started) * 1000
            result.statuses[response.status_code] += 1
            if response.status_code == 503:
                result.refused_ms.append(ms)
                if response.headers.get("Retry-After", "").isdigit():
                    result.retry_after.append(int(response.headers["Retry-After"]))
            elif response.status_code == 200:
                result.admitted_ms.append(ms)

        await asyncio.gather(*(one() for _ in range(requests)))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--burst-max-tokens", type=int, default=96)
    args = parser.parse_args()
    if not args.csv.is_file():
        print(f"skipped: {args.csv} is absent (the 10k catalog lives in ../shared/data)")
        return 0
    ensure_catalog(args.csv)
    model, backend, base = start_stack()
    model_url = model.ready_url.removesuffix("/readyz")
    queue = int(os.environ.get("GEN_QUEUE_SIZE", "4"))
    try:
        with httpx.Client(base_url=base, timeout=120) as http:  # warm-up: router, linker
            for message in EXPLICIT[:3]:
                http.post("/api/chat/", json={"message": message, "reply": False})
        print(
            f"load: {args.clients} clients (chat reply:false, search, similar, feedback) + "
            f"{args.streams} streaming chats with the language model, {args.seconds:.0f} s",
            flush=True,
        )
        result = asyncio.run(
            run_load(base, clients=args.clients, streams=args.streams, seconds=args.seconds)
        )
        for line in result.lines():
            print(line)
        sent = 1 + queue + 6
        shed = asyncio.run(shed_burst(model_url, requests=sent, max_tokens=args.burst_max_tokens))
        print("model service past its queue:")
        for line in shed.lines(sent, queue):
            print(line)
        stored = asyncio.run(stored_counts(base, result))
        accepted_turns = sum(result.turns.values())
        print(
            f"stored afterwards (read back through the API): user messages {stored.user_messages}"
            f" of {accepted_turns} turns answered, in {stored.conversations} conversations "
            f"({stored.unreadable} unreadable); feedback {stored.feedback} of "
            f"{len(result.feedback)} accepted"
        )
    finally:
        backend.stop()
        model.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
