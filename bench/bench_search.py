"""Search latency of the embedded vector index (Qdrant Edge) at 10k and 100k movies.

    python bench/bench_search.py [--sizes 10000 100000] [--queries 500]

Builds random 384-d unit vectors with realistic movie payloads in temporary Edge indexes,
optimizes them (HNSW), then times filtered and unfiltered top-10 searches. Prints figures and
the targets beside them; never fails on time. Random vectors are the hardest case for HNSW
(no neighbourhood structure), so recall here is a floor, not what real embeddings get.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# numpy's BLAS threads spin after each matmul and would steal the cores the engine searches on.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "backend"))

from vector_index import IndexPoint, SearchFilter  # noqa: E402
from vector_index.base import VECTOR_SIZE  # noqa: E402
from vector_index.edge import QdrantEdgeIndex  # noqa: E402

TMDB_GENRES = [
    "Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family",
    "Fantasy", "History", "Horror", "Music", "Mystery", "Romance", "Science Fiction",
    "TV Movie", "Thriller", "War", "Western",
]  # fmt: skip
# Roughly TMDB's mix: drama and comedy common, westerns and TV movies rare.
GENRE_WEIGHTS = np.array([9, 6, 3, 12, 6, 2, 16, 4, 4, 2, 6, 2, 4, 6, 4, 1, 9, 2, 1], float)
LANGUAGES = [
    "en", "fr", "ja", "es", "de", "it", "ko", "zh", "hi", "ru", "sv", "da", "pt", "cn", "tr",
]  # fmt: skip
LANGUAGE_WEIGHTS = np.array([70, 5, 5, 4, 3, 3, 2, 2, 1.5, 1, 1, 0.5, 1, 0.5, 0.5])
TARGET_P50_MS = {10_000: 2.0, 100_000: 5.0}  # filtered top-10


@dataclass
class Catalog:
    vectors: np.ndarray  # (n, 384) float32, unit length
    years: np.ndarray  # int, -1 when unknown
    genres: list[list[str]]
    genre_matrix: np.ndarray  # (n, 19) bool
    languages: np.ndarray  # str
    vote_average: np.ndarray
    vote_count: np.ndarray

    def __len__(self) -> int:
        return len(self.vectors)

    def points(self) -> list[IndexPoint]:
        return [
            IndexPoint(
                id=i + 1,
                vector=self.vectors[i],
                payload={
                    "title": f"Movie {i + 1}",
                    "year": int(self.years[i]) if self.years[i] > 0 else None,
                    "genres": self.genres[i],
                    "language": str(self.languages[i]),
                    "vote_average": float(self.vote_average[i]),
                    "vote_count": int(self.vote_count[i]),
                    "popularity": float(self.vote_count[i]) ** 0.5,
                    "content_hash": f"{i:040x}",
                },
            )
            for i in range(len(self))
        ]

    def mask(self, f: SearchFilter) -> np.ndarray:
        """Which movies a filter admits, computed independently of the index."""
        keep = np.ones(len(self), bool)
        if f.genres_any:
            cols = [TMDB_GENRES.index(g) for g in f.genres_any]
            keep &= self.genre_matrix[:, cols].any(axis=1)
        if f.year_min is not None:
            keep &= (self.years >= f.year_min) & (self.years > 0)
        if f.year_max is not None:
            keep &= (self.years <= f.year_max) & (self.years > 0)
        if f.min_vote_count is not None:
            keep &= self.vote_count >= f.min_vote_count
        return keep


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, VECTOR_SIZE), dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


def make_catalog(n: int, rng: np.random.Generator) -> Catalog:
    years = np.clip(2023 - rng.exponential(22, n).astype(int), 1920, 2023)
    years[rng.random(n) < 0.01] = -1  # a few movies without a release date
    genre_p = GENRE_WEIGHTS / GENRE_WEIGHTS.sum()
    genres = [
        list(rng.choice(TMDB_GENRES, size=rng.integers(1, 4), replace=False, p=genre_p))
        for _ in range(n)
    ]
    genre_matrix = np.zeros((n, len(TMDB_GENRES)), bool)
    for i, gs in enumerate(genres):
        genre_matrix[i, [TMDB_GENRES.index(g) for g in gs]] = True
    return Catalog(
        vectors=unit_vectors(rng, n),
        years=years,
        genres=genres,
        genre_matrix=genre_matrix,
        languages=rng.choice(LANGUAGES, size=n, p=LANGUAGE_WEIGHTS / LANGUAGE_WEIGHTS.sum()),
        vote_average=np.round(np.clip(rng.normal(6.3, 1.1, n), 1, 9), 1),
        vote_count=np.maximum(0, rng.lognormal(5.0, 1.6, n)).astype(int),
    )


def random_filter(rng: np.random.Generator) -> SearchFilter:
    """A chat-like constraint: a genre, a period of 10-40 years, a minimum number of votes."""
    start = int(rng.integers(1940, 2015))
    return SearchFilter(
        genres_any=(str(rng.choice(TMDB_GENRES)),),
        year_min=start,
        year_max=start + int(rng.integers(10, 41)),
        min_vote_count=int(rng.choice([0, 20, 50, 100, 300])),
    )


def timed_ms(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def percentile(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q))


def disk_bytes(path: Path) -> int:
    """Bytes really allocated (the engine preallocates sparse files; their length is not use)."""
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file())


def recall_at_10(index: QdrantEdgeIndex, catalog: Catalog, queries, filters) -> float:
    found = 0
    expected = 0
    for q, f in zip(queries, filters, strict=True):
        scores = catalog.vectors @ q
        if f is not None:
            scores = np.where(catalog.mask(f), scores, -np.inf)
        k = min(10, int(np.isfinite(scores).sum()))
        truth = {int(i) + 1 for i in np.argsort(-scores)[:k]}
        got = {h.id for h in index.search(q, limit=10, filter=f)}
        found += len(truth & got)
        expected += k
    return found / max(expected, 1)


def bench_size(n: int, queries: int, warmup: int, seed: int, workdir: Path) -> None:
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    catalog = make_catalog(n, rng)
    points = catalog.points()
    print(f"\n--- {n:,} movies (data generated in {time.perf_counter() - t0:.1f} s)", flush=True)

    path = workdir / f"index-{n}"
    index = QdrantEdgeIndex(path)
    index.ensure_collection()
    t0 = time.perf_counter()
    for start in range(0, n, 1000):  # as ingestion does: one upsert (and flush) per chunk
        index.upsert(points[start : start + 1000], batch_size=256)
    upsert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.optimize()
    optimize_s = time.perf_counter() - t0
    print(f"upsert        {n / upsert_s:>9,.0f} points/s  ({upsert_s:.1f} s, flushed per 1,000)")
    print(f"optimize      {optimize_s:>9.1f} s         (HNSW build; brute-force search before)")
    del points
    gc.collect()

    # Reopen, as the backend does at start-up, so the figures include a cold-ish index.
    index.close()
    t0 = time.perf_counter()
    index = QdrantEdgeIndex(path)
    index.count()
    print(f"reopen        {(time.perf_counter() - t0) * 1000:>9.0f} ms")

    query_vectors = unit_vectors(rng, queries + warmup)
    filters = [random_filter(rng) for _ in range(queries + warmup)]
    for i in range(warmup):
        index.search(query_vectors[i], limit=10, filter=filters[i])
        index.search(query_vectors[i], limit=10)
    filtered = [
        timed_ms(lambda i=i: index.search(query_vectors[i], limit=10, filter=filters[i]))
        for i in range(warmup, warmup + queries)
    ]
    unfiltered = [
        timed_ms(lambda i=i: index.search(query_vectors[i], limit=10))
        for i in range(warmup, warmup + queries)
    ]
    ids = rng.integers(1, n + 1, size=queries)
    similar = [timed_ms(lambda i=i: index.search_similar(int(i), limit=10)) for i in ids]
    matched = np.mean([catalog.mask(f).mean() for f in filters[warmup:]])

    target = TARGET_P50_MS.get(n)
    p50 = percentile(filtered, 50)
    verdict = ""
    if target is not None:
        verdict = f"   target p50 <= {target:g} ms: {'met' if p50 <= target else 'MISSED'}"
    print(
        f"filtered      p50 {p50:6.2f} ms  p95 {percentile(filtered, 95):6.2f} ms"
        f"  (filters admit {matched:.1%} of movies on average){verdict}"
    )
    print(
        f"unfiltered    p50 {percentile(unfiltered, 50):6.2f} ms  "
        f"p95 {percentile(unfiltered, 95):6.2f} ms"
    )
    print(
        f"more-like-this p50 {percentile(similar, 50):5.2f} ms  "
        f"p95 {percentile(similar, 95):6.2f} ms  (search_similar)"
    )

    sample = slice(warmup, warmup + min(100, queries))
    r_filtered = recall_at_10(index, catalog, query_vectors[sample], filters[sample])
    r_plain = recall_at_10(
        index, catalog, query_vectors[sample], [None] * len(query_vectors[sample])
    )
    print(
        f"recall@10     filtered {r_filtered:.2f}  unfiltered {r_plain:.2f}"
        "  (vs numpy brute force; random vectors are HNSW's worst case)"
    )
    size = disk_bytes(path)
    print(f"disk          {size / 2**20:9.1f} MiB  = {size / n:,.0f} bytes per movie")
    index.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    print("Qdrant Edge search benchmark: top-10, 384-d cosine, random unit vectors")
    print("targets: filtered p50 <= 2 ms at 10k, <= 5 ms at 100k (printed, never enforced)")
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        for n in args.sizes:
            bench_size(n, args.queries, args.warmup, args.seed, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
