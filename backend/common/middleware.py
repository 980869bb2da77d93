"""Middleware of every request: input limits of the API, and the browser security headers."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from common.errors import error_body, too_large_body

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _content_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0  # Django reads no body then either


def _bad_query_parameter(query_string: str) -> tuple[str, str] | None:
    """(name, problem) for the first query parameter that is not UTF-8 or holds a control
    character; Django itself would decode it with U+FFFD replacements and pass it on."""
    # WSGI hands the query string over as latin-1; percent-escapes decoded as latin-1 too give
    # back the exact bytes the client sent.
    for raw_key, raw_value in parse_qsl(query_string, keep_blank_values=True, encoding="latin-1"):
        name = raw_key.encode("latin-1").decode("utf-8", errors="replace") or "query string"
        for part in (raw_key, raw_value):
            try:
                text = part.encode("latin-1").decode("utf-8")
            except UnicodeDecodeError:
                return name, "The value is not valid UTF-8; percent-encode UTF-8 bytes."
            found = _CONTROL.search(text)
            if found:
                return name, f"Control character U+{ord(found.group()):04X} is not allowed."
    return None


class ApiInputGuardMiddleware:
    """Under /api/: a body over API_MAX_BODY_BYTES is a 413 before anything reads it (the SSE
    endpoint included), and a query parameter that is not UTF-8 text is a 400 naming it; both
    in the one error shape. Everything else is left to the parser and the serializers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            if _content_length(request) > settings.API_MAX_BODY_BYTES:
                return JsonResponse(too_large_body(), status=413)
            bad = _bad_query_parameter(request.META.get("QUERY_STRING", ""))
            if bad is not None:
                name, problem = bad
                return JsonResponse(
                    error_body(
                        "invalid_request",
                        f"Invalid {name}: {problem}",
                        {"fields": {name: [problem]}},
                    ),
                    status=400,
                )
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Content-Security-Policy (when the settings give one: production) and Permissions-Policy
    on every response; Django 5.2 sets the others (X-Frame-Options, X-Content-Type-Options,
    Referrer-Policy, COOP, HSTS).

    The API docs (Swagger UI) and the admin get CONTENT_SECURITY_POLICY_RELAXED: Swagger UI's
    page has an inline <style> block and its widgets set style attributes; neither runs an
    inline script (the docs use drf-spectacular's split view, which loads its script by URL).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        relaxed = request.path_info.startswith(
            tuple(settings.CONTENT_SECURITY_POLICY_RELAXED_PATHS)
        )
        policy = (
            settings.CONTENT_SECURITY_POLICY_RELAXED
            if relaxed
            else settings.CONTENT_SECURITY_POLICY
        )
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        if settings.PERMISSIONS_POLICY and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = settings.PERMISSIONS_POLICY
        return response
