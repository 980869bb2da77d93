"""MODEL_SERVICE_API_KEY: every endpoint but the probes needs the bearer key; the backend's
client sends it."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from model_service.app import create_app
from model_service.config import Settings
from model_service.tests.conftest import live_server, running

KEY = "k3y-for-tests"


@pytest.fixture
def keyed(settings: Settings) -> Settings:
    return dataclasses.replace(settings, api_key=KEY)


async def test_without_or_with_a_wrong_key_nothing_but_the_probes_answers(keyed, fake_engine):
    async with running(create_app(keyed, fake_engine)) as client:
        missing = await client.post("/v1/embeddings", json={"input": "hello"})
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        error = missing.json()["error"]
        assert error["code"] == "invalid_api_key" and "MODEL_SERVICE_API_KEY" in error["message"]

        wrong = await client.get("/v1/models", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "Invalid API key."
        assert (await client.get("/metrics")).status_code == 401

        for probe in ("/healthz", "/readyz"):
            assert (await client.get(probe)).status_code == 200, probe

        ok = await client.post(
            "/v1/embeddings", json={"input": "hello"}, headers={"Authorization": f"Bearer {KEY}"}
        )
        assert ok.status_code == 200 and len(ok.json()["data"][0]["embedding"]) == 384


async def test_no_key_configured_means_open(client):
    assert (await client.get("/v1/models")).status_code == 200


def test_the_backend_client_sends_the_key_over_a_real_socket(keyed, fake_engine):
    from clients.model_service import ModelServiceClient, ModelServiceError  # the backend's

    with live_server(create_app(keyed, fake_engine)) as url:
        good = ModelServiceClient(url, api_key=KEY, retries=0)
        assert good.embed(["a film about a heist"]).vectors.shape == (1, 384)
        with pytest.raises(ModelServiceError) as refused:
            ModelServiceClient(url, api_key="wrong", retries=0).embed(["x"])
        assert refused.value.status_code == 401
        assert httpx.get(f"{url}/readyz").status_code == 200


def test_the_key_is_read_from_the_environment():
    assert Settings.from_env({"MODEL_SERVICE_API_KEY": " s3cret "}).api_key == "s3cret"
    assert Settings.from_env({}).api_key is None
