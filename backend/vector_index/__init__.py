"""Vector index of the catalog: one interface, Qdrant Edge (embedded) and Qdrant server backends."""

from vector_index.base import (
    IndexCorrupted,
    IndexError,
    IndexLocked,
    IndexPoint,
    IndexUnavailable,
    PointNotFound,
    SearchFilter,
    SearchHit,
    VectorIndex,
)

__all__ = [
    "IndexCorrupted",
    "IndexError",
    "IndexLocked",
    "IndexPoint",
    "IndexUnavailable",
    "PointNotFound",
    "SearchFilter",
    "SearchHit",
    "VectorIndex",
]
