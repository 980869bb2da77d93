"""The service's one exception type and the handlers that render every error in OpenAI's shape."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("model_service.errors")

# OpenAI's "type" field groups errors by who has to act: the client or the server.
_ERROR_TYPES = {
    400: "invalid_request_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    499: "invalid_request_error",
    504: "timeout",
    415: "invalid_request_error",
    422: "invalid_request_error",
    500: "server_error",
    503: "service_unavailable",
}


class ModelServiceError(Exception):
    """An error the service reports to its client as JSON with this status, code and message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        param: str | None = None,
        *,
        type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.headers = headers
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.type = type or _ERROR_TYPES.get(
            status, "invalid_request_error" if status < 500 else "server_error"
        )


def error_body(
    message: str, *, type: str, code: str | None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_response(exc: ModelServiceError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        error_body(exc.message, type=exc.type, code=exc.code, param=exc.param),
        status_code=exc.status,
        headers=headers or exc.headers,
    )


def param_from_loc(loc: Sequence[str | int]) -> str | None:
    """("body", "input", 3) -> "input[3]"; ("body",) -> None."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    param = ""
    for part in parts:
        if isinstance(part, int):
            param += f"[{part}]"
        else:
            param += f".{part}" if param else str(part)
    return param or None


def validation_error(
    errors: Sequence[dict[str, Any]], content_type: str | None = None
) -> ModelServiceError:
    """Turn pydantic/FastAPI validation errors into one 400 that names the first bad field."""
    first = errors[0]
    kind = first.get("type", "")
    ctx = first.get("ctx") or {}
    # Our own validators put the exact offending element (e.g. "input[3]") into the context.
    param = ctx.get("param") or param_from_loc(first.get("loc", ()))
    if kind == "json_invalid":
        detail = ctx.get("error", "could not parse it")
        return ModelServiceError(
            400,
            "invalid_json",
            f"The request body is not valid JSON ({detail}). Send a JSON object such as "
            '{"input": ["some text"]} with Content-Type: application/json.',
        )
    if param is None:
        if isinstance(first.get("input"), bytes | str):
            # FastAPI hands over the raw body when the Content-Type is not JSON.
            message = (
                f"The request body was not read as JSON (Content-Type: {content_type or 'none'}). "
                'Send a JSON object such as {"input": ["text"]} with '
                "Content-Type: application/json."
            )
        elif kind == "missing":
            message = 'The request body is empty. Send a JSON object such as {"input": ["text"]}.'
        else:
            message = (
                'The request body must be a JSON object such as {"input": ["text"]}; '
                f"{first.get('msg', 'it was not')}."
            )
        return ModelServiceError(400, "invalid_request_body", message)
    if kind == "missing":
        return ModelServiceError(
            400, "missing_required_parameter", f"'{param}' is required.", param
        )
    msg = str(first.get("msg", "invalid value")).rstrip(".")
    # Our validators' messages already start with the field name; pydantic's do not.
    message = f"{msg}." if "param" in ctx else f"Invalid '{param}': {msg}."
    if len(errors) > 1:
        message += f" ({len(errors) - 1} more problem(s) in the request.)"
    return ModelServiceError(400, ctx.get("code") or "invalid_value", message, param)


async def _handle_model_service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ModelServiceError)
    return error_response(exc)


async def _handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(validation_error(list(exc.errors()), request.headers.get("content-type")))


_FASTAPI_BODY_ERROR = "There was an error parsing the body"


def _unparsable_body(cause: BaseException | None) -> ModelServiceError:
    if isinstance(cause, UnicodeDecodeError):
        reason = f"it is not valid UTF-8 (byte {cause.start})"
    elif isinstance(cause, RecursionError):
        reason = "it is nested too deeply"
    else:
        reason = "it could not be parsed"
    return ModelServiceError(
        400,
        "invalid_json",
        f"The request body is not valid JSON: {reason}. Send a UTF-8 JSON object such as "
        '{"input": ["some text"]} with Content-Type: application/json.',
    )


async def _handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    # Starlette raises these for unknown routes (404) and wrong methods (405).
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        error = ModelServiceError(
            404,
            "not_found",
            f"No route {request.method} {request.url.path}. "
            "Available: GET /healthz, GET /readyz, GET /metrics, GET /v1/models, "
            "POST /v1/embeddings, POST /v1/chat/completions, POST /v1/enrich.",
        )
    elif exc.status_code == 405:
        error = ModelServiceError(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed on {request.url.path}.",
        )
    elif exc.status_code == 400 and exc.detail == _FASTAPI_BODY_ERROR:
        # FastAPI's answer when json.loads fails other than with a JSONDecodeError.
        error = _unparsable_body(exc.__cause__ or exc.__context__)
    else:
        error = ModelServiceError(exc.status_code, "http_error", str(exc.detail))
    return error_response(error, headers=getattr(exc, "headers", None))


async def _handle_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(
        ModelServiceError(
            500,
            "internal_error",
            f"The model service failed unexpectedly ({type(exc).__name__}). "
            "The error has been logged; retry, and report it if it persists.",
        )
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ModelServiceError, _handle_model_service_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    app.add_exception_handler(Exception, _handle_unexpected_error)
