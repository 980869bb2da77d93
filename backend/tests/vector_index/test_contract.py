"""Every VectorIndex backend behaves the same: Qdrant Edge and qdrant-client (local mode)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from vector_index import (
    IndexCorrupted,
    IndexPoint,
    IndexUnavailable,
    PointNotFound,
    SearchFilter,
    VectorIndex,
)
from vector_index.base import VECTOR_SIZE
from vector_index.edge import QdrantEdgeIndex
from vector_index.server import QdrantServerIndex


def vec(*components: float) -> list[float]:
    """A 384-d vector whose first components are given, the rest zero."""
    values = [0.0] * VECTOR_SIZE
    values[: len(components)] = components
    return values


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def movie(
    tmdb_id: int,
    title: str,
    year: int | None,
    genres: list[str],
    language: str,
    vote_average: float | None,
    vote_count: int | None,
    vector: list[float],
) -> IndexPoint:
    payload = {
        "title": title,
        "year": year,
        "genres": genres,
        "language": language,
        "vote_average": vote_average,
        "vote_count": vote_count,
        "popularity": 10.0,
        "content_hash": f"hash-{tmdb_id}",
    }
    return IndexPoint(id=tmdb_id, vector=vector, payload=payload)


# Vectors (1, k/10): all close to QUERY, and a query along the second axis prefers later rows.
CATALOG = [
    movie(348, "Alien", 1979, ["Horror", "Science Fiction"], "en", 8.1, 14000, vec(1, 0.0)),
    movie(194, "Amélie", 2001, ["Comedy", "Romance"], "fr", 7.9, 11000, vec(1, 0.1)),
    movie(129, "Spirited Away", 2001, ["Animation", "Family"], "ja", 8.5, 16000, vec(1, 0.2)),
    movie(17473, "The Room", 2003, ["Drama", "Romance"], "en", 3.9, 800, vec(1, 0.3)),
    movie(19, "Metropolis", 1927, ["Drama", "Science Fiction"], "de", 8.1, 2500, vec(1, 0.4)),
    movie(900001, "Untitled Project", None, ["Drama"], "en", None, None, vec(1, 0.5)),
]
ALL_IDS = {p.id for p in CATALOG}


@dataclass
class Backend:
    """Opens indexes of one kind on one storage; reopening sees what earlier handles wrote."""

    kind: str
    tmp_path: Path
    opened: list[VectorIndex] = field(default_factory=list)
    _memory_client: QdrantClient | None = None

    def open(self, *, persistent: bool = False, vector_size: int = VECTOR_SIZE) -> VectorIndex:
        if self.kind == "edge":
            index: VectorIndex = QdrantEdgeIndex(self.tmp_path / "index", vector_size=vector_size)
        elif persistent:
            client = QdrantClient(path=str(self.tmp_path / "local-qdrant"))
            index = QdrantServerIndex(
                client, collection="movies", vector_size=vector_size, owns_client=True
            )
        else:
            self._memory_client = self._memory_client or QdrantClient(":memory:")
            index = QdrantServerIndex(self._memory_client, collection="movies")
        self.opened.append(index)
        return index

    def close_all(self) -> None:
        for index in self.opened:
            index.close()
        if self._memory_client is not None:
            self._memory_client.close()


@pytest.fixture(params=["edge", "server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    b = Backend(kind=request.param, tmp_path=tmp_path)
    yield b
    b.close_all()


@pytest.fixture
def index(backend: Backend) -> VectorIndex:
    idx = backend.open()
    idx.ensure_collection()
    return idx


@pytest.fixture
def catalog(index: VectorIndex) -> VectorIndex:
    index.upsert(CATALOG)
    return index


def ids(hits) -> list[int]:
    return [h.id for h in hits]


QUERY = vec(1.0)  # close to every CATALOG vector, so a filter alone decides the result set


def matching(index: VectorIndex, search_filter: SearchFilter) -> set[int]:
    hits = index.search(QUERY, limit=50, filter=search_filter)
    found = set(ids(hits))
    assert index.count(search_filter) == len(found)  # count applies the same filter
    return found


# -- lifecycle ---------------------------------------------------------------------------


def test_implements_the_protocol(index: VectorIndex) -> None:
    assert isinstance(index, VectorIndex)
    assert index.name in {"qdrant-edge", "qdrant-server"}


def test_before_ensure_collection_reads_say_to_build(backend: Backend) -> None:
    idx = backend.open()
    assert idx.exists() is False
    with pytest.raises(IndexUnavailable, match="make data"):
        idx.search(QUERY)
    with pytest.raises(IndexUnavailable, match="make data"):
        idx.count()


def test_ensure_collection_is_idempotent_and_keeps_points(index: VectorIndex) -> None:
    index.upsert(CATALOG[:2])
    index.ensure_collection()
    index.ensure_collection()
    assert index.exists() is True
    assert index.count() == 2


def test_upsert_then_count(index: VectorIndex) -> None:
    assert index.count() == 0
    assert index.upsert(CATALOG, batch_size=4) == len(CATALOG)
    assert index.count() == len(CATALOG)


def test_upsert_same_id_replaces_payload_and_vector(catalog: VectorIndex) -> None:
    changed = movie(348, "Alien (Director's Cut)", 2003, ["Horror"], "en", 8.2, 15000, vec(0, 1))
    catalog.upsert([changed])
    assert catalog.count() == len(CATALOG)
    payloads = dict(catalog.iter_payloads())
    assert payloads[348]["title"] == "Alien (Director's Cut)"
    assert payloads[348]["year"] == 2003
    assert catalog.get_vector(348) == pytest.approx(vec(0, 1), abs=1e-6)
    assert ids(catalog.search(vec(0, 1), limit=1)) == [348]


def test_upsert_rejects_wrong_vector_size(index: VectorIndex) -> None:
    with pytest.raises(ValueError, match="dimensions"):
        index.upsert([IndexPoint(id=1, vector=[1.0, 0.0, 0.0])])
    assert index.count() == 0


def test_upsert_accepts_numpy_vectors(index: VectorIndex) -> None:
    vector = np.zeros(VECTOR_SIZE, dtype=np.float32)
    vector[3] = 2.0
    index.upsert([IndexPoint(id=7, vector=vector, payload={"title": "x"})])
    assert index.get_vector(7) == pytest.approx(vec(0, 0, 0, 1.0), abs=1e-6)


def test_delete_ignores_missing_ids(catalog: VectorIndex) -> None:
    assert catalog.delete([348, 194, 424242]) == 3
    assert catalog.count() == len(CATALOG) - 2
    assert catalog.get_vector(348) is None
    assert 348 not in ids(catalog.search(QUERY, limit=50))
    assert catalog.delete([]) == 0


def test_drop_then_ensure_starts_empty(catalog: VectorIndex) -> None:
    catalog.drop()
    assert catalog.exists() is False
    with pytest.raises(IndexUnavailable):
        catalog.count()
    catalog.ensure_collection()
    assert catalog.count() == 0
    catalog.upsert(CATALOG[:1])
    assert catalog.count() == 1


def test_points_survive_close_and_reopen(backend: Backend) -> None:
    first = backend.open(persistent=True)
    first.ensure_collection()
    first.upsert(CATALOG)
    first.delete([19])
    first.close()

    second = backend.open(persistent=True)
    second.ensure_collection()
    assert second.count() == len(CATALOG) - 1
    assert dict(second.iter_payloads())[348]["title"] == "Alien"
    assert ids(second.search(CATALOG[0].vector, limit=1)) == [348]


def test_reopening_with_another_vector_size_is_corrupted_with_a_rebuild_hint(
    backend: Backend,
) -> None:
    first = backend.open(persistent=True, vector_size=8)
    first.ensure_collection()
    first.upsert([IndexPoint(id=1, vector=[1.0] * 8)])
    first.close()

    second = backend.open(persistent=True)
    with pytest.raises(IndexCorrupted, match="size") as excinfo:
        second.ensure_collection()
    assert "rebuild-index" in str(excinfo.value)
    second.drop()  # the way out: drop works on the mismatched collection
    second.ensure_collection()
    assert second.count() == 0


def test_optimize_keeps_results(catalog: VectorIndex) -> None:
    before = catalog.search(QUERY, limit=10)
    catalog.optimize()
    assert catalog.search(QUERY, limit=10) == before


# -- nearest neighbours ------------------------------------------------------------------

RANKED = {  # id -> vector; the answer for the query (1, 0, ...) is known by construction
    1: vec(1.0),
    2: vec(1.0, 0.5),
    3: vec(1.0, 1.0),
    4: vec(0.2, 1.0),
    5: vec(0.0, 1.0),
    6: vec(-1.0, 0.1),
}


@pytest.fixture
def ranked(index: VectorIndex) -> VectorIndex:
    index.upsert(IndexPoint(id=i, vector=v, payload={"title": f"p{i}"}) for i, v in RANKED.items())
    return index


def test_search_orders_by_cosine_similarity(ranked: VectorIndex) -> None:
    hits = ranked.search(vec(1.0), limit=10)
    assert ids(hits) == [1, 2, 3, 4, 5, 6]
    expected = [cosine(vec(1.0), RANKED[i]) for i in ids(hits)]
    assert [h.score for h in hits] == pytest.approx(expected, abs=1e-5)
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[-1].score < 0  # cosine, not a distance
    assert hits[0].payload == {"title": "p1"}


def test_search_scale_of_query_does_not_matter(ranked: VectorIndex) -> None:
    assert ids(ranked.search(vec(7.0), limit=3)) == [1, 2, 3]
    assert ids(ranked.search(vec(0.0, 3.0), limit=2)) == [5, 4]


def test_search_limit(ranked: VectorIndex) -> None:
    assert ids(ranked.search(vec(1.0), limit=2)) == [1, 2]
    assert ranked.search(vec(1.0), limit=0) == []


def test_search_similar_excludes_the_point_and_ranks_neighbours(ranked: VectorIndex) -> None:
    hits = ranked.search_similar(1, limit=10)
    assert ids(hits) == [2, 3, 4, 5, 6]
    assert hits[0].score == pytest.approx(cosine(RANKED[1], RANKED[2]), abs=1e-5)
    assert ids(ranked.search_similar(5, limit=2)) == [4, 3]


def test_search_similar_applies_the_filter(ranked: VectorIndex) -> None:
    hits = ranked.search_similar(1, limit=10, filter=SearchFilter(exclude_ids=(2, 3)))
    assert ids(hits) == [4, 5, 6]


def test_search_similar_of_missing_point_raises_point_not_found(ranked: VectorIndex) -> None:
    with pytest.raises(PointNotFound) as excinfo:
        ranked.search_similar(4242)
    assert isinstance(excinfo.value, KeyError)  # callers may catch plain KeyError
    assert excinfo.value.point_id == 4242
    assert str(excinfo.value) == "point 4242 is not in the vector index"


def test_get_vector_returns_the_unit_vector_or_none(ranked: VectorIndex) -> None:
    stored = ranked.get_vector(3)
    assert stored is not None
    assert len(stored) == VECTOR_SIZE
    assert stored[:2] == pytest.approx([1 / math.sqrt(2), 1 / math.sqrt(2)], abs=1e-6)
    assert ranked.get_vector(4242) is None


# -- filters -----------------------------------------------------------------------------


def test_empty_filter_matches_everything(catalog: VectorIndex) -> None:
    assert matching(catalog, SearchFilter()) == ALL_IDS


def test_genres_any(catalog: VectorIndex) -> None:
    assert matching(catalog, SearchFilter(genres_any=("Romance",))) == {194, 17473}
    assert matching(catalog, SearchFilter(genres_any=("Horror", "Animation"))) == {348, 129}
    assert matching(catalog, SearchFilter(genres_any=("Western",))) == set()


def test_genres_exclude(catalog: VectorIndex) -> None:
    assert matching(catalog, SearchFilter(genres_exclude=("Drama",))) == {348, 194, 129}
    assert matching(catalog, SearchFilter(genres_exclude=("Drama", "Romance"))) == {348, 129}


def test_year_range_both_ends_and_open(catalog: VectorIndex) -> None:
    assert matching(catalog, SearchFilter(year_min=2001, year_max=2001)) == {194, 129}
    assert matching(catalog, SearchFilter(year_min=1979, year_max=2002)) == {348, 194, 129}
    assert matching(catalog, SearchFilter(year_min=2002)) == {17473}
    assert matching(catalog, SearchFilter(year_max=1979)) == {348, 19}  # None year excluded


def test_languages(catalog: VectorIndex) -> None:
    assert matching(catalog, SearchFilter(languages=("fr", "ja"))) == {194, 129}
    assert matching(catalog, SearchFilter(languages=("en",))) == {348, 17473, 900001}


def test_languages_exclude(catalog: VectorIndex) -> None:
    assert matching(catalog, SearchFilter(languages_exclude=("en",))) == {194, 129, 19}
    assert matching(catalog, SearchFilter(languages_exclude=("fr", "ja"))) == {
        348,
        17473,
        19,
        900001,
    }
    assert matching(catalog, SearchFilter(languages_exclude=("ko",))) == ALL_IDS
    # With languages: those asked for, less those excluded.
    f = SearchFilter(languages=("fr", "ja"), languages_exclude=("ja",))
    assert matching(catalog, f) == {194}


def test_languages_exclude_keeps_points_without_a_language(catalog: VectorIndex) -> None:
    catalog.upsert(
        [
            IndexPoint(id=424242, vector=vec(1, 0.6), payload={"title": "no language key"}),
            IndexPoint(id=424243, vector=vec(1, 0.7), payload={"title": "x", "language": None}),
            IndexPoint(id=424244, vector=vec(1, 0.8), payload={"title": "y", "language": ""}),
        ]
    )
    found = matching(catalog, SearchFilter(languages_exclude=("en", "fr")))
    assert found == {129, 19, 424242, 424243, 424244}
    # As with genres: only a stated value can be excluded.
    assert {424242, 424243, 424244} <= matching(catalog, SearchFilter(genres_exclude=("Drama",)))


def test_min_vote_average(catalog: VectorIndex) -> None:
    assert matching(catalog, SearchFilter(min_vote_average=8.1)) == {348, 129, 19}
    assert matching(catalog, SearchFilter(min_vote_average=0.0)) == ALL_IDS - {900001}


def test_min_vote_count(catalog: VectorIndex) -> None:
    assert matching(catalog, SearchFilter(min_vote_count=11000)) == {348, 194, 129}
    assert matching(catalog, SearchFilter(min_vote_count=0)) == ALL_IDS - {900001}


def test_exclude_ids(catalog: VectorIndex) -> None:
    assert matching(catalog, SearchFilter(exclude_ids=(348, 19, 5555))) == ALL_IDS - {348, 19}


def test_none_payload_values_never_match_conditions(catalog: VectorIndex) -> None:
    for f in (
        SearchFilter(year_min=0),
        SearchFilter(year_max=3000),
        SearchFilter(min_vote_average=0.0),
        SearchFilter(min_vote_count=0),
    ):
        assert 900001 not in matching(catalog, f), f


def test_filters_combine_with_and(catalog: VectorIndex) -> None:
    f = SearchFilter(
        genres_any=("Science Fiction", "Romance", "Animation"),
        genres_exclude=("Horror",),
        year_min=1920,
        year_max=2002,
        languages=("en", "de", "ja", "fr"),
        min_vote_average=8.0,
        min_vote_count=2000,
        exclude_ids=(129,),
    )
    assert matching(catalog, f) == {19}
    assert matching(catalog, SearchFilter(genres_any=("Drama",), languages=("en",))) == {
        17473,
        900001,
    }
    assert matching(catalog, SearchFilter(genres_any=("Drama",), languages_exclude=("en",))) == {19}


def test_filtered_search_keeps_similarity_order(catalog: VectorIndex) -> None:
    hits = catalog.search(vec(0.0, 1.0), limit=2, filter=SearchFilter(genres_any=("Drama",)))
    assert ids(hits) == [900001, 19]
    assert hits[0].payload["title"] == "Untitled Project"
    assert hits[0].payload["year"] is None


# -- scrolling ---------------------------------------------------------------------------


def test_iter_payloads_pages_through_everything(index: VectorIndex) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((2500, VECTOR_SIZE)).astype(np.float32)
    points = (
        IndexPoint(id=i + 1, vector=vectors[i], payload={"title": f"m{i + 1}", "year": 2000})
        for i in range(2500)
    )
    assert index.upsert(points, batch_size=1000) == 2500
    seen = dict(index.iter_payloads(batch_size=1000))
    assert len(seen) == 2500
    assert set(seen) == set(range(1, 2501))
    assert seen[2500] == {"title": "m2500", "year": 2000}


def test_iter_payloads_of_empty_index(index: VectorIndex) -> None:
    assert list(index.iter_payloads()) == []


# -- concurrency -------------------------------------------------------------------------


def test_threads_can_search_while_another_writes(catalog: VectorIndex) -> None:
    errors: list[BaseException] = []

    def run(work: Callable[[int], object]) -> None:
        try:
            for i in range(40):
                work(i)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    def write(i: int) -> object:
        new = movie(10_000 + i, f"new {i}", 2020, ["Drama"], "en", 5.0, 10, vec(0.5, 1))
        return catalog.upsert([new])

    readers = [
        threading.Thread(target=run, args=(lambda i: catalog.search(QUERY, limit=5),)),
        threading.Thread(target=run, args=(lambda i: catalog.search_similar(348, limit=5),)),
    ]
    writer = threading.Thread(target=run, args=(write,))
    for t in [*readers, writer]:
        t.start()
    for t in [*readers, writer]:
        t.join()
    assert errors == []
    assert catalog.count() == len(CATALOG) + 40
