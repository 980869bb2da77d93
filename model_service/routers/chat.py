"""POST /v1/chat/completions, OpenAI-compatible, with server-sent-event streaming."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import jsonschema
import pydantic_core
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from model_service.disconnect import cancel_on_disconnect
from model_service.errors import ModelServiceError, error_body
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
    UnsupportedRequestError,
)
from model_service.registry import model_slot
from model_service.schemas import ErrorResponse
from model_service.schemas_chat import ChatCompletionRequest

router = APIRouter(tags=["chat"])

_ERRORS = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "Invalid request (error.param names the field), or prompt + max_tokens exceed the "
        "context window (code context_length_exceeded)",
        404: "The requested model is not the one this service serves",
        499: "The client disconnected; the generation was cancelled",
        503: "The language model is loading, failed, or busy (queue full: see Retry-After)",
        504: "The generation did not finish within the request timeout",
    }.items()
}

# A cheap bound checked before tokenising: no tokenizer packs more than ~8 chars per token.
_CHARS_PER_TOKEN_BOUND = 8


def _serves(queue: GenerationQueue, name: str, configured: str) -> bool:
    wanted = name.strip().casefold()
    return wanted in {queue.generator.model_id.casefold(), "default", configured.casefold()}


def _messages(body: ChatCompletionRequest) -> list[ChatMessage]:
    if not body.messages:
        raise ModelServiceError(
            400, "empty_messages", "messages is empty; send at least one user message.", "messages"
        )
    messages = []
    for index, message in enumerate(body.messages):
        text = message.text()
        role = "system" if message.role == "developer" else message.role
        if role == "user" and not text.strip():
            raise ModelServiceError(
                400,
                "empty_content",
                f"messages[{index}].content is empty; user messages must have text.",
                f"messages[{index}].content",
            )
        messages.append(ChatMessage(role, text))  # type: ignore[arg-type]
    if all(m.role != "user" for m in messages):
        raise ModelServiceError(
            400, "no_user_message", "messages holds no user message; add one.", "messages"
        )
    return messages


def _json_schema(body: ChatCompletionRequest) -> dict[str, Any] | None:
    fmt = body.response_format
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return {"type": "object"}
    if fmt.json_schema is None:
        raise ModelServiceError(
            400,
            "missing_required_parameter",
            "response_format.json_schema is required when type is json_schema.",
            "response_format.json_schema",
        )
    schema = fmt.json_schema.schema_
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ModelServiceError(
            400,
            "invalid_json_schema",
            f"response_format.json_schema.schema is not a valid JSON Schema: {exc.message}",
            "response_format.json_schema.schema",
        ) from exc
    return schema


def _sampling(
    body: ChatCompletionRequest, messages: list[ChatMessage], queue: GenerationQueue, cap: int
) -> tuple[SamplingParams, int]:
    generator = queue.generator
    window = generator.context_length
    chars = sum(len(m.content) for m in messages)
    if chars > window * _CHARS_PER_TOKEN_BOUND:
        raise ModelServiceError(
            400,
            "context_length_exceeded",
            f"The messages hold {chars:,} characters, far more than the model's context of "
            f"{window} tokens. Shorten the conversation.",
            "messages",
        )
    prompt_tokens = generator.count_prompt_tokens(messages)
    requested = body.max_completion_tokens or body.max_tokens
    if prompt_tokens >= window:
        raise ModelServiceError(
            400,
            "context_length_exceeded",
            f"The prompt is {prompt_tokens} tokens; this model's context is {window} tokens. "
            "Shorten the conversation (drop old turns).",
            "messages",
        )
    if requested is not None and prompt_tokens + min(requested, cap) > window:
        raise ModelServiceError(
            400,
            "context_length_exceeded",
            f"The prompt ({prompt_tokens} tokens) plus max_tokens ({min(requested, cap)}) exceeds "
            f"this model's context of {window} tokens. Lower max_tokens to at most "
            f"{window - prompt_tokens} or shorten the messages.",
            "max_tokens",
        )
    # max_tokens above the cap is lowered to it (GEN_MAX_TOKENS), not refused.
    max_tokens = min(requested or cap, cap, window - prompt_tokens)
    return (
        SamplingParams(
            max_tokens=max_tokens,
            temperature=body.temperature,
            top_p=body.top_p,
            stop=body.stop_sequences(),
            json_schema=_json_schema(body),
            seed=body.seed,
        ),
        prompt_tokens,
    )


def _queue_error(exc: QueueFullError | QueueClosedError) -> ModelServiceError:
    if isinstance(exc, QueueClosedError):
        return ModelServiceError(503, "service_unavailable", str(exc))
    return ModelServiceError(
        503,
        "queue_full",
        f"{exc} The service generates one answer at a time; back off and retry.",
        headers={"Retry-After": str(exc.retry_after)},
    )


def _generation_error(exc: GeneratorError | GenerationTimeoutError) -> ModelServiceError:
    if isinstance(exc, UnsupportedRequestError):
        return ModelServiceError(400, "unsupported_request", str(exc), exc.param)
    if isinstance(exc, GenerationTimeoutError):
        return ModelServiceError(504, "timeout", f"{exc} Ask for fewer tokens or retry.")
    return ModelServiceError(503, "generator_error", f"Generation failed: {exc}")


@router.post("/v1/chat/completions", responses=_ERRORS)
async def create_chat_completion(body: ChatCompletionRequest, request: Request) -> Response:
    """Generate the assistant's next message; `stream: true` sends OpenAI chunks as SSE."""
    settings = request.app.state.settings
    queue: GenerationQueue = model_slot(request, "generator").get()
    if body.model is not None and not _serves(queue, body.model, settings.generator):
        raise ModelServiceError(
            404,
            "model_not_found",
            f"The model {body.model!r} does not exist here; this service serves "
            f"{queue.generator.model_id!r}. Send that id (or omit 'model').",
            "model",
        )
    messages = _messages(body)
    params, prompt_tokens = _sampling(body, messages, queue, settings.generator_max_tokens)
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    model_id = queue.generator.model_id
    try:
        if body.stream:
            # Admitted here, so a full queue is a 503 before the 200 of the stream is sent.
            events = await queue.stream(messages, params)
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return StreamingResponse(
                _sse(events, completion_id, created, model_id, include_usage),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        text, finish = await cancel_on_disconnect(request.receive, queue.complete(messages, params))
    except (QueueFullError, QueueClosedError) as exc:
        raise _queue_error(exc) from exc
    except (GeneratorError, GenerationTimeoutError) as exc:
        raise _generation_error(exc) from exc
    payload = {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model_id,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish.reason,
                "logprobs": None,
            }
        ],
        "usage": _usage(finish, prompt_tokens),
    }
    return Response(pydantic_core.to_json(payload), media_type="application/json")


def _usage(finish: Finish, prompt_tokens: int) -> dict[str, Any]:
    prompt = finish.prompt_tokens or prompt_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": finish.completion_tokens,
        "total_tokens": prompt + finish.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": finish.cached_prompt_tokens},
    }


def _sse_data(payload: Any) -> bytes:
    return b"data: " + pydantic_core.to_json(payload) + b"\n\n"


async def _sse(
    events: AsyncIterator[TextDelta | Finish],
    completion_id: str,
    created: int,
    model: str,
    include_usage: bool,
) -> AsyncIterator[bytes]:
    """OpenAI's stream: a role chunk, content chunks, a finish chunk, [usage], [DONE].

    Errors after the response has started cannot change its status any more; they are sent
    as an `error` object in OpenAI's error shape, which OpenAI clients raise. Leaving this
    generator early (client gone) closes `events`, which cancels the generation.
    """

    def chunk(delta: dict | None, finish: str | None = None, **extra: Any) -> bytes:
        choices = (
            []
            if delta is None
            else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
        )
        return _sse_data(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": choices,
                **extra,
            }
        )

    yield chunk({"role": "assistant", "content": ""})
    try:
        async for event in events:
            if isinstance(event, TextDelta):
                yield chunk({"content": event.text})
                continue
            yield chunk({}, event.reason)
            if include_usage:
                yield chunk(None, usage=_usage(event, event.prompt_tokens))
    except (GeneratorError, GenerationTimeoutError) as exc:
        error = _generation_error(exc)
        yield _sse_data(
            error_body(error.message, type=error.type, code=error.code, param=error.param)
        )
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    yield b"data: [DONE]\n\n"
