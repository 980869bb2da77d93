"""Writes of single films by staff (admin or API): saved rows are embedded and indexed at once,
deleted ones leave the index."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from catalog.models import Genre, Movie
from catalog.selectors import REBUILD_HINT
from catalog.services.indexing import Embedder, index_write_movies
from catalog.services.ingestion import movies_embed
from clients.model_service import ModelServiceError
from vector_index import IndexError as VectorIndexError
from vector_index import VectorIndex

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = (
    "title", "original_title", "year", "release_date", "overview", "original_language",
    "runtime", "popularity", "vote_average", "vote_count", "poster_path", "keywords", "cast",
    "director", "imdb_id",
)  # fmt: skip
ADMIN_SOURCE = "admin"


@dataclass(frozen=True)
class IndexingOutcome:
    """Whether a saved film is searchable now; if not, why and what will fix it."""

    indexed: bool
    notice: str = ""


def movie_index_refresh(
    *, tmdb_id: int, embedder: Embedder, get_index: Callable[[], VectorIndex]
) -> IndexingOutcome:
    """Embed a stored film from its current fields and write it to the index."""
    try:
        movies_embed(tmdb_ids=[tmdb_id], embedder=embedder)
    except ModelServiceError as exc:
        logger.warning("film %s saved but not embedded: %s", tmdb_id, exc)
        return IndexingOutcome(
            False,
            f"Saved, but not searchable yet: the model service could not embed it ({exc}). "
            "Run `prepare-databases/prepare.py verify --repair` once it is back.",
        )
    try:
        index_write_movies(index=get_index(), tmdb_ids=[tmdb_id])
    except VectorIndexError as exc:
        logger.warning("film %s embedded but not indexed: %s", tmdb_id, exc)
        return IndexingOutcome(
            False, f"Saved, but the vector index is unavailable ({exc}). {REBUILD_HINT}"
        )
    return IndexingOutcome(True)


def _set_genres(movie: Movie, genres: list[str]) -> None:
    ids = [Genre.objects.get_or_create(name=name)[0].id for name in genres]
    movie.genres.set(ids)


@transaction.atomic
def _save(movie: Movie, data: dict[str, Any]) -> Movie:
    for name in EDITABLE_FIELDS:
        if name in data:
            setattr(movie, name, data[name])
    movie.save()
    if "genres" in data:
        _set_genres(movie, data["genres"])
    return movie


def movie_create(
    *, data: dict[str, Any], embedder: Embedder, get_index: Callable[[], VectorIndex]
) -> tuple[Movie, IndexingOutcome]:
    movie = Movie(tmdb_id=data["tmdb_id"], source=data.get("source") or ADMIN_SOURCE)
    _save(movie, data)
    return movie, movie_index_refresh(tmdb_id=movie.tmdb_id, embedder=embedder, get_index=get_index)


def movie_update(
    *,
    movie: Movie,
    data: dict[str, Any],
    embedder: Embedder,
    get_index: Callable[[], VectorIndex],
) -> tuple[Movie, IndexingOutcome]:
    _save(movie, data)
    return movie, movie_index_refresh(tmdb_id=movie.tmdb_id, embedder=embedder, get_index=get_index)


def movie_delete(*, movie: Movie, get_index: Callable[[], VectorIndex]) -> IndexingOutcome:
    """Delete the row, then its point; a point left behind (index down) is found by verify."""
    tmdb_id = movie.tmdb_id
    movie.delete()
    try:
        get_index().delete([tmdb_id])
    except VectorIndexError as exc:
        return IndexingOutcome(
            False, f"Deleted, but the index still holds it ({exc}). {REBUILD_HINT}"
        )
    return IndexingOutcome(True)
