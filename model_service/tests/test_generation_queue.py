"""The generation queue: one at a time, bounded waiting, cancellation and timeouts."""

from __future__ import annotations

import asyncio
import threading

import pytest

from model_service.generation_queue import (
    GenerationQueue,
    GenerationTimeoutError,
    QueueClosedError,
    QueueFullError,
)
from model_service.generators.base import (
    ChatMessage,
    Finish,
    GeneratorError,
    SamplingParams,
    TextDelta,
)
from model_service.generators.fake import FakeGenerator

HELLO = [ChatMessage("user", "hello")]
PARAMS = SamplingParams(max_tokens=50)


async def test_streams_deltas_then_one_finish():
    queue = GenerationQueue(FakeGenerator(reply="one two three"))
    events = [event async for event in await queue.stream(HELLO, PARAMS)]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["one", " two", " three"]
    assert isinstance(events[-1], Finish)
    assert events[-1].reason == "stop"
    assert events[-1].completion_tokens == 3
    assert queue.depth == 0
    assert queue.stats.completed == 1
    assert queue.stats.tokens_generated == 3


async def test_runs_one_generation_at_a_time():
    gate = threading.Event()
    generator = FakeGenerator(reply="a b", gate=gate)
    queue = GenerationQueue(generator, max_waiting=2)
    first = asyncio.ensure_future(queue.complete(HELLO, PARAMS))
    second = asyncio.ensure_future(queue.complete([ChatMessage("user", "second")], PARAMS))
    assert await asyncio.to_thread(generator.started.wait, 5)
    await asyncio.sleep(0.05)
    assert len(generator.calls) == 1  # the second waits for the first
    assert queue.depth == 2
    gate.set()
    assert (await first)[0] == "a b"
    assert (await second)[0] == "a b"
    assert len(generator.calls) == 2


async def test_an_upstream_runs_its_concurrency_at_once_and_more_wait():
    gate = threading.Event()
    generator = FakeGenerator(reply="a b", gate=gate)
    queue = GenerationQueue(generator, concurrency=3, max_waiting=1)
    texts = [f"request {i}" for i in range(4)]
    tasks = [asyncio.ensure_future(queue.complete([ChatMessage("user", t)], PARAMS)) for t in texts]
    for _ in range(100):
        if len(generator.calls) == 3:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert len(generator.calls) == 3  # three at once, the fourth waits
    with pytest.raises(QueueFullError) as refused:  # 3 running + 1 waiting: full
        await queue.stream(HELLO, PARAMS)
    assert refused.value.waiting == 1
    gate.set()
    assert [text for text, _ in await asyncio.gather(*tasks)] == ["a b"] * 4
    assert queue.depth == 0


def test_only_an_upstream_generates_several_at_once():
    from model_service.app import generation_concurrency
    from model_service.config import Settings

    upstream = "openai:http://127.0.0.1:9/v1"
    assert generation_concurrency(Settings(generator=upstream)) == 8
    assert generation_concurrency(Settings(generator=upstream, generator_concurrency=32)) == 32
    assert generation_concurrency(Settings(generator="llama-cpp:smollm2")) == 1
    assert (
        generation_concurrency(Settings(generator="llama-cpp:default", generator_concurrency=4))
        == 1
    )
    assert Settings.from_env({"GEN_CONCURRENCY": "16"}).generator_concurrency == 16


async def test_full_queue_refuses_at_once_with_a_retry_hint():
    gate = threading.Event()
    queue = GenerationQueue(FakeGenerator(gate=gate), max_waiting=1)
    running = asyncio.ensure_future(queue.complete(HELLO, PARAMS))
    waiting = asyncio.ensure_future(queue.complete(HELLO, PARAMS))
    await asyncio.sleep(0.05)
    with pytest.raises(QueueFullError) as refused:
        await queue.stream(HELLO, PARAMS)
    assert refused.value.retry_after >= 1
    assert refused.value.waiting == 1
    assert queue.stats.rejected == 1
    gate.set()
    await asyncio.gather(running, waiting)
    assert queue.depth == 0


async def test_leaving_the_stream_early_cancels_the_generation():
    generator = FakeGenerator(reply=" ".join(["word"] * 200), token_delay_s=0.01)
    queue = GenerationQueue(generator)
    stream = await queue.stream(HELLO, SamplingParams(max_tokens=200))
    async for _event in stream:
        break
    await stream.aclose()
    assert await asyncio.to_thread(generator.cancelled.wait, 2)
    assert queue.depth == 0


async def test_an_abandoned_waiting_request_never_starts():
    gate = threading.Event()
    generator = FakeGenerator(gate=gate)
    queue = GenerationQueue(generator, max_waiting=2)
    running = asyncio.ensure_future(queue.complete(HELLO, PARAMS))
    assert await asyncio.to_thread(generator.started.wait, 5)
    abandoned = asyncio.ensure_future(queue.complete([ChatMessage("user", "gone")], PARAMS))
    await asyncio.sleep(0.05)
    abandoned.cancel()
    with pytest.raises(asyncio.CancelledError):
        await abandoned
    gate.set()
    await running
    await asyncio.sleep(0.05)
    assert [calls[0][0].content for calls in generator.calls] == ["hello"]


async def test_timeout_stops_the_generation():
    generator = FakeGenerator(reply=" ".join(["slow"] * 100), token_delay_s=0.02)
    queue = GenerationQueue(generator, timeout_s=0.2)
    with pytest.raises(GenerationTimeoutError):
        await queue.complete(HELLO, SamplingParams(max_tokens=100))
    assert await asyncio.to_thread(generator.cancelled.wait, 2)


async def test_generator_errors_reach_the_caller_and_free_the_slot():
    queue = GenerationQueue(FakeGenerator(fail="weights went missing"))
    with pytest.raises(GeneratorError, match="weights went missing"):
        await queue.complete(HELLO, PARAMS)
    assert queue.depth == 0


async def test_closed_queue_takes_no_work():
    queue = GenerationQueue(FakeGenerator())
    await queue.close()
    with pytest.raises(QueueClosedError):
        await queue.stream(HELLO, PARAMS)


async def test_a_stream_dropped_before_it_starts_gives_its_place_back():
    queue = GenerationQueue(FakeGenerator(), max_waiting=0)
    stream = await queue.stream(HELLO, PARAMS)
    assert queue.depth == 1
    await stream.aclose()  # e.g. the client left before the response began
    assert queue.depth == 0
    unread = await queue.stream(HELLO, PARAMS)
    assert queue.depth == 1
    del unread  # never iterated, never closed
    assert queue.depth == 0
    text, _ = await queue.complete(HELLO, PARAMS)
    assert text
