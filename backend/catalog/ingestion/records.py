"""Plain records that catalog sources yield; the ingestion service turns them into rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class MovieRecord:
    """One movie as a source describes it, already normalised (genres in the catalog vocabulary)."""

    tmdb_id: int
    title: str
    original_title: str = ""
    year: int | None = None
    release_date: date | None = None
    genres: tuple[str, ...] = ()
    overview: str = ""
    original_language: str = ""
    runtime: int | None = None
    popularity: float | None = None
    vote_average: float | None = None
    vote_count: int | None = None
    poster_path: str = ""
    keywords: tuple[str, ...] = ()
    cast: tuple[str, ...] = ()
    director: str = ""
    imdb_id: str = ""


@dataclass(frozen=True, slots=True)
class RatingRecord:
    """One user's rating of one movie (collaborative signal), keyed by TMDB id."""

    user_id: int
    tmdb_id: int
    rating: float
    timestamp: int | None = None


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A row a source could not turn into a record, with the reason shown in the summary."""

    reason: str  # short and countable: "malformed row", "missing title", "missing id", ...
    detail: str = ""
    line: int | None = None
