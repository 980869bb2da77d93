"""POST /v1/embeddings, OpenAI-compatible."""

from __future__ import annotations

import base64

import numpy as np
import pydantic_core
from fastapi import APIRouter, Request, Response

from model_service.disconnect import cancel_on_disconnect
from model_service.engines.base import answers_to
from model_service.engines.embeddings import BatcherClosedError, MicroBatcher
from model_service.errors import ModelServiceError
from model_service.registry import model_slot
from model_service.schemas import EmbeddingRequest, EmbeddingResponse, ErrorResponse

router = APIRouter(tags=["embeddings"])

_ERRORS = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "Invalid request; error.param names the offending field, e.g. input[3]",
        404: "The requested model is not the one this service serves",
        503: "The embedding model is loading, failed to load, or the service is stopping",
    }.items()
}


def _encode_rows(vectors: np.ndarray, encoding_format: str) -> list:
    if encoding_format == "base64":
        # OpenAI's base64 format: the raw little-endian float32 bytes of each vector.
        little_endian = vectors.astype("<f4", copy=False)
        return [base64.b64encode(row.tobytes()).decode("ascii") for row in little_endian]
    return vectors.tolist()


@router.post("/v1/embeddings", response_model=EmbeddingResponse, responses=_ERRORS)
async def create_embeddings(body: EmbeddingRequest, request: Request) -> Response:
    """Embed one text or a list of texts; vectors are L2-normalised, in input order."""
    settings = request.app.state.settings
    batcher: MicroBatcher = model_slot(request, "embeddings").get()
    engine = batcher.engine
    if body.model is not None and not answers_to(engine, body.model):
        raise ModelServiceError(
            404,
            "model_not_found",
            f"The model {body.model!r} does not exist here; this service serves "
            f"{engine.model_id!r}. Send that id (or omit 'model').",
            "model",
        )
    if body.dimensions is not None and body.dimensions != engine.dimensions:
        raise ModelServiceError(
            400,
            "unsupported_dimensions",
            f"{engine.model_id} produces {engine.dimensions}-dimensional vectors and cannot "
            f"shorten them to {body.dimensions}; omit 'dimensions'.",
            "dimensions",
        )
    texts = body.texts(
        max_inputs=settings.embed_max_inputs, max_input_chars=settings.embed_max_input_chars
    )
    try:
        result = await cancel_on_disconnect(request.receive, batcher.embed(texts))
    except BatcherClosedError as exc:
        raise ModelServiceError(
            503, "service_unavailable", f"Embedding is unavailable: {exc}; retry shortly."
        ) from exc
    tokens = result.total_tokens
    payload = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": index, "embedding": row}
            for index, row in enumerate(_encode_rows(result.vectors, body.encoding_format))
        ],
        "model": engine.model_id,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    # Serialised directly (in Rust) rather than through response-model validation: a 512-text
    # response holds ~200k floats. The response_model above still documents the shape.
    return Response(pydantic_core.to_json(payload), media_type="application/json")
