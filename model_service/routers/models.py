"""GET /v1/models: loaded models in OpenAI's list shape, plus what clients need to size inputs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from model_service.registry import ModelSlot, model_slots
from model_service.schemas import ModelCard, ModelList

router = APIRouter(tags=["models"])


def _embedding_card(request: Request, slot: ModelSlot) -> ModelCard:
    settings = request.app.state.settings
    engine = slot.get().engine
    extra: dict[str, Any] = {
        "kind": "embedding",
        "aliases": list(engine.aliases),
        "dimensions": engine.dimensions,
        "max_input_tokens": engine.max_seq_length,
        "max_input_chars": settings.embed_max_input_chars,
        "max_inputs": settings.embed_max_inputs,
    }
    return ModelCard(id=engine.model_id, created=slot.ready_at or 0, **extra)


def _generator_card(request: Request, slot: ModelSlot) -> ModelCard:
    settings = request.app.state.settings
    generator = slot.get().generator
    extra: dict[str, Any] = {
        "kind": "generator",
        "engine": type(generator).__name__,
        "family": generator.family,
        "context_length": generator.context_length,
        "max_tokens_cap": settings.generator_max_tokens,
        "json_schema": generator.supports_json_schema,
    }
    return ModelCard(id=generator.model_id, created=slot.ready_at or 0, **extra)


# One card builder per slot kind.
_CARD_BUILDERS = {"embeddings": _embedding_card, "generator": _generator_card}


def _cards(request: Request) -> list[ModelCard]:
    return [
        _CARD_BUILDERS[kind](request, slot)
        for kind, slot in model_slots(request).items()
        if slot.status == "ready" and kind in _CARD_BUILDERS
    ]


@router.get("/v1/models", response_model=ModelList)
async def list_models(request: Request) -> ModelList:
    """Models that are loaded and ready (none while loading)."""
    return ModelList(data=_cards(request))
