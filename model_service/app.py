"""The model service's FastAPI application: factory, lifespan (model loading) and routers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from functools import partial

from fastapi import FastAPI

from model_service.config import Settings
from model_service.engines.base import EmbeddingBackend
from model_service.engines.embeddings import EmbeddingEngine, EngineLoadError, MicroBatcher
from model_service.errors import install_error_handlers
from model_service.middleware import RequestLogMiddleware
from model_service.registry import ModelSlot
from model_service.routers import embeddings, health, models

logger = logging.getLogger("model_service")


def _start_embeddings(
    slot: ModelSlot[MicroBatcher], engine: EmbeddingBackend, settings: Settings
) -> None:
    batcher = MicroBatcher(
        engine, max_batch=settings.embed_max_batch, max_wait_ms=settings.embed_batch_wait_ms
    )
    batcher.start()
    slot.set_ready(batcher, name=engine.model_id)


async def _load_embeddings(
    slot: ModelSlot[MicroBatcher],
    load_engine: Callable[[], EmbeddingBackend],
    settings: Settings,
) -> None:
    started = time.perf_counter()
    logger.info("loading embedding model %s on %s", slot.name, settings.device)
    try:
        engine = await asyncio.to_thread(load_engine)
    except Exception as exc:
        reason = str(exc) if isinstance(exc, EngineLoadError) else f"{type(exc).__name__}: {exc}"
        logger.error(
            "embedding model failed to load; /readyz answers 503 until the service is "
            "restarted with a working MODEL_EMBEDDING: %s",
            reason,
            exc_info=not isinstance(exc, EngineLoadError),
        )
        slot.set_failed(reason)
        return
    _start_embeddings(slot, engine, settings)
    logger.info(
        "embedding model %s ready: %d dimensions, loaded in %.1f s",
        engine.model_id,
        engine.dimensions,
        time.perf_counter() - started,
    )


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Register the model slots, load the models once, and stop their workers at shutdown.

    Loading runs in a background thread *after* the server starts listening instead of
    blocking start-up, and a failed load is recorded rather than raised. Why:
    - /healthz answers at once (the process is alive) while /readyz says 503 "loading", so
      an orchestrator neither kills a slow-loading service nor routes traffic to it early;
      the LLM added later takes far longer to load than MiniLM.
    - A bad MODEL_EMBEDDING (typo, missing weights, no network for a Hub id) cannot be fixed
      by restarting; crashing would only turn it into a restart loop that reloads torch every
      few seconds and buries the reason in a log. Staying up keeps the reason visible in
      /readyz, the 503 body of every model endpoint, and one clear ERROR log line.
    An engine passed to create_app() is used as is and is ready before the first request.
    """
    settings: Settings = app.state.settings
    slot: ModelSlot[MicroBatcher] = ModelSlot("embeddings", settings.embedding_model)
    app.state.models = {"embeddings": slot}
    loading: asyncio.Task[None] | None = None
    if app.state.embedding_engine is not None:
        _start_embeddings(slot, app.state.embedding_engine, settings)
    else:
        loading = asyncio.create_task(
            _load_embeddings(slot, app.state.embedding_loader, settings), name="load-embeddings"
        )
    try:
        yield
    finally:
        if loading is not None and not loading.done():
            loading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loading
        if slot.value is not None:
            await slot.value.stop()
            close = getattr(slot.value.engine, "close", None)
            if loading is not None and close is not None:  # only what this app loaded itself
                close()


def create_app(
    settings: Settings | None = None,
    engine: EmbeddingBackend | None = None,
    *,
    embedding_loader: Callable[[], EmbeddingBackend] | None = None,
) -> FastAPI:
    """Build the app. `engine`: an already loaded embedding engine (e.g. a fake in tests);
    `embedding_loader`: how to load one in the background (default: from `settings`)."""
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="Marquee model service",
        summary="OpenAI-compatible embeddings for Marquee",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.embedding_engine = engine
    app.state.embedding_loader = embedding_loader or partial(
        EmbeddingEngine.from_settings, settings
    )
    install_error_handlers(app)
    app.add_middleware(RequestLogMiddleware)
    app.include_router(health.router)
    app.include_router(models.router)
    app.include_router(embeddings.router)
    return app
