"""The `tmdb-csv` source: Kaggle's "Top 10000 popular Movies TMDB" CSV (top10K-TMDB-movies.csv)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from catalog.ingestion.records import MovieRecord, RatingRecord, SkippedRow
from catalog.ingestion.sources.base import SourceError
from catalog.ingestion.sources.parsing import (
    CsvRow,
    clean_text,
    id_problem,
    iter_csv,
    parse_date,
    parse_float,
    parse_id,
    parse_int,
    release_year,
)
from movie_constraints import normalize_genres

COLUMNS = (
    "id",
    "title",
    "genre",
    "original_language",
    "overview",
    "popularity",
    "release_date",
    "vote_average",
    "vote_count",
)
REQUIRED_COLUMNS = ("id", "title")


class TmdbCsvSource:
    """Movies from a TMDB CSV with COLUMNS (genre holds comma-joined TMDB genre names).

    path is the CSV itself or a folder holding exactly one .csv file.
    """

    name: ClassVar[str] = "tmdb-csv"
    has_ratings = False

    def __init__(self, path: Path | None) -> None:
        if path is None:
            raise SourceError("The tmdb-csv source needs the path of the CSV (or its folder).")
        self.path = _resolve_csv(Path(path))

    def movies(self) -> Iterator[MovieRecord | SkippedRow]:
        for row in iter_csv(self.path, required=REQUIRED_COLUMNS, what="TMDB CSV", id_column="id"):
            yield row if isinstance(row, SkippedRow) else _movie(row)

    def ratings(self) -> Iterator[RatingRecord | SkippedRow]:
        return iter(())


def _resolve_csv(path: Path) -> Path:
    if path.is_file():
        return path
    if not path.is_dir():
        raise SourceError(f"TMDB CSV not found at {path}. Check the DATA path you passed.")
    found = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise SourceError(
            f"Expected exactly one .csv file in {path} for the tmdb-csv source, found {names}. "
            "Pass the CSV file itself."
        )
    return found[0]


def _movie(row: CsvRow) -> MovieRecord | SkippedRow:
    values = row.values
    raw_id = values["id"]
    tmdb_id = parse_id(raw_id)
    if tmdb_id is None:
        return SkippedRow(id_problem(raw_id), f"id {raw_id!r}", row.line)
    title = clean_text(values["title"])
    if not title:
        return SkippedRow("missing title", f"id {tmdb_id}", row.line)
    released = parse_date(values.get("release_date"))
    return MovieRecord(
        tmdb_id=tmdb_id,
        title=title,
        year=release_year(released, values.get("release_date")),
        release_date=released,
        genres=normalize_genres(values.get("genre", "").split(",")),
        overview=clean_text(values.get("overview")),
        original_language=clean_text(values.get("original_language")),
        popularity=parse_float(values.get("popularity")),
        vote_average=parse_float(values.get("vote_average")),
        vote_count=parse_int(values.get("vote_count")),
    )
