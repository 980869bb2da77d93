"""The chat API against a real model service (MiniLM embeddings, SmolLM2 through llama.cpp for
speed), the real intent router, FAQ and title linker over the demo catalog; then the same turn
with the model service stopped, and again once it is back."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from clients.model_service import ModelServiceClient
from recommender import resources
from recommender.models import Message
from scripts.stack import SMALL_GENERATOR, child_env, local_model_service

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture(scope="module")
def model_service_url():
    with local_model_service(child_env(**SMALL_GENERATOR, MODEL_THREADS="2")) as running:
        yield running


@pytest.fixture
def real_api(model_service_url, catalog_index, monkeypatch, settings):
    from catalog.ingestion.sources import open_source
    from catalog.services.ingestion import catalog_ingest

    url, _ = model_service_url
    client = ModelServiceClient(url, timeout=120, retries=0)
    catalog_ingest(
        source=open_source("demo", None), embedder=client, index=catalog_index, progress=False
    )
    settings.VAR_DIR = settings.INDEX_PATH.parent  # the router's cache: this test's tmp dir
    import recommender.apis

    monkeypatch.setattr(recommender.apis, "get_model_service_client", lambda: client)
    resources.reset()
    yield APIClient(), client
    resources.reset()
    client.close()


def test_real_turns_and_degraded_mode(real_api, model_service_url):
    api, _ = real_api

    similar = api.post(
        "/api/chat/", {"message": "something like the matrix", "limit": 5}, format="json"
    ).json()
    assert similar["intent"] == "similar", similar
    assert similar["degraded"] is False, similar["notices"]
    assert similar["movies"] and 603 not in [m["id"] for m in similar["movies"]]
    assert similar["reply"], similar
    # Whatever SmolLM2 wrote, what reaches the user names only films that were shown.
    assert similar["reply_source"] in ("model", "template")

    facts = api.post("/api/chat/", {"message": "who directed Heat?"}, format="json").json()
    assert facts["intent"] == "movie_info" and "Michael Mann" in facts["reply"], facts
    follow = api.post(
        "/api/chat/",
        {"message": "how long is it?", "conversation_id": facts["conversation_id"]},
        format="json",
    ).json()
    assert follow["intent"] == "movie_info" and "170 minutes" in follow["reply"], follow

    faq = api.post(
        "/api/chat/", {"message": "how do I give feedback on a suggestion?"}, format="json"
    ).json()
    assert faq["intent"] == "faq" and faq["reply_source"] == "faq", faq

    explicit = api.post(
        "/api/chat/", {"message": "a Korean thriller", "reply": False}, format="json"
    ).json()
    assert explicit["movies"]
    assert all(m["original_language"] == "ko" for m in explicit["movies"])

    stream = api.post(
        "/api/chat/stream/", {"message": "a feel-good animated film for kids"}, format="json"
    )
    text = b"".join(stream.streaming_content).decode()
    events = [block.split("\n", 1)[0].removeprefix("event: ") for block in text.split("\n\n")]
    assert events[0] == "meta" and "done" in events, text[:500]
    done = json.loads(text.strip().split("\n\n")[-1].split("data: ", 1)[1])
    assert Message.objects.filter(id=done["message_id"]).exists()

    # The model service goes away: the turn still answers, from the database, and says so.
    _, proc = model_service_url
    proc.stop()
    down = api.post("/api/chat/", {"message": "a comedy from the 90s"}, format="json")
    assert down.status_code == 200
    body = down.json()
    assert body["degraded"] is True
    assert body["movies"] and all("Comedy" in m["genres"] for m in body["movies"])
    assert body["reply_source"] == "template" and body["reply"]

    # ...and recovers by itself when it is back.
    proc.start()
    proc.wait_ready(300)
    back = api.post(
        "/api/chat/", {"message": "a comedy from the 90s", "reply": False}, format="json"
    ).json()
    assert back["degraded"] is False, back["notices"]
