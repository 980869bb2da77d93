"""Readers for MovieLens links and ratings CSVs, shared by the movielens, movies-dataset and
ratings sources (MovieLens movieIds reach TMDB ids only through links)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from catalog.ingestion.records import RatingRecord, SkippedRow
from catalog.ingestion.sources.base import SourceError
from catalog.ingestion.sources.parsing import (
    CsvRow,
    id_problem,
    iter_csv,
    parse_float,
    parse_id,
    parse_int,
)

# Preference order when a folder holds both: links.csv covers every movie, links_small.csv a
# subset; ratings_small.csv (100k rows) is the Kaggle default, ratings.csv (26M rows) opt-in.
LINKS_FILES = ("links.csv", "links_small.csv")
RATINGS_FILES = ("ratings_small.csv", "ratings.csv")


@dataclass(frozen=True, slots=True)
class MovieLink:
    """One links.csv row: the TMDB id (None when MovieLens has none) and the IMDb id."""

    tmdb_id: int | None
    imdb_id: str


def find_first(folder: Path, names: Sequence[str]) -> Path | None:
    """The first of names that exists as a file in folder."""
    for name in names:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def pick_file(folder: Path, names: Sequence[str], chosen: str | None, what: str) -> Path | None:
    """folder/chosen when the caller named a file (it must exist), else the first of names."""
    if chosen is None:
        return find_first(folder, names)
    path = folder / chosen
    if not path.is_file():
        raise SourceError(f"{what} {chosen!r} not found in {folder}.")
    return path


def imdb_tt(raw: str) -> str:
    """MovieLens stores IMDb ids as zero-padded digits without "tt"; TMDB uses "tt0114709"."""
    text = raw.strip()
    if not text:
        return ""
    if text.startswith("tt"):
        return text
    return f"tt{text.zfill(7)}" if text.isdigit() else ""


def read_links(path: Path) -> dict[int, MovieLink]:
    """movieId -> MovieLink for every row with a valid movieId (rows without one are ignored)."""
    links: dict[int, MovieLink] = {}
    for row in iter_csv(path, required=("movieId", "tmdbId"), what="Links file", exact_width=False):
        if isinstance(row, SkippedRow):
            continue
        movie_id = parse_id(row.values["movieId"])
        if movie_id is None or movie_id in links:
            continue
        links[movie_id] = MovieLink(
            tmdb_id=parse_id(row.values["tmdbId"]),
            imdb_id=imdb_tt(row.values.get("imdbId", "")),
        )
    return links


def read_tmdb_links(path: Path) -> dict[int, int]:
    """movieId -> tmdbId, leaving out movies MovieLens could not link to TMDB."""
    return {
        movie_id: link.tmdb_id
        for movie_id, link in read_links(path).items()
        if link.tmdb_id is not None
    }


def iter_ratings(path: Path, tmdb_ids: dict[int, int]) -> Iterator[RatingRecord | SkippedRow]:
    """Ratings from a MovieLens ratings CSV (userId,movieId,rating,timestamp) keyed by TMDB id.

    A rating of a movieId without a TMDB link is SkippedRow "unknown movie".
    """
    required = ("userId", "movieId", "rating")
    for row in iter_csv(path, required=required, what="Ratings file", exact_width=False):
        if isinstance(row, SkippedRow):
            yield row
        else:
            yield _rating(row, tmdb_ids)


def _rating(row: CsvRow, tmdb_ids: dict[int, int]) -> RatingRecord | SkippedRow:
    values = row.values
    user_id = parse_id(values["userId"])
    if user_id is None:
        raw = values["userId"]
        return SkippedRow(id_problem(raw), f"userId {raw!r}", row.line)
    movie_id = parse_id(values["movieId"])
    if movie_id is None:
        raw = values["movieId"]
        return SkippedRow(id_problem(raw), f"movieId {raw!r}", row.line)
    rating = parse_float(values["rating"])
    if rating is None:
        return SkippedRow("invalid rating", f"rating {values['rating']!r}", row.line)
    tmdb_id = tmdb_ids.get(movie_id)
    if tmdb_id is None:
        return SkippedRow("unknown movie", f"movieId {movie_id} has no TMDB link", row.line)
    return RatingRecord(
        user_id=user_id,
        tmdb_id=tmdb_id,
        rating=rating,
        timestamp=parse_int(values.get("timestamp", "")),
    )
