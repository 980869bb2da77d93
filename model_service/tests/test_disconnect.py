"""cancel_on_disconnect: work is cancelled when the client goes away, and only then."""

from __future__ import annotations

import asyncio

import pytest

from model_service.disconnect import cancel_on_disconnect
from model_service.errors import ModelServiceError


async def test_returns_the_result_while_the_client_stays():
    async def never_disconnects() -> dict:
        await asyncio.Event().wait()
        return {}

    async def work() -> str:
        await asyncio.sleep(0.01)
        return "done"

    assert await cancel_on_disconnect(never_disconnects, work()) == "done"


async def test_cancels_the_work_when_the_client_disconnects():
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def disconnects_once_work_started() -> dict:
        await started.wait()
        return {"type": "http.disconnect"}

    async def work() -> str:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "too late"

    with pytest.raises(ModelServiceError) as caught:
        await cancel_on_disconnect(disconnects_once_work_started, work())

    assert caught.value.status == 499
    assert caught.value.code == "client_disconnected"
    async with asyncio.timeout(1):
        await cancelled.wait()


async def test_errors_from_the_work_propagate():
    async def never_disconnects() -> dict:
        await asyncio.Event().wait()
        return {}

    async def work() -> str:
        raise ValueError("engine failed")

    with pytest.raises(ValueError, match="engine failed"):
        await cancel_on_disconnect(never_disconnects, work())
