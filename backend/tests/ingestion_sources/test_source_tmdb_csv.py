"""The tmdb-csv source: Kaggle's top-10k TMDB CSV, from a fixture and the real file if present."""

from __future__ import annotations

from datetime import date

import pytest

from catalog.ingestion.records import MovieRecord
from catalog.ingestion.sources import SourceError, open_source
from movie_constraints import GENRES

from .helpers import FIXTURES, partition, reasons, shared_file

FOLDER = FIXTURES / "tmdb_csv"
CSV = FOLDER / "top-movies.csv"


def test_rows_become_normalised_records() -> None:
    records, _ = partition(open_source("tmdb-csv", CSV).movies())

    assert records[0] == MovieRecord(
        tmdb_id=278,
        title="The Shawshank Redemption",
        year=1994,
        release_date=date(1994, 9, 23),
        genres=("Drama", "Crime"),
        overview="Framed in the 1940s for a double murder, a banker begins a new life in prison.",
        original_language="en",
        popularity=94.075,
        vote_average=8.7,
        vote_count=21862,
    )
    dilwale = records[1]
    assert dilwale.title == "Dilwale Dulhania Le Jayenge"  # padded title stripped
    assert dilwale.overview == "Raj and Simran meet on a trip\nacross Europe."  # quoted newline


def test_defensive_numbers_dates_and_genres() -> None:
    records, _ = partition(open_source("tmdb-csv", CSV).movies())
    by_id = {r.tmdb_id: r for r in records}

    star_wars = by_id[11]
    assert star_wars.genres == ("Adventure", "Action", "Science Fiction")  # spaces around names
    assert (star_wars.year, star_wars.release_date) == (1977, None)  # year-only date
    assert (star_wars.popularity, star_wars.vote_average, star_wars.vote_count) == (None,) * 3
    assert star_wars.overview == ""
    assert (by_id[500].genres, by_id[500].year) == ((), None)
    assert by_id[510].genres == ("TV Movie", "Family")  # unknown genre label dropped


def test_bad_rows_are_skipped_with_reasons() -> None:
    records, skipped = partition(open_source("tmdb-csv", CSV).movies())

    assert [r.tmdb_id for r in records] == [278, 19404, 11, 500, 510]
    # Line numbers are physical lines: the Dilwale row spans lines 3-4.
    assert [(s.reason, s.line) for s in skipped] == [
        ("malformed row", 8),
        ("invalid id", 9),
        ("missing id", 10),
        ("missing title", 11),
    ]
    assert reasons(skipped) == {
        "malformed row": 1,
        "invalid id": 1,
        "missing id": 1,
        "missing title": 1,
    }


def test_folder_with_one_csv_is_accepted() -> None:
    source = open_source("tmdb-csv", FOLDER)

    assert source.path == CSV
    assert source.has_ratings is False
    assert list(source.ratings()) == []


def test_folder_with_zero_or_two_csvs_is_refused(tmp_path) -> None:
    with pytest.raises(SourceError, match=r"exactly one \.csv file .* found none"):
        open_source("tmdb-csv", tmp_path)
    (tmp_path / "a.csv").write_text("id,title\n")
    (tmp_path / "b.csv").write_text("id,title\n")
    with pytest.raises(SourceError, match=r"found a\.csv, b\.csv"):
        open_source("tmdb-csv", tmp_path)


def test_missing_path_and_wrong_file_are_refused(tmp_path) -> None:
    with pytest.raises(SourceError, match="not found"):
        open_source("tmdb-csv", tmp_path / "absent.csv")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("movieId,name\n1,Toy Story\n", encoding="utf-8")
    with pytest.raises(SourceError, match="lacks the column"):
        list(open_source("tmdb-csv", wrong).movies())


@pytest.mark.realdata
def test_real_top10k_file_parses_completely() -> None:
    path = shared_file("tmdb-top10k/top10K-TMDB-movies.csv")

    records, skipped = partition(open_source("tmdb-csv", path.parent).movies())

    print(f"tmdb-top10k: {len(records)} records, skipped {dict(reasons(skipped))}")
    assert (len(records), skipped) == (10_000, [])
    assert len({r.tmdb_id for r in records}) == 10_000
    assert sum(1 for r in records if r.overview) == 9_987  # as SOURCES.md documents
    assert records[0].title == "The Shawshank Redemption"
    assert all(set(r.genres) <= set(GENRES) for r in records)
