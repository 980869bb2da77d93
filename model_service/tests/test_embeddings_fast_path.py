"""EmbeddingsFastPath: well-formed POST /v1/embeddings skip FastAPI's router and answer exactly
what the route would; everything else reaches the route with its body intact."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import Message, Receive, Scope, Send

from model_service.app import create_app
from model_service.config import Settings
from model_service.engines.fake import FakeEmbeddingEngine
from model_service.routers.embeddings import EmbeddingsFastPath


class CountRouted:
    """Innermost middleware: counts the requests that reached FastAPI's router."""

    paths: list[str]

    def __init__(self, app, paths: list[str]) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.paths.append(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)


def without_fast_path(app: FastAPI) -> FastAPI:
    app.user_middleware = [m for m in app.user_middleware if m.cls is not EmbeddingsFastPath]
    return app


def counting_routed(app: FastAPI) -> list[str]:
    paths: list[str] = []
    app.user_middleware.append(Middleware(CountRouted, paths=paths))  # innermost
    return paths


VALID_REQUESTS = [
    {"input": "a scary movie about ghosts"},
    {"input": ["space opera", "heist comedy", "noir"]},
    {"input": ["ghosts"], "encoding_format": "base64"},
    {"input": "x", "model": "default", "dimensions": 384, "user": "someone"},
    # Valid JSON of the right shape that embed() itself refuses:
    {"input": "x", "model": "text-embedding-3-small"},
    {"input": "x", "dimensions": 256},
    {"input": []},
    {"input": ["fine", "   "]},
    {"input": ["t"] * 513},
    {"input": "y" * 20_001},
]


@pytest.mark.parametrize("payload", VALID_REQUESTS, ids=range(len(VALID_REQUESTS)))
async def test_fast_path_answers_byte_for_byte_what_the_route_answers(
    settings: Settings, fake_engine: FakeEmbeddingEngine, serve, payload
):
    fast_app = create_app(settings, fake_engine)
    routed = counting_routed(fast_app)
    async with serve(fast_app) as client:
        fast = await client.post("/v1/embeddings", json=payload)
    async with serve(without_fast_path(create_app(settings, fake_engine))) as client:
        slow = await client.post("/v1/embeddings", json=payload)

    assert routed == []  # answered before the router
    assert fast.status_code == slow.status_code
    assert fast.content == slow.content
    assert fast.headers["content-type"] == slow.headers["content-type"]
    assert fast.headers["content-length"] == slow.headers["content-length"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"input": ["ok", 3]}',
        b'{"inputs": "typo"}',
        b'["not", "an", "object"]',
        b"{not json",
        b"",
    ],
)
async def test_a_body_that_does_not_validate_goes_to_the_route_unchanged(
    settings: Settings, fake_engine: FakeEmbeddingEngine, serve, body
):
    fast_app = create_app(settings, fake_engine)
    routed = counting_routed(fast_app)
    headers = {"content-type": "application/json"}
    async with serve(fast_app) as client:
        fast = await client.post("/v1/embeddings", content=body, headers=headers)
    async with serve(without_fast_path(create_app(settings, fake_engine))) as client:
        slow = await client.post("/v1/embeddings", content=body, headers=headers)

    assert routed == ["POST /v1/embeddings"]
    assert fast.status_code == slow.status_code == 400
    assert fast.content == slow.content


async def test_other_routes_and_methods_still_go_through_the_router(
    settings: Settings, fake_engine: FakeEmbeddingEngine, serve
):
    app = create_app(settings, fake_engine)
    routed = counting_routed(app)
    async with serve(app) as client:
        assert (await client.get("/v1/embeddings")).status_code == 405
        assert (await client.get("/v1/models")).status_code == 200

    assert routed == ["GET /v1/embeddings", "GET /v1/models"]


async def test_fast_path_requests_are_logged_and_counted_under_their_endpoint(
    settings: Settings, fake_engine: FakeEmbeddingEngine, serve, caplog
):
    caplog.set_level(logging.INFO, logger="model_service.requests")
    async with serve(create_app(settings, fake_engine)) as client:
        ok = await client.post("/v1/embeddings", json={"input": "x"})
        refused = await client.post("/v1/embeddings", json={"input": "x", "model": "nope"})
        metrics = (await client.get("/metrics")).text

    assert ok.status_code == 200 and refused.status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "model_service.requests"]
    assert any("path=/v1/embeddings status=200" in line for line in lines)
    assert any("path=/v1/embeddings status=404" in line for line in lines)
    counted = [
        line for line in metrics.splitlines() if line.startswith("marquee_http_requests_total")
    ]
    assert any('endpoint="/v1/embeddings"' in line and 'status="200"' in line for line in counted)
    assert any('endpoint="/v1/embeddings"' in line and 'status="404"' in line for line in counted)
    assert not any('endpoint="unmatched"' in line for line in counted)


async def test_unit_passthrough_keeps_scope_receive_and_body():
    seen: list[tuple[str, list[Message]]] = []

    async def downstream(scope: Scope, receive: Receive, send: Send) -> None:
        messages = [await receive(), await receive()]
        seen.append((f"{scope['method']} {scope['path']}", messages))

    fast = EmbeddingsFastPath(downstream)
    queue: list[Message] = [
        {"type": "http.request", "body": b'{"input": 7}', "more_body": False},
        {"type": "http.disconnect"},
    ]

    async def receive() -> Message:
        return queue.pop(0)

    async def send(message: Message) -> None:
        raise AssertionError("the fast path must not answer an invalid body itself")

    await fast({"type": "http", "method": "POST", "path": "/v1/embeddings"}, receive, send)

    assert seen == [
        (
            "POST /v1/embeddings",
            [
                {"type": "http.request", "body": b'{"input": 7}', "more_body": False},
                {"type": "http.disconnect"},
            ],
        )
    ]
