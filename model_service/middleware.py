"""ASGI middleware: a request id and one log line per request, the API key, and the checks of
a request body that come before any parsing (size, media type, lone surrogates)."""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import time
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

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


# Set by a handler that answers without FastAPI's router (EmbeddingsFastPath): its route's path.
ENDPOINT_SCOPE_KEY = "marquee.endpoint"


def _endpoint(scope: Scope) -> str:
    # The matched route's template, so metrics have one series per endpoint rather than one
    # per URL a client made up.
    if ENDPOINT_SCOPE_KEY in scope:
        return scope[ENDPOINT_SCOPE_KEY]
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
        request_id = _client_request_id(scope) or os.urandom(16).hex()  # as uuid4().hex, cheaper
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


# --- request bodies ------------------------------------------------------------------------------
MiB = 1024 * 1024
# Chat completions and enrichment: far above any request the handlers accept (enrichment: a
# 2,000-character message and 50 history turns of at most 8,000, ~2.4 MB even with every
# character escaped; chat: the handler refuses more than 8 characters per context token).
DEFAULT_MAX_BODY_BYTES = 8 * MiB
# A JSON encoder writes a character as at most 6 bytes (\uXXXX) outside surrogate pairs.
MAX_JSON_BYTES_PER_CHAR = 6


def embeddings_max_body_bytes(max_inputs: int, max_input_chars: int) -> int:
    """POST /v1/embeddings: every request within EMBED_MAX_INPUTS texts of EMBED_MAX_INPUT_CHARS
    fits, even with each character escaped, plus 1 MiB for the rest of the JSON; by default
    512 × 20,000 × 6 B + 1 MiB = 62.5 MB (61,440,000 + 1,048,576 bytes). Larger is a 413."""
    return max_inputs * max_input_chars * MAX_JSON_BYTES_PER_CHAR + MiB


_JSON_MEDIA_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json$")
# A \uD800-\uDFFF escape: the only way a JSON body can carry a lone surrogate (raw surrogate
# bytes are not UTF-8, which the JSON parser refuses by itself).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

# Chat-template control tokens (ChatML and Llama 3 <|im_end|>, <|eot_id|>; Gemma's turn tags;
# [INST]). The local generators render the messages with the model's template and tokenise
# the result with special tokens parsed, so such text inside a message would become the real
# token: a user could close their turn and open a system or assistant one. No text a client
# means as text holds them, so requests to the language model that do are refused.
CONTROL_TOKEN = re.compile(r"<\|[A-Za-z0-9_.-]{1,40}\|>|<(?:start|end)_of_turn>|\[/?INST\]")
# A cheap test of the raw body first (~2 ms a MB): the end of every such token, ">" perhaps
# escaped as \u003e by the client's JSON encoder.
_CONTROL_TOKEN_HINT = re.compile(rb"\|>|\|\\u003[eE]|_of_turn|INST\]")
# The routes whose texts reach the language model.
GENERATOR_PATHS = frozenset({"/v1/chat/completions", "/v1/enrich"})


def _json_path(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def first_match_path(data: Any, pattern: re.Pattern[str], prefix: str = "") -> str | None:
    """The path ("messages[0].content") of the first string (or key) `pattern` finds in."""
    stack: list[tuple[str, Any]] = [(prefix, data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if pattern.search(value):
                return path or "body"
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                if pattern.search(key):
                    return path or "body"
                stack.append((_json_path(path, key), item))
        elif isinstance(value, list):
            stack.extend(
                (_json_path(path, i), item) for i, item in reversed(list(enumerate(value)))
            )
    return None


def lone_surrogate_path(data: Any) -> str | None:
    """The path of the first string holding a lone UTF-16 surrogate, which no tokenizer can
    encode: the embedding model raises TypeError, llama.cpp UnicodeEncodeError, and in a
    micro-batch one such text would fail its neighbours too."""
    return first_match_path(data, _SURROGATE)


def _value_at(data: Any, param: str) -> str | None:
    """The string at a path first_match_path returned (None for a key)."""
    value = data
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", param):
        try:
            value = value[int(index)] if index else value[name]
        except (KeyError, IndexError, TypeError):
            return None
    return value if isinstance(value, str) else None


async def _send_error(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _error(message: str, code: str, param: str | None = None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }


def replay_receive(message: Message, receive: Receive) -> Receive:
    """A `receive` that gives `message` (a body already read) once, then the server's."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return message
        return await receive()

    return replay


class RequestBodyMiddleware:
    """Checks a POST/PUT/PATCH body before the app parses it, in the service's error shape:

    - larger than its route's limit (`limits`, else `default_limit`): 413 request_too_large,
      decided from Content-Length when sent, else while the chunks arrive;
    - a Content-Type other than JSON (application/json, application/*+json): 415
      unsupported_media_type (none at all is read as JSON, as FastAPI does);
    - a string holding a lone surrogate ("\\ud800"), or, on the routes to the language model, a
      chat-template control token ("<|im_end|>"): 400 invalid_text naming it in `param`.

    The body is read here and handed to the app in one piece; later `receive` calls go to the
    server, so endpoints still see the client disconnect.
    """

    def __init__(
        self, app: ASGIApp, *, default_limit: int, limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits = dict(limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default_limit)
        headers = dict(scope.get("headers", ()))
        too_large = _error(
            f"The request body is larger than {limit:,} bytes, the most {scope['path']} "
            "accepts. Split the request.",
            "request_too_large",
        )
        declared = headers.get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > limit:
            await _send_error(send, 413, too_large)
            return
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type and not _JSON_MEDIA_TYPE.match(media_type):
            await _send_error(
                send,
                415,
                _error(
                    f"The request body must be JSON sent with Content-Type: application/json, "
                    f"not {media_type}.",
                    "unsupported_media_type",
                ),
            )
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left while sending
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _send_error(send, 413, too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        refused = self._refused_text(scope["path"], body)
        if refused is not None:
            await _send_error(send, 400, refused)
            return
        message: Message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, replay_receive(message, receive), send)

    @staticmethod
    def _refused_text(path: str, body: bytes) -> dict[str, Any] | None:
        """The 400 for a lone surrogate anywhere, or a control token in a text for the model;
        the body is parsed only when a cheap scan of its bytes finds a candidate."""
        surrogate = _SURROGATE_ESCAPE.search(body) is not None
        token = path in GENERATOR_PATHS and _CONTROL_TOKEN_HINT.search(body) is not None
        if not (surrogate or token):
            return None
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return None  # the app answers that the body is not JSON
        if surrogate and (param := lone_surrogate_path(data)) is not None:
            return _error(
                f"{param} holds a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape), "
                "which is not text; send valid Unicode.",
                "invalid_text",
                param,
            )
        if token and (param := first_match_path(data, CONTROL_TOKEN)) is not None:
            found = CONTROL_TOKEN.search(_value_at(data, param) or "")
            name = found.group() if found else "a control token"
            return _error(
                f"{param} holds {name}, a chat-template control token: the model would read "
                "it as the start or end of a turn. Remove it.",
                "invalid_text",
                param,
            )
        return None
