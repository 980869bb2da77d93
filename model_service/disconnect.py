"""Cancel an endpoint's work when its HTTP client goes away, so nobody computes for nobody."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from starlette.types import Receive

from model_service.errors import ModelServiceError

T = TypeVar("T")


async def _wait_for_disconnect(receive: Receive) -> None:
    # Called after the body has been read, so the next message is the disconnect (or, once the
    # response is complete, a synthetic one).
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def cancel_on_disconnect(receive: Receive, work: Awaitable[T]) -> T:
    """Await `work`; if the client disconnects first, cancel it and raise a 499 error."""
    work_task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_wait_for_disconnect(receive))
    try:
        await asyncio.wait({work_task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not work_task.done():
            work_task.cancel()
    if work_task.done() and not work_task.cancelled():
        return work_task.result()
    raise ModelServiceError(
        499, "client_disconnected", "The client closed the connection before the response."
    )
