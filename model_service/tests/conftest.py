"""Shared fixtures: settings without the environment, fake-engine apps and their HTTP clients."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from model_service.app import create_app
from model_service.config import Settings
from model_service.engines.fake import FakeEmbeddingEngine, fake_engine_settings


@pytest.fixture
def settings() -> Settings:
    return fake_engine_settings(embed_max_batch=8)


@pytest.fixture
def fake_engine() -> FakeEmbeddingEngine:
    return FakeEmbeddingEngine(dimensions=384, model_id="fake-embedding", aliases=("default",))


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and give an in-process HTTP client to it."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        yield client


@pytest.fixture
def serve() -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]:
    return running


@pytest.fixture
async def client(
    settings: Settings, fake_engine: FakeEmbeddingEngine
) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings, fake_engine)) as client:
        yield client


@contextlib.contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn on a loopback port in a thread; yields its base URL.

    For what the in-process transport cannot show: bytes streamed as they are produced, and
    a client that really hangs up.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        assert server.started, "test server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
