#!/usr/bin/env python
"""Conversational quality: every conversation of data/conversations/ through the chat pipeline.

    .venv/bin/python evaluation/eval_chat.py [--no-reply] [--limit N]

Builds the shipped demo catalog in its own folder (var/eval-demo: SQLite + embedded index, the
user's catalog untouched), runs each conversation's last user turn with the earlier turns as
history, and prints:
- hit@8: share of conversations where at least one of the `good` films is among the first 8;
- grounding violations: replies naming a film that is not among the films shown (checked with
  the same net the product uses, plus every catalog title the reply names), and films shown
  that are not in the catalog;
- beside two baselines: the 8 most popular films for every request, and a replica of the
  reference design this project grew from (one key query "movie recommendation", cosine >= 0.5
  to answer at all, dense search over overview-only embeddings, top 2 results).
It needs the model service with its language model: the one at MODEL_SERVICE_URL if that is
set, otherwise one started for the run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VAR_DIR = REPO / "var" / "eval-demo"
CONVERSATIONS = REPO / "data" / "conversations" / "conversations.jsonl"
HIT_AT = 8


def setup(var_dir: Path) -> None:
    for extra in (REPO / "backend", REPO):
        if str(extra) not in sys.path:
            sys.path.insert(0, str(extra))
    os.environ["MARQUEE_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("QDRANT_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


@contextlib.contextmanager
def model_service() -> Iterator[str]:
    """The model service at MODEL_SERVICE_URL when that is set (it must have its language
    model loaded); otherwise one started on a free port for the run, with the defaults."""
    from scripts.stack import child_env, free_port, model_service_process

    if os.environ.get("MODEL_SERVICE_URL"):
        yield os.environ["MODEL_SERVICE_URL"]
        return
    port = free_port()
    print(f"starting a model service on port {port} for the evaluation…", flush=True)
    proc = model_service_process(
        "127.0.0.1", port, child_env(MODEL_SERVICE_LOG_LEVEL="WARNING")
    ).start()
    try:
        proc.wait_ready(600)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


def ensure_demo_catalog(client) -> int:
    from catalog.ingestion.sources import open_source
    from catalog.models import Movie
    from catalog.services.ingestion import catalog_ingest
    from catalog.vector_store import get_catalog_index

    report = catalog_ingest(
        source=open_source("demo", None),
        embedder=client,
        index=get_catalog_index(),
        progress=False,
    )
    if report.inserted or report.updated:
        print("\n".join(report.lines()))
    return Movie.objects.count()


def load_conversations(limit: int | None) -> list[dict]:
    rows = [json.loads(line) for line in CONVERSATIONS.read_text().splitlines() if line.strip()]
    return rows[:limit] if limit else rows


def popularity_baseline(conversations: list[dict]) -> float:
    from catalog.models import Movie

    top = set(Movie.objects.order_by("-popularity").values_list("tmdb_id", flat=True)[:HIT_AT])
    return statistics.mean(bool(top & set(c["good"])) for c in conversations)


def reference_design_baseline(client, conversations: list[dict]) -> tuple[float, float]:
    """(hit@8, share of requests it answered at all)."""
    import numpy as np

    from catalog.models import Movie

    movies = list(Movie.objects.exclude(overview="").values_list("tmdb_id", "overview"))
    ids = np.array([m[0] for m in movies])
    overviews = client.embed([m[1] for m in movies], timeout=300).vectors
    key = client.embed(["movie recommendation"]).vectors[0]
    hits, answered = [], 0
    for conversation in conversations:
        message = conversation["turns"][-1]["content"]
        vector = client.embed([message]).vectors[0]
        if float(vector @ key) < 0.5:
            hits.append(False)
            continue
        answered += 1
        top = ids[np.argsort(-(overviews @ vector))[:2]]
        hits.append(bool(set(top.tolist()) & set(conversation["good"])))
    return statistics.mean(hits), answered / len(conversations)


def run_ours(client, conversations: list[dict], *, reply: bool) -> dict:
    from catalog.models import Movie
    from catalog.vector_store import get_catalog_index
    from recommender.pipeline import ChatRequest, ChatTurn
    from recommender.replies import grounding_violations
    from recommender.reply_stream import GroundedReply, mentioned_movies, reply_title_links
    from recommender.understanding import Turn

    catalog_ids = set(Movie.objects.values_list("tmdb_id", flat=True))
    turn_runner = ChatTurn(client=client, get_index=get_catalog_index)
    hits, misses, violations, not_in_catalog = [], [], [], 0
    degraded, sources, plan_ms, reply_ms = 0, {}, [], []
    intents: dict[str, int] = {}
    for number, conversation in enumerate(conversations, start=1):
        *history, last = conversation["turns"]
        turns = [Turn(role=t["role"], content=t["content"]) for t in history]
        started = time.perf_counter()
        plan = turn_runner.plan(ChatRequest(message=last["content"], turns=turns, limit=HIT_AT))
        plan_ms.append((time.perf_counter() - started) * 1000)
        shown = [s.movie.tmdb_id for s in plan.movies]
        not_in_catalog += sum(1 for movie_id in shown if movie_id not in catalog_ids)
        hit = bool(set(shown[:HIT_AT]) & set(conversation["good"]))
        hits.append(hit)
        intents[plan.intent] = intents.get(plan.intent, 0) + 1
        if not hit:
            misses.append((conversation["id"], last["content"], plan.intent, shown[:4]))
        degraded += plan.degraded
        if reply:
            started = time.perf_counter()
            writer = GroundedReply(plan, client)
            for _ in writer:
                pass
            reply_ms.append((time.perf_counter() - started) * 1000)
            outcome = writer.outcome
            sources[outcome.source] = sources.get(outcome.source, 0) + 1
            # The product replaced strays with the template; count what the model wrote too.
            if outcome.violations:
                violations.append((conversation["id"], outcome.violations, "replaced"))
            final = grounding_violations(
                outcome.text,
                plan.shown_movies() + mentioned_movies(plan),
                link_titles=reply_title_links,
            )
            if final and outcome.source == "model":
                violations.append((conversation["id"], tuple(final), "SHOWN TO THE USER"))
        if number % 10 == 0:
            print(f"  {number}/{len(conversations)} conversations", flush=True)
    return {
        "hit": statistics.mean(hits),
        "misses": misses,
        "violations": violations,
        "not_in_catalog": not_in_catalog,
        "degraded": degraded,
        "sources": sources,
        "intents": intents,
        "plan_ms": plan_ms,
        "reply_ms": reply_ms,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-reply", action="store_true", help="skip the language model replies")
    parser.add_argument("--limit", type=int, default=None, help="first N conversations only")
    parser.add_argument("--var-dir", type=Path, default=VAR_DIR)
    args = parser.parse_args()

    setup(args.var_dir)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from clients.model_service import ModelServiceClient

    conversations = load_conversations(args.limit)
    with model_service() as url:
        client = ModelServiceClient(url, timeout=120)
        movies = ensure_demo_catalog(client)
        print(f"demo catalog: {movies} movies; {len(conversations)} conversations")
        ours = run_ours(client, conversations, reply=not args.no_reply)
        print(f"Marquee hit@{HIT_AT}: {ours['hit']:.3f}", flush=True)
        popular = popularity_baseline(conversations)
        reference, answered = reference_design_baseline(client, conversations)

    print()
    print(f"hit@{HIT_AT} (share of conversations with a good film in the first {HIT_AT}):")
    print(f"  Marquee                        {ours['hit']:.3f}   (target >= 0.80)")
    print(f"  popularity (top {HIT_AT})             {popular:.3f}")
    print(
        f"  reference design (top 2)       {reference:.3f}   (answered {answered:.0%} of requests)"
    )
    print(f"intents: {ours['intents']}; degraded turns: {ours['degraded']}")
    print(
        f"plan latency p50 {statistics.median(ours['plan_ms']):.0f} ms, "
        f"max {max(ours['plan_ms']):.0f} ms"
    )
    print(f"films shown that are not in the catalog: {ours['not_in_catalog']}")
    if not args.no_reply:
        shown_violations = [v for v in ours["violations"] if v[2] == "SHOWN TO THE USER"]
        print(f"reply sources: {ours['sources']}")
        print(
            f"reply latency p50 {statistics.median(ours['reply_ms']):.0f} ms; "
            f"grounding violations shown to users: {len(shown_violations)} (target 0); "
            f"model replies withdrawn for naming other films: "
            f"{sum(1 for v in ours['violations'] if v[2] == 'replaced')}"
        )
        for conversation_id, names, what in ours["violations"]:
            print(f"  {conversation_id}: {what}: {', '.join(names)}")
    print(f"misses ({len(ours['misses'])}):")
    for conversation_id, message, intent, shown in ours["misses"]:
        print(f"  {conversation_id} [{intent}] {message!r} -> {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
