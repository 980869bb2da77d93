#!/usr/bin/env python
"""Quality of "more like this": Recall@10 against held-out MovieLens co-likes, beside baselines.

    .venv/bin/python evaluation/eval_similar.py [--max-queries N]

Protocol (the issue's, followed exactly):
- Catalog: the 10k `tmdb-csv` movies (../shared/data/tmdb-top10k) with the-movies-dataset's
  ratings_small.csv ingested through the `ratings` source; the collaborative neighbours come
  from those ratings only. Built once in var/eval (SQLite + embedded index; the user's catalog
  is untouched) and reused: ingestion is idempotent, so a re-run only checks.
- Ground truth for a query movie: the 20 catalog movies with the highest cosine similarity of
  binary "liked" vectors (rating >= 4) in ml-latest-small/ratings.csv (a different, later
  MovieLens sample, never ingested), pairs needing at least 8 co-likes. Queries: movies with
  >= 40 ratings and >= 20 likes there, with at least 10 such neighbours (about 500).
- Recall@10 = relevant among our top 10 / min(10, number relevant), averaged over queries.
- Cold start: the query movie's ratings are deleted and it has no neighbours of its own (its
  pairs are removed from everyone's lists) inside a transaction rolled back after the query.
  Its own ratings then count for nothing: content similarity, the priors, and the ratings
  neighbours of the movies closest to it in content ("bridges"; other movies' ratings are
  what a new film has in production too) are left. The line "content + prior only" also
  switches the bridges off.

Baselines: the catalog's most-voted movies (TMDB vote_count; TMDB's `popularity` is a 2022
trend score and finds nothing in 2018 ratings); MiniLM cosine on the overview alone; MiniLM
cosine on the catalog's own embedding text (title, year, genres, overview). Reference figures
measured by the issue author: popularity 0.069, overview 0.040, full text 0.046. Targets: 0.40
overall, 0.09 cold start. Prints figures, never fails on them; exits 0 with a notice when
../shared/data is absent.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CATALOG_CSV = DATA / "tmdb-top10k" / "top10K-TMDB-movies.csv"
RATINGS_FOLDER = DATA / "the-movies-dataset"
TRUTH_FOLDER = DATA / "ml-latest-small"
VAR_DIR = REPO / "var" / "eval"

LIKE = 4.0
TRUTH_SIZE = 20
TRUTH_MIN_CO_LIKES = 8
QUERY_MIN_RATINGS = 40
QUERY_MIN_LIKES = 20
QUERY_MIN_NEIGHBOURS = 10
K = 10
REFERENCE = {"popularity (most voted)": 0.069, "overview MiniLM": 0.040, "full-text MiniLM": 0.046}
TARGETS = {"ours": 0.40, "ours, cold start": 0.09}


def _environment() -> None:
    """This process's own embedded catalog: never the user's database or a Qdrant server."""
    os.environ["MARQUEE_VAR_DIR"] = str(VAR_DIR)
    for name in ("DATABASE_URL", "QDRANT_URL", "INDEX_PATH"):
        os.environ.pop(name, None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    for extra in (REPO / "backend", REPO):
        if str(extra) not in sys.path:
            sys.path.insert(0, str(extra))


class LazyModelService:
    """The model service client; a local service (embeddings only) is started on first use."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self._stack, self._client = stack, None

    def _ready(self):
        if self._client is None:
            from django.conf import settings

            from clients.factories import get_model_service_client
            from scripts.stack import ensure_model_service

            # ensure_model_service starts it with MODEL_GENERATOR=none: no language model.
            self._stack.enter_context(ensure_model_service(settings.MODEL_SERVICE_URL))
            self._client = get_model_service_client()
        return self._client

    def embed(self, texts, *, timeout=None):
        return self._ready().embed(texts, timeout=timeout)

    def embedding_model(self) -> str:
        return self._ready().embedding_model()


def prepare_catalog(index, embedder: LazyModelService) -> None:
    """Ingest the 10k catalog and ratings_small once; later runs find them and go on."""
    from catalog.ingestion.sources import open_source
    from catalog.models import Movie, Rating
    from catalog.services.indexing import index_pending_count
    from catalog.services.ingestion import catalog_ingest
    from catalog.services.neighbours import neighbours_compute

    movies = Movie.objects.filter(source="tmdb-csv").count()
    if movies >= 9900 and index_pending_count() == 0 and index.count() == Movie.objects.count():
        print(f"catalog: reusing {movies} tmdb-csv movies in {VAR_DIR}")
    else:
        print("catalog: ingesting the 10k tmdb-csv movies (embedding them takes minutes)…")
        report = catalog_ingest(
            source=open_source("tmdb-csv", CATALOG_CSV),
            embedder=embedder,
            index=index,
            progress=False,
        )
        print("\n".join("  " + line for line in report.lines()))
    if Rating.objects.filter(source="ratings").exists():
        print(f"ratings: reusing {Rating.objects.filter(source='ratings').count()} ratings")
        # Neighbours are derived data: recompute so they follow the current code and defaults.
        print("  " + neighbours_compute().lines()[0])
    else:
        report = catalog_ingest(
            source=open_source("ratings", RATINGS_FOLDER),
            embedder=embedder,
            index=index,
            progress=False,
        )
        print("\n".join("  " + line for line in report.lines()))


def _read_links(path: Path) -> dict[int, int]:
    links = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["movieId"].strip().isdigit() and row["tmdbId"].strip().isdigit():
                links[int(row["movieId"])] = int(row["tmdbId"])
    return links


@dataclass
class GroundTruth:
    relevant: dict[int, list[int]]  # query TMDB id -> its held-out neighbours, best first
    ratings: int  # held-out ratings of catalog movies


def ground_truth(catalog_ids: set[int]) -> GroundTruth:
    """Held-out co-like neighbours from ml-latest-small (read here, never stored anywhere)."""
    links = _read_links(TRUTH_FOLDER / "links.csv")
    ratings: dict[tuple[int, int], float] = {}
    with (TRUTH_FOLDER / "ratings.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            tmdb_id = links.get(int(row["movieId"]))
            if tmdb_id in catalog_ids:
                ratings[(int(row["userId"]), tmdb_id)] = float(row["rating"])
    movie_ids = sorted({movie for _, movie in ratings})
    user_ids = sorted({user for user, _ in ratings})
    col = {m: i for i, m in enumerate(movie_ids)}
    row_of = {u: i for i, u in enumerate(user_ids)}
    liked = np.zeros((len(user_ids), len(movie_ids)), np.float32)
    rated = np.zeros(len(movie_ids), np.int64)
    for (user, movie), value in ratings.items():
        rated[col[movie]] += 1
        if value >= LIKE:
            liked[row_of[user], col[movie]] = 1.0
    co = liked.T @ liked
    likes = np.diag(co).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = np.nan_to_num(co / np.sqrt(np.outer(likes, likes)))
    cosine[co < TRUTH_MIN_CO_LIKES] = 0.0
    np.fill_diagonal(cosine, 0.0)
    relevant = {}
    for i, movie in enumerate(movie_ids):
        if rated[i] < QUERY_MIN_RATINGS or likes[i] < QUERY_MIN_LIKES:
            continue
        order = sorted(np.flatnonzero(cosine[i]), key=lambda j: (-cosine[i, j], movie_ids[j]))
        if len(order) >= QUERY_MIN_NEIGHBOURS:
            relevant[movie] = [movie_ids[j] for j in order[:TRUTH_SIZE]]
    return GroundTruth(relevant=relevant, ratings=len(ratings))


def recall_at_k(recommend: Callable[[int], Sequence[int]], truth: dict[int, list[int]]) -> float:
    scores = []
    for query, relevant in truth.items():
        top = list(recommend(query))[:K]
        assert query not in top, f"{query} recommended for itself"
        scores.append(len(set(top) & set(relevant)) / min(K, len(relevant)))
    return float(np.mean(scores)) if scores else float("nan")


class VectorBaseline:
    """Exact cosine top-k over a matrix of unit vectors (no index: the baseline is the model)."""

    def __init__(self, ids: list[int], vectors: np.ndarray) -> None:
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.ids = np.asarray(ids)
        self.vectors = vectors / np.where(norms == 0, 1, norms)
        self.row = {movie: i for i, movie in enumerate(ids)}

    def __call__(self, query: int) -> list[int]:
        i = self.row[query]
        scores = self.vectors @ self.vectors[i]
        scores[i] = -np.inf
        top = np.argpartition(-scores, K)[: K + 1]
        return [int(self.ids[j]) for j in sorted(top, key=lambda j: -scores[j])][:K]


def overview_vectors(movies: list, embedder: LazyModelService) -> np.ndarray:
    """MiniLM vectors of the overviews alone, cached in var/eval (10k texts take minutes)."""
    texts = [m.overview.strip() or m.title for m in movies]
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    cache = VAR_DIR / f"overview-vectors-{digest}.npy"
    if cache.is_file():
        return np.load(cache)
    print("overview baseline: embedding 10k overviews once (cached for later runs)…")
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = np.zeros((len(texts), 384), np.float32)
    for start in range(0, len(order), 256):
        chunk = order[start : start + 256]
        batch = embedder.embed([texts[i] for i in chunk], timeout=600).vectors
        vectors[chunk] = batch
    np.save(cache, vectors)
    return vectors


def cold_start(similar: Callable[[int], list[int]]) -> Callable[[int], list[int]]:
    """Run `similar` as if the query movie had never been rated, then roll the database back."""
    from django.db import transaction
    from django.db.models import Q

    from catalog.models import MovieNeighbor, Rating

    def recommend(query: int) -> list[int]:
        with transaction.atomic():
            Rating.objects.filter(movie_id=query).delete()
            MovieNeighbor.objects.filter(Q(movie_id=query) | Q(neighbor_id=query)).delete()
            try:
                return similar(query)
            finally:
                transaction.set_rollback(True)

    return recommend


def run(max_queries: int | None) -> int:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)

    import catalog.selectors
    from catalog.models import Movie, MovieNeighbor
    from catalog.selectors import SIMILAR_WEIGHTS, similar_candidates
    from catalog.services.indexing import vector_from_bytes
    from catalog.vector_store import open_catalog_index

    started = time.perf_counter()
    index = open_catalog_index()
    try:
        with contextlib.ExitStack() as stack:
            embedder = LazyModelService(stack)
            prepare_catalog(index, embedder)
            movies = list(
                Movie.objects.filter(embedding__isnull=False)
                .only("tmdb_id", "title", "overview", "vote_count", "embedding")
                .order_by("tmdb_id")
            )
            overview = overview_vectors(movies, embedder)
        ids = [m.tmdb_id for m in movies]
        truth = ground_truth(set(ids))
        relevant = dict(sorted(truth.relevant.items()))
        if max_queries:
            relevant = dict(list(relevant.items())[:max_queries])
        print(
            f"ground truth: {truth.ratings} held-out ml-latest-small ratings of catalog movies; "
            f"{len(relevant)} query movies"
        )

        def ours(query: int) -> list[int]:
            found = similar_candidates(tmdb_id=query, limit=K, get_index=lambda: index)
            return [c.id for c in found]

        stored = defaultdict(list)
        for movie_id, neighbor_id in MovieNeighbor.objects.order_by("movie_id", "rank").values_list(
            "movie_id", "neighbor_id"
        ):
            stored[movie_id].append(neighbor_id)
        most_voted = [m.tmdb_id for m in sorted(movies, key=lambda m: -(m.vote_count or 0))]

        def without_bridges(query: int) -> list[int]:
            catalog.selectors.SIMILAR_WEIGHTS = replace(SIMILAR_WEIGHTS, bridges=0.0)
            try:
                return ours(query)
            finally:
                catalog.selectors.SIMILAR_WEIGHTS = SIMILAR_WEIGHTS

        full_text = VectorBaseline(ids, np.vstack([vector_from_bytes(m.embedding) for m in movies]))
        methods: list[tuple[str, Callable[[int], Sequence[int]]]] = [
            ("ours", ours),
            ("ours, cold start", cold_start(ours)),
            ("  content + prior only", cold_start(without_bridges)),
            ("ratings neighbours alone", lambda q: stored[q][:K]),
            ("popularity (most voted)", lambda q: [m for m in most_voted[: K + 1] if m != q][:K]),
            ("overview MiniLM", VectorBaseline(ids, overview)),
            ("full-text MiniLM", full_text),
        ]
        results = {}
        for name, recommend in methods:
            t0 = time.perf_counter()
            results[name] = recall_at_k(recommend, relevant)
            per_query_ms = (time.perf_counter() - t0) / max(1, len(relevant)) * 1000
            results[name + " ms"] = per_query_ms
    finally:
        index.close()

    print()
    print(f"Recall@{K} of 'more like this' over {len(relevant)} query movies")
    print(f"  {'method':<26} {'R@10':>6}  {'reference':>9}  {'target':>6}  {'ms/query':>8}")
    for name, _ in methods:
        reference = REFERENCE.get(name)
        target = TARGETS.get(name)
        print(
            f"  {name:<26} {results[name]:>6.3f}  "
            f"{(f'{reference:.3f}' if reference is not None else '-'):>9}  "
            f"{(f'>={target:.2f}' if target is not None else '-'):>6}  "
            f"{results[name + ' ms']:>8.1f}"
        )
    best_baseline = max(results[name] for name in REFERENCE)
    print(
        f"ratios: ours / best baseline {results['ours'] / best_baseline:.1f}x, "
        f"cold start / best baseline {results['ours, cold start'] / best_baseline:.1f}x"
    )
    print(f"blend weights: {SIMILAR_WEIGHTS}")
    print(f"total {time.perf_counter() - started:.0f}s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-queries", type=int, help="evaluate only the first N queries")
    args = parser.parse_args(argv)
    missing = [p for p in (CATALOG_CSV, RATINGS_FOLDER, TRUTH_FOLDER) if not p.exists()]
    if missing:
        print(
            f"Skipping the 'more like this' evaluation: {', '.join(map(str, missing))} "
            f"absent. The real datasets live in {DATA} (see its README.md)."
        )
        return 0
    _environment()
    return run(args.max_queries)


if __name__ == "__main__":
    sys.exit(main())
