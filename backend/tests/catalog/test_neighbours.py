"""Collaborative neighbours from ratings, and "more like this" blending them with content."""

from __future__ import annotations

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from catalog.ingestion.sources import open_source
from catalog.models import Movie, MovieNeighbor, Rating
from catalog.selectors import similar_candidates
from catalog.services.ingestion import catalog_ingest
from catalog.services.neighbours import neighbours_compute
from common.errors import ApplicationError
from vector_index import SearchFilter

FIXTURE = Path(__file__).parent / "fixtures" / "small.jsonl"
INCEPTION, PARASITE, HARRY_POTTER, TOTORO, SHINING, FERRIS = 27205, 496243, 671, 8392, 694, 9377

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(use_fake_embedder, catalog_index):
    catalog_ingest(
        source=open_source("jsonl", FIXTURE),
        embedder=use_fake_embedder,
        index=catalog_index,
        progress=False,
    )
    assert Movie.objects.count() == 6
    return catalog_index


def rate(likes: dict[int, list[int]], *, rating: float = 5.0, source: str = "test") -> None:
    """Every user in likes[movie] gives that movie `rating`."""
    Rating.objects.bulk_create(
        Rating(source=source, user_id=user, movie_id=movie, rating=rating)
        for movie, users in likes.items()
        for user in users
    )


def neighbours_of(movie_id: int) -> list[tuple[int, int]]:
    rows = MovieNeighbor.objects.filter(movie_id=movie_id).order_by("rank")
    return list(rows.values_list("neighbor_id", "co_likes"))


# Fans: Inception and Parasite share 5 of 6; Inception and Harry Potter share 3 of 6 and 5;
# Totoro's 3 fans overlap Inception's on 2 only; The Shining's fans gave 2 stars (no likes).
FANS = {
    INCEPTION: [1, 2, 3, 4, 5, 6],
    PARASITE: [1, 2, 3, 4, 5, 7],
    HARRY_POTTER: [4, 5, 6, 8, 9],
    TOTORO: [1, 2, 10],
}


def test_neighbours_are_ranked_by_shared_fans_and_respect_min_co_likes(catalog):
    rate(FANS)
    rate({SHINING: [1, 2, 3, 4]}, rating=2.0)

    report = neighbours_compute(k=10, min_co_likes=3, shrinkage=1.0)

    assert neighbours_of(INCEPTION) == [(PARASITE, 5), (HARRY_POTTER, 3)]
    assert neighbours_of(PARASITE) == [(INCEPTION, 5)]  # 2 shared with Harry Potter < 3
    assert neighbours_of(TOTORO) == []  # only 2 co-likes with anyone
    assert neighbours_of(SHINING) == []  # rated, but nobody liked it
    assert neighbours_of(FERRIS) == []  # no ratings at all
    scores = dict(MovieNeighbor.objects.filter(movie=INCEPTION).values_list("neighbor", "score"))
    # cosine 5/sqrt(6*6) shrunk by 5/(5+1), against 3/sqrt(6*5) shrunk by 3/(3+1)
    assert scores[PARASITE] == pytest.approx(5 / 6 * 5 / 6)
    assert scores[HARRY_POTTER] == pytest.approx(3 / 30**0.5 * 3 / 4)
    assert (report.movies, report.pairs) == (3, 4)  # Harry Potter -> Inception too
    assert "3 movies with neighbours, 4 pairs stored" in report.lines()[0]


def test_same_user_number_in_two_sources_is_two_people(catalog):
    rate({INCEPTION: [1, 2, 3]}, source="a")
    rate({PARASITE: [1, 2, 3]}, source="b")
    neighbours_compute(min_co_likes=1)
    assert MovieNeighbor.objects.count() == 0


def test_recompute_replaces_the_stored_neighbours(catalog):
    rate(FANS)
    neighbours_compute(k=10, min_co_likes=3)
    assert neighbours_of(INCEPTION)[0][0] == PARASITE

    Rating.objects.filter(movie_id=PARASITE).delete()
    neighbours_compute(k=10, min_co_likes=3)

    assert neighbours_of(INCEPTION) == [(HARRY_POTTER, 3)]
    assert not MovieNeighbor.objects.filter(neighbor_id=PARASITE).exists()
    assert MovieNeighbor.objects.count() == 2


def test_k_bounds_the_neighbours_stored_per_movie(catalog):
    rate(FANS)
    neighbours_compute(k=1, min_co_likes=2)
    assert neighbours_of(INCEPTION) == [(PARASITE, 5)]
    assert set(MovieNeighbor.objects.values_list("rank", flat=True)) == {1}


def test_ingesting_ratings_recomputes_neighbours_and_reports_it(catalog, fake_embedder, tmp_path):
    folder = tmp_path / "ratings"
    folder.mkdir()
    (folder / "links.csv").write_text(
        f"movieId,imdbId,tmdbId\n1,1,{INCEPTION}\n2,2,{PARASITE}\n3,3,{HARRY_POTTER}\n"
    )
    lines = ["userId,movieId,rating,timestamp"]
    lines += [f"{user},1,5.0,1" for user in range(1, 7)]
    lines += [f"{user},2,4.5,1" for user in range(1, 6)]
    lines += [f"{user},3,4.0,1" for user in range(8, 12)]
    (folder / "ratings.csv").write_text("\n".join(lines) + "\n")
    source = open_source("ratings", folder)

    report = catalog_ingest(source=source, embedder=fake_embedder, index=None, progress=False)

    assert report.neighbours is not None and report.neighbours.pairs == 2
    assert neighbours_of(INCEPTION) == [(PARASITE, 5)]
    assert any(line.startswith("neighbours: 2 movies") for line in report.lines())
    again = catalog_ingest(source=source, embedder=fake_embedder, index=None, progress=False)
    assert again.neighbours is None  # nothing new: the stored neighbours stand


def ids(candidates) -> list[int]:
    return [c.id for c in candidates]


def test_similar_candidates_put_ratings_neighbours_first_with_a_reason(catalog):
    from catalog.vector_store import get_catalog_index

    rate(FANS)
    neighbours_compute(k=10, min_co_likes=3)

    candidates = similar_candidates(tmdb_id=INCEPTION, limit=5, get_index=get_catalog_index)

    assert ids(candidates)[:2] == [PARASITE, HARRY_POTTER]
    assert INCEPTION not in ids(candidates) and len(candidates) == 5
    top = candidates[0]
    assert top.source in {"ratings", "blend"}
    assert top.reason.startswith("liked by fans of Inception")
    assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)
    assert {c.source for c in candidates[2:]} == {"content"}


def test_without_any_ratings_similar_falls_back_to_content_similarity(catalog):
    from catalog.vector_store import get_catalog_index

    candidates = similar_candidates(tmdb_id=SHINING, limit=5, get_index=get_catalog_index)

    assert set(ids(candidates)) == {INCEPTION, PARASITE, HARRY_POTTER, TOTORO, FERRIS}
    assert {c.source for c in candidates} == {"content"}
    reasons = {c.id: c.reason for c in candidates}
    assert reasons[PARASITE] == "thriller"  # what it shares with The Shining (horror, thriller)
    assert reasons[FERRIS].startswith("comedy · ")  # nothing shared: its own genres, keywords
    assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)


def test_movie_without_ratings_borrows_the_neighbours_of_its_closest_rated_films(catalog):
    from catalog.vector_store import get_catalog_index

    rate(FANS)
    neighbours_compute(k=10, min_co_likes=3)
    assert neighbours_of(SHINING) == []

    candidates = similar_candidates(tmdb_id=SHINING, limit=5, get_index=get_catalog_index)

    assert SHINING not in ids(candidates) and len(candidates) == 5
    reasons = {c.id: c.reason for c in candidates if c.source != "content"}
    # Its rated content neighbours lend their own ratings neighbours, naming whose fans.
    assert set(reasons) == {INCEPTION, PARASITE, HARRY_POTTER}
    assert reasons[PARASITE].startswith("liked by fans of Inception")
    assert reasons[HARRY_POTTER].startswith("liked by fans of Inception")
    assert reasons[INCEPTION].startswith(
        ("liked by fans of Parasite", "liked by fans of Harry Potter")
    )
    assert [c.source for c in candidates] == ["blend"] * 3 + ["content"] * 2  # borrowed first


def test_search_filter_applies_to_ratings_and_content_candidates(catalog):
    from catalog.vector_store import get_catalog_index

    rate(FANS)
    neighbours_compute(k=10, min_co_likes=3)

    only_fantasy = similar_candidates(
        tmdb_id=INCEPTION,
        limit=10,
        get_index=get_catalog_index,
        search_filter=SearchFilter(genres_any=("Fantasy",)),
    )
    # Harry Potter is a ratings neighbour, Totoro a content one; both are fantasy films.
    assert ids(only_fantasy) == [HARRY_POTTER, TOTORO]

    no_parasite_recent = similar_candidates(
        tmdb_id=INCEPTION,
        limit=10,
        get_index=get_catalog_index,
        search_filter=SearchFilter(exclude_ids=(PARASITE,), year_min=2000),
    )
    assert ids(no_parasite_recent) == [HARRY_POTTER]  # the only other film since 2000


def test_similar_candidates_answer_from_ratings_when_the_index_is_down(catalog):
    from vector_index import IndexLocked

    rate(FANS)
    neighbours_compute(k=10, min_co_likes=3)

    def locked():
        raise IndexLocked("index is owned by pid 4242", owner_pid=4242)

    candidates = similar_candidates(tmdb_id=INCEPTION, limit=5, get_index=locked)
    assert ids(candidates) == [PARASITE, HARRY_POTTER]
    with pytest.raises(ApplicationError) as raised:
        similar_candidates(tmdb_id=SHINING, limit=5, get_index=locked)
    assert raised.value.status_code == 503


def test_unembedded_movie_answers_from_its_ratings_neighbours_else_409(catalog):
    from catalog.vector_store import get_catalog_index

    Movie.objects.create(tmdb_id=1, title="Admin Draft")  # saved, never embedded nor indexed
    Movie.objects.create(tmdb_id=2, title="Another Draft")
    rate({**FANS, 1: [1, 2, 3, 4]})
    neighbours_compute(k=10, min_co_likes=3)

    candidates = similar_candidates(tmdb_id=1, limit=5, get_index=get_catalog_index)
    assert ids(candidates) == [INCEPTION, PARASITE]  # 4 fans shared with each: tie, lower id
    assert {c.source for c in candidates} == {"ratings"}
    with pytest.raises(ApplicationError) as raised:
        similar_candidates(tmdb_id=2, limit=5, get_index=get_catalog_index)
    assert raised.value.status_code == 409 and "no embedding" in str(raised.value)


def test_similar_api_returns_a_reason_per_movie(catalog):
    rate(FANS)
    neighbours_compute(k=10, min_co_likes=3)
    api = APIClient()

    body = api.get(f"/api/movies/{INCEPTION}/similar/", {"limit": 3}).json()

    assert body["mode"] == "similar"
    results = body["results"]
    assert [m["id"] for m in results][:2] == [PARASITE, HARRY_POTTER]
    assert results[0]["reason"].startswith("liked by fans of Inception")
    assert all(isinstance(m["reason"], str) and m["reason"] for m in results)
    assert results[0]["score"] >= results[1]["score"] >= results[2]["score"]
    cold = api.get(f"/api/movies/{SHINING}/similar/", {"limit": 2}).json()["results"]
    assert len(cold) == 2 and all(m["reason"] for m in cold)
    assert "fans of The Shining" not in " ".join(m["reason"] for m in cold)


def test_neighbours_on_many_ratings_are_exact_against_a_dense_computation(db):
    """Blockwise sparse counting matches the textbook dense cosine on random data."""
    import numpy as np

    from catalog.services import neighbours as module

    rng = np.random.default_rng(7)
    movies = [Movie(tmdb_id=i, title=f"Film {i}") for i in range(1, 61)]
    Movie.objects.bulk_create(movies)
    liked = rng.random((200, 60)) < rng.uniform(0.02, 0.4, size=60)  # users x movies
    Rating.objects.bulk_create(
        Rating(source="r", user_id=u + 1, movie_id=m + 1, rating=4.5 if liked[u, m] else 2.0)
        for u in range(200)
        for m in range(60)
        if liked[u, m] or rng.random() < 0.05
    )
    original = (module._MAX_EXPANDED, module._MAX_CELLS)
    module._MAX_EXPANDED, module._MAX_CELLS = 500, 600  # force many small blocks
    try:
        neighbours_compute(k=5, min_co_likes=2, shrinkage=3.0)
    finally:
        module._MAX_EXPANDED, module._MAX_CELLS = original

    x = liked.astype(float)
    co = x.T @ x
    fans = np.diag(co).copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.nan_to_num(co / np.sqrt(np.outer(fans, fans))) * co / (co + 3.0)
    expected[co < 2] = 0
    np.fill_diagonal(expected, 0)
    for m in (0, 17, 42):
        want = [
            j + 1 for j in sorted(range(60), key=lambda j: (-expected[m, j], j)) if expected[m, j]
        ][:5]
        assert [n for n, _ in neighbours_of(m + 1)] == want
        stored = dict(MovieNeighbor.objects.filter(movie=m + 1).values_list("neighbor", "score"))
        assert stored == {j: pytest.approx(expected[m, j - 1]) for j in want}
