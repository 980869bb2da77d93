"""Keeping the vector index in step with the database, which is the source of truth."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from django.db import connection, transaction
from django.db.models import F

from catalog.models import Movie
from clients.model_service import EmbeddingBatch
from vector_index import IndexPoint, VectorIndex

logger = logging.getLogger(__name__)


class Embedder(Protocol):
    def embed(self, texts: Sequence[str], *, timeout: float | None = None) -> EmbeddingBatch: ...

    def embedding_model(self) -> str: ...


def vector_to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def vector_from_bytes(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")


def movie_payload(movie: Movie) -> dict[str, Any]:
    """The payload stored beside a movie's vector: what search filters and verification need."""
    return {
        "title": movie.title,
        "year": movie.year,
        "genres": [genre.name for genre in movie.genres.all()],
        "language": movie.original_language,
        "vote_average": movie.vote_average,
        "vote_count": movie.vote_count,
        "popularity": movie.popularity,
        "content_hash": movie.content_hash,
    }


def pending_movies() -> Any:
    """Rows whose index point is missing or stale (and which have a vector to write)."""
    return Movie.objects.filter(embedding__isnull=False).exclude(indexed_hash=F("content_hash"))


def index_write_movies(*, index: VectorIndex, tmdb_ids: Iterable[int]) -> int:
    """Write these movies' stored vectors and payloads to the index, then mark them indexed."""
    movies = list(
        Movie.objects.filter(tmdb_id__in=list(tmdb_ids), embedding__isnull=False)
        .prefetch_related("genres")
        .only(
            "tmdb_id", "title", "year", "original_language", "vote_average", "vote_count",
            "popularity", "content_hash", "embedding",
        )
    )  # fmt: skip
    if not movies:
        return 0
    index.upsert(
        IndexPoint(
            id=m.tmdb_id, vector=vector_from_bytes(m.embedding).tolist(), payload=movie_payload(m)
        )
        for m in movies
    )
    # Mark only rows still at the hash we wrote: a concurrent edit keeps its row pending.
    # Plain executemany: the ORM's Case/When form cost more than the index write itself.
    table = connection.ops.quote_name(Movie._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET indexed_hash = %s WHERE tmdb_id = %s AND content_hash = %s",
            [(m.content_hash, m.tmdb_id, m.content_hash) for m in movies],
        )
    return len(movies)


def index_sync_pending(
    *, index: VectorIndex, batch_size: int = 512, limit: int | None = None
) -> int:
    """Index every pending row (written by another process, or left by an interrupted run)."""
    done = 0
    while limit is None or done < limit:
        ids = list(pending_movies().values_list("tmdb_id", flat=True)[:batch_size])
        if not ids:
            break
        written = index_write_movies(index=index, tmdb_ids=ids)
        if written == 0:
            break
        done += written
    return done


@dataclass
class VerifyReport:
    movies: int = 0
    indexed: int = 0
    missing: list[int] = field(default_factory=list)  # in the database, not in the index
    extra: list[int] = field(default_factory=list)  # in the index, not in the database
    stale: list[int] = field(default_factory=list)  # payload older than the row
    without_vector: list[int] = field(default_factory=list)  # rows never embedded
    repaired: int = 0
    deleted: int = 0
    embedded: int = 0

    @property
    def mismatches(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.stale) + len(self.without_vector)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def lines(self) -> list[str]:
        def sample(ids: list[int]) -> str:
            shown = ", ".join(map(str, ids[:10]))
            return f" (e.g. {shown}{', …' if len(ids) > 10 else ''})" if ids else ""

        out = [
            f"database movies: {self.movies}",
            f"index points:    {self.indexed}",
            f"missing from index: {len(self.missing)}{sample(self.missing)}",
            f"extra in index:     {len(self.extra)}{sample(self.extra)}",
            f"stale in index:     {len(self.stale)}{sample(self.stale)}",
            f"never embedded:     {len(self.without_vector)}{sample(self.without_vector)}",
        ]
        if self.repaired or self.deleted or self.embedded:
            out.append(
                f"repaired: embedded {self.embedded}, wrote {self.repaired}, deleted {self.deleted}"
            )
        return out


def index_verify(
    *, index: VectorIndex, repair: bool = False, embedder: Embedder | None = None
) -> VerifyReport:
    """Compare the index with the database point by point; with repair, make them agree."""
    report = VerifyReport()
    rows = dict(
        Movie.objects.filter(embedding__isnull=False).values_list("tmdb_id", "content_hash")
    )
    report.without_vector = sorted(
        Movie.objects.filter(embedding__isnull=True).values_list("tmdb_id", flat=True)
    )
    report.movies = len(rows) + len(report.without_vector)
    seen: set[int] = set()
    for point_id, payload in index.iter_payloads():
        seen.add(point_id)
        expected = rows.get(point_id)
        if expected is None:
            report.extra.append(point_id)
        elif payload.get("content_hash") != expected:
            report.stale.append(point_id)
    report.indexed = len(seen)
    report.missing = sorted(set(rows) - seen)
    report.extra.sort()
    report.stale.sort()
    if not repair:
        return report

    if report.without_vector and embedder is not None:
        from catalog.services.ingestion import movies_embed

        report.embedded = movies_embed(tmdb_ids=report.without_vector, embedder=embedder)
    if report.extra:
        index.delete(report.extra)
        report.deleted = len(report.extra)
    to_write = report.missing + report.stale
    if report.embedded:
        to_write += report.without_vector
    # Rows the index lacks must be pending so the write marks them; then write them all.
    Movie.objects.filter(tmdb_id__in=to_write).update(indexed_hash="")
    for start in range(0, len(to_write), 512):
        report.repaired += index_write_movies(index=index, tmdb_ids=to_write[start : start + 512])
    index.optimize()
    return report


def index_rebuild(*, index: VectorIndex) -> int:
    """Drop the index and write it again from the vectors stored in the database."""
    index.drop()
    index.ensure_collection()
    Movie.objects.exclude(indexed_hash="").update(indexed_hash="")
    written = index_sync_pending(index=index)
    index.optimize()
    return written


def index_pending_count() -> int:
    return pending_movies().count()
