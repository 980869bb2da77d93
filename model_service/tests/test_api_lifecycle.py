"""Health, readiness through loading and load failure, and GET /v1/models."""

from __future__ import annotations

import asyncio
import threading

from model_service.app import create_app
from model_service.engines.embeddings import EngineLoadError
from model_service.engines.fake import FakeEmbeddingEngine


async def wait_for_model_status(client, status: str, timeout_s: float = 5.0):
    """Poll /readyz until the embedding model's status is `status`; return that response."""
    async with asyncio.timeout(timeout_s):
        while True:
            response = await client.get("/readyz")
            if response.json()["models"]["embeddings"]["status"] == status:
                return response
            await asyncio.sleep(0.01)  # in-process requests never yield to the loader thread


async def test_healthz_is_ok(client):
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_503_while_loading_then_200(settings, serve):
    release = threading.Event()

    def slow_loader() -> FakeEmbeddingEngine:
        release.wait(timeout=10)
        return FakeEmbeddingEngine(model_id="late-model")

    async with serve(create_app(settings, embedding_loader=slow_loader)) as client:
        loading = await client.get("/readyz")
        alive = await client.get("/healthz")
        early = await client.post("/v1/embeddings", json={"input": "too soon"})
        no_models = await client.get("/v1/models")
        release.set()
        ready = await wait_for_model_status(client, "ready")
        served = await client.post("/v1/embeddings", json={"input": "now"})

    assert loading.status_code == 503
    body = loading.json()
    assert body["status"] == "not_ready"
    assert body["models"]["embeddings"]["status"] == "loading"
    assert body["error"]["code"] == "model_not_ready"
    assert "loading" in body["error"]["message"]
    assert alive.status_code == 200
    assert early.status_code == 503
    assert early.json()["error"]["code"] == "model_not_ready"
    assert no_models.json() == {"object": "list", "data": []}
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "models": {"embeddings": {"name": "late-model", "status": "ready", "error": None}},
    }
    assert served.status_code == 200
    assert served.json()["model"] == "late-model"


async def test_failed_load_keeps_serving_503_with_the_reason(settings, serve, caplog):
    def broken_loader() -> FakeEmbeddingEngine:
        raise EngineLoadError("Could not load embedding model 'nope': no such directory.")

    async with serve(create_app(settings, embedding_loader=broken_loader)) as client:
        not_ready = await wait_for_model_status(client, "failed")
        alive = await client.get("/healthz")
        refused = await client.post("/v1/embeddings", json={"input": "x"})

    assert not_ready.status_code == 503
    body = not_ready.json()
    assert body["models"]["embeddings"]["status"] == "failed"
    assert body["error"]["code"] == "model_load_failed"
    assert "no such directory" in body["error"]["message"]
    assert alive.status_code == 200
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "model_load_failed"
    assert "no such directory" in refused.json()["error"]["message"]
    assert "embedding model failed to load" in caplog.text
    assert "no such directory" in caplog.text


async def test_unexpected_loader_exception_is_also_reported(settings, serve):
    def buggy_loader() -> FakeEmbeddingEngine:
        raise MemoryError("out of memory")

    async with serve(create_app(settings, embedding_loader=buggy_loader)) as client:
        response = await wait_for_model_status(client, "failed")

    assert response.status_code == 503
    assert "MemoryError: out of memory" in response.json()["error"]["message"]


async def test_readyz_with_a_given_engine_is_ready_at_once(client):
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["models"]["embeddings"]["status"] == "ready"


async def test_models_lists_the_embedding_model_in_openai_shape(client, settings):
    response = await client.get("/v1/models")

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    [card] = body["data"]
    assert card["id"] == "fake-embedding"
    assert card["object"] == "model"
    assert card["owned_by"] == "marquee"
    assert card["dimensions"] == 384
    assert card["max_input_chars"] == settings.embed_max_input_chars
    assert card["max_inputs"] == settings.embed_max_inputs
    assert card["max_input_tokens"] == 256
    assert "default" in card["aliases"]
