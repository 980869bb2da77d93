"""POST /v1/enrich: a movie request → structured search intent (never fails for model reasons)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from model_service.disconnect import cancel_on_disconnect
from model_service.enrichment import EnrichmentService
from model_service.errors import ModelServiceError
from model_service.schemas import ErrorResponse
from model_service.schemas_chat import EnrichRequest, EnrichResponse

router = APIRouter(tags=["enrichment"])


@router.post(
    "/v1/enrich",
    response_model=EnrichResponse,
    responses={400: {"model": ErrorResponse, "description": "Empty or oversized message"}},
)
async def enrich(body: EnrichRequest, request: Request) -> EnrichResponse:
    """Genres, exclusions, themes, moods, reference titles, years, language and a search text
    for the request. When the language model is unavailable, busy, slow or answers badly, the
    rules' reading is returned with `fallback: true` instead of an error."""
    if not body.message.strip():
        raise ModelServiceError(
            400,
            "empty_message",
            "message is empty or only whitespace; send the request text.",
            "message",
        )
    service: EnrichmentService = request.app.state.enrichment
    # A client that gave up (the backend's enrichment timeout) must not keep the one language
    # model busy: later requests would queue behind an answer nobody reads.
    result = await cancel_on_disconnect(
        request.receive,
        service.enrich(body.message, [(turn.role, turn.content) for turn in body.history]),
    )
    metrics = request.app.state.metrics
    source = "cache" if result.cached else ("fallback" if result.fallback else "model")
    metrics.enrichments.labels(source).inc()
    return EnrichResponse(**result.to_dict())
