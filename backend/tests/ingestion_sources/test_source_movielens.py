"""The movielens source: titles un-inverted, genres mapped, tags as keywords, ratings via links."""

from __future__ import annotations

import shutil

import pytest

from catalog.ingestion.records import MovieRecord, RatingRecord
from catalog.ingestion.sources import SourceError, open_source
from catalog.ingestion.sources.movielens import parse_movielens_title

from .helpers import FIXTURES, partition, reasons, shared_file

FOLDER = FIXTURES / "movielens"


def _movies() -> dict[str, MovieRecord]:
    records, _ = partition(open_source("movielens", FOLDER).movies())
    return {r.title: r for r in records}


def test_inverted_title_year_and_genres() -> None:
    assert _movies()["The Matrix"] == MovieRecord(
        tmdb_id=603,
        title="The Matrix",
        year=1999,
        genres=("Action", "Science Fiction"),
        imdb_id="tt0133093",  # links.csv's zero-padded digits, with "tt"
    )


def test_alternate_title_becomes_original_title() -> None:
    amelie = _movies()["Amelie"]

    assert (amelie.tmdb_id, amelie.year) == (194, 2001)
    assert amelie.original_title == "Le Fabuleux destin d'Amélie Poulain"
    # An "a.k.a." group is an English alias, not the original title.
    leon = _movies()["Léon: The Professional"]
    assert (leon.original_title, leon.year) == ("Léon", 1994)


def test_title_without_year() -> None:
    babylon = _movies()["Babylon 5"]

    assert (babylon.year, babylon.release_date, babylon.genres) == (
        None,
        None,
        ("Science Fiction",),
    )


def test_genre_mapping() -> None:
    movies = _movies()

    assert movies["Toy Story"].genres == ("Adventure", "Animation", "Family", "Comedy", "Fantasy")
    assert movies["The Sound of Music"].genres == ("Music", "Romance", "Family")
    assert movies["Avatar"].genres == ("Action", "Adventure", "Science Fiction")  # IMAX dropped
    assert movies["Untitled Documentary"].genres == ()  # "(no genres listed)"
    falcon = movies["The Maltese Falcon"]
    assert falcon.genres == ("Crime", "Mystery")  # Film-Noir -> Crime ...
    assert falcon.keywords == ("bogart", "film noir")  # ... and the keyword, once


def test_tags_become_keywords_by_frequency() -> None:
    movies = _movies()

    # "Pixar", "pixar", "  PIXAR " count as one tag used three times; empty tags are ignored.
    assert movies["Toy Story"].keywords == ("pixar", "fun", "toys")
    # At most ten: the thrice-used tag12 first, then ties in order of first use.
    assert movies["Avatar"].keywords == ("tag12", *(f"tag{i:02d}" for i in range(1, 10)))
    assert movies["The Matrix"].keywords == ()
    assert all(r.overview == "" for r in movies.values())


def test_skip_reasons() -> None:
    records, skipped = partition(open_source("movielens", FOLDER).movies())

    assert len(records) == 9
    assert [(s.reason, s.line) for s in skipped] == [
        ("missing id", 8),  # movieId 7: links.csv has an empty tmdbId
        ("missing id", 9),  # movieId 8: not in links.csv
        ("invalid id", 11),  # movieId "abc"
        ("missing title", 12),  # title "(2000)"
        ("malformed row", 14),
    ]


def test_ratings_mapped_through_links() -> None:
    source = open_source("movielens", FOLDER)
    ratings, skipped = partition(source.ratings())

    assert source.has_ratings is True
    assert ratings == [
        RatingRecord(user_id=1, tmdb_id=862, rating=4.0, timestamp=964982703),
        RatingRecord(user_id=1, tmdb_id=603, rating=5.0, timestamp=964981247),
    ]
    assert reasons(skipped) == {"unknown movie": 2}


def test_include_ratings_false_reads_no_ratings() -> None:
    source = open_source("movielens", FOLDER, include_ratings=False)

    assert source.has_ratings is False
    assert list(source.ratings()) == []


def test_links_are_required(tmp_path) -> None:
    shutil.copy(FOLDER / "movies.csv", tmp_path / "movies.csv")

    with pytest.raises(SourceError, match=r"links\.csv"):
        open_source("movielens", tmp_path)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Matrix, The (1999)", ("The Matrix", "", 1999)),
        ("Auberge espagnole, L' (2002)", ("L'Auberge espagnole", "", 2002)),
        ("Postman, The (Postino, Il) (1994)", ("The Postman", "Il Postino", 1994)),
        ("Boot, Das (Boat, The) (1981)", ("Das Boot", "The Boat", 1981)),
        ("Twelve Monkeys (a.k.a. 12 Monkeys) (1995)", ("Twelve Monkeys", "", 1995)),
        ("I, Robot (2004)", ("I, Robot", "", 2004)),
        ("Girl, Interrupted (1999)", ("Girl, Interrupted", "", 1999)),
        ("(500) Days of Summer (2009)", ("(500) Days of Summer", "", 2009)),
        ("Death Note: Desu nôto (2006–2007)", ("Death Note: Desu nôto", "", 2006)),
        ("Assembly (Ji jie hao) (2007) ", ("Assembly", "Ji jie hao", 2007)),
        ("Babylon 5", ("Babylon 5", "", None)),
    ],
)
def test_title_parsing(raw: str, expected: tuple[str, str, int | None]) -> None:
    assert parse_movielens_title(raw) == expected


@pytest.mark.realdata
def test_real_ml_latest_small_movies() -> None:
    folder = shared_file("ml-latest-small/movies.csv").parent

    # Its ratings.csv is evaluation ground truth: never ingest it.
    source = open_source("movielens", folder, include_ratings=False)
    records, skipped = partition(source.movies())

    print(f"ml-latest-small: {len(records)} records, skipped {dict(reasons(skipped))}")
    assert len(records) + len(skipped) == 9_742
    assert reasons(skipped) == {"missing id": 8}  # the 8 empty tmdbIds in links.csv
    matrix = next(r for r in records if r.tmdb_id == 603)
    assert (matrix.title, matrix.year, matrix.genres) == (
        "The Matrix",
        1999,
        ("Action", "Science Fiction", "Thriller"),
    )
    assert source.has_ratings is False
