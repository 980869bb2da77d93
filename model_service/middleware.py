"""ASGI middleware that gives every request an id and logs one line when it ends."""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from contextvars import ContextVar

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from model_service.metrics import ServiceMetrics

logger = logging.getLogger("model_service.requests")

REQUEST_ID_HEADER = "X-Request-ID"

# The id of the request being served, for every log line written while serving it.
current_request_id: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIdLogFilter(logging.Filter):
    """Adds `request_id` to log records (use %(request_id)s in the format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


def _client_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            # Echo only ids that are safe to put in a log line and a header.
            request_id = value.decode("latin-1")[:128]
            if request_id and request_id.isprintable():
                return request_id
    return None


def _endpoint(scope: Scope) -> str:
    # The matched route's template, so metrics have one series per endpoint rather than one
    # per URL a client made up.
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class RequestLogMiddleware:
    """Echoes X-Request-ID (or makes one up) and logs id, method, path, status and latency.

    Plain ASGI rather than BaseHTTPMiddleware: it does not buffer responses or wrap `receive`,
    so it costs microseconds and leaves client-disconnect detection to the endpoints.
    """

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _client_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        status = 500  # what the server sends if the app raises before responding

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            elapsed = time.perf_counter() - started
            if self.metrics is not None:
                endpoint = _endpoint(scope)
                self.metrics.requests.labels(endpoint, scope["method"], str(status)).inc()
                self.metrics.latency.labels(endpoint).observe(elapsed)
            logger.info(
                "request_id=%s method=%s path=%s status=%d latency_ms=%.1f",
                request_id,
                scope["method"],
                scope["path"],
                status,
                elapsed * 1000,
            )
            current_request_id.reset(token)


# Probes (a container's healthcheck, a load balancer) need no key: they learn nothing.
OPEN_PATHS = frozenset({"/healthz", "/readyz"})


class ApiKeyMiddleware:
    """With MODEL_SERVICE_API_KEY set, requests must carry "Authorization: Bearer <key>";
    others get 401 in the service's error shape. Compared in constant time."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.expected = f"Bearer {api_key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers", ()) if k == b"authorization"), b"")
        if hmac.compare_digest(given, self.expected):
            await self.app(scope, receive, send)
            return
        message = (
            "Invalid API key."
            if given
            else "This model service requires an API key: send "
            "'Authorization: Bearer <MODEL_SERVICE_API_KEY>'."
        )
        body = json.dumps(
            {"error": {"message": message, "type": "authentication_error", "param": None,
                       "code": "invalid_api_key"}}
        ).encode()  # fmt: skip
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b"Bearer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
