"""The catalog's vector index for this process: opened on first use, shared by threads."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings

from vector_index import IndexCorrupted, IndexLocked, VectorIndex
from vector_index import IndexError as VectorIndexError
from vector_index.base import VECTOR_SIZE
from vector_index.factory import build_vector_index

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_index: VectorIndex | None = None
_last_failure: tuple[float, Exception] | None = None
# After a failed open (e.g. `make data` owns the files), wait this long before trying again so
# every request does not hammer the lock.
RETRY_AFTER_SECONDS = 1.0


def build_catalog_index() -> VectorIndex:
    """A new handle on the configured index, collection not checked (for drop and rebuild)."""
    return build_vector_index(
        qdrant_url=settings.QDRANT_URL,
        qdrant_api_key=settings.QDRANT_API_KEY,
        edge_path=settings.INDEX_PATH / settings.QDRANT_COLLECTION,
        collection=settings.QDRANT_COLLECTION,
    )


REPAIR_COMMAND = (
    "`make verify REPAIR=1` (`.venv/bin/python prepare-databases/prepare.py verify --repair`)"
)


def open_catalog_index(*, check: bool = True) -> VectorIndex:
    """A new handle on the configured index, collection created if missing (caller closes it).

    With `check`, an index holding fewer points than the database says it indexed (its files
    were deleted or lost, or it was swapped for another) is refused with IndexCorrupted: it
    would answer searches with part of the catalog, or nothing, and say nothing. `prepare.py
    verify --repair` opens it with check=False to fix it.

    Raises IndexUnavailable (IndexLocked when another process owns the embedded index) or
    IndexCorrupted.
    """
    index = build_catalog_index()
    try:
        index.ensure_collection()
        if check:
            problem = index_missing_points(index)
            if problem:
                raise IndexCorrupted(problem)
    except Exception:
        index.close()
        raise
    return index


def index_missing_points(index: VectorIndex) -> str:
    """Why the index cannot be trusted to hold the catalog, or "" when it can: fewer points
    than movies the database marks as indexed (nothing else lowers the count)."""
    from django.db.models import F

    from catalog.models import Movie

    expected = (
        Movie.objects.filter(embedding__isnull=False, indexed_hash=F("content_hash"))
        .exclude(indexed_hash="")
        .count()
    )
    points = index.count()
    if points >= expected:
        return ""
    where = settings.QDRANT_URL or settings.INDEX_PATH
    return (
        f"The vector index at {where} has {points} points, but {expected} movies of the "
        "database were indexed: its files were deleted or damaged. Rebuild it from the "
        f"database with {REPAIR_COMMAND}."
    )


def index_probe(index: VectorIndex) -> None:
    """Read the index the way a search does (count, one nearest neighbour); raises the
    index's IndexError when it cannot. Damaged vector files can open fine and fail here."""
    if index.count():
        index.search([1.0] + [0.0] * (VECTOR_SIZE - 1), limit=1)


def get_catalog_index() -> VectorIndex:
    """The process-wide index handle, opened lazily; raises IndexUnavailable (or
    IndexCorrupted) while it cannot be, trying again at most every RETRY_AFTER_SECONDS."""
    global _index, _last_failure
    with _lock:
        if _index is not None:
            return _index
        if _last_failure and time.monotonic() - _last_failure[0] < RETRY_AFTER_SECONDS:
            raise _last_failure[1]
        try:
            _index = open_catalog_index()
        except VectorIndexError as exc:  # unavailable, locked, corrupted or missing points
            repeated = _last_failure is not None and str(_last_failure[1]) == str(exc)
            _last_failure = (time.monotonic(), exc)
            if not isinstance(exc, IndexLocked) and not repeated:
                logger.warning("vector index unavailable: %s", exc)
            raise
        _last_failure = None
        return _index


def close_catalog_index() -> None:
    global _index, _last_failure
    with _lock:
        if _index is not None:
            _index.close()
        _index = None
        _last_failure = None


def index_is_embedded() -> bool:
    return not settings.QDRANT_URL
