"""The `movies-dataset` source: Kaggle's "The Movies Dataset" folder (metadata, keywords, credits,
links and MovieLens ratings)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from catalog.ingestion.records import MovieRecord, RatingRecord, SkippedRow
from catalog.ingestion.sources.base import SourceError, require_file
from catalog.ingestion.sources.movielens_files import (
    LINKS_FILES,
    RATINGS_FILES,
    find_first,
    iter_ratings,
    pick_file,
    read_tmdb_links,
)
from catalog.ingestion.sources.parsing import (
    CsvRow,
    clean_text,
    director_name,
    id_problem,
    iter_csv,
    literal_names,
    parse_date,
    parse_float,
    parse_id,
    parse_int,
    parse_literal,
    parse_positive_int,
    release_year,
    top_cast,
)
from movie_constraints import normalize_genres

METADATA_FILE = "movies_metadata.csv"
KEYWORDS_FILE = "keywords.csv"
CREDITS_FILE = "credits.csv"
CAST_SIZE = 5


class MoviesDatasetSource:
    """Movies from movies_metadata.csv, enriched from keywords.csv and credits.csv when present;
    ratings from ratings_small.csv (or ratings.csv) mapped to TMDB ids through links.csv (or
    links_small.csv).

    Options:
      include_ratings: read ratings when the folder has them (default True).
      ratings_file: a ratings file name in the folder, e.g. "ratings.csv" for the full 26M rows
        (default: ratings_small.csv, else ratings.csv).
    """

    name: ClassVar[str] = "movies-dataset"

    def __init__(
        self,
        path: Path | None,
        *,
        include_ratings: bool = True,
        ratings_file: str | None = None,
    ) -> None:
        if path is None:
            raise SourceError("The movies-dataset source needs the folder of The Movies Dataset.")
        folder = Path(path)
        if folder.is_file() and folder.name == METADATA_FILE:
            folder = folder.parent
        self.folder = folder
        self.metadata_path = require_file(folder / METADATA_FILE, "The Movies Dataset metadata")
        self.keywords_path = find_first(folder, (KEYWORDS_FILE,))
        self.credits_path = find_first(folder, (CREDITS_FILE,))
        self.ratings_path = (
            pick_file(folder, RATINGS_FILES, ratings_file, "Ratings file")
            if include_ratings
            else None
        )
        self.links_path = find_first(folder, LINKS_FILES)
        if self.ratings_path is not None and self.links_path is None:
            raise SourceError(
                f"{self.ratings_path.name} in {folder} uses MovieLens movieIds, which need "
                f"links.csv or links_small.csv beside it to map to TMDB ids. Add the links file "
                "or pass include_ratings=False."
            )
        self.has_ratings = self.ratings_path is not None

    def movies(self) -> Iterator[MovieRecord | SkippedRow]:
        # Keywords and credits are large; load only what the metadata's movies need.
        wanted = self._metadata_ids()
        keywords = _read_keywords(self.keywords_path, wanted) if self.keywords_path else {}
        credits = _read_credits(self.credits_path, wanted) if self.credits_path else {}
        for row in self._metadata_rows():
            yield row if isinstance(row, SkippedRow) else _movie(row, keywords, credits)

    def ratings(self) -> Iterator[RatingRecord | SkippedRow]:
        if self.ratings_path is None or self.links_path is None:
            return
        yield from iter_ratings(self.ratings_path, read_tmdb_links(self.links_path))

    def _metadata_rows(self) -> Iterator[CsvRow | SkippedRow]:
        return iter_csv(
            self.metadata_path, required=("id", "title"), what="Movies metadata", id_column="id"
        )

    def _metadata_ids(self) -> set[int]:
        ids: set[int] = set()
        for row in self._metadata_rows():
            if isinstance(row, CsvRow) and (tmdb_id := parse_id(row.values["id"])) is not None:
                ids.add(tmdb_id)
        return ids


def _movie(
    row: CsvRow,
    keywords: dict[int, tuple[str, ...]],
    credits: dict[int, tuple[str, tuple[str, ...]]],
) -> MovieRecord | SkippedRow:
    values = row.values
    raw_id = values["id"]
    tmdb_id = parse_id(raw_id)
    if tmdb_id is None:
        return SkippedRow(id_problem(raw_id), f"id {raw_id!r}", row.line)
    title = clean_text(values["title"])
    if not title:
        return SkippedRow("missing title", f"id {tmdb_id}", row.line)
    released = parse_date(values.get("release_date"))
    director, cast = credits.get(tmdb_id, ("", ()))
    return MovieRecord(
        tmdb_id=tmdb_id,
        title=title,
        original_title=clean_text(values.get("original_title")),
        year=release_year(released, values.get("release_date")),
        release_date=released,
        genres=normalize_genres(literal_names(values.get("genres", ""))),
        overview=clean_text(values.get("overview")),
        original_language=clean_text(values.get("original_language")),
        runtime=parse_positive_int(values.get("runtime")),
        popularity=parse_float(values.get("popularity")),
        vote_average=parse_float(values.get("vote_average")),
        vote_count=parse_int(values.get("vote_count")),
        poster_path=clean_text(values.get("poster_path")),
        keywords=keywords.get(tmdb_id, ()),
        cast=cast,
        director=director,
        imdb_id=clean_text(values.get("imdb_id")),
    )


def _read_keywords(path: Path, wanted: set[int]) -> dict[int, tuple[str, ...]]:
    """id -> keyword names, for ids in wanted (first row wins when an id repeats)."""
    out: dict[int, tuple[str, ...]] = {}
    for row in iter_csv(path, required=("id", "keywords"), what="Keywords file"):
        if isinstance(row, SkippedRow):
            continue
        tmdb_id = parse_id(row.values["id"])
        if tmdb_id in wanted and tmdb_id not in out:
            out[tmdb_id] = literal_names(row.values["keywords"])
    return out


def _read_credits(path: Path, wanted: set[int]) -> dict[int, tuple[str, tuple[str, ...]]]:
    """id -> (director, first CAST_SIZE cast names by billing order), for ids in wanted."""
    out: dict[int, tuple[str, tuple[str, ...]]] = {}
    for row in iter_csv(path, required=("id", "cast", "crew"), what="Credits file"):
        if isinstance(row, SkippedRow):
            continue
        tmdb_id = parse_id(row.values["id"])
        if tmdb_id in wanted and tmdb_id not in out:
            director = _director_from_crew_text(row.values["crew"])
            out[tmdb_id] = (director, top_cast(parse_literal(row.values["cast"]), CAST_SIZE))
    return out


# One flat crew entry naming the director. Crew lists are the bulk of credits.csv (~190 MB);
# parsing only these entries instead of whole lists makes reading it several times faster.
_DIRECTOR_ENTRY = re.compile(r"\{[^{}]*'job': 'Director'[^{}]*\}")


def _director_from_crew_text(text: str) -> str:
    for match in _DIRECTOR_ENTRY.finditer(text):
        entry = parse_literal(match.group(0))
        if isinstance(entry, dict) and (name := clean_text(entry.get("name"))):
            return name
    if "'Director'" in text:  # an entry the pattern cannot cut out (braces in a string)
        return director_name(parse_literal(text))
    return ""
