"""MicroBatcher: coalescing, routing results back, failure isolation, cancellation, shutdown."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence

import numpy as np
import pytest

from model_service.engines.base import Embeddings
from model_service.engines.embeddings import BatcherClosedError, MicroBatcher
from model_service.engines.fake import FakeEmbeddingEngine, GatedEmbeddingEngine


class ExplodingEngine(FakeEmbeddingEngine):
    """Fails any batch that contains the text "boom"."""

    def embed(self, texts: Sequence[str]) -> Embeddings:
        if "boom" in texts:
            with self._lock:
                self.calls.append(list(texts))
            raise ValueError("engine exploded")
        return super().embed(texts)


@pytest.fixture
def engine() -> FakeEmbeddingEngine:
    return FakeEmbeddingEngine(dimensions=8)


async def started(engine, **kwargs) -> MicroBatcher:
    batcher = MicroBatcher(engine, **kwargs)
    batcher.start()
    return batcher


@pytest.fixture
async def batcher(engine) -> AsyncIterator[MicroBatcher]:
    batcher = await started(engine, max_batch=64, max_wait_ms=5)
    yield batcher
    await batcher.stop()


async def wait_for(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, 5)


async def test_concurrent_requests_are_coalesced_into_one_encode(batcher, engine):
    texts = [f"query {i}" for i in range(20)]

    results = await asyncio.gather(*(batcher.embed([text]) for text in texts))

    assert len(engine.calls) == 1
    assert sorted(engine.calls[0]) == sorted(texts)
    for text, result in zip(texts, results, strict=True):
        assert len(result) == 1
        np.testing.assert_array_equal(result.vectors[0], engine.vector(text))


async def test_each_requester_gets_its_own_texts_in_its_own_order(batcher, engine):
    requests = [["a1", "a2", "a3"], ["b1"], ["c1", "c2"], ["d1", "d2", "d3", "d4"]]

    results = await asyncio.gather(*(batcher.embed(texts) for texts in requests))

    assert len(engine.calls) == 1
    for texts, result in zip(requests, results, strict=True):
        expected = np.stack([engine.vector(text) for text in texts])
        np.testing.assert_array_equal(result.vectors, expected)
        assert result.token_counts.tolist() == [3] * len(texts)


async def test_batches_hold_at_most_max_batch_texts(engine):
    batcher = await started(engine, max_batch=8, max_wait_ms=5)
    try:
        texts = [f"t{i}" for i in range(20)]
        await asyncio.gather(*(batcher.embed([text]) for text in texts))
    finally:
        await batcher.stop()

    assert [len(call) for call in engine.calls] == [8, 8, 4]


async def test_a_large_request_goes_through_whole_as_one_encode(engine):
    batcher = await started(engine, max_batch=8, max_wait_ms=5)
    try:
        texts = [f"doc {i}" for i in range(30)]
        result = await batcher.embed(texts)
    finally:
        await batcher.stop()

    assert [len(call) for call in engine.calls] == [30]
    np.testing.assert_array_equal(result.vectors[29], engine.vector("doc 29"))


async def test_a_request_that_would_overflow_waits_for_the_next_batch(engine):
    batcher = await started(engine, max_batch=8, max_wait_ms=5)
    try:
        await asyncio.gather(batcher.embed(["a"] * 5), batcher.embed(["b"] * 5))
    finally:
        await batcher.stop()

    assert engine.calls == [["a"] * 5, ["b"] * 5]


async def test_requests_arriving_within_the_wait_window_join_the_batch(engine):
    batcher = await started(engine, max_batch=64, max_wait_ms=200)
    try:
        first = asyncio.ensure_future(batcher.embed(["first"]))
        await asyncio.sleep(0.02)
        second = await batcher.embed(["second"])
        await first
    finally:
        await batcher.stop()

    assert engine.calls == [["first", "second"]]
    np.testing.assert_array_equal(second.vectors[0], engine.vector("second"))


async def test_a_burst_still_arriving_keeps_the_batch_open_past_the_wait(engine):
    # Each request comes 30 ms after the previous one, within the 100 ms gap: the batch stays
    # open for all five (120 ms after the first) instead of closing 100 ms after the first.
    batcher = await started(engine, max_batch=64, max_wait_ms=100, max_linger_ms=2000)
    try:
        pending = []
        for i in range(5):
            pending.append(asyncio.ensure_future(batcher.embed([f"t{i}"])))
            await asyncio.sleep(0.03)
        await asyncio.gather(*pending)
    finally:
        await batcher.stop()

    assert engine.calls == [[f"t{i}" for i in range(5)]]


async def test_a_steady_trickle_is_cut_after_the_linger_time(engine):
    # Arrivals every 40 ms never leave a 100 ms gap; the 150 ms linger still closes the batch.
    batcher = await started(engine, max_batch=64, max_wait_ms=100, max_linger_ms=150)
    try:
        pending = []
        for i in range(10):
            pending.append(asyncio.ensure_future(batcher.embed([f"t{i}"])))
            await asyncio.sleep(0.04)
        await asyncio.gather(*pending)
    finally:
        await batcher.stop()

    assert len(engine.calls) >= 2
    assert 2 <= len(engine.calls[0]) < 10
    assert [text for call in engine.calls for text in call] == [f"t{i}" for i in range(10)]


async def test_requests_queued_during_an_encode_form_the_next_batch_at_once():
    engine = GatedEmbeddingEngine()
    batcher = await started(engine, max_batch=64, max_wait_ms=500)
    try:
        first = asyncio.ensure_future(batcher.embed(["first"]))
        await wait_for(engine.entered)  # after the 500 ms wait, "first" is encoding alone
        queued = [asyncio.ensure_future(batcher.embed([f"q{i}"])) for i in range(5)]
        await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()
        opened_at = loop.time()
        engine.gate.set()
        async with asyncio.timeout(2):
            await asyncio.gather(first, *queued)
        elapsed = loop.time() - opened_at
    finally:
        await batcher.stop()

    assert engine.calls == [["first"], [f"q{i}" for i in range(5)]]
    # They waited behind the encode for longer than the window: no second 500 ms wait.
    assert elapsed < 0.4


async def test_a_failing_encode_fails_only_its_batch_and_the_worker_survives():
    engine = ExplodingEngine(dimensions=8)
    batcher = await started(engine, max_batch=2, max_wait_ms=5)
    try:
        doomed = batcher.embed(["boom", "x"])
        fine = batcher.embed(["fine", "also fine"])
        results = await asyncio.gather(doomed, fine, return_exceptions=True)
        later = await batcher.embed(["later"])
    finally:
        await batcher.stop()

    assert isinstance(results[0], ValueError)
    assert isinstance(results[1], Embeddings)
    np.testing.assert_array_equal(results[1].vectors[1], engine.vector("also fine"))
    np.testing.assert_array_equal(later.vectors[0], engine.vector("later"))


async def test_a_wrong_number_of_vectors_fails_the_batch_not_the_worker():
    class ShortEngine(FakeEmbeddingEngine):
        def embed(self, texts: Sequence[str]) -> Embeddings:
            return super().embed(list(texts)[:-1] if len(texts) > 1 else texts)

    batcher = await started(ShortEngine(dimensions=8), max_batch=64, max_wait_ms=5)
    try:
        with pytest.raises(RuntimeError, match="returned 1 vectors for 2 texts"):
            await batcher.embed(["a", "b"])
        assert len(await batcher.embed(["c"])) == 1
    finally:
        await batcher.stop()


async def test_a_request_cancelled_while_queued_is_skipped():
    engine = GatedEmbeddingEngine()
    batcher = await started(engine, max_batch=64, max_wait_ms=1)
    try:
        first = asyncio.ensure_future(batcher.embed(["first"]))
        await wait_for(engine.entered)  # "first" is being encoded; the next ones queue
        cancelled = asyncio.ensure_future(batcher.embed(["cancelled"]))
        kept = asyncio.ensure_future(batcher.embed(["kept"]))
        await asyncio.sleep(0)
        cancelled.cancel()
        engine.gate.set()
        async with asyncio.timeout(2):
            await first
            result = await kept
    finally:
        await batcher.stop()

    assert cancelled.cancelled()
    assert engine.calls == [["first"], ["kept"]]
    np.testing.assert_array_equal(result.vectors[0], engine.vector("kept"))


async def test_a_request_cancelled_during_its_encode_does_not_break_the_others():
    engine = GatedEmbeddingEngine()
    batcher = await started(engine, max_batch=64, max_wait_ms=1)
    try:
        gone = asyncio.ensure_future(batcher.embed(["gone"]))
        await wait_for(engine.entered)
        gone.cancel()
        engine.gate.set()
        async with asyncio.timeout(2):
            after = await batcher.embed(["after"])
    finally:
        await batcher.stop()

    assert gone.cancelled()
    np.testing.assert_array_equal(after.vectors[0], engine.vector("after"))


async def test_stop_fails_waiting_requests_and_refuses_new_ones():
    engine = GatedEmbeddingEngine()
    batcher = await started(engine, max_batch=1, max_wait_ms=1)
    in_flight = asyncio.ensure_future(batcher.embed(["in flight"]))
    await wait_for(engine.entered)
    queued = asyncio.ensure_future(batcher.embed(["queued"]))
    await asyncio.sleep(0)

    await batcher.stop()
    engine.gate.set()

    for request in (in_flight, queued):
        with pytest.raises(BatcherClosedError):
            await request
    with pytest.raises(BatcherClosedError):
        await batcher.embed(["too late"])


async def test_embed_before_start_is_refused(engine):
    with pytest.raises(BatcherClosedError):
        await MicroBatcher(engine).embed(["x"])
