"""The demo source: the shipped catalog by default, any jsonl path when given."""

from __future__ import annotations

import pytest

from catalog.ingestion.sources import SourceError, demo, open_source
from catalog.ingestion.sources.demo import DEMO_CATALOG_PATH, DemoSource

from .helpers import FIXTURES, REPO_ROOT, partition, reasons


def test_default_path_is_the_repository_demo_catalog() -> None:
    assert DEMO_CATALOG_PATH == REPO_ROOT / "data" / "demo" / "movies.jsonl"


def test_reads_a_given_path_with_the_jsonl_schema() -> None:
    source = open_source("demo", FIXTURES / "jsonl" / "movies.jsonl")
    records, skipped = partition(source.movies())

    assert source.name == "demo"
    assert source.has_ratings is False
    assert list(source.ratings()) == []
    assert [r.title for r in records] == ["The Matrix", "Toy Story", "Star Wars"]
    assert reasons(skipped)["malformed row"] == 2


def test_missing_default_catalog_says_how_to_restore_it(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(demo, "DEMO_CATALOG_PATH", tmp_path / "absent.jsonl")

    with pytest.raises(SourceError, match=r"data/demo/movies\.jsonl"):
        DemoSource()


def test_shipped_demo_catalog_parses_without_skips() -> None:
    if not DEMO_CATALOG_PATH.is_file():
        pytest.skip(f"{DEMO_CATALOG_PATH} has not been written yet")

    records, skipped = partition(open_source("demo", None).movies())

    assert skipped == []
    assert records, "the demo catalog is empty"
