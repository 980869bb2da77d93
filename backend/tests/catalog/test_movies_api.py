"""The catalog API: search, browse, details, similar, health, errors in one shape."""

from __future__ import annotations

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from catalog.ingestion.sources import open_source
from catalog.services.ingestion import catalog_ingest

FIXTURE = Path(__file__).parent / "fixtures" / "small.jsonl"

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(use_fake_embedder, catalog_index):
    catalog_ingest(
        source=open_source("jsonl", FIXTURE),
        embedder=use_fake_embedder,
        index=catalog_index,
        progress=False,
    )
    return APIClient()


def error_of(response):
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    return body["error"]


def test_semantic_search_ranks_the_matching_movie_first(api):
    response = api.get("/api/movies/", {"q": "wizard school of magic"})
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "semantic" and body["degraded"] is False
    top = body["results"][0]
    assert top["id"] == 671 and top["title"].startswith("Harry Potter")
    assert top["score"] > body["results"][1]["score"]
    assert top["poster_url"].endswith("/wuMc08IPKEatf9rnMNXvIDxqP4W.jpg")


def test_search_filters_apply_in_the_index(api):
    body = api.get("/api/movies/", {"q": "family", "language": "Korean"}).json()
    assert [m["id"] for m in body["results"]] == [496243]
    body = api.get("/api/movies/", {"q": "film", "genre": "horror,animation", "limit": 5}).json()
    assert {m["id"] for m in body["results"]} == {694, 8392}
    body = api.get("/api/movies/", {"q": "film", "year_min": 2000, "year_max": 2012}).json()
    assert {m["id"] for m in body["results"]} == {27205, 671}
    body = api.get("/api/movies/", {"q": "film", "min_rating": 8.3}).json()
    assert {m["id"] for m in body["results"]} == {27205, 496243}


def test_browse_without_query_orders_by_popularity(api):
    body = api.get("/api/movies/", {"genre": "Comedy"}).json()
    assert body["mode"] == "browse"
    assert [m["id"] for m in body["results"]] == [496243, 9377]
    assert [m["id"] for m in api.get("/api/movies/", {"limit": 2}).json()["results"]] == [
        671,
        27205,
    ]


def test_search_degrades_to_keywords_when_the_model_service_is_down(api, use_fake_embedder):
    use_fake_embedder.down = True
    body = api.get("/api/movies/", {"q": "hotel ghosts"}).json()
    assert body["degraded"] is True and body["mode"] == "keyword"
    assert "unavailable" in body["notice"]
    assert [m["id"] for m in body["results"]] == [694]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 51}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"genre": "Biography"}, "genre"),
        ({"year_min": 2010, "year_max": 2000}, "year_min"),
        ({"min_rating": 11}, "min_rating"),
        ({"language": "Klingon language"}, "language"),
        ({"q": "x" * 501}, "q"),
    ],
)
def test_bad_parameters_get_a_400_naming_the_field(api, params, field):
    response = api.get("/api/movies/", params)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_request"
    assert field in error["details"]["fields"]
    assert field in error["message"]


def test_movie_detail_and_404(api):
    movie = api.get("/api/movies/27205/").json()
    assert movie["title"] == "Inception" and movie["runtime"] == 148
    assert movie["director"] == "Christopher Nolan" and movie["year"] == 2010
    response = api.get("/api/movies/1/")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    response = api.get("/api/nope/")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_similar_excludes_the_movie_itself(api):
    body = api.get("/api/movies/694/similar/", {"limit": 3}).json()
    ids = [m["id"] for m in body["results"]]
    assert 694 not in ids and len(ids) == 3
    assert api.get("/api/movies/1/similar/").status_code == 404
    assert api.get("/api/movies/694/similar/", {"limit": 0}).status_code == 400


def test_health_reports_each_dependency(api, use_fake_embedder):
    body = api.get("/api/health/").json()
    assert body["status"] == "ok"
    assert (body["movies"], body["indexed"]) == (6, 6)
    assert body["database"]["ok"] and body["index"]["ok"] and body["model_service"]["ok"]
    use_fake_embedder.down = True
    body = api.get("/api/health/").json()
    assert body["status"] == "degraded" and body["model_service"]["ok"] is False


def test_similar_answers_503_with_rebuild_hint_when_index_is_locked(api, monkeypatch):
    import catalog.apis
    from vector_index import IndexLocked

    def locked():
        raise IndexLocked("index is owned by pid 4242", owner_pid=4242)

    monkeypatch.setattr(catalog.apis, "get_catalog_index", locked)
    response = api.get("/api/movies/694/similar/")
    assert response.status_code == 503
    assert "prepare.py verify --repair" in error_of(response)["message"]
    assert response["Retry-After"]


def test_openapi_schema_and_docs(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert {"/api/movies/", "/api/movies/{tmdb_id}/similar/", "/api/health/"} <= set(
        schema["paths"]
    )
    docs = api.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
