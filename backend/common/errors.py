"""One JSON error shape for every API error: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from common.parsers import BodyError

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A domain error with an HTTP status, a stable code and a message saying what to do."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.details = details or {}


class ServiceUnavailable(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "service_unavailable"


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def too_large_body(limit: int | None = None) -> dict[str, Any]:
    """The 413 for a request body over the API's limit (settings.API_MAX_BODY_BYTES)."""
    limit = limit or settings.API_MAX_BODY_BYTES
    message = (
        f"The request body is larger than {limit:,} bytes, the most this API accepts; "
        "send a shorter message (and fewer history turns)."
    )
    return error_body("payload_too_large", message, {"fields": {"body": [message]}, "limit": limit})


def _unsupported_media_type(exc: exceptions.UnsupportedMediaType) -> dict[str, Any]:
    quoted = re.search(r'"(.*)"', str(exc.detail))
    got = (quoted.group(1) if quoted else "") or "none"
    message = f"Send the body as JSON with Content-Type: application/json (got {got})."
    return error_body("unsupported_media_type", message, {"fields": {"Content-Type": [message]}})


def _flatten_validation(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested validation detail into {"field.sub": ["message", ...]}; errors about
    the body as a whole (not an object, cross-field checks) go under "body"."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # a list item's errors: {0: {...}}
                path = f"{prefix}[{key}]"
            else:
                name = key if key != "non_field_errors" else ""
                path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            out.update(_flatten_validation(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "body"] = [str(item) for item in detail]
        else:
            for i, item in enumerate(detail):
                out.update(_flatten_validation(item, f"{prefix}[{i}]"))
    else:
        out[prefix or "body"] = [str(detail)]
    return out


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: every error leaves in the one shape, never a bare 500."""
    if isinstance(exc, ApplicationError):
        headers = {}
        if exc.status_code == 503:
            headers["Retry-After"] = "5"
        return Response(
            error_body(exc.code, exc.message, exc.details), status=exc.status_code, headers=headers
        )
    if isinstance(exc, DatabaseError):
        # Any view: the database is down or refused the statement (views that write say more).
        logger.error("database error in %s: %s", context.get("view"), exc)
        return Response(
            error_body(
                "database_unavailable",
                "The database is unavailable. Check DATABASE_URL and that the database server "
                "is running, then retry.",
            ),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(too_large_body(settings.DATA_UPLOAD_MAX_MEMORY_SIZE), status=413)
    elif isinstance(exc, SuspiciousOperation):
        return Response(error_body("bad_request", str(exc) or "Bad request."), status=400)

    response = exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled error in %s", context.get("view"), exc_info=exc)
        return Response(
            error_body("internal_error", "Something went wrong on our side; it has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    if isinstance(exc, exceptions.UnsupportedMediaType):
        response.data = _unsupported_media_type(exc)
    elif isinstance(exc, exceptions.ParseError):
        # The body as a whole: not UTF-8, not JSON, nested too deeply (common.parsers).
        message = str(exc.detail).removeprefix("JSON parse error - ")
        if not isinstance(exc, BodyError):
            message = f"The request body is not valid JSON ({message})."
        response.data = error_body("invalid_json", message, {"fields": {"body": [message]}})
    elif isinstance(exc, exceptions.ValidationError):
        fields = _flatten_validation(exc.detail)
        first_field, first_msgs = next(iter(fields.items()))
        message = (
            f"Invalid {first_field}: {first_msgs[0]}" if first_field != "body" else first_msgs[0]
        )
        response.data = error_body("invalid_request", message, {"fields": fields})
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(exc, "default_code", "error")
        if isinstance(detail, dict | list):
            response.data = error_body(code, str(exc), {"detail": detail})
        else:
            response.data = error_body(getattr(detail, "code", code) or code, str(detail))
    return response


def json_error_view(code: str, message: str, status_code: int):
    def view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
        if isinstance(exception, RequestDataTooBig):  # a form over DATA_UPLOAD_MAX_MEMORY_SIZE
            return JsonResponse(too_large_body(settings.DATA_UPLOAD_MAX_MEMORY_SIZE), status=413)
        return JsonResponse(error_body(code, message), status=status_code)

    return view


# Django-level handlers (non-DRF routes, unmatched URLs) answer in the same shape.
handler400 = json_error_view("bad_request", "Bad request.", 400)
handler403 = json_error_view("permission_denied", "You do not have permission to do this.", 403)
handler404 = json_error_view("not_found", "No such page or resource.", 404)
handler500 = json_error_view(
    "internal_error", "Something went wrong on our side; it has been logged.", 500
)
