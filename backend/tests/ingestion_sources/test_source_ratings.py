"""The ratings source: MovieLens ratings keyed by TMDB id through a links file, no movies."""

from __future__ import annotations

import shutil

import pytest

from catalog.ingestion.records import RatingRecord
from catalog.ingestion.sources import SourceError, open_source

from .helpers import FIXTURES, partition, reasons, shared_file


def test_folder_ratings_are_mapped_and_movies_are_empty(kaggle_folder) -> None:
    source = open_source("ratings", kaggle_folder)
    ratings, skipped = partition(source.ratings())

    assert source.has_ratings is True
    assert list(source.movies()) == []
    assert source.ratings_path.name == "ratings_small.csv"
    assert source.links_path.name == "links.csv"  # preferred over links_small.csv
    assert ratings[0] == RatingRecord(user_id=1, tmdb_id=862, rating=4.0, timestamp=964982703)
    assert [r.tmdb_id for r in ratings] == [862, 8844, 31357, 8844]
    assert reasons(skipped) == {"unknown movie": 2, "invalid rating": 1, "invalid id": 1}


def test_path_to_the_ratings_file_finds_links_beside_it(kaggle_folder, tmp_path) -> None:
    shutil.copy(kaggle_folder / "ratings_small.csv", tmp_path / "my-ratings.csv")
    shutil.copy(kaggle_folder / "links_small.csv", tmp_path / "links_small.csv")

    source = open_source("ratings", tmp_path / "my-ratings.csv")
    ratings, _ = partition(source.ratings())

    assert [r.tmdb_id for r in ratings] == [999999, 8844, 8844]


def test_ratings_file_option_and_errors(kaggle_folder, tmp_path) -> None:
    with pytest.raises(SourceError, match="No ratings file"):
        open_source("ratings", FIXTURES / "tmdb_csv")
    with pytest.raises(SourceError, match=r"'ratings\.csv' not found"):
        open_source("ratings", kaggle_folder, ratings_file="ratings.csv")
    shutil.copy(kaggle_folder / "ratings_small.csv", tmp_path / "ratings.csv")
    with pytest.raises(SourceError, match="No links file"):
        open_source("ratings", tmp_path, ratings_file="ratings.csv")
    with pytest.raises(SourceError, match="not found"):
        open_source("ratings", tmp_path / "absent")
    with pytest.raises(SourceError, match="needs a folder"):
        open_source("ratings", None)


@pytest.mark.realdata
def test_real_ratings_small() -> None:
    folder = shared_file("the-movies-dataset/ratings_small.csv").parent

    source = open_source("ratings", folder)
    ratings, skipped = partition(source.ratings())

    print(f"ratings_small.csv: {len(ratings)} ratings, skipped {dict(reasons(skipped))}")
    assert len(ratings) + len(skipped) == 100_004
    assert set(reasons(skipped)) <= {"unknown movie"}
    assert len({r.user_id for r in ratings}) == 671
    assert ratings[0] == RatingRecord(user_id=1, tmdb_id=9909, rating=2.5, timestamp=1260759144)
