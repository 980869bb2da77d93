"""The model service client: answers parsed, transport failures turned into domain errors."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

from clients.model_service import ModelServiceClient, ModelServiceError, ModelServiceUnavailable


def client_with(handler, **kwargs) -> ModelServiceClient:
    return ModelServiceClient("http://model", transport=httpx.MockTransport(handler), **kwargs)


def embeddings_body(n: int, dim: int = 3) -> dict:
    # Shuffled indices: the client must restore input order.
    data = [{"object": "embedding", "index": i, "embedding": [float(i)] * dim} for i in range(n)]
    return {"object": "list", "data": data[::-1], "model": "mini", "usage": {}}


def test_embed_returns_vectors_in_input_order():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["json"] = request.read()
        return httpx.Response(200, json=embeddings_body(3))

    batch = client_with(handler).embed(["a", "b", "c"])
    assert batch.model == "mini"
    np.testing.assert_array_equal(batch.vectors[:, 0], [0.0, 1.0, 2.0])
    assert b'"input":["a","b","c"]' in seen["json"].replace(b" ", b"")


def test_connection_errors_are_retried_then_reported_with_what_to_do():
    attempts = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        if len(attempts) < 3:
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json=embeddings_body(1))

    assert client_with(handler, retries=2).embed(["x"]).vectors.shape == (1, 3)
    attempts.clear()

    def always_down(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        raise httpx.ConnectError("refused")

    with pytest.raises(ModelServiceUnavailable, match="make run"):
        client_with(always_down, retries=1).embed(["x"])
    assert len(attempts) == 2


def test_timeouts_and_not_ready_are_unavailable_and_4xx_is_an_error():
    def slow(request):
        raise httpx.ReadTimeout("slow")

    with pytest.raises(ModelServiceUnavailable, match="did not answer in time"):
        client_with(slow).embed(["x"])

    def loading(request):
        return httpx.Response(503, json={"error": {"message": "model is loading"}})

    with pytest.raises(ModelServiceUnavailable, match="model is loading"):
        client_with(loading).ready()

    def rejects(request):
        return httpx.Response(400, json={"error": {"message": "input[0] is empty"}})

    with pytest.raises(ModelServiceError, match=r"input\[0\] is empty") as info:
        client_with(rejects).embed([""])
    assert info.value.status_code == 400


def test_malformed_or_short_answers_are_errors():
    with pytest.raises(ModelServiceError, match="malformed"):
        client_with(lambda r: httpx.Response(200, text="<html>")).embed(["x"])
    with pytest.raises(ModelServiceError, match="returned 1 embeddings for 2"):
        client_with(lambda r: httpx.Response(200, json=embeddings_body(1))).embed(["x", "y"])


def test_api_key_is_sent_as_bearer_token():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer s3cret"
        return httpx.Response(200, json={"data": [{"id": "mini", "dimensions": 384}]})

    assert client_with(handler, api_key="s3cret").embedding_model() == "mini"


def test_many_texts_are_sent_in_several_requests_in_order():
    sizes = []

    def handler(request: httpx.Request) -> httpx.Response:
        texts = json.loads(request.read())["input"]
        sizes.append(len(texts))
        rows = [{"index": i, "embedding": [float(t)]} for i, t in enumerate(texts)]
        return httpx.Response(200, json={"data": rows, "model": "mini"})

    batch = client_with(handler).embed([str(i) for i in range(600)])
    assert sizes == [256, 256, 88]
    np.testing.assert_array_equal(batch.vectors[:, 0], np.arange(600, dtype=np.float32))


def test_enrich_returns_the_answer_and_rejects_garbage():
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.read())
        if body["message"] == "bad":
            return httpx.Response(200, json={"nope": 1})
        return httpx.Response(200, json={"search_text": "sad drama", "history": body["history"]})

    client = client_with(handler)
    answer = client.enrich("cry", history=[{"role": "user", "content": "hi"}])
    assert answer["search_text"] == "sad drama"
    assert answer["history"] == [{"role": "user", "content": "hi"}]
    with pytest.raises(ModelServiceError, match="malformed enrichment"):
        client.enrich("bad")


def sse(*chunks: str) -> bytes:
    return "".join(f"data: {chunk}\n\n" for chunk in chunks).encode()


def test_chat_stream_yields_deltas_until_done():
    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.read())["stream"] is True
        return httpx.Response(
            200,
            content=sse(
                '{"choices":[{"delta":{"role":"assistant"}}]}',
                '{"choices":[{"delta":{"content":"Try "}}]}',
                '{"choices":[{"delta":{"content":"Heat."}}]}',
                "[DONE]",
            ),
            headers={"content-type": "text/event-stream"},
        )

    assert list(client_with(handler).chat_stream([{"role": "user", "content": "x"}])) == [
        "Try ",
        "Heat.",
    ]


def test_chat_stream_errors_before_and_during_the_stream():
    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": {"message": "busy, retry"}})

    with pytest.raises(ModelServiceUnavailable, match="busy, retry"):
        list(client_with(busy).chat_stream([{"role": "user", "content": "x"}]))

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=sse('{"choices":[{"delta":{"content":"Hi"}}]}', '{"error":{"message":"oom"}}'),
        )

    stream = client_with(broken).chat_stream([{"role": "user", "content": "x"}])
    assert next(stream) == "Hi"
    with pytest.raises(ModelServiceError, match="oom"):
        next(stream)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(ModelServiceUnavailable, match="not reachable"):
        list(client_with(down).chat_stream([{"role": "user", "content": "x"}]))
