"""POST /v1/embeddings with the fake engine: OpenAI shapes, ordering, usage and every bad input."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import numpy as np
import pytest

from model_service.app import create_app
from model_service.engines.fake import FakeEmbeddingEngine


def assert_error(response: httpx.Response, status: int, code: str, param: str | None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code
    assert error["param"] == param
    assert error["type"] == ("invalid_request_error" if status < 500 else "service_unavailable")
    assert error["message"]
    return error


async def test_single_string_gives_one_unit_vector(client, fake_engine):
    response = await client.post("/v1/embeddings", json={"input": "a scary movie about ghosts"})

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    assert body["model"] == "fake-embedding"
    assert len(body["data"]) == 1
    item = body["data"][0]
    assert item["object"] == "embedding"
    assert item["index"] == 0
    vector = np.array(item["embedding"])
    assert vector.shape == (384,)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(vector, fake_engine.vector("a scary movie about ghosts"), atol=1e-6)


async def test_list_keeps_input_order_indices_and_counts_usage(client, fake_engine):
    texts = ["space opera", "a very long and winding heist comedy set in Rome", "noir", "cats"]

    response = await client.post("/v1/embeddings", json={"input": texts})

    assert response.status_code == 200
    body = response.json()
    assert [item["index"] for item in body["data"]] == [0, 1, 2, 3]
    for text, item in zip(texts, body["data"], strict=True):
        np.testing.assert_allclose(item["embedding"], fake_engine.vector(text), atol=1e-6)
    expected_tokens = sum(len(text.split()) + 2 for text in texts)
    assert body["usage"] == {"prompt_tokens": expected_tokens, "total_tokens": expected_tokens}


async def test_base64_encoding_is_little_endian_float32(client, fake_engine):
    response = await client.post(
        "/v1/embeddings", json={"input": ["ghosts"], "encoding_format": "base64"}
    )

    assert response.status_code == 200
    encoded = response.json()["data"][0]["embedding"]
    vector = np.frombuffer(base64.b64decode(encoded), dtype="<f4")
    np.testing.assert_array_equal(vector, fake_engine.vector("ghosts"))


@pytest.mark.parametrize("name", ["fake-embedding", "FAKE-EMBEDDING", "default"])
async def test_model_may_be_named_by_id_or_alias(client, name):
    response = await client.post("/v1/embeddings", json={"input": "x", "model": name})

    assert response.status_code == 200
    assert response.json()["model"] == "fake-embedding"


async def test_unknown_model_is_404_naming_the_available_one(client):
    response = await client.post(
        "/v1/embeddings", json={"input": "x", "model": "text-embedding-3-small"}
    )

    error = assert_error(response, 404, "model_not_found", "model")
    assert "text-embedding-3-small" in error["message"]
    assert "fake-embedding" in error["message"]


async def test_largest_accepted_request_passes(client):
    texts = ["word " * 3999 + "words"] + ["short"] * 511  # 20,000 characters and 512 texts

    response = await client.post("/v1/embeddings", json={"input": texts})

    assert len(texts[0]) == 20_000
    assert response.status_code == 200
    assert len(response.json()["data"]) == 512


@pytest.mark.parametrize(
    ("payload", "code", "param", "in_message"),
    [
        ({"input": []}, "empty_input", "input", "empty list"),
        ({"input": ""}, "empty_input", "input", "empty"),
        ({"input": ["fine", ""]}, "empty_input", "input[1]", "input[1]"),
        ({"input": ["fine", "fine", " \n\t"]}, "empty_input", "input[2]", "whitespace"),
        ({"input": ["x"] * 513}, "too_many_inputs", "input", "513"),
        ({"input": ["ok", "y" * 20_001]}, "input_too_long", "input[1]", "20001"),
        ({"input": "y" * 20_001}, "input_too_long", "input", "20000"),
        ({"input": 42}, "invalid_type", "input", "got number"),
        ({"input": None}, "invalid_type", "input", "got null"),
        ({"input": {"text": "hi"}}, "invalid_type", "input", "got object"),
        ({"input": [101, 2023, 102]}, "invalid_type", "input[0]", "Token arrays"),
        ({"input": ["a", "b", "c", 4]}, "invalid_type", "input[3]", "input[3]"),
        ({"input": [[101, 102]]}, "invalid_type", "input[0]", "Token arrays"),
        ({"input": ["a", True]}, "invalid_type", "input[1]", "boolean"),
        ({}, "missing_required_parameter", "input", "'input' is required"),
        ({"input": "x", "encoding_format": "int8"}, "invalid_value", "encoding_format", "base64"),
        ({"input": "x", "model": 3}, "invalid_value", "model", "string"),
        ({"input": "x", "dimensions": 256}, "unsupported_dimensions", "dimensions", "384"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(client, payload, code, param, in_message):
    response = await client.post("/v1/embeddings", json=payload)

    error = assert_error(response, 400, code, param)
    assert in_message in error["message"]


@pytest.mark.parametrize(
    ("content", "content_type", "code", "in_message"),
    [
        (b'{"input": "unterminated', "application/json", "invalid_json", "not valid JSON"),
        (b"input=hello", "application/json", "invalid_json", "not valid JSON"),
        (b'["a", "b"]', "application/json", "invalid_request_body", "JSON object"),
        (b'"just a string"', "application/json", "invalid_request_body", "JSON object"),
        (b"", "application/json", "invalid_request_body", "empty"),
    ],
)
async def test_body_that_is_not_a_json_object_is_a_400(
    client, content, content_type, code, in_message
):
    response = await client.post(
        "/v1/embeddings", content=content, headers={"content-type": content_type}
    )

    error = assert_error(response, 400, code, None)
    assert in_message in error["message"]


async def test_a_body_sent_as_another_media_type_is_a_415(client):
    response = await client.post(
        "/v1/embeddings", content=b'{"input": "hi"}', headers={"content-type": "text/plain"}
    )

    error = assert_error(response, 415, "unsupported_media_type", None)
    assert "Content-Type: application/json" in error["message"] and "text/plain" in error["message"]


async def test_unknown_route_and_wrong_method_answer_json(client):
    assert_error(await client.get("/v1/nothing"), 404, "not_found", None)
    assert_error(await client.get("/v1/embeddings"), 405, "method_not_allowed", None)


async def test_unexpected_exception_is_a_json_500(settings, fake_engine, serve, caplog):
    app = create_app(settings, fake_engine)

    async def explode() -> None:
        raise RuntimeError("bug")

    app.add_api_route("/explode", explode)
    async with serve(app) as client:
        response = await client.get("/explode")

    assert response.status_code == 500
    error = response.json()["error"]
    assert error["type"] == "server_error"
    assert error["code"] == "internal_error"
    assert "RuntimeError" in error["message"]
    assert "unhandled error on GET /explode" in caplog.text


async def test_concurrent_requests_share_engine_calls(client, fake_engine):
    texts = [f"query number {i}" for i in range(16)]

    responses = await asyncio.gather(
        *(client.post("/v1/embeddings", json={"input": text}) for text in texts)
    )

    for text, response in zip(texts, responses, strict=True):
        assert response.status_code == 200
        np.testing.assert_allclose(
            response.json()["data"][0]["embedding"], fake_engine.vector(text), atol=1e-6
        )
    # settings.embed_max_batch is 8, so 16 single-text requests need at least two encodes.
    assert 2 <= len(fake_engine.calls) < len(texts)
    assert sorted(text for call in fake_engine.calls for text in call) == sorted(texts)


async def test_request_id_is_echoed_or_generated_and_logged(client, caplog):
    caplog.set_level("INFO", logger="model_service.requests")

    echoed = await client.post(
        "/v1/embeddings", json={"input": "x"}, headers={"X-Request-ID": "abc-123"}
    )
    generated = await client.get("/healthz")

    assert echoed.headers["x-request-id"] == "abc-123"
    assert len(generated.headers["x-request-id"]) == 32
    assert "request_id=abc-123 method=POST path=/v1/embeddings status=200 latency_ms=" in (
        caplog.text
    )
    assert f"request_id={generated.headers['x-request-id']} method=GET path=/healthz" in (
        caplog.text
    )


async def test_response_is_plain_json(client):
    response = await client.post("/v1/embeddings", json={"input": ["a", "b"]})

    assert json.loads(response.content)["data"][1]["index"] == 1


async def test_openapi_schema_documents_the_endpoints(client):
    schema = (await client.get("/openapi.json")).json()

    assert {"/healthz", "/readyz", "/v1/models", "/v1/embeddings"} <= set(schema["paths"])
    assert "EmbeddingRequest" in schema["components"]["schemas"]


async def test_fake_engine_vectors_are_deterministic_unit_vectors():
    engine = FakeEmbeddingEngine(dimensions=16)

    first, second = engine.encode(["a", "b"]), engine.encode(["b", "a"])

    np.testing.assert_array_equal(first[0], second[1])
    assert first.shape == (2, 16)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-6)
    assert not np.allclose(first[0], first[1])
