"""The jsonl source: the project's own schema, its skip reasons, and the export round trip."""

from __future__ import annotations

from datetime import date

import pytest

from catalog.ingestion.records import MovieRecord
from catalog.ingestion.sources import SourceError, open_source
from catalog.ingestion.sources.jsonl import JSONL_KEYS, JsonlSource, movie_record_to_json

from .helpers import FIXTURES, partition, reasons

JSONL = FIXTURES / "jsonl" / "movies.jsonl"


def test_full_record_is_normalised() -> None:
    records, _ = partition(JsonlSource(JSONL).movies())

    assert records[0] == MovieRecord(
        tmdb_id=603,
        title="The Matrix",
        original_title="The Matrix",
        year=1999,  # from release_date, which wins over the stale "year": 1998
        release_date=date(1999, 3, 30),
        genres=("Action", "Science Fiction"),  # "Sci-Fi" aliased, duplicate and unknown dropped
        overview="A hacker learns the truth.",
        original_language="en",
        runtime=136,
        popularity=79.5,
        vote_average=8.2,
        vote_count=24000,
        poster_path="/f89U3ADr1oiB1s9GkdPOEpXUk5H.jpg",
        keywords=("simulated reality", "hacker"),
        cast=("Keanu Reeves", "Laurence Fishburne"),
        director="Lana Wachowski",
        imdb_id="tt0133093",
    )


def test_sparse_records_keep_empty_text_and_none_numbers() -> None:
    records, _ = partition(JsonlSource(JSONL).movies())
    toy_story, star_wars = records[1], records[2]

    assert toy_story == MovieRecord(
        tmdb_id=862,  # "862" as a string is accepted
        title="Toy Story",
        year=1995,  # no release_date: the year key is used
        genres=("Animation", "Family"),  # comma-joined string; Children -> Family
        overview="",  # whitespace only
        runtime=None,  # "81 min"
        popularity=None,  # "n/a"
        vote_count=None,  # 12.5 is not a count
    )
    assert (star_wars.title, star_wars.year, star_wars.release_date) == ("Star Wars", 1977, None)


def test_bad_lines_are_skipped_with_reasons_and_line_numbers() -> None:
    records, skipped = partition(JsonlSource(JSONL).movies())

    assert [r.tmdb_id for r in records] == [603, 862, 11]
    assert [(s.reason, s.line) for s in skipped] == [
        ("malformed row", 5),  # invalid JSON (line 4 is blank and ignored)
        ("malformed row", 6),  # a JSON list, not an object
        ("missing id", 7),
        ("invalid id", 8),  # "abc"
        ("missing title", 9),  # whitespace-only title
        ("invalid id", 10),  # negative
    ]
    assert reasons(skipped) == {
        "malformed row": 2,
        "missing id": 1,
        "invalid id": 2,
        "missing title": 1,
    }
    assert all(s.detail for s in skipped)


def test_export_round_trips_through_the_parser(tmp_path) -> None:
    import json

    records, _ = partition(JsonlSource(JSONL).movies())
    exported = tmp_path / "export.jsonl"
    exported.write_text(
        "".join(json.dumps(movie_record_to_json(r), ensure_ascii=False) + "\n" for r in records),
        encoding="utf-8",
    )

    reread, skipped = partition(JsonlSource(exported).movies())

    assert reread == records
    assert skipped == []


def test_export_writes_every_schema_key_in_order() -> None:
    record = MovieRecord(tmdb_id=1, title="T", release_date=date(2000, 1, 2), genres=("Drama",))

    data = movie_record_to_json(record)

    assert tuple(data) == JSONL_KEYS
    assert data["release_date"] == "2000-01-02"
    assert data["genres"] == ["Drama"]
    assert data["runtime"] is None
    assert data["overview"] == ""


def test_missing_file_and_missing_path_raise_source_error(tmp_path) -> None:
    with pytest.raises(SourceError, match="not found"):
        open_source("jsonl", tmp_path / "nope.jsonl")
    with pytest.raises(SourceError, match="needs the path"):
        open_source("jsonl", None)


def test_non_utf8_file_raises_source_error(tmp_path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"tmdb_id": 1, "title": "Amélie"}\n'.encode("latin-1"))

    with pytest.raises(SourceError, match="UTF-8"):
        list(JsonlSource(path).movies())
