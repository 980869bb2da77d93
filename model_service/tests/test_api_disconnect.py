"""A client that disconnects while its embedding request waits has its work dropped."""

from __future__ import annotations

import asyncio
import json

from model_service.app import create_app
from model_service.engines.fake import GatedEmbeddingEngine


async def post_then_disconnect(
    app, payload: dict, disconnect: asyncio.Event, *, path: str = "/v1/embeddings"
) -> list[dict]:
    """Drive the ASGI app like a server whose client hangs up when `disconnect` is set."""
    pending = [{"type": "http.request", "body": json.dumps(payload).encode(), "more_body": False}]

    async def receive() -> dict:
        if pending:
            return pending.pop()
        await disconnect.wait()
        return {"type": "http.disconnect"}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    return sent


async def test_disconnected_request_is_not_encoded_and_others_are_served(settings, serve, caplog):
    caplog.set_level("INFO", logger="model_service.requests")
    engine = GatedEmbeddingEngine()
    app = create_app(settings, engine)
    async with serve(app) as client:
        busy = asyncio.ensure_future(client.post("/v1/embeddings", json={"input": "first"}))
        assert await asyncio.to_thread(engine.entered.wait, 5)  # "first" holds the engine
        hang_up = asyncio.Event()
        abandoned = asyncio.ensure_future(
            post_then_disconnect(app, {"input": "abandoned"}, hang_up)
        )
        await asyncio.sleep(0.05)  # "abandoned" is queued behind "first"
        hang_up.set()
        sent = await asyncio.wait_for(abandoned, 2)
        engine.gate.set()
        first = await busy
        after = await client.post("/v1/embeddings", json={"input": "after"})

    assert sent[0]["status"] == 499
    assert first.status_code == 200
    assert after.status_code == 200
    assert engine.calls == [["first"], ["after"]]
    assert "path=/v1/embeddings status=499" in caplog.text
