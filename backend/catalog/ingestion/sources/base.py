"""The interface every catalog source implements, and the error it raises on unusable input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Protocol

from catalog.ingestion.records import MovieRecord, RatingRecord, SkippedRow


class SourceError(Exception):
    """The source cannot be read at all (missing file, wrong format); says what to do."""


class CatalogSource(Protocol):
    """A catalog source: movies first, then (optionally) ratings keyed by TMDB id.

    Sources only parse and normalise. Duplicate ids across rows, database writes, embedding and
    indexing are the ingestion service's job, so every source gets them the same way.
    """

    name: ClassVar[str]
    has_ratings: bool

    def movies(self) -> Iterator[MovieRecord | SkippedRow]: ...

    def ratings(self) -> Iterator[RatingRecord | SkippedRow]:
        """Ratings; an empty iterator when the source has none."""
        ...


def require_file(path: Path, what: str) -> Path:
    """Return path if it is a readable file, else raise SourceError naming what was expected."""
    if not path.is_file():
        raise SourceError(f"{what} not found at {path}. Check the DATA path you passed.")
    return path
