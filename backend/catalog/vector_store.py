"""The catalog's vector index for this process: opened on first use, shared by threads."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings

from vector_index import IndexLocked, IndexUnavailable, VectorIndex
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


def open_catalog_index() -> VectorIndex:
    """A new handle on the configured index, collection created if missing (caller closes it).

    Raises IndexUnavailable (IndexLocked when another process owns the embedded index) or
    IndexCorrupted.
    """
    index = build_catalog_index()
    try:
        index.ensure_collection()
    except Exception:
        index.close()
        raise
    return index


def get_catalog_index() -> VectorIndex:
    """The process-wide index handle, opened lazily; raises IndexUnavailable while it cannot be."""
    global _index, _last_failure
    with _lock:
        if _index is not None:
            return _index
        if _last_failure and time.monotonic() - _last_failure[0] < RETRY_AFTER_SECONDS:
            raise _last_failure[1]
        try:
            _index = open_catalog_index()
        except IndexUnavailable as exc:
            _last_failure = (time.monotonic(), exc)
            if not isinstance(exc, IndexLocked):
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
