"""The sentence-transformers embedding engine and the micro-batcher feeding it requests."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from model_service.config import PACKAGED_MINILM_ALIASES, Settings, packaged_minilm_path
from model_service.engines.base import EmbeddingBackend, Embeddings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger("model_service.embeddings")

PACKAGED_MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"


class EngineLoadError(RuntimeError):
    """The embedding model could not be loaded; the message says why and what to do."""


class BatcherClosedError(RuntimeError):
    """The micro-batcher is stopped (service shutting down) and takes no more work."""


def model_identity(name_or_path: str) -> tuple[str, tuple[str, ...]]:
    """The id the API reports for a model, and the other names a request may use for it."""
    path = Path(name_or_path).expanduser()
    if path.exists() and path.resolve() == packaged_minilm_path().resolve():
        return PACKAGED_MINILM_ID, ("all-MiniLM-L6-v2", *PACKAGED_MINILM_ALIASES, name_or_path)
    if path.exists():
        return path.resolve().name, (name_or_path, str(path.resolve()), "default")
    short_name = name_or_path.rstrip("/").rsplit("/", 1)[-1]
    return name_or_path, (short_name, "default")


class EmbeddingEngine:
    """A SentenceTransformer loaded once; `embed`/`encode` block, one call at a time.

    Texts are sorted by token count and dealt out to `workers` threads, each encoding its share
    (still sorted) in forward passes of `batch_size`, so every pass pads to a similar length;
    results come back in the caller's order.

    Why several workers with one torch thread each instead of one with several: for a model
    this small, intra-op threading scales badly (64 short queries on 2 cores: one encode with
    2 torch threads ~145 ms, two concurrent encodes with 1 thread each ~110 ms), and forward
    passes of 16 pad less than passes of 64 (~15% faster on short queries, ~10% on overviews).
    """

    def __init__(
        self,
        model: SentenceTransformer,
        *,
        model_id: str,
        aliases: tuple[str, ...] = (),
        batch_size: int = 16,
        workers: int = 1,
    ) -> None:
        self._model = model
        # A tokenizer of our own for counting: the shared one must keep the padding/truncation
        # settings of the encode calls, because changing them while another thread encodes
        # fails inside the Rust tokenizer ("Already borrowed").
        self._count_tokenizer = copy.deepcopy(model.tokenizer)
        self.model_id = model_id
        self.aliases = aliases
        self.batch_size = batch_size
        self.workers = max(1, workers)
        self.dimensions = int(model.get_embedding_dimension() or 0)
        self.max_seq_length = int(model.max_seq_length or 512)
        self._pool = (
            ThreadPoolExecutor(self.workers, thread_name_prefix="encode")
            if self.workers > 1
            else None
        )

    @classmethod
    def load(
        cls,
        name_or_path: str,
        *,
        device: str = "cpu",
        threads: int | None = None,
        batch_size: int = 16,
        workers: int | None = None,
    ) -> EmbeddingEngine:
        """Load a sentence-transformers model (Hub id or local directory) and warm it up.

        `threads`: CPU threads for the model in total (default: torch's default);
        `workers`: concurrent encodes sharing them (default: one per thread on CPU, else 1).
        torch's thread count is process-wide: the engine loaded last sets it.
        """
        import torch

        if workers is None:
            workers = (threads or torch.get_num_threads()) if device == "cpu" else 1
        if threads:
            torch.set_num_threads(max(1, threads // workers))
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a progress bar is noise in a service log
        try:
            model = SentenceTransformer(name_or_path, device=device)
        except Exception as exc:
            hint = ""
            if not Path(name_or_path).expanduser().exists():
                hint = (
                    " It is not a local directory, so it must be a sentence-transformers Hub id "
                    "already in the Hugging Face cache, or set HF_HUB_OFFLINE=0 to download it. "
                    "Set MODEL_EMBEDDING=minilm for the packaged all-MiniLM-L6-v2."
                )
            raise EngineLoadError(
                f"Could not load embedding model {name_or_path!r} on device {device!r}: "
                f"{type(exc).__name__}: {exc}.{hint}"
            ) from exc
        # One encode on this thread first: it sets the tokenizer's padding/truncation state
        # (the workers then only read it) and pays one-off initialisation before any request.
        model.encode(["warm-up"], show_progress_bar=False)
        model_id, aliases = model_identity(name_or_path)
        engine = cls(
            model, model_id=model_id, aliases=aliases, batch_size=batch_size, workers=workers
        )
        engine.embed(["warm-up"] * engine.workers)  # starts every worker thread
        return engine

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddingEngine:
        return cls.load(
            settings.embedding_model,
            device=settings.device,
            threads=settings.threads,
            batch_size=settings.embed_encode_batch,
            workers=settings.embed_encode_workers,
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def count_tokens(self, texts: Sequence[str]) -> np.ndarray:
        """Tokens the model reads per text: special tokens included, cut at max_seq_length."""
        encoded = self._count_tokenizer(
            list(texts),
            add_special_tokens=True,
            truncation=True,
            max_length=self.max_seq_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        return np.fromiter((len(ids) for ids in encoded["input_ids"]), dtype=np.int64)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, in the order given."""
        return self.embed(texts).vectors

    def embed(self, texts: Sequence[str]) -> Embeddings:
        if not texts:
            return Embeddings(np.empty((0, self.dimensions), np.float32), np.empty(0, np.int64))
        token_counts = self.count_tokens(texts)
        return Embeddings(self._encode_by_length(texts, token_counts), token_counts)

    def _encode_by_length(self, texts: Sequence[str], lengths: np.ndarray) -> np.ndarray:
        vectors = np.empty((len(texts), self.dimensions), dtype=np.float32)
        order = np.argsort(-lengths, kind="stable")

        def encode_rows(rows: np.ndarray) -> None:
            # `rows` are sorted longest first; sentence-transformers keeps that order when it
            # cuts them into forward passes of batch_size.
            vectors[rows] = self._model.encode(
                [texts[i] for i in rows],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )

        if self._pool is None or len(order) == 1:
            encode_rows(order)
            return vectors
        # Deal the sorted rows out like cards so every worker gets the same length profile.
        shares = [order[k :: self.workers] for k in range(self.workers)]
        for done in [self._pool.submit(encode_rows, rows) for rows in shares if len(rows)]:
            done.result()
        return vectors


@dataclass(eq=False)
class _PendingRequest:
    texts: list[str]
    future: asyncio.Future[Embeddings]
    enqueued_at: float


class MicroBatcher:
    """Coalesces concurrent embedding requests into few large `engine.embed` calls.

    Requests queue up as (texts, future). One worker task takes the oldest request, then any
    others already waiting, until the batch holds `max_batch` texts, or no new request has arrived
    for `max_wait_ms` (a burst still arriving keeps the batch open), or the oldest request has
    waited `max_linger_ms`; it runs ONE embed in a dedicated thread (the event loop keeps
    accepting requests meanwhile) and hands each request its slice of the result. Requests
    that queued up during an encode go into the next batch without any further wait, so under
    load batches form back to back with no idle time. A request with more than `max_batch` texts
    goes through whole as one encode (the engine batches it internally); a request that
    would push a batch over `max_batch` waits for the next one.

    Cancelled requests (client gone) are skipped or their result dropped. An exception from
    the engine fails only that batch's requests; the worker carries on.

    The encode threads share the GIL with the event loop between torch ops, so Python work on
    the loop during an encode slows it down (by far more than its own CPU time when the loop is
    busy for long): one full batch usually beats several small overlapping ones.
    """

    def __init__(
        self,
        engine: EmbeddingBackend,
        *,
        max_batch: int = 64,
        max_wait_ms: float = 5.0,
        max_linger_ms: float = 20.0,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.engine = engine
        self.max_batch = max_batch
        self.max_wait_s = max(0.0, max_wait_ms) / 1000.0
        self.max_linger_s = max(self.max_wait_s, max_linger_ms / 1000.0)
        self.encode_calls = 0
        self._pending: deque[_PendingRequest] = deque()
        self._in_flight: list[_PendingRequest] = []
        self._wakeup = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False

    def start(self) -> None:
        """Start the worker task on the running event loop."""
        if self._worker is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self._worker = asyncio.get_running_loop().create_task(self._run(), name="embed-batcher")

    async def stop(self) -> None:
        """Stop the worker; requests still queued or in flight fail with BatcherClosedError."""
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        for request in [*self._in_flight, *self._pending]:
            if not request.future.done():
                request.future.set_exception(
                    BatcherClosedError("the embedding service is shutting down")
                )
        self._pending.clear()
        self._in_flight = []
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def submit(self, texts: Sequence[str]) -> asyncio.Future[Embeddings]:
        """Queue `texts` for the next batch now; the future resolves to their embeddings.
        Cancelling the future drops them.

        Queued at the call, not when a task wrapping it first runs: a burst of requests
        handled in one turn of the event loop then joins one batch, where tasks created for
        them would all start only after the loop's timers, which can close a batch around the
        first request alone.
        """
        if self._closed or self._worker is None:
            raise BatcherClosedError("the embedding batcher is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Embeddings] = loop.create_future()
        self._pending.append(_PendingRequest(list(texts), future, loop.time()))
        self._wakeup.set()
        return future

    async def embed(self, texts: Sequence[str]) -> Embeddings:
        """Embed `texts` as part of the next batch. Cancelling the caller drops its share."""
        return await self.submit(texts)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._next_batch(loop)
            # Kept until resolved so that stop() can fail these futures if it cancels the encode.
            self._in_flight = batch
            await self._process(batch, loop)
            self._in_flight = []

    async def _process(self, batch: list[_PendingRequest], loop: asyncio.AbstractEventLoop) -> None:
        closed_at = loop.time()
        texts = [text for request in batch for text in request.texts]
        self.encode_calls += 1
        started = time.perf_counter()
        try:
            result = await loop.run_in_executor(self._executor, self.engine.embed, texts)
            if len(result) != len(texts):
                raise RuntimeError(f"engine returned {len(result)} vectors for {len(texts)} texts")
        except Exception as exc:
            logger.exception("embedding batch of %d texts failed", len(texts))
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(exc)
            return
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "embedded %d texts from %d requests (arrived over %.1f ms, the first waited "
                "%.1f ms) in %.1f ms",
                len(texts),
                len(batch),
                (batch[-1].enqueued_at - batch[0].enqueued_at) * 1000,
                (closed_at - batch[0].enqueued_at) * 1000,
                (time.perf_counter() - started) * 1000,
            )
        start = 0
        for request in batch:
            stop = start + len(request.texts)
            if not request.future.done():
                request.future.set_result(result.slice(start, stop))
            start = stop

    async def _next_batch(self, loop: asyncio.AbstractEventLoop) -> list[_PendingRequest]:
        batch: list[_PendingRequest] = []
        size = 0
        # Requests that queued up while the previous encode ran have waited long enough: the
        # encode was their coalescing window. Only a batch opened by an idle worker waits.
        may_wait = not self._pending
        while True:
            while self._pending:
                request = self._pending[0]
                if request.future.done():  # cancelled while queued
                    self._pending.popleft()
                    continue
                if batch and size + len(request.texts) > self.max_batch:
                    return batch
                self._pending.popleft()
                batch.append(request)
                size += len(request.texts)
                if size >= self.max_batch:
                    return batch
            self._wakeup.clear()
            if not batch:
                await self._wakeup.wait()
                continue
            # Close the batch once arrivals pause for max_wait_s: a burst of requests still being
            # parsed keeps it open (up to max_linger_s), so it is encoded once, not in pieces.
            closes_at = min(
                batch[-1].enqueued_at + self.max_wait_s, batch[0].enqueued_at + self.max_linger_s
            )
            remaining = closes_at - loop.time()
            if not may_wait or remaining <= 0:
                return batch
            try:
                async with asyncio.timeout(remaining):
                    await self._wakeup.wait()
            except TimeoutError:
                pass
