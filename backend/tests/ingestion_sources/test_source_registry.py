"""open_source: names, option checking and error messages a user sees."""

from __future__ import annotations

import pytest

from catalog.ingestion.sources import SOURCE_NAMES, SourceError, open_source
from catalog.ingestion.sources.jsonl import JsonlSource
from catalog.ingestion.sources.movielens import MovieLensSource

from .helpers import FIXTURES


def test_source_names() -> None:
    assert SOURCE_NAMES == (
        "demo",
        "jsonl",
        "tmdb-csv",
        "movies-dataset",
        "movielens",
        "ratings",
        "tmdb-api",
    )


def test_open_source_builds_the_named_source() -> None:
    source = open_source("jsonl", FIXTURES / "jsonl" / "movies.jsonl")
    assert isinstance(source, JsonlSource)
    source = open_source("movielens", str(FIXTURES / "movielens"), include_ratings=False)
    assert isinstance(source, MovieLensSource)


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(SourceError) as caught:
        open_source("imdb", None)
    message = str(caught.value)
    assert "Unknown catalog source 'imdb'" in message
    for name in SOURCE_NAMES:
        assert name in message


def test_unknown_option_lists_the_accepted_ones() -> None:
    with pytest.raises(SourceError, match="no option max_pages; it takes: include_ratings"):
        open_source("movielens", FIXTURES / "movielens", max_pages=3)
    with pytest.raises(SourceError, match="takes: no options"):
        open_source("jsonl", FIXTURES / "jsonl" / "movies.jsonl", details=True)


def test_missing_files_are_source_errors(tmp_path) -> None:
    for name in ("jsonl", "tmdb-csv", "movies-dataset", "movielens", "ratings"):
        with pytest.raises(SourceError):
            open_source(name, tmp_path / "absent")


def test_text_options_are_converted_by_the_defaults_type() -> None:
    folder = FIXTURES / "movielens"

    assert open_source("movielens", folder, include_ratings="false").has_ratings is False
    assert open_source("movielens", folder, include_ratings="yes").has_ratings is True
    source = open_source("tmdb-api", None, api_key="k", max_pages="3", timeout="2.5")
    assert (source.max_pages, source.timeout, source.api_key) == (3, 2.5, "k")
    with pytest.raises(
        SourceError, match="include_ratings of the movielens source must be true or false"
    ):
        open_source("movielens", folder, include_ratings="maybe")
    with pytest.raises(
        SourceError, match="max_pages of the tmdb-api source must be a whole number"
    ):
        open_source("tmdb-api", None, api_key="k", max_pages="many")
