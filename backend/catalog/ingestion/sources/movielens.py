"""The `movielens` source: a MovieLens folder (movies.csv, links.csv, optional tags and ratings)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from catalog.ingestion.records import MovieRecord, RatingRecord, SkippedRow
from catalog.ingestion.sources.base import SourceError, require_file
from catalog.ingestion.sources.movielens_files import (
    MovieLink,
    iter_ratings,
    read_links,
)
from catalog.ingestion.sources.parsing import CsvRow, id_problem, iter_csv, parse_id
from movie_constraints import normalize_genres

MAX_TAG_KEYWORDS = 10
FILM_NOIR_KEYWORD = "film noir"

# MovieLens moves a leading article to the end ("Matrix, The"); these are the articles its
# titles use, across the languages it lists original titles in.
_ARTICLES = (
    *("The", "A", "An"),  # English
    *("Le", "La", "Les", "L'", "Un", "Une"),  # French
    *("Il", "Lo", "I", "Gli", "Una"),  # Italian
    *("El", "Los", "Las"),  # Spanish
    *("Der", "Die", "Das"),  # German
    *("De", "Den", "Det", "En", "Ett"),  # Dutch and Scandinavian
    *("O", "Os"),  # Portuguese
    "Da",  # "Hip Hop Witch, Da"
)
_INVERTED = re.compile(
    r"^(?P<body>.+?),\s*(?P<article>" + "|".join(map(re.escape, _ARTICLES)) + r")$"
)
_YEAR_SUFFIX = re.compile(r"\s*\((?P<year>\d{4})(?:\s*[-–]\s*(?:\d{4})?)?\)$")
_AKA_PREFIXES = ("a.k.a.", "aka ", "a.k.a ")


class MovieLensSource:
    """Movies from MovieLens movies.csv + links.csv (TMDB ids), tags.csv as keywords, and
    ratings.csv as ratings.

    Options:
      include_ratings: read ratings.csv when present (default True). ml-latest-small's
        ratings.csv is the project's evaluation ground truth: ingest that folder with
        include_ratings=False, or the "more like this" evaluation measures a leak.
    """

    name: ClassVar[str] = "movielens"

    def __init__(self, path: Path | None, *, include_ratings: bool = True) -> None:
        if path is None:
            raise SourceError("The movielens source needs the MovieLens folder (with movies.csv).")
        folder = Path(path)
        if folder.is_file():
            folder = folder.parent
        self.folder = folder
        self.movies_path = require_file(folder / "movies.csv", "MovieLens movies.csv")
        self.links_path = require_file(folder / "links.csv", "MovieLens links.csv (TMDB ids)")
        tags = folder / "tags.csv"
        self.tags_path = tags if tags.is_file() else None
        ratings = folder / "ratings.csv"
        self.ratings_path = ratings if include_ratings and ratings.is_file() else None
        self.has_ratings = self.ratings_path is not None

    def movies(self) -> Iterator[MovieRecord | SkippedRow]:
        links = read_links(self.links_path)
        tags = _read_tags(self.tags_path, links) if self.tags_path else {}
        required = ("movieId", "title", "genres")
        rows = iter_csv(self.movies_path, required=required, what="movies.csv", id_column="movieId")
        for row in rows:
            yield row if isinstance(row, SkippedRow) else _movie(row, links, tags)

    def ratings(self) -> Iterator[RatingRecord | SkippedRow]:
        if self.ratings_path is None:
            return
        links = read_links(self.links_path)
        tmdb_ids = {m: link.tmdb_id for m, link in links.items() if link.tmdb_id is not None}
        yield from iter_ratings(self.ratings_path, tmdb_ids)


def _movie(
    row: CsvRow, links: dict[int, MovieLink], tags: dict[int, tuple[str, ...]]
) -> MovieRecord | SkippedRow:
    raw_id = row.values["movieId"]
    movie_id = parse_id(raw_id)
    if movie_id is None:
        return SkippedRow(id_problem(raw_id), f"movieId {raw_id!r}", row.line)
    link = links.get(movie_id)
    if link is None or link.tmdb_id is None:
        return SkippedRow("missing id", f"movieId {movie_id} has no tmdbId in links.csv", row.line)
    title, original_title, year = parse_movielens_title(row.values["title"])
    if not title:
        return SkippedRow("missing title", f"movieId {movie_id}", row.line)
    labels = row.values["genres"].split("|")
    keywords = tags.get(movie_id, ())
    if "Film-Noir" in labels and FILM_NOIR_KEYWORD not in keywords:
        # Film noir has no TMDB genre; it maps to Crime, so keep the style as a keyword.
        keywords = (FILM_NOIR_KEYWORD, *keywords)
    return MovieRecord(
        tmdb_id=link.tmdb_id,
        title=title,
        original_title=original_title,
        year=year,
        genres=normalize_genres(labels),
        keywords=keywords,
        imdb_id=link.imdb_id,
    )


def parse_movielens_title(raw: str) -> tuple[str, str, int | None]:
    """(title, original_title, year) from a MovieLens title.

    "Matrix, The (1999)" -> ("The Matrix", "", 1999);
    "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)"
      -> ("Amelie", "Le Fabuleux destin d'Amélie Poulain", 2001).
    "(a.k.a. ...)" groups are English aliases, not original titles, and are dropped.
    """
    text = " ".join(raw.split())
    year: int | None = None
    if match := _YEAR_SUFFIX.search(text):
        year = int(match.group("year"))
        text = text[: match.start()].rstrip()
    alternates: list[str] = []  # trailing "(...)" groups, rightmost first
    while text.endswith(")"):
        start = _matching_open(text)
        if start is None or not text[:start].strip():
            break  # unbalanced, or the whole title is parenthesised: keep it as is
        alternates.append(text[start + 1 : -1].strip())
        text = text[:start].rstrip()
    title = uninvert_title(text)
    original = next(
        (alt for alt in alternates if alt and not alt.casefold().startswith(_AKA_PREFIXES)), ""
    )
    original_title = uninvert_title(original)
    if original_title == title:
        original_title = ""
    return title, original_title, year


def uninvert_title(title: str) -> str:
    """'Matrix, The' -> 'The Matrix'; "Auberge espagnole, L'" -> "L'Auberge espagnole"."""
    match = _INVERTED.match(title.strip())
    if not match:
        return title.strip()
    article, body = match.group("article"), match.group("body").strip()
    return f"{article}{body}" if article.endswith("'") else f"{article} {body}"


def _matching_open(text: str) -> int | None:
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        char = text[index]
        if char == ")":
            depth += 1
        elif char == "(":
            depth -= 1
            if depth == 0:
                return index
    return None


def _read_tags(path: Path, links: dict[int, MovieLink]) -> dict[int, tuple[str, ...]]:
    """movieId -> its most used distinct tags (lowercased), most used first, ties by first use."""
    counts: dict[int, Counter[str]] = {}
    rows = iter_csv(path, required=("movieId", "tag"), what="tags.csv", exact_width=False)
    for row in rows:
        if isinstance(row, SkippedRow):
            continue
        movie_id = parse_id(row.values["movieId"])
        link = links.get(movie_id) if movie_id is not None else None
        tag = " ".join(row.values["tag"].casefold().split())
        if movie_id is None or link is None or link.tmdb_id is None or not tag:
            continue  # tags of movies that will be skipped are not worth keeping
        counts.setdefault(movie_id, Counter())[tag] += 1
    return {
        movie_id: tuple(tag for tag, _ in counter.most_common(MAX_TAG_KEYWORDS))
        for movie_id, counter in counts.items()
    }
