"""Background indexing in the process that owns the embedded index.

`make data` run beside `make run` cannot open the embedded index (one process owns its files),
so it writes rows to the database and leaves them pending; this thread, in the running
backend, indexes pending rows within INDEX_SYNC_INTERVAL seconds.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections

from catalog.services.indexing import index_sync_pending
from catalog.vector_store import get_catalog_index, index_is_embedded
from vector_index import IndexError as VectorIndexError

logger = logging.getLogger(__name__)

_started = threading.Event()


def index_sync_once() -> int:
    try:
        index = get_catalog_index()
    except VectorIndexError:  # locked, missing or damaged: health and search say so
        return 0
    written = index_sync_pending(index=index)
    if written:
        index.optimize()
        logger.info("indexed %d pending movies", written)
    return written


def _loop(stop: threading.Event, interval: float) -> None:
    while not stop.wait(interval):
        try:
            index_sync_once()
        except Exception:  # keep the thread alive; the next round retries
            logger.exception("background index sync failed")
        finally:
            close_old_connections()


def start_background_index_sync() -> threading.Event | None:
    """Start the sync thread once per process (embedded index only); returns its stop event."""
    interval = settings.INDEX_SYNC_INTERVAL
    if interval <= 0 or not index_is_embedded() or _started.is_set():
        return None
    _started.set()
    stop = threading.Event()
    threading.Thread(target=_loop, args=(stop, interval), name="index-sync", daemon=True).start()
    return stop
