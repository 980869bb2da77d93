"""The movies-dataset source: Kaggle's The Movies Dataset, malformed rows included."""

from __future__ import annotations

import csv
import shutil
from datetime import date

import pytest

from catalog.ingestion.records import MovieRecord, RatingRecord
from catalog.ingestion.sources import SourceError, open_source
from catalog.ingestion.sources.movies_dataset import _director_from_crew_text, _read_keywords

from .helpers import FIXTURES, partition, reasons, shared_file


def test_metadata_row_enriched_with_keywords_and_credits(kaggle_folder) -> None:
    records, _ = partition(open_source("movies-dataset", kaggle_folder).movies())

    assert records[0] == MovieRecord(
        tmdb_id=862,
        title="Toy Story",
        original_title="Toy Story",
        year=1995,
        release_date=date(1995, 10, 30),
        genres=("Animation", "Comedy", "Family"),
        overview=(
            "Toys that come alive when nobody watches squabble over a shiny new astronaut "
            "figure, then team up to get home."
        ),
        original_language="en",
        runtime=81,
        popularity=21.946943,
        vote_average=7.7,
        vote_count=5415,
        poster_path="/rhIRbceoE9lR4veEXuwCC2wARtG.jpg",
        keywords=("jealousy", "toy", "boy", "friendship"),  # the repeated id's row is ignored
        # First five by billing `order`, not file order; Wallace Shawn (order 5) is sixth.
        cast=("Tom Hanks", "Tim Allen", "John Ratzenberger", "Don Rickles", "Jim Varney"),
        director="John Lasseter",  # the crew's Director, not its Screenplay writer
        imdb_id="tt0114709",
    )


def test_empty_overview_stays_empty_and_broken_enrichment_is_tolerated(kaggle_folder) -> None:
    records, _ = partition(open_source("movies-dataset", kaggle_folder).movies())
    jumanji = records[1]

    assert jumanji.overview == ""
    assert jumanji.keywords == ()  # its keywords literal is truncated
    assert jumanji.director == "Joe O'Johnston"  # the Producer before him is not picked
    assert jumanji.cast == ("Robin Williams",)


def test_unknown_values_become_none_or_empty(kaggle_folder) -> None:
    records, _ = partition(open_source("movies-dataset", kaggle_folder).movies())
    by_id = {r.tmdb_id: r for r in records}

    nothing = by_id[4100]
    assert nothing.title == "Nothing Known"
    assert nothing.overview == "Spaces around."
    assert (nothing.year, nothing.release_date, nothing.runtime) == (None, None, None)  # 0.0
    assert (nothing.popularity, nothing.vote_average, nothing.vote_count) == (None, None, None)
    assert (nothing.poster_path, nothing.imdb_id, nothing.genres) == ("", "", ())
    broken = by_id[4200]
    assert (broken.genres, broken.runtime, broken.cast, broken.director) == ((), 96, (), "")
    hostile = by_id[4300]  # id "4300.0"; genres is code, which must not run
    assert (hostile.genres, hostile.year, hostile.release_date) == ((), 1999, None)


def test_shifted_and_bad_rows_are_skipped_duplicates_are_not(kaggle_folder) -> None:
    records, skipped = partition(open_source("movies-dataset", kaggle_folder).movies())

    assert [r.tmdb_id for r in records] == [862, 8844, 862, 4100, 4200, 4300]
    assert records[2].title == "Toy Story (duplicate)"  # duplicates are the service's job
    assert [(s.reason, s.line) for s in skipped] == [
        ("malformed row", 4),  # first half of a record broken over two lines
        ("malformed row", 5),  # second half: shifted, its `id` field is "1997-08-20"
        ("invalid id", 6),
        ("missing title", 7),
    ]
    assert "id field '1997-08-20'" in skipped[1].detail


def test_ratings_are_mapped_to_tmdb_ids_through_links_csv(kaggle_folder) -> None:
    source = open_source("movies-dataset", kaggle_folder)
    ratings, skipped = partition(source.ratings())

    assert source.has_ratings is True
    # links.csv wins over links_small.csv (which maps movieId 1 to 999999); CRLF handled.
    assert ratings == [
        RatingRecord(user_id=1, tmdb_id=862, rating=4.0, timestamp=964982703),
        RatingRecord(user_id=1, tmdb_id=8844, rating=3.5, timestamp=964981247),
        RatingRecord(user_id=1, tmdb_id=31357, rating=5.0, timestamp=964982224),
        RatingRecord(user_id=4, tmdb_id=8844, rating=2.5, timestamp=None),
    ]
    assert [(s.reason, s.line) for s in skipped] == [
        ("unknown movie", 5),  # movieId 3: empty tmdbId in links.csv
        ("unknown movie", 6),  # movieId 77: not in links.csv
        ("invalid rating", 7),
        ("invalid id", 8),  # userId "x"
    ]


def test_links_small_is_used_when_links_csv_is_absent(kaggle_folder, tmp_path) -> None:
    for name in ("movies_metadata.csv", "links_small.csv", "ratings_small.csv"):
        shutil.copy(kaggle_folder / name, tmp_path / name)

    ratings, _ = partition(open_source("movies-dataset", tmp_path).ratings())

    assert [r.tmdb_id for r in ratings] == [999999, 8844, 8844]


def test_metadata_alone_is_enough(kaggle_folder, tmp_path) -> None:
    shutil.copy(kaggle_folder / "movies_metadata.csv", tmp_path / "movies_metadata.csv")

    source = open_source("movies-dataset", tmp_path / "movies_metadata.csv")
    records, _ = partition(source.movies())

    assert source.has_ratings is False
    assert list(source.ratings()) == []
    assert (records[0].keywords, records[0].cast, records[0].director) == ((), (), "")


def test_ratings_options_and_errors(kaggle_folder, tmp_path) -> None:
    assert open_source("movies-dataset", kaggle_folder, include_ratings=False).has_ratings is False
    with pytest.raises(SourceError, match=r"'ratings\.csv' not found"):
        open_source("movies-dataset", kaggle_folder, ratings_file="ratings.csv")
    for name in ("movies_metadata.csv", "ratings_small.csv"):
        shutil.copy(kaggle_folder / name, tmp_path / name)
    with pytest.raises(SourceError, match=r"links\.csv or links_small\.csv"):
        open_source("movies-dataset", tmp_path)
    with pytest.raises(SourceError, match="metadata not found"):
        open_source("movies-dataset", FIXTURES / "movielens")


def test_enrichment_is_loaded_only_for_catalog_ids(kaggle_folder) -> None:
    keywords = _read_keywords(kaggle_folder / "keywords.csv", wanted={862, 4200})

    assert keywords == {862: ("jealousy", "toy", "boy", "friendship"), 4200: ()}


def test_credits_fields_larger_than_csv_default_limit(kaggle_folder, tmp_path) -> None:
    shutil.copy(kaggle_folder / "movies_metadata.csv", tmp_path / "movies_metadata.csv")
    cast = [{"name": f"Actor {i}", "order": i, "character": "x" * 200} for i in range(1000)]
    assert len(repr(cast)) > 131_072  # csv's default field_size_limit
    with (tmp_path / "credits.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["cast", "crew", "id"])
        writer.writerow([repr(cast), "[{'job': 'Director', 'name': 'Big Crew'}]", "862"])

    records, _ = partition(open_source("movies-dataset", tmp_path).movies())

    assert records[0].cast == ("Actor 0", "Actor 1", "Actor 2", "Actor 3", "Actor 4")
    assert records[0].director == "Big Crew"


@pytest.mark.parametrize(
    ("crew", "director"),
    [
        ([{"job": "Producer", "name": "P"}, {"job": "Director", "name": "D. O'Neil"}], "D. O'Neil"),
        ([{"job": "Director", "name": "Braces {in} Name"}], "Braces {in} Name"),  # slow path
        ([{"job": "Director", "name": ""}, {"job": "Director", "name": "Second"}], "Second"),
        ([{"job": "Writer", "name": "W"}], ""),
        ("not a literal", ""),
    ],
)
def test_director_from_crew_text(crew, director: str) -> None:
    text = crew if isinstance(crew, str) else repr(crew)

    assert _director_from_crew_text(text) == director


@pytest.mark.realdata
def test_real_partial_metadata_file() -> None:
    path = shared_file("the-movies-dataset/partial/movies_metadata.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        csv_rows = sum(1 for _ in csv.reader(handle)) - 1  # minus the header

    records, skipped = partition(open_source("movies-dataset", path.parent).movies())

    counts = reasons(skipped)
    print(
        f"partial movies_metadata.csv: {csv_rows} rows, {len(records)} records, "
        f"skipped {dict(counts)}"
    )
    assert csv_rows == 2_996
    assert len(records) + len(skipped) == csv_rows
    assert all(s.reason for s in skipped)
    assert records[0].title == "Toy Story"
    assert records[0].genres == ("Animation", "Comedy", "Family")
    # The file repeats one id (105045); the source yields both rows.
    assert sum(1 for r in records if r.tmdb_id == 105045) == 2
