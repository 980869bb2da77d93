"""POST /v1/embeddings, OpenAI-compatible."""

from __future__ import annotations

import base64
import contextlib

import numpy as np
import pydantic_core
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from model_service.disconnect import cancel_on_disconnect
from model_service.engines.base import answers_to
from model_service.engines.embeddings import BatcherClosedError, MicroBatcher
from model_service.errors import ModelServiceError, error_response
from model_service.middleware import ENDPOINT_SCOPE_KEY, replay_receive
from model_service.registry import app_model_slot
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
    # A well-formed request is answered by EmbeddingsFastPath before it gets here; this route
    # serves the rest (the requests it refuses with a validation error) and documents the API.
    payload = await embed(body, request.app, request.receive)
    return Response(payload, media_type="application/json")


async def embed(body: EmbeddingRequest, app: Starlette, receive: Receive) -> bytes:
    """The JSON answer to a validated request; ModelServiceError for the ones refused."""
    settings = app.state.settings
    batcher: MicroBatcher = app_model_slot(app, "embeddings").get()
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
        result = await cancel_on_disconnect(receive, batcher.submit(texts))
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
    return pydantic_core.to_json(payload)


class EmbeddingsFastPath:
    """Answers POST /v1/embeddings with a well-formed body without FastAPI's router.

    Routing, dependency solving and the request and response objects cost the event loop
    ~0.25 ms per request: a burst of 64 single-text requests (fake engine, two cores) took
    55 ms of its CPU through the route and 38 ms through this path. On a small machine the
    loop's time is time the encode waits for, before the batch closes and after it is done,
    so this is what a burst of small requests costs beyond one batch of the same texts. A body
    that validates as an EmbeddingRequest goes straight to `embed`, the function behind the
    route; any other body goes on to the route, which refuses it with the detailed error. Sits
    inside the service's middlewares (request log, API key, body checks), which see every
    request either way.
    """

    def __init__(self, app: ASGIApp, path: str = "/v1/embeddings") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        message = await receive()
        body = message.get("body", b"") if message["type"] == "http.request" else b""
        request: EmbeddingRequest | None = None
        if message["type"] == "http.request" and not message.get("more_body", False):
            with contextlib.suppress(ValidationError):
                request = EmbeddingRequest.model_validate_json(body)
        if request is None:  # the route answers, from the same body
            await self.app(scope, replay_receive(message, receive), send)
            return
        app = scope["app"]
        scope[ENDPOINT_SCOPE_KEY] = self.path  # the endpoint label in metrics
        try:
            payload = await embed(request, app, receive)
        except ModelServiceError as exc:
            await error_response(exc)(scope, receive, send)
            return
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
