"""Catalog writes through the API: staff only, embedded and searchable at once, gone on delete."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from catalog.models import Movie

pytestmark = pytest.mark.django_db

NEW_FILM = {
    "tmdb_id": 990002,
    "title": "Glimmerfen",
    "year": 2025,
    "genres": ["fantasy", "Adventure"],
    "overview": "A glimmerfen bog witch teaches an apprentice to speak with herons.",
    "original_language": "en",
    "keywords": ["bog", "witch"],
}


@pytest.fixture
def writes(catalog_index, use_fake_embedder, monkeypatch, fake_embedder):
    import catalog.apis_staff

    monkeypatch.setattr(catalog.apis_staff, "get_model_service_client", lambda: fake_embedder)
    return catalog_index


def user_client(*, staff: bool) -> APIClient:
    user = get_user_model().objects.create_user(
        "staff" if staff else "viewer", password="pw", is_staff=staff
    )
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("staff", [None, False])
def test_anonymous_and_non_staff_writes_are_refused_and_change_nothing(writes, staff):
    client = APIClient() if staff is None else user_client(staff=staff)
    assert client.post("/api/movies/", NEW_FILM, format="json").status_code in (401, 403)
    Movie.objects.create(tmdb_id=5, title="Kept")
    assert client.patch("/api/movies/5/", {"title": "X"}, format="json").status_code in (401, 403)
    assert client.delete("/api/movies/5/").status_code in (401, 403)
    response = client.post("/api/movies/", NEW_FILM, format="json")
    assert response.json()["error"]["code"] in ("not_authenticated", "permission_denied")
    assert list(Movie.objects.values_list("title", flat=True)) == ["Kept"]
    assert writes.count() == 0


def test_a_session_without_csrf_token_cannot_write(writes):
    user = get_user_model().objects.create_user("s", password="pw", is_staff=True)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/movies/", NEW_FILM, format="json")
    assert response.status_code == 403
    assert not Movie.objects.exists()


def test_staff_add_edit_delete(writes, fake_embedder):
    client = user_client(staff=True)
    created = client.post("/api/movies/", NEW_FILM, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["indexed"] is True
    assert body["movie"]["genres"] == ["Adventure", "Fantasy"] or set(body["movie"]["genres"]) == {
        "Fantasy",
        "Adventure",
    }
    assert writes.get_vector(990002) is not None

    found = APIClient().get("/api/movies/?q=glimmerfen+bog+witch+herons&limit=1").json()
    assert found["results"][0]["id"] == 990002

    again = client.post("/api/movies/", NEW_FILM, format="json")
    assert again.status_code == 409

    edited = client.patch("/api/movies/990002/", {"title": "Glimmerfen Night"}, format="json")
    assert edited.status_code == 200
    assert edited.json()["movie"]["title"] == "Glimmerfen Night"
    payloads = dict(writes.iter_payloads())
    assert payloads[990002]["title"] == "Glimmerfen Night"

    assert client.delete("/api/movies/990002/").status_code == 204
    assert not Movie.objects.filter(tmdb_id=990002).exists()
    assert writes.get_vector(990002) is None


def test_staff_write_with_the_model_service_down_saves_and_says_so(writes, fake_embedder):
    fake_embedder.down = True
    response = user_client(staff=True).post("/api/movies/", NEW_FILM, format="json")
    assert response.status_code == 201
    assert response.json()["indexed"] is False
    assert "verify --repair" in response.json()["notice"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [({"title": "  "}, "title"), ({"genres": ["nope"]}, "genres"), ({"year": 3000}, "year")],
)
def test_bad_writes_name_the_field(writes, patch, field):
    response = user_client(staff=True).post("/api/movies/", {**NEW_FILM, **patch}, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]["fields"]
