"""Chat latency and load on the 10k TMDB catalog, through the backend as `make run` serves it.

    python bench/bench_chat.py [--csv PATH] [--rounds 30] [--load-seconds 60] [--clients 8]

Builds (once; reused afterwards) the 10k catalog in var/bench-chat, starts the model service
(default language model) and the backend (gunicorn, as scripts/stack.py runs it), then prints:
- POST /api/chat/ with reply: false on explicit requests (no enrichment): p50 / p95
  (targets 150 / 400 ms);
- POST /api/chat/stream/: time to the `meta` event without and with enrichment (targets p50 300
  ms / 3.5 s) and from `meta` to the first reply token (target 2.5 s);
- 8 concurrent clients sending reply: false turns for 60 s: requests, errors, p50 / p95
  (target p95 1 s), and the number of their messages found in the database afterwards.
Figures only: nothing here fails on time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CSV = REPO.parent / "shared" / "data" / "tmdb-top10k" / "top10K-TMDB-movies.csv"
VAR_DIR = REPO / "var" / "bench-chat"
sys.path[:0] = [str(REPO / "backend"), str(REPO)]

# Explicit requests: constraints and titles explain every word, so no enrichment is asked for.
EXPLICIT = [
    "a French comedy from the 90s",
    "Korean thriller",
    "science fiction movies from the 80s",
    "highly rated horror films",
    "japanese animation",
    "a western",
    "romantic comedies after 2010",
    "documentaries",
    "war movies from the 60s",
    "crime dramas under 2 hours",
    "something like The Dark Knight",
    "movies similar to Toy Story",
    "more like Pulp Fiction",
    "italian dramas",
    "family films from the 2000s",
    "action movies no horror",
]
# Vague requests: the language model turns them into search intent first.
VAGUE = [
    "movies that make me cry",
    "something cosy for a rainy sunday",
    "a mind-bending film that makes you think",
    "feel-good movie about friendship",
    "a dark story about revenge",
    "films about growing up in a small town",
    "a film that feels like a warm hug",
    "something weird and dreamlike",
    "a slow-burn story about obsession",
    "movies that make you feel nostalgic",
    "something to watch with my grandparents",
    "a story of survival against the odds",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ensure_catalog(csv: Path) -> None:
    """Ingest the 10k catalog into VAR_DIR (idempotent: a re-run only checks it)."""
    import subprocess

    env = {**os.environ, "MARQUEE_VAR_DIR": str(VAR_DIR), "DATABASE_URL": "", "QDRANT_URL": ""}
    subprocess.run(
        [sys.executable, "prepare-databases/prepare.py", "ingest", "--source", "tmdb-csv",
         "--data", str(csv), "--no-progress"],
        cwd=REPO, env=env, check=True,
    )  # fmt: skip


def start_stack():
    from scripts.stack import backend_process, child_env, free_port, model_service_process

    model_port, backend_port = free_port(), free_port()
    env = child_env(
        MARQUEE_VAR_DIR=str(VAR_DIR),
        DATABASE_URL="",
        QDRANT_URL="",
        DJANGO_SETTINGS_MODULE="config.settings.local",
        MODEL_SERVICE_URL=f"http://127.0.0.1:{model_port}",
        CHAT_RATE_LIMIT="off",  # the load test is many turns from one address on purpose
    )
    logs = VAR_DIR / "logs"
    print(f"service logs: {logs}/", flush=True)
    model = model_service_process("127.0.0.1", model_port, env).start(logs / "model_service.log")
    model.wait_ready(600)
    backend = backend_process("127.0.0.1", backend_port, env).start(logs / "backend.log")
    backend.wait_ready(120)
    return model, backend, f"http://127.0.0.1:{backend_port}"


def timed_chat(http: httpx.Client, message: str, **extra) -> tuple[float, dict]:
    started = time.perf_counter()
    response = http.post("/api/chat/", json={"message": message, "reply": False, **extra})
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed, response.json()


def stream_timings(http: httpx.Client, message: str) -> tuple[float, float | None, bool]:
    """(ms to meta, ms from meta to the first token, whether enrichment ran)."""
    started = time.perf_counter()
    meta_at = token_at = None
    enriched = False
    with http.stream("POST", "/api/chat/stream/", json={"message": message}) as response:
        response.raise_for_status()
        event = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                now = time.perf_counter()
                if event == "meta" and meta_at is None:
                    meta_at = now
                    enriched = json.loads(line[6:]).get("enrichment") is not None
                elif event == "token" and token_at is None:
                    token_at = now
    assert meta_at is not None
    first_token = (token_at - meta_at) * 1000 if token_at else None
    return (meta_at - started) * 1000, first_token, enriched


def load_test(base: str, clients: int, seconds: float) -> None:
    """`clients` threads sending reply:false turns, four to a conversation, for `seconds`; then
    the conversations are read back through the API to count the stored user messages."""
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors: list[str] = []
    answered: dict[str, int] = {}  # conversation id -> requests answered 200
    lock = threading.Lock()

    def client(number: int) -> None:
        rng = random.Random(number)
        with httpx.Client(base_url=base, timeout=30) as http:
            sent = 0
            conversation = ""
            while time.monotonic() < deadline:
                if sent % 4 == 0:
                    conversation = str(uuid.uuid4())
                sent += 1
                body = {"message": rng.choice(EXPLICIT), "reply": False,
                        "conversation_id": conversation}  # fmt: skip
                started = time.perf_counter()
                try:
                    status = http.post("/api/chat/", json=body).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)
                    if status == 200:
                        answered[conversation] = answered.get(conversation, 0) + 1
                    else:
                        errors.append(str(status))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kinds = f" {sorted(set(errors))}" if errors else ""
    print(
        f"load: {clients} clients x {seconds:.0f} s: {len(latencies)} requests "
        f"({len(latencies) / seconds:.1f}/s), errors {len(errors)}{kinds}; "
        f"p50 {percentile(latencies, 0.5):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms "
        "(target p95 <= 1000 ms)"
    )
    stored = stored_user_messages(base, list(answered))
    print(
        f"      user messages stored, read back through GET /api/conversations/: {stored} "
        f"of {sum(answered.values())} requests answered 200"
    )


def stored_user_messages(base: str, conversation_ids: list[str]) -> int:
    total = 0
    with httpx.Client(base_url=base, timeout=30) as http:
        for conversation in conversation_ids:
            response = http.get(f"/api/conversations/{conversation}/")
            if response.status_code == 200:
                total += sum(m["role"] == "user" for m in response.json()["messages"])
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--load-seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    if not args.csv.is_file():
        print(f"skipped: {args.csv} is absent (the 10k catalog lives in ../shared/data)")
        return 0
    ensure_catalog(args.csv)
    model, backend, base = start_stack()
    try:
        with httpx.Client(base_url=base, timeout=120) as http:
            for message in EXPLICIT[:4]:  # warm-up: router, linker, caches
                timed_chat(http, message)
            plain = [timed_chat(http, EXPLICIT[i % len(EXPLICIT)])[0] for i in range(args.rounds)]
            print(
                f"POST /api/chat/ reply:false, explicit requests ({len(plain)}): "
                f"p50 {percentile(plain, 0.5):.0f} ms, p95 {percentile(plain, 0.95):.0f} ms "
                "(targets 150 / 400 ms)"
            )
            metas, firsts, enriched_metas = [], [], []
            for message in EXPLICIT[:6] + VAGUE:
                meta_ms, first_ms, enriched = stream_timings(http, message)
                (enriched_metas if enriched else metas).append(meta_ms)
                if first_ms is not None:
                    firsts.append(first_ms)
            if metas:
                print(
                    f"stream: meta without enrichment ({len(metas)}): p50 "
                    f"{statistics.median(metas):.0f} ms (target 300 ms)"
                )
            if enriched_metas:
                print(
                    f"stream: meta with enrichment ({len(enriched_metas)}): p50 "
                    f"{statistics.median(enriched_metas):.0f} ms (target 3500 ms)"
                )
            if firsts:
                print(
                    f"stream: first reply token after meta ({len(firsts)}): p50 "
                    f"{statistics.median(firsts):.0f} ms, max {max(firsts):.0f} ms "
                    "(target 2500 ms)"
                )
        load_test(base, args.clients, args.load_seconds)
    finally:
        backend.stop()
        model.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
