"""Process-wide structures built from the whole catalog (the title linker, the people linker),
rebuilt when the catalog changes.

The catalog's signature (row count, latest update) is read at most every CATALOG_CHECK_SECONDS,
so a film added in the admin or through the API is seen within seconds and an unchanged
catalog costs one cheap query per interval. While one thread rebuilds, the others keep using
the previous structure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

CATALOG_CHECK_SECONDS = 2.0

T = TypeVar("T")


def catalog_signature() -> tuple:
    from django.db.models import Count, Max

    from catalog.models import Movie

    row = Movie.objects.order_by().aggregate(count=Count("pk"), updated=Max("updated_at"))
    return row["count"], row["updated"]


class CatalogDerived(Generic[T]):
    """`build()` over the catalog, cached until the catalog's signature changes."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._value: T | None = None
        self._signature: tuple | None = None
        self._checked = 0.0

    def _fresh(self) -> bool:
        return time.monotonic() - self._checked < CATALOG_CHECK_SECONDS

    def get(self) -> T:
        value = self._value
        if value is not None and self._fresh():
            return value
        if not self._lock.acquire(blocking=value is None):
            return value  # type: ignore[return-value]  # not None: we only skip waiting then
        try:
            if self._value is not None and self._fresh():
                return self._value
            signature = catalog_signature()
            if self._value is None or signature != self._signature:
                self._value = self._build()
                self._signature = signature
            self._checked = time.monotonic()
            return self._value
        finally:
            self._lock.release()

    def clear(self) -> None:
        """Forget the cached structure (tests; after a bulk import that should be seen at once)."""
        with self._lock:
            self._value = None
            self._signature = None
            self._checked = 0.0
