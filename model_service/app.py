"""The model service's FastAPI application: factory, lifespan (model loading) and routers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from functools import partial

from fastapi import FastAPI

from model_service.config import Settings
from model_service.engines.base import EmbeddingBackend
from model_service.engines.embeddings import EmbeddingEngine, EngineLoadError, MicroBatcher
from model_service.enrichment import EnrichmentService
from model_service.errors import install_error_handlers
from model_service.generation_queue import GenerationQueue
from model_service.generators.base import Generator, GeneratorLoadError, SamplingParams
from model_service.generators.factory import GeneratorSpec, load_generator
from model_service.metrics import ServiceMetrics
from model_service.middleware import (
    DEFAULT_MAX_BODY_BYTES,
    ApiKeyMiddleware,
    RequestBodyMiddleware,
    RequestLogMiddleware,
    embeddings_max_body_bytes,
)
from model_service.prompts import for_family
from model_service.registry import ModelSlot
from model_service.routers import chat, embeddings, enrich, health, metrics, models

logger = logging.getLogger("model_service")


def _freeze_loaded_objects() -> None:
    """Exempt everything alive now (a loaded model is ~0.4M Python objects) from the cyclic
    garbage collector: otherwise every full collection scans them all, a ~0.3 s pause in the
    middle of serving requests. Garbage from loading is collected first."""
    gc.collect()
    gc.freeze()


def _start_embeddings(
    slot: ModelSlot[MicroBatcher], engine: EmbeddingBackend, settings: Settings
) -> None:
    batcher = MicroBatcher(
        engine,
        max_batch=settings.embed_max_batch,
        max_wait_ms=settings.embed_batch_wait_ms,
        max_linger_ms=settings.embed_batch_linger_ms,
    )
    batcher.start()
    slot.set_ready(batcher, name=engine.model_id)
    _freeze_loaded_objects()


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


def _start_generator(app: FastAPI, slot: ModelSlot[GenerationQueue], generator: Generator) -> None:
    settings: Settings = app.state.settings
    service_metrics: ServiceMetrics = app.state.metrics
    queue = GenerationQueue(
        generator,
        concurrency=generation_concurrency(settings),
        max_waiting=settings.generator_queue,
        timeout_s=settings.generator_timeout_s,
        on_finish=service_metrics.observe_generation,
        on_reject=service_metrics.queue_rejected.inc,
    )
    service_metrics.watch_queue(lambda: queue.depth)
    slot.set_ready(queue, name=generator.model_id)
    _freeze_loaded_objects()
    if settings.generator_warmup:
        app.state.warmup = asyncio.get_running_loop().create_task(
            warm_up(queue), name="warm-up-generator"
        )


UPSTREAM_CONCURRENCY = 8


def generation_concurrency(settings: Settings) -> int:
    """Generations at once: an upstream server batches them (GEN_CONCURRENCY, default 8); a
    model in this process runs one, since several would only share the same cores."""
    if GeneratorSpec.parse(settings.generator).kind != "openai":
        if (settings.generator_concurrency or 1) > 1:
            logger.warning("GEN_CONCURRENCY applies to an openai: upstream only; running 1")
        return 1
    return settings.generator_concurrency or UPSTREAM_CONCURRENCY


async def warm_up(queue: GenerationQueue) -> None:
    """Run the enrichment prompt once so its static prefix sits in llama.cpp's KV cache.

    The first request would otherwise pay for the whole system prompt (measured: ~8 s for
    Qwen's ~700 tokens on 2 cores, then ~0.35 s per request once cached). Requests arriving
    meanwhile queue behind it like any other generation.
    """
    started = time.perf_counter()
    messages = for_family(queue.generator.family).enrichment_messages("a good movie")
    try:
        await queue.complete(messages, SamplingParams(max_tokens=1, temperature=0.0))
    except Exception as exc:  # a warm-up failure is not worth more than a log line
        logger.warning("language model warm-up failed: %s", exc)
        return
    logger.info("language model warmed up in %.1f s", time.perf_counter() - started)


async def _load_generator(
    app: FastAPI, slot: ModelSlot[GenerationQueue], load: Callable[[], Generator | None]
) -> None:
    started = time.perf_counter()
    logger.info("loading language model %s", slot.name)
    try:
        generator = await asyncio.to_thread(load)
    except Exception as exc:
        known = isinstance(exc, GeneratorLoadError)
        reason = str(exc) if known else f"{type(exc).__name__}: {exc}"
        logger.error(
            "language model failed to load; chat completions answer 503 and enrichment uses "
            "rules only until the service is restarted with a working MODEL_GENERATOR: %s",
            reason,
            exc_info=not known,
        )
        slot.set_failed(reason)
        return
    if generator is None:
        slot.set_failed("MODEL_GENERATOR=none")
        return
    _start_generator(app, slot, generator)
    logger.info(
        "language model %s ready (%s, context %d tokens), loaded in %.1f s",
        generator.model_id,
        type(generator).__name__,
        generator.context_length,
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
    tasks: list[asyncio.Task[None]] = []
    if app.state.embedding_engine is not None:
        _start_embeddings(slot, app.state.embedding_engine, settings)
    else:
        tasks.append(
            asyncio.create_task(
                _load_embeddings(slot, app.state.embedding_loader, settings),
                name="load-embeddings",
            )
        )
    generator_slot: ModelSlot[GenerationQueue] | None = None
    if app.state.generator is not None:
        generator_slot = ModelSlot("generator", app.state.generator.model_id)
        _start_generator(app, generator_slot, app.state.generator)
    elif app.state.generator_loader is not None:
        generator_slot = ModelSlot("generator", settings.generator)
        tasks.append(
            asyncio.create_task(
                _load_generator(app, generator_slot, app.state.generator_loader),
                name="load-generator",
            )
        )
    if generator_slot is not None:
        app.state.models["generator"] = generator_slot
    app.state.enrichment = EnrichmentService(
        generator_slot,
        timeout_s=settings.enrich_timeout_s,
        cache_size=settings.enrich_cache_size,
        json_schema=settings.enrich_json_schema,
    )
    try:
        yield
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if slot.value is not None:
            await slot.value.stop()
            close = getattr(slot.value.engine, "close", None)
            if app.state.embedding_engine is None and close is not None:  # only what we loaded
                close()
        warmup = getattr(app.state, "warmup", None)
        if warmup is not None and not warmup.done():
            warmup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await warmup
        if generator_slot is not None and generator_slot.value is not None:
            queue = generator_slot.value
            await queue.close()
            if app.state.generator is None:
                queue.generator.close()


def create_app(
    settings: Settings | None = None,
    engine: EmbeddingBackend | None = None,
    *,
    embedding_loader: Callable[[], EmbeddingBackend] | None = None,
    generator: Generator | None = None,
    generator_loader: Callable[[], Generator | None] | None = None,
) -> FastAPI:
    """Build the app. `engine`/`generator`: already loaded models (e.g. fakes in tests), used
    as they are and never closed by the app; `embedding_loader`/`generator_loader`: how to load
    them in the background (default: from `settings`; MODEL_GENERATOR=none loads no generator).
    """
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="Marquee model service",
        summary="OpenAI-compatible embeddings and chat completions, and request enrichment",
        version="0.2.0",
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry hooks are off: the service exports Prometheus metrics
        # (GET /metrics), and looking up OpenTelemetry providers cost every request ~8 µs.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.metrics = ServiceMetrics()
    app.state.embedding_engine = engine
    app.state.embedding_loader = embedding_loader or partial(
        EmbeddingEngine.from_settings, settings
    )
    app.state.generator = generator
    if generator is None and generator_loader is None:
        spec = GeneratorSpec.parse(settings.generator)  # a typo fails here, at start-up
        if spec.kind != "none":
            generator_loader = partial(load_generator, settings)
    app.state.generator_loader = generator_loader
    install_error_handlers(app)
    # Innermost: well-formed embedding requests skip the router (see EmbeddingsFastPath).
    app.add_middleware(embeddings.EmbeddingsFastPath)
    # Then the body checks: a body is read only once the API key has been checked.
    app.add_middleware(
        RequestBodyMiddleware,
        default_limit=DEFAULT_MAX_BODY_BYTES,
        limits={
            "/v1/embeddings": embeddings_max_body_bytes(
                settings.embed_max_inputs, settings.embed_max_input_chars
            )
        },
    )
    if settings.api_key:
        app.add_middleware(ApiKeyMiddleware, api_key=settings.api_key)
    # Added last, so outermost: refused requests are logged and counted too.
    app.add_middleware(RequestLogMiddleware, metrics=app.state.metrics)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(models.router)
    app.include_router(embeddings.router)
    app.include_router(chat.router)
    app.include_router(enrich.router)
    return app
