"""Reads of the catalog: semantic search, browsing, movie details, similar movies, health."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError
from django.db.models import Q

from catalog.models import Movie
from catalog.services.indexing import Embedder, vector_from_bytes
from clients.model_service import ModelServiceError
from common.errors import ApplicationError, ServiceUnavailable
from vector_index import IndexError as VectorIndexError
from vector_index import SearchFilter, VectorIndex

logger = logging.getLogger(__name__)

IndexGetter = Callable[[], VectorIndex]

REBUILD_HINT = (
    "Rebuild it from the database with `.venv/bin/python prepare-databases/prepare.py verify "
    "--repair` (or re-run `make data`)."
)


@dataclass(frozen=True, slots=True)
class MovieQuery:
    q: str = ""
    genres: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    language: str = ""
    min_rating: float | None = None
    limit: int = 20

    def index_filter(self) -> SearchFilter:
        return SearchFilter(
            genres_any=self.genres,
            year_min=self.year_min,
            year_max=self.year_max,
            languages=(self.language,) if self.language else (),
            min_vote_average=self.min_rating,
        )


@dataclass
class MovieResults:
    movies: list[Movie]
    scores: dict[int, float] = field(default_factory=dict)
    mode: str = "browse"  # semantic | browse | keyword
    degraded: bool = False
    notice: str = ""


def _in_order(ids: list[int]) -> list[Movie]:
    by_id = Movie.objects.prefetch_related("genres").in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def _db_filtered(query: MovieQuery) -> Any:
    movies = Movie.objects.all()
    if query.genres:
        movies = movies.filter(genres__name__in=query.genres).distinct()
    if query.year_min is not None:
        movies = movies.filter(year__gte=query.year_min)
    if query.year_max is not None:
        movies = movies.filter(year__lte=query.year_max)
    if query.language:
        movies = movies.filter(original_language=query.language)
    if query.min_rating is not None:
        movies = movies.filter(vote_average__gte=query.min_rating)
    return movies.prefetch_related("genres").order_by("-popularity", "tmdb_id")


def movie_search(*, query: MovieQuery, embedder: Embedder, get_index: IndexGetter) -> MovieResults:
    """Semantic search when there is a query, browsing by popularity otherwise.

    If the model service or the index fails, answer from the database by keywords and say so:
    search degrades instead of failing.
    """
    if not query.q:
        return MovieResults(list(_db_filtered(query)[: query.limit]))
    try:
        vector = embedder.embed([query.q]).vectors[0]
        hits = get_index().search(vector.tolist(), limit=query.limit, filter=query.index_filter())
    except ModelServiceError as exc:
        return _keyword_search(query, f"Semantic search is unavailable ({exc}).")
    except VectorIndexError as exc:
        return _keyword_search(query, f"The vector index is unavailable ({exc}). {REBUILD_HINT}")
    return MovieResults(
        _in_order([hit.id for hit in hits]),
        scores={hit.id: hit.score for hit in hits},
        mode="semantic",
    )


def _keyword_search(query: MovieQuery, reason: str) -> MovieResults:
    logger.warning("search degraded to keywords: %s", reason)
    words = [w for w in query.q.split() if len(w) > 2][:8] or [query.q]
    match = Q()
    for word in words:
        match |= Q(title__icontains=word) | Q(overview__icontains=word)
    movies = list(_db_filtered(query).filter(match)[: query.limit])
    return MovieResults(movies, mode="keyword", degraded=True, notice=reason)


def movie_get(*, tmdb_id: int) -> Movie:
    movie = Movie.objects.prefetch_related("genres").filter(tmdb_id=tmdb_id).first()
    if movie is None:
        raise ApplicationError(
            f"No movie with TMDB id {tmdb_id} in the catalog.", code="not_found", status_code=404
        )
    return movie


def movie_similar(*, tmdb_id: int, limit: int, get_index: IndexGetter) -> MovieResults:
    """'More like this': neighbours of the movie's own vector."""
    movie = movie_get(tmdb_id=tmdb_id)
    try:
        index = get_index()
        try:
            hits = index.search_similar(tmdb_id, limit=limit)
        except KeyError:
            # Not indexed yet (e.g. pending): search from the vector the database keeps.
            if movie.embedding is None:
                raise ApplicationError(
                    f"{movie.title} has no embedding yet; run `prepare.py verify --repair`.",
                    code="not_indexed",
                    status_code=409,
                ) from None
            hits = index.search(
                vector_from_bytes(movie.embedding).tolist(),
                limit=limit,
                filter=SearchFilter(exclude_ids=(tmdb_id,)),
            )
    except VectorIndexError as exc:
        raise ServiceUnavailable(
            f"The vector index is unavailable ({exc}). {REBUILD_HINT}", code="index_unavailable"
        ) from exc
    return MovieResults(
        _in_order([hit.id for hit in hits]),
        scores={hit.id: hit.score for hit in hits},
        mode="similar",
    )


def catalog_health(*, embedder_ready: Callable[[], dict], get_index: IndexGetter) -> dict[str, Any]:
    """Each dependency reported on its own, plus catalog size and index size."""
    report: dict[str, Any] = {"movies": None, "indexed": None}
    try:
        report["movies"] = Movie.objects.count()
        report["database"] = {"ok": True}
    except DatabaseError as exc:
        report["database"] = {"ok": False, "detail": f"{exc.__class__.__name__}: {exc}"}
    try:
        index = get_index()
        report["indexed"] = index.count()
        report["index"] = {"ok": True, "backend": index.name}
    except VectorIndexError as exc:
        report["index"] = {"ok": False, "detail": f"{exc} {REBUILD_HINT}"}
    try:
        ready = embedder_ready()
        report["model_service"] = {"ok": True, "models": ready.get("models", {})}
    except ModelServiceError as exc:
        report["model_service"] = {"ok": False, "detail": str(exc)}
    oks = [report[k]["ok"] for k in ("database", "index", "model_service")]
    report["status"] = "ok" if all(oks) else ("error" if not oks[0] else "degraded")
    return report
