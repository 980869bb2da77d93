"""The `ratings` source: MovieLens-format ratings plus their links file, without movies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from catalog.ingestion.records import MovieRecord, RatingRecord, SkippedRow
from catalog.ingestion.sources.base import SourceError
from catalog.ingestion.sources.movielens_files import (
    LINKS_FILES,
    RATINGS_FILES,
    find_first,
    iter_ratings,
    pick_file,
    read_tmdb_links,
)


class RatingsSource:
    """Ratings (userId,movieId,rating,timestamp) keyed by TMDB id through links.csv.

    path is a folder holding ratings_small.csv or ratings.csv and links.csv or links_small.csv,
    or a ratings file with the links file beside it. Ratings of movies the catalog lacks are
    the ingestion service's to skip. Do not point this at ml-latest-small: its ratings.csv is
    the evaluation ground truth (data/README.md); the source cannot tell and does not guess.

    Options:
      ratings_file: the ratings file name inside the folder (default ratings_small.csv, else
        ratings.csv).
    """

    name: ClassVar[str] = "ratings"
    has_ratings = True

    def __init__(self, path: Path | None, *, ratings_file: str | None = None) -> None:
        if path is None:
            raise SourceError("The ratings source needs a folder with ratings and links CSVs.")
        target = Path(path)
        if target.is_file():
            self.ratings_path = target
            folder = target.parent
        elif target.is_dir():
            folder = target
            found = pick_file(folder, RATINGS_FILES, ratings_file, "Ratings file")
            if found is None:
                raise SourceError(
                    f"No ratings file in {folder}: expected {' or '.join(RATINGS_FILES)}."
                )
            self.ratings_path = found
        else:
            raise SourceError(f"Ratings not found at {target}. Check the DATA path you passed.")
        links = find_first(folder, LINKS_FILES)
        if links is None:
            raise SourceError(
                f"No links file beside {self.ratings_path}: expected {' or '.join(LINKS_FILES)} "
                "(MovieLens movieIds need it to map to TMDB ids)."
            )
        self.links_path = links

    def movies(self) -> Iterator[MovieRecord | SkippedRow]:
        return iter(())

    def ratings(self) -> Iterator[RatingRecord | SkippedRow]:
        yield from iter_ratings(self.ratings_path, read_tmdb_links(self.links_path))
