"""The `jsonl` source: Marquee's own catalog schema, one JSON object per line, and its export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from catalog.ingestion.records import MovieRecord, RatingRecord, SkippedRow
from catalog.ingestion.sources.base import SourceError, require_file
from catalog.ingestion.sources.parsing import (
    clean_names,
    clean_text,
    id_problem,
    parse_date,
    parse_float,
    parse_id,
    parse_int,
    parse_positive_int,
    release_year,
)
from movie_constraints import normalize_genres

# The schema's keys in export order. Unknown keys in input are ignored.
JSONL_KEYS = (
    "tmdb_id",
    "title",
    "original_title",
    "year",
    "release_date",
    "genres",
    "original_language",
    "runtime",
    "director",
    "cast",
    "keywords",
    "overview",
    "popularity",
    "vote_average",
    "vote_count",
    "poster_path",
    "imdb_id",
)


class JsonlSource:
    """Movies from a JSON Lines file in the project's schema (see JSONL_KEYS)."""

    name: ClassVar[str] = "jsonl"
    has_ratings = False

    def __init__(self, path: Path | None) -> None:
        if path is None:
            raise SourceError("The jsonl source needs the path of a .jsonl file.")
        self.path = require_file(Path(path), "JSON Lines catalog")

    def movies(self) -> Iterator[MovieRecord | SkippedRow]:
        try:
            with self.path.open(encoding="utf-8-sig") as handle:
                for line_number, line in enumerate(handle, start=1):
                    if line.strip():
                        yield parse_jsonl_line(line, line_number)
        except UnicodeDecodeError as exc:
            raise SourceError(f"{self.path} is not UTF-8 text; re-save it as UTF-8.") from exc

    def ratings(self) -> Iterator[RatingRecord | SkippedRow]:
        return iter(())


def parse_jsonl_line(line: str, line_number: int | None = None) -> MovieRecord | SkippedRow:
    """One line of the schema as a MovieRecord, or the reason it cannot be one."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        return SkippedRow("malformed row", f"invalid JSON: {exc}", line_number)
    if not isinstance(data, dict):
        detail = f"expected a JSON object, got {type(data).__name__}"
        return SkippedRow("malformed row", detail, line_number)
    return movie_record_from_json(data, line_number)


def movie_record_from_json(
    data: dict[str, Any], line_number: int | None = None
) -> MovieRecord | SkippedRow:
    """A MovieRecord from a dict in the schema; numbers that do not parse become None."""
    raw_id = data.get("tmdb_id")
    tmdb_id = parse_id(raw_id)
    if tmdb_id is None:
        return SkippedRow(id_problem(raw_id), f"tmdb_id {raw_id!r}", line_number)
    title = clean_text(data.get("title"))
    if not title:
        return SkippedRow("missing title", f"tmdb_id {tmdb_id}", line_number)
    released = parse_date(data.get("release_date"))
    return MovieRecord(
        tmdb_id=tmdb_id,
        title=title,
        original_title=clean_text(data.get("original_title")),
        year=release_year(released, data.get("year")),
        release_date=released,
        genres=normalize_genres(_strings(data.get("genres"), split_commas=True)),
        overview=clean_text(data.get("overview")),
        original_language=clean_text(data.get("original_language")),
        runtime=parse_positive_int(data.get("runtime")),
        popularity=parse_float(data.get("popularity")),
        vote_average=parse_float(data.get("vote_average")),
        vote_count=parse_int(data.get("vote_count")),
        poster_path=clean_text(data.get("poster_path")),
        keywords=clean_names(_strings(data.get("keywords"))),
        cast=clean_names(_strings(data.get("cast"))),
        director=clean_text(data.get("director")),
        imdb_id=clean_text(data.get("imdb_id")),
    )


def _strings(value: object, *, split_commas: bool = False) -> list[str]:
    """A JSON list of strings; a lone string counts as one item (or a comma-joined list)."""
    if isinstance(value, str):
        return value.split(",") if split_commas else [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def movie_record_to_json(record: MovieRecord) -> dict[str, Any]:
    """The schema's dict for a record (the inverse of movie_record_from_json), for export."""
    return {
        "tmdb_id": record.tmdb_id,
        "title": record.title,
        "original_title": record.original_title,
        "year": record.year,
        "release_date": record.release_date.isoformat() if record.release_date else None,
        "genres": list(record.genres),
        "original_language": record.original_language,
        "runtime": record.runtime,
        "director": record.director,
        "cast": list(record.cast),
        "keywords": list(record.keywords),
        "overview": record.overview,
        "popularity": record.popularity,
        "vote_average": record.vote_average,
        "vote_count": record.vote_count,
        "poster_path": record.poster_path,
        "imdb_id": record.imdb_id,
    }
