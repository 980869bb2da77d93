"""The Explore map: GET /api/catalog/map/, its cache over catalog changes, and the PCA itself."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from rest_framework.test import APIClient

import catalog.services.explore as explore
import recommender.catalog_cache
from catalog.apis import CatalogMapOutputSerializer
from catalog.ingestion.sources import open_source
from catalog.models import Movie
from catalog.services.explore import catalog_map_build, pca_2d
from catalog.services.indexing import vector_to_bytes
from catalog.services.ingestion import catalog_ingest, movies_embed

FIXTURE = Path(__file__).parent / "fixtures" / "small.jsonl"
URL = "/api/catalog/map/"
INCEPTION, PARASITE, HARRY_POTTER, TOTORO, SHINING, FERRIS = 27205, 496243, 671, 8392, 694, 9377

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_map(monkeypatch):
    """No map cached from another test; the catalog's signature is read on every request."""
    explore.clear_catalog_map()
    monkeypatch.setattr(recommender.catalog_cache, "CATALOG_CHECK_SECONDS", 0.0)
    yield
    explore.clear_catalog_map()


@pytest.fixture
def builds(monkeypatch):
    """Counts how many times the map is computed from the database."""
    calls = []
    real = explore.catalog_embeddings

    def counting():
        calls.append(1)
        return real()

    monkeypatch.setattr(explore, "catalog_embeddings", counting)
    return calls


def ingest(path: Path, embedder, index) -> None:
    catalog_ingest(
        source=open_source("jsonl", path), embedder=embedder, index=index, progress=False
    )


@pytest.fixture
def api(use_fake_embedder, catalog_index):
    ingest(FIXTURE, use_fake_embedder, catalog_index)
    return APIClient()


def error_of(response):
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    return body["error"]


def test_empty_catalog_answers_an_empty_map():
    response = APIClient().get(URL)
    assert response.status_code == 200
    assert response.json() == {"method": "pca", "count": 0, "points": []}
    assert response["ETag"]


def test_every_embedded_movie_is_a_point_in_the_unit_square(api):
    response = api.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["method"] == "pca" and body["count"] == 6 == len(body["points"])
    assert {p["id"] for p in body["points"]} == {
        INCEPTION, PARASITE, HARRY_POTTER, TOTORO, SHINING, FERRIS
    }  # fmt: skip
    for point in body["points"]:
        assert set(point) == {"id", "title", "year", "genre", "x", "y"}
        assert -1.0 <= point["x"] <= 1.0 and -1.0 <= point["y"] <= 1.0
    # One scale for both axes: the farthest coordinate touches the edge, the points spread out.
    assert max(max(abs(p["x"]), abs(p["y"])) for p in body["points"]) == pytest.approx(1.0)
    assert len({(p["x"], p["y"]) for p in body["points"]}) == 6
    by_id = {p["id"]: p for p in body["points"]}
    assert by_id[INCEPTION]["title"] == "Inception" and by_id[INCEPTION]["year"] == 2010
    # The first genre as the source lists it (Fantasy, Animation, Family), not alphabetically.
    assert by_id[TOTORO]["genre"] == "Fantasy"
    # What the view sends without a serializer matches the one the schema documents.
    serializer = CatalogMapOutputSerializer(data=body)
    assert serializer.is_valid(), serializer.errors
    assert json.loads(json.dumps(serializer.validated_data)) == body


def test_movies_without_an_embedding_or_genre_are_handled(api):
    Movie.objects.create(tmdb_id=1, title="Not embedded yet")
    Movie.objects.create(tmdb_id=2, title="No genre", embedding=vector_to_bytes(np.ones(384)))
    points = {p["id"]: p for p in api.get(URL).json()["points"]}
    assert 1 not in points
    assert points[2]["genre"] == "" and points[2]["year"] is None


def test_the_map_is_cached_until_the_catalog_changes(api, builds, tmp_path, use_fake_embedder,
                                                     catalog_index):  # fmt: skip
    first = api.get(URL)
    again = api.get(URL)
    assert len(builds) == 1
    assert again.json() == first.json() and again["ETag"] == first["ETag"]

    # A re-ingestion that renames a film (bulk_update, not save()) is seen without any step.
    lines = FIXTURE.read_text().replace('"title": "Inception"', '"title": "Inception (2010)"')
    changed = tmp_path / "changed.jsonl"
    changed.write_text(lines)
    ingest(changed, use_fake_embedder, catalog_index)
    after = api.get(URL)
    assert len(builds) == 2 and after["ETag"] != first["ETag"]
    titles = {p["id"]: p["title"] for p in after.json()["points"]}
    assert titles[INCEPTION] == "Inception (2010)"

    Movie.objects.filter(tmdb_id=SHINING).delete()
    assert SHINING not in {p["id"] for p in api.get(URL).json()["points"]}
    assert len(builds) == 3


def test_a_film_embedded_later_appears(api, use_fake_embedder):
    Movie.objects.create(tmdb_id=42, title="The Hitchhiker's Movie", overview="towel galaxy")
    assert 42 not in {p["id"] for p in api.get(URL).json()["points"]}
    movies_embed(tmdb_ids=[42], embedder=use_fake_embedder)
    assert 42 in {p["id"] for p in api.get(URL).json()["points"]}


def test_etag_revalidation_and_cache_headers(api):
    response = api.get(URL)
    etag = response["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert response["Cache-Control"] == "no-cache"
    unchanged = api.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged["ETag"] == etag
    assert not unchanged.content
    assert api.get(URL, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    assert api.get(URL, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_embeddings_of_mixed_sizes_answer_an_error_in_the_one_shape(api):
    Movie.objects.create(tmdb_id=3, title="Other model", embedding=vector_to_bytes(np.ones(768)))
    response = api.get(URL)
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "mixed_embeddings"
    assert "verify --repair" in error["message"]
    assert error["details"]["dimensions"] == {"384": 6, "768": 1}


def test_only_get_is_allowed(api):
    response = api.post(URL, {}, format="json")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_saved_map_is_the_api_body(api, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    path = catalog_map_build()
    assert path == tmp_path / "var" / "explore" / "map.json"
    assert json.loads(path.read_text()) == api.get(URL).json()
    out = catalog_map_build(out=tmp_path / "elsewhere" / "m.json")
    assert json.loads(out.read_text())["count"] == 6


# --- pca_2d --------------------------------------------------------------------------------


def test_pca_keeps_the_two_directions_of_largest_variance():
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(500, 2)) * [10.0, 3.0]
    basis = np.linalg.qr(rng.normal(size=(384, 2)))[0].T  # two orthonormal 384-d directions
    matrix = latent @ basis + rng.normal(scale=0.01, size=(500, 384))
    coords = pca_2d(matrix.astype(np.float32))
    assert coords.shape == (500, 2) and coords.dtype == np.float32
    assert np.abs(coords).max() == pytest.approx(1.0)
    assert coords.min() >= -1.0 and coords.max() <= 1.0
    # Axes in order of variance, on one scale: their spreads keep the 10:3 ratio.
    assert coords[:, 0].std() / coords[:, 1].std() == pytest.approx(10 / 3, rel=0.1)
    # Same projection as an SVD, up to each axis's sign and the common scale.
    centered = latent - latent.mean(axis=0)
    for k in range(2):
        assert abs(np.corrcoef(coords[:, k], centered[:, k])[0, 1]) > 0.999


def test_pca_is_stable_across_row_order_and_sign_flips():
    rng = np.random.default_rng(1)
    matrix = rng.normal(size=(200, 16)) * np.linspace(5, 1, 16)
    coords = pca_2d(matrix)
    order = rng.permutation(200)
    assert np.allclose(pca_2d(matrix[order]), coords[order], atol=1e-5)
    # One more film does not mirror the map: each axis keeps its orientation.
    grown = pca_2d(np.vstack([matrix, rng.normal(size=(1, 16))]))[:200]
    for k in range(2):
        assert np.corrcoef(grown[:, k], coords[:, k])[0, 1] > 0.99


@pytest.mark.parametrize("rows", [0, 1, 2, 5])
def test_pca_of_tiny_or_degenerate_catalogs(rows):
    matrix = np.ones((rows, 384), dtype=np.float32)  # identical vectors: no variance at all
    coords = pca_2d(matrix)
    assert coords.shape == (rows, 2)
    assert not np.any(coords)
    if rows == 2:
        two = pca_2d(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]))
        assert np.allclose(np.abs(two[:, 0]), 1.0) and np.allclose(two[:, 1], 0.0, atol=1e-6)


def test_the_map_is_gzipped_for_clients_that_accept_it(api):
    plain = api.get(URL)
    zipped = api.get(URL, HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.content)) == plain.json()
    # The gzipped body's weak ETag still revalidates.
    assert api.get(URL, HTTP_IF_NONE_MATCH=zipped["ETag"]).status_code == 304
