"""A fixed number of generations at a time per model, a bounded wait line, and cancellation
from asyncio.

A 1.5B model on 2 cores generates ~30 tokens/s; two generations at once only share those
cores and both get slower. So an in-process model runs one generation at a time in a dedicated
thread; an upstream server (vLLM) batches concurrent requests itself, so it is given
`concurrency` at once. At most `max_waiting` more requests wait, and anyone beyond that is told
at once to come back later (503 + Retry-After) instead of waiting into a timeout. A request
that is abandoned (client disconnect, timeout) cancels its generation, waiting or running.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from model_service.generators.base import (
    ChatMessage,
    Finish,
    GenerationEvent,
    Generator,
    GeneratorError,
    SamplingParams,
    TextDelta,
)


class QueueFullError(RuntimeError):
    """Every generation slot and waiting place is taken; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int, waiting: int) -> None:
        super().__init__(
            f"The language model is busy ({waiting} requests waiting); retry in {retry_after} s."
        )
        self.retry_after = retry_after
        self.waiting = waiting


class GenerationTimeoutError(TimeoutError):
    """The generation did not finish within the request timeout (it has been cancelled)."""


class QueueClosedError(RuntimeError):
    """The queue is stopped (service shutting down)."""


@dataclass
class QueueStats:
    """Counts since start (the figures over time go to /metrics through the callbacks)."""

    rejected: int = 0
    completed: int = 0
    cancelled: int = 0
    tokens_generated: int = 0


_DONE = object()


class GenerationQueue:
    """Runs a generator's generations, `concurrency` at a time, streaming events to asyncio
    callers."""

    def __init__(
        self,
        generator: Generator,
        *,
        concurrency: int = 1,
        max_waiting: int = 4,
        timeout_s: float = 120.0,
        on_finish: Callable[[Finish, float], None] | None = None,
        on_reject: Callable[[], None] | None = None,
    ) -> None:
        self.generator = generator
        self.concurrency = max(1, concurrency)
        self.max_waiting = max_waiting
        self.timeout_s = timeout_s
        self.stats = QueueStats()
        self._on_finish = on_finish
        self._on_reject = on_reject
        self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="generate")
        self._admitted = 0  # running + waiting; only touched on the event loop thread
        self._closed = False
        # A running estimate of one generation's duration, for Retry-After.
        self._typical_s = 5.0

    @property
    def depth(self) -> int:
        """Requests admitted and not finished: those running plus those waiting."""
        return self._admitted

    def retry_after(self) -> int:
        rounds = max(1, math.ceil(self._admitted / self.concurrency))
        return max(1, math.ceil(self._typical_s * rounds))

    def _admit(self) -> None:
        if self._closed:
            raise QueueClosedError("The generation queue is stopped; the service is shutting down.")
        if self._admitted >= self.concurrency + self.max_waiting:
            self.stats.rejected += 1
            if self._on_reject is not None:
                self._on_reject()
            raise QueueFullError(self.retry_after(), self._admitted - self.concurrency)
        self._admitted += 1

    def _release(self) -> None:
        self._admitted -= 1

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        params: SamplingParams,
        *,
        timeout_s: float | None = None,
    ) -> AsyncIterator[GenerationEvent]:
        """Admit the request (or raise QueueFullError at once), then yield its events.

        Leaving the iteration early (break, cancellation, client gone) cancels the generation.
        Raises GenerationTimeoutError when the whole request - waiting included - exceeds the
        timeout, and GeneratorError/UnsupportedRequestError from the generator.
        """
        self._admit()
        admission = _Admission(self)
        return _AdmittedStream(
            self._run(
                messages, params, self.timeout_s if timeout_s is None else timeout_s, admission
            ),
            admission,
        )

    async def _run(
        self,
        messages: Sequence[ChatMessage],
        params: SamplingParams,
        timeout_s: float,
        admission: _Admission,
    ) -> AsyncIterator[GenerationEvent]:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[object] = asyncio.Queue()
        cancel = threading.Event()
        deadline = loop.time() + timeout_s

        def put(item: object) -> None:
            loop.call_soon_threadsafe(events.put_nowait, item)

        def work() -> None:
            if cancel.is_set():  # abandoned while waiting: never start it
                put(_DONE)
                return
            started = time.perf_counter()
            try:
                for event in self.generator.generate(messages, params, cancel):
                    if isinstance(event, Finish):
                        self._record(event, time.perf_counter() - started)
                    put(event)
            except BaseException as exc:  # handed to the caller, raised there
                put(exc)
            finally:
                put(_DONE)

        future = loop.run_in_executor(self._executor, work)
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise GenerationTimeoutError(
                        f"The generation did not finish within {timeout_s:g} s and was stopped."
                    )
                try:
                    item = await asyncio.wait_for(events.get(), remaining)
                except TimeoutError:
                    continue  # the loop raises the timeout above
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    if isinstance(item, GeneratorError):
                        raise item
                    raise GeneratorError(f"The generator failed: {item!r}") from item
                assert isinstance(item, TextDelta | Finish)
                yield item
        finally:
            cancel.set()
            admission.release()
            # Let the worker notice the cancel in the background; the slot frees when it does.
            future.add_done_callback(lambda f: f.exception() if not f.cancelled() else None)

    def _record(self, finish: Finish, seconds: float) -> None:
        stats = self.stats
        if finish.reason == "cancelled":
            stats.cancelled += 1
        else:
            stats.completed += 1
        stats.tokens_generated += finish.completion_tokens
        self._typical_s = 0.8 * self._typical_s + 0.2 * seconds
        if self._on_finish is not None:
            self._on_finish(finish, seconds)

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        params: SamplingParams,
        *,
        timeout_s: float | None = None,
    ) -> tuple[str, Finish]:
        """The whole completion text and its Finish."""
        parts: list[str] = []
        finish: Finish | None = None
        async for event in await self.stream(messages, params, timeout_s=timeout_s):
            if isinstance(event, TextDelta):
                parts.append(event.text)
            else:
                finish = event
        if finish is None:
            raise GeneratorError("The generator ended without reporting how it finished.")
        return "".join(parts), finish

    async def close(self) -> None:
        self._closed = True
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)


class _Admission:
    """A place in the queue, given back exactly once."""

    def __init__(self, queue: GenerationQueue) -> None:
        self._queue = queue
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._queue._release()


class _AdmittedStream:
    """The events of an admitted generation. Gives its queue place back even when it is
    closed or dropped before the first event is read (an async generator that never started
    runs no `finally`): e.g. a client that disconnects before its stream begins."""

    def __init__(self, events: AsyncIterator[GenerationEvent], admission: _Admission) -> None:
        self._events = events
        self._admission = admission

    def __aiter__(self) -> _AdmittedStream:
        return self

    async def __anext__(self) -> GenerationEvent:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        await self._events.aclose()  # type: ignore[attr-defined]
        self._admission.release()

    def __del__(self) -> None:
        # Dropped unread: nothing else will give the place back. (Runs on the loop's thread:
        # the stream is only referenced there.)
        self._admission.release()
