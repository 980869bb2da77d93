"""movies_matching: the database's reading of an index filter agrees with the index's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.ingestion.sources import open_source
from catalog.models import Movie
from catalog.selectors import movies_matching
from catalog.services.ingestion import catalog_ingest
from vector_index import SearchFilter

FIXTURE = Path(__file__).parent / "fixtures" / "small.jsonl"
INCEPTION, PARASITE, HARRY_POTTER, TOTORO, SHINING, FERRIS = 27205, 496243, 671, 8392, 694, 9377
NO_LANGUAGE = 4242001  # a movie whose original language is unknown (blank)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(use_fake_embedder, catalog_index, tmp_path):
    source = tmp_path / "movies.jsonl"
    unknown = {"tmdb_id": NO_LANGUAGE, "title": "Home Movie", "overview": "A family holiday."}
    source.write_text(FIXTURE.read_text() + json.dumps(unknown) + "\n")
    catalog_ingest(
        source=open_source("jsonl", source),
        embedder=use_fake_embedder,
        index=catalog_index,
        progress=False,
    )
    assert Movie.objects.get(tmdb_id=NO_LANGUAGE).original_language == ""
    return catalog_index


def matching(search_filter: SearchFilter) -> set[int]:
    return set(movies_matching(search_filter).values_list("tmdb_id", flat=True))


def indexed(index, search_filter: SearchFilter) -> set[int]:
    return {hit.id for hit in index.search([1.0] * 384, limit=50, filter=search_filter)}


@pytest.mark.parametrize(
    ("search_filter", "expected"),
    [
        (SearchFilter(languages_exclude=("en",)), {PARASITE, TOTORO, NO_LANGUAGE}),
        (
            SearchFilter(languages_exclude=("ko", "ja")),
            {INCEPTION, HARRY_POTTER, SHINING, FERRIS, NO_LANGUAGE},
        ),
        (SearchFilter(languages_exclude=("fr",)), None),  # excludes nothing
        (SearchFilter(languages=("ko", "ja"), languages_exclude=("ja",)), {PARASITE}),
        (SearchFilter(genres_any=("Fantasy",), languages_exclude=("en",)), {TOTORO}),
        (
            SearchFilter(genres_exclude=("Comedy",), languages_exclude=("en",)),
            {TOTORO, NO_LANGUAGE},
        ),
    ],
)
def test_languages_exclude_agrees_with_the_index(catalog, search_filter, expected):
    everything = set(Movie.objects.values_list("tmdb_id", flat=True))
    expected = everything if expected is None else expected
    assert matching(search_filter) == expected
    # A movie without a stated language is never excluded, in the index as in the database.
    assert indexed(catalog, search_filter) == expected
