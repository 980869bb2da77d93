"""The vector index contract shared by every backend, with its value types and errors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

VECTOR_SIZE = 384

# Payload fields with an index (filtering on them must stay fast at 100k+ points).
INDEXED_FIELDS: dict[str, str] = {
    "year": "integer",
    "genres": "keyword",
    "language": "keyword",
    "vote_average": "float",
    "vote_count": "integer",
}


class IndexError(Exception):  # shadows the builtin on purpose: always imported explicitly
    """Base class of vector index failures; the message says what to do."""


class IndexUnavailable(IndexError):
    """The index cannot be reached or opened right now (server down, files missing)."""


class IndexLocked(IndexUnavailable):
    """Another process owns the embedded index files."""

    def __init__(self, message: str, *, owner_pid: int | None = None) -> None:
        super().__init__(message)
        self.owner_pid = owner_pid


class IndexCorrupted(IndexError):
    """The index files exist but cannot be read; rebuild it from the database."""


class PointNotFound(IndexError, KeyError):
    """A point asked for by id is not in the index; also a KeyError, for plain `except KeyError`."""

    def __init__(self, point_id: int) -> None:
        super().__init__(f"point {point_id} is not in the vector index")
        self.point_id = point_id

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class IndexPoint:
    id: int  # TMDB id
    vector: Sequence[float]
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchHit:
    id: int
    score: float
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """Typed payload filter; empty fields do not filter; all fields combine with AND.

    An exclusion (genres_exclude, languages_exclude, exclude_ids) never drops a point whose
    value is missing, None or empty: only a stated value can be excluded.
    """

    genres_any: tuple[str, ...] = ()  # at least one of these genres
    genres_exclude: tuple[str, ...] = ()  # none of these genres
    year_min: int | None = None
    year_max: int | None = None
    languages: tuple[str, ...] = ()  # original_language codes, any of
    languages_exclude: tuple[str, ...] = ()  # none of these original_language codes
    min_vote_average: float | None = None
    min_vote_count: int | None = None
    exclude_ids: tuple[int, ...] = ()

    def is_empty(self) -> bool:
        return self == SearchFilter()


def as_vector(vector: Sequence[float], size: int = VECTOR_SIZE) -> list[float]:
    """A plain list of floats of the expected size (numpy arrays welcome); ValueError otherwise."""
    if hasattr(vector, "tolist"):  # numpy: its tolist() already gives Python floats
        values = vector.tolist()
        values = values if values and isinstance(values[0], float) else [float(x) for x in values]
    else:
        values = [float(x) for x in vector]
    if len(values) != size:
        raise ValueError(
            f"vector has {len(values)} dimensions, the index expects {size}; "
            "was it made by another embedding model?"
        )
    return values


@runtime_checkable
class VectorIndex(Protocol):
    """What the catalog needs from a vector index. Ids are TMDB ids; vectors are 384-d cosine.

    Until `ensure_collection` has created the collection (or after `drop`), every read or write
    raises `IndexUnavailable` saying to run `make data`; `exists()` tells without raising.
    Transport failures of the server backend are `IndexUnavailable` too.
    """

    name: str  # "qdrant-edge" or "qdrant-server"

    def exists(self) -> bool:
        """Whether the collection exists (it may still be empty)."""

    def ensure_collection(self) -> None:
        """Create the collection and its payload indexes if missing (idempotent)."""

    def upsert(self, points: Iterable[IndexPoint], *, batch_size: int = 256) -> int:
        """Insert or replace points in batches; returns how many were written.

        Durable when it returns: the points survive `close()` and reopening, or a crash.
        A vector of the wrong size raises `ValueError` before anything of its batch is written.
        """

    def delete(self, ids: Iterable[int]) -> int:
        """Delete points by id (missing ids are ignored); returns how many ids were asked."""

    def search(
        self, vector: Sequence[float], *, limit: int = 10, filter: SearchFilter | None = None
    ) -> list[SearchHit]:
        """Nearest neighbours of a vector among the points matching the filter, best first.

        Scores are cosine similarities (1.0 = same direction). A payload value that is missing
        or None never matches a condition on that field (e.g. year=None fails year_min).
        """

    def search_similar(
        self, point_id: int, *, limit: int = 10, filter: SearchFilter | None = None
    ) -> list[SearchHit]:
        """'More like this': neighbours of a stored point's own vector, excluding the point.

        Raises `PointNotFound` (a `KeyError`) when `point_id` is not in the index.
        """

    def count(self, filter: SearchFilter | None = None) -> int:
        """Exact number of points (matching the filter)."""

    def get_vector(self, point_id: int) -> list[float] | None:
        """The stored vector of a point, or None if it is not in the index.

        Cosine collections store vectors normalised to length 1, so this is the unit vector.
        """

    def iter_payloads(self, *, batch_size: int = 1000) -> Iterator[tuple[int, dict[str, Any]]]:
        """Every (id, payload) in the index, for verification against the database."""

    def drop(self) -> None:
        """Delete the whole collection (the next ensure_collection starts empty)."""

    def optimize(self) -> None:
        """Build search structures (HNSW graph) after a bulk upsert; blocks until done.

        The embedded index searches new points by brute force until this runs, which is slow
        at 100k points; the server optimizes in the background, so there it is a no-op.
        """

    def close(self) -> None:
        """Flush and release resources (and the embedded index's file lock)."""
