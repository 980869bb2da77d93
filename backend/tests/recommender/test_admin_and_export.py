"""A film added in the Django admin is searchable by chat at once; rated turns export as JSONL."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from catalog.models import Genre, Movie

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db):
    user = get_user_model().objects.create_user("editor", password="pw", is_staff=True)
    user.is_superuser = True
    user.save()
    client = APIClient()
    client.force_login(user)
    return client


def test_admin_requires_login(client):
    response = client.get("/admin/catalog/movie/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_film_added_in_the_admin_is_found_by_chat(
    demo_catalog, chat_client, stub_router, staff_client, monkeypatch
):
    import catalog.admin

    monkeypatch.setattr(catalog.admin, "get_model_service_client", lambda: chat_client)
    scifi = Genre.objects.get(name="Science Fiction")
    response = staff_client.post(
        "/admin/catalog/movie/add/",
        {
            "tmdb_id": 990001,
            "title": "Zorblax Rising",
            "original_title": "Zorblax Rising",
            "year": 2024,
            "genres": [scifi.id],
            "overview": "A zorblax pilot crosses the quasar nebula to save her stranded crew.",
            "original_language": "en",
            "keywords": "[]",
            "cast": "[]",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    movie = Movie.objects.get(tmdb_id=990001)
    assert movie.source == "admin"
    assert movie.embedding is not None and movie.indexed_hash == movie.content_hash

    body = (
        APIClient()
        .post(
            "/api/chat/",
            {"message": "zorblax pilot crossing the quasar nebula", "reply": False},
            format="json",
        )
        .json()
    )
    assert body["movies"][0]["id"] == 990001, body

    staff_client.post("/admin/catalog/movie/990001/delete/", {"post": "yes"})
    assert not Movie.objects.filter(tmdb_id=990001).exists()
    assert demo_catalog.get_vector(990001) is None


def test_export_feedback_writes_rated_turns(demo_catalog, chat_client, stub_router, tmp_path):
    api = APIClient()
    rated = api.post("/api/chat/", {"message": "science fiction movies"}, format="json").json()
    api.post("/api/chat/", {"message": "a comedy"}, format="json")  # not rated: not exported
    film = rated["movies"][0]["id"]
    api.post("/api/feedback/", {"message_id": rated["message_id"], "rating": 1}, format="json")
    api.post(
        "/api/feedback/",
        {"message_id": rated["message_id"], "movie_id": film, "rating": -1, "comment": "seen it"},
        format="json",
    )
    output = tmp_path / "feedback.jsonl"
    call_command("export_feedback", output=output)
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert row["request"] == "science fiction movies"
    assert row["reply"] == rated["reply"]
    assert row["rating"] == 1
    assert row["movie_ratings"] == {str(film): -1}
    assert row["comments"] == ["seen it"]
    assert [m["id"] for m in row["movies"]] == [m["id"] for m in rated["movies"]]
