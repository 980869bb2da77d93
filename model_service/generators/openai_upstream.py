"""Generation forwarded to an OpenAI-compatible server (vLLM, llama.cpp server, TGI, Ollama)."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import socket
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from model_service.generators.base import (
    ChatMessage,
    Finish,
    FinishReason,
    GenerationEvent,
    GeneratorError,
    GeneratorLoadError,
    SamplingParams,
    TextDelta,
    UnsupportedRequestError,
)

logger = logging.getLogger("model_service.generators.openai_upstream")

DEFAULT_CONTEXT_LENGTH = 4096
# Status codes that mean the deployment is wrong (key, URL, model name) or the upstream is busy,
# not that the request asked for something unsupported: they must not reach the API's caller
# as "invalid request".
_DEPLOYMENT_STATUSES = {401, 403, 404, 408, 429}
_CONFIG_HINT = "check MODEL_GENERATOR=openai:<base-url> and that the server is running"


def normalize_base_url(base_url: str) -> str:
    """`http://host:8000`, `http://host:8000/` and `http://host:8000/v1` all name the same API."""
    url = base_url.strip().rstrip("/")
    if not httpx.URL(url).path.endswith("/v1"):
        url += "/v1"
    return url


class OpenAIUpstreamGenerator:
    """Streams chat completions from `POST {base_url}/chat/completions` over one HTTP client.

    Use `connect` to build one: it checks the upstream answers and learns the model id and its
    context length from `GET {base_url}/models`.
    """

    supports_json_schema = True

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        connect_timeout: float = 5.0,
        context_length: int = DEFAULT_CONTEXT_LENGTH,
        family: str = "chat",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.model_id = model or ""
        self.context_length = context_length
        self.family = family
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # The read timeout bounds the silence between two chunks (prompt processing on a busy
        # server included), not the whole generation, which may stream for minutes.
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            transport=transport,
        )

    @classmethod
    def connect(
        cls, base_url: str, *, context_length: int | None = None, **kw: Any
    ) -> OpenAIUpstreamGenerator:
        """Connect to the upstream and learn its model; raise GeneratorLoadError if unusable.

        `model` defaults to the first model the upstream lists. `context_length` defaults to
        what the upstream reports for the model (vLLM `max_model_len`, llama.cpp
        `meta.n_ctx_train`, `context_length`), else 4096; pass it to cap the window.
        """
        generator = cls(base_url, context_length=context_length or DEFAULT_CONTEXT_LENGTH, **kw)
        try:
            models = generator._list_models()
        except BaseException:
            generator.close()
            raise
        if not generator.model_id:
            if not models:
                generator.close()
                raise GeneratorLoadError(
                    f"the upstream at {generator.base_url} lists no models; load a model on "
                    "that server, or name one with model=…"
                )
            generator.model_id = str(models[0]["id"])
        item = next((m for m in models if m.get("id") == generator.model_id), None)
        if item is None:
            # llama.cpp serves whatever name it is given; vLLM would reject it at the first
            # request with a 404, which generate() reports.
            logger.warning(
                "the upstream at %s does not list model %r (it lists %s)",
                generator.base_url,
                generator.model_id,
                ", ".join(repr(m.get("id")) for m in models) or "none",
            )
        elif context_length is None:
            generator.context_length = _context_length(item) or DEFAULT_CONTEXT_LENGTH
        logger.info(
            "generation goes to %s, model %r, context %d tokens",
            generator.base_url,
            generator.model_id,
            generator.context_length,
        )
        return generator

    def _list_models(self) -> list[dict[str, Any]]:
        try:
            response = self._http.get("/models")
        except httpx.TransportError as exc:
            raise GeneratorLoadError(
                f"cannot reach the upstream at {self.base_url}: {_describe(exc)}; {_CONFIG_HINT}"
            ) from exc
        if response.status_code >= 400:
            raise GeneratorLoadError(
                f"the upstream at {self.base_url} answered GET /models with HTTP "
                f"{response.status_code}: {_error_message(response)[0]}; {_CONFIG_HINT}"
                + (" (and the API key)" if response.status_code in (401, 403) else "")
            )
        try:
            data = response.json()["data"]
            return [item for item in data if isinstance(item, dict) and "id" in item]
        except (ValueError, KeyError, TypeError) as exc:
            raise GeneratorLoadError(
                f"the upstream at {self.base_url} answered GET /models with something other "
                f"than an OpenAI model list: {response.text[:200]!r}; is it an OpenAI-compatible "
                "server, and does the URL end in its API root (usually /v1)?"
            ) from exc

    def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        # An estimate: OpenAI-compatible servers have no standard tokenize endpoint. Three
        # characters a token overestimates for English with common tokenizers, so the caller's
        # budget errs on the safe side; the upstream enforces its own limit anyway, and its 400
        # ("maximum context length is …") is passed through as UnsupportedRequestError.
        return sum(math.ceil(len(message.content) / 3) + 4 for message in messages)

    def generate(
        self, messages: Sequence[ChatMessage], params: SamplingParams, cancel: threading.Event
    ) -> Iterator[GenerationEvent]:
        payload: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self.model_id:
            payload["model"] = self.model_id
        if params.stop:
            payload["stop"] = list(params.stop)
        if params.seed is not None:
            payload["seed"] = params.seed
        if params.json_schema is not None:
            payload["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": params.json_schema, "strict": True},
            }
        if cancel.is_set():
            yield Finish("cancelled", self.count_prompt_tokens(messages), 0)
            return

        request = self._http.build_request("POST", "/chat/completions", json=payload)
        try:
            response = self._http.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise self._timeout_error(exc) from exc
        except httpx.TransportError as exc:
            raise GeneratorError(
                f"cannot reach the upstream at {self.base_url}: {_describe(exc)}; {_CONFIG_HINT}"
            ) from exc
        watch = _CancelWatch(cancel, response)
        try:
            if response.status_code >= 400:
                self._raise_for_status(response)
            yield from self._stream(response, messages, cancel)
        finally:
            # Stop the watch before closing: it must not shut a socket the pool may reuse.
            watch.stop()
            # Closing a half-read response drops the connection, which tells the upstream to
            # stop generating (vLLM and llama.cpp abort a request whose client went away).
            response.close()

    def _stream(
        self, response: httpx.Response, messages: Sequence[ChatMessage], cancel: threading.Event
    ) -> Iterator[GenerationEvent]:
        reason: FinishReason | None = None
        usage: dict[str, Any] | None = None
        deltas = 0
        done = False
        try:
            for line in response.iter_lines():
                if cancel.is_set():
                    reason = "cancelled"
                    break
                # SSE: blank lines separate events, ":" starts a keep-alive comment, and only
                # data fields carry chunks (some servers omit the space after "data:").
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    done = True
                    break
                chunk = _parse_chunk(data)
                if chunk.get("error"):
                    message, _ = _error_fields(chunk)
                    raise GeneratorError(f"the upstream at {self.base_url} failed: {message}")
                if isinstance(chunk.get("usage"), dict):
                    usage = chunk["usage"]
                choices = chunk.get("choices") or []
                if not choices or not isinstance(choices[0], dict):
                    continue
                choice = choices[0]
                text = (choice.get("delta") or {}).get("content")
                if text:
                    deltas += 1
                    yield TextDelta(text)
                if choice.get("finish_reason"):
                    reason = "length" if choice["finish_reason"] == "length" else "stop"
        except httpx.TimeoutException as exc:
            if not cancel.is_set():
                raise self._timeout_error(exc) from exc
            reason = "cancelled"
        except (httpx.TransportError, OSError, ValueError) as exc:
            # Once cancel is set, the watch shuts the socket under a blocked read: the read
            # then fails in whatever way the transport reports a connection cut short.
            if not cancel.is_set():
                raise GeneratorError(
                    f"the connection to the upstream at {self.base_url} broke mid-stream: "
                    f"{_describe(exc)}; check the server's logs"
                ) from exc
            reason = "cancelled"
        if cancel.is_set():
            reason = "cancelled"
        elif reason is None and not done:
            raise GeneratorError(
                f"the upstream at {self.base_url} ended the stream without finishing "
                f"(no finish_reason, no [DONE]) after {deltas} chunks; check the server's logs"
            )
        prompt_tokens = self.count_prompt_tokens(messages)
        completion_tokens = deltas
        cached = 0
        if usage is not None:
            prompt_tokens = _int(usage.get("prompt_tokens"), prompt_tokens)
            completion_tokens = _int(usage.get("completion_tokens"), completion_tokens)
            details = usage.get("prompt_tokens_details")
            if isinstance(details, dict):
                cached = _int(details.get("cached_tokens"), 0)
        yield Finish(
            reason or "stop", prompt_tokens, completion_tokens, cached_prompt_tokens=cached
        )

    def _raise_for_status(self, response: httpx.Response) -> None:
        try:
            response.read()
        except httpx.HTTPError as exc:
            raise GeneratorError(
                f"the upstream at {self.base_url} answered HTTP {response.status_code} and "
                f"then broke the connection: {_describe(exc)}"
            ) from exc
        message, param = _error_message(response)
        status = response.status_code
        if status >= 500:
            raise GeneratorError(
                f"the upstream at {self.base_url} failed with HTTP {status}: {message}; "
                "check the server's logs"
            )
        if status in _DEPLOYMENT_STATUSES:
            hint = {
                401: "check the upstream API key",
                403: "check the upstream API key",
                404: f"check the base URL and that the server serves model {self.model_id!r}",
                408: "the server may be overloaded",
                429: "the server is overloaded; retry later or give it more capacity",
            }[status]
            raise GeneratorError(
                f"the upstream at {self.base_url} answered HTTP {status}: {message}; {hint}"
            )
        raise UnsupportedRequestError(message, param=param)

    def _timeout_error(self, exc: httpx.TimeoutException) -> GeneratorError:
        if isinstance(exc, httpx.ConnectTimeout):
            return GeneratorError(
                f"cannot reach the upstream at {self.base_url}: connection timed out; "
                f"{_CONFIG_HINT}"
            )
        return GeneratorError(
            f"the upstream at {self.base_url} sent nothing for {self.timeout:g} s "
            f"({type(exc).__name__}); it may be overloaded or stuck: check its logs, or raise "
            "the generator timeout"
        )

    def close(self) -> None:
        self._http.close()


class _CancelWatch:
    """Shuts the response's socket once `cancel` is set.

    Checking `cancel` between chunks is not enough: a queued or stalled upstream may send
    nothing for a long time, and the worker thread would sit in a blocked read, holding up the
    generation queue. Shutting the socket wakes that read at once and tells the upstream the
    client is gone.
    """

    _POLL_S = 0.05

    def __init__(self, cancel: threading.Event, response: httpx.Response) -> None:
        self._cancel = cancel
        self._stopped = threading.Event()
        self._socket = _response_socket(response)
        self._thread: threading.Thread | None = None
        if self._socket is not None:
            self._thread = threading.Thread(
                target=self._run, name="upstream-cancel-watch", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        # Two events cannot be waited on together; a short poll keeps cancellation prompt.
        while not self._stopped.wait(self._POLL_S):
            if self._cancel.is_set():
                with contextlib.suppress(OSError):
                    self._socket.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
                return

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()


def _response_socket(response: httpx.Response) -> socket.socket | None:
    # httpx's default transport exposes the connection's stream; other transports (mocks,
    # ASGI) have none, and then cancellation waits for the next chunk.
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    try:
        sock = stream.get_extra_info("socket")
    except Exception:
        return None
    return sock if isinstance(sock, socket.socket) else None


def _parse_chunk(data: str) -> dict[str, Any]:
    try:
        chunk = json.loads(data)
    except ValueError as exc:
        raise GeneratorError(
            f"upstream sent an invalid stream chunk (not JSON): {data[:200]!r}; is it an "
            "OpenAI-compatible server?"
        ) from exc
    if not isinstance(chunk, dict):
        raise GeneratorError(
            f"upstream sent an invalid stream chunk (not an object): {data[:200]!r}"
        )
    return chunk


def _context_length(item: dict[str, Any]) -> int | None:
    meta = item.get("meta") if isinstance(item.get("meta"), dict) else {}
    for value in (
        item.get("max_model_len"),
        item.get("context_length"),
        meta.get("n_ctx"),
        meta.get("n_ctx_train"),
    ):
        length = _int(value, 0)
        if length > 0:
            return length
    return None


def _error_fields(body: Any) -> tuple[str, str | None]:
    """Message and param from the error shapes the servers use.

    OpenAI/llama.cpp/Ollama: {"error": {"message", "param", ...}}; vLLM (older):
    {"object": "error", "message", "param"}; TGI: {"error": "...", "error_type": ...}.
    """
    if not isinstance(body, dict):
        return str(body)[:500], None
    error = body.get("error")
    if isinstance(error, dict):
        param = error.get("param")
        return str(error.get("message") or error), str(param) if param else None
    if isinstance(error, str) and error:
        return error, None
    if body.get("message"):
        param = body.get("param")
        return str(body["message"]), str(param) if param else None
    return json.dumps(body)[:500], None


def _error_message(response: httpx.Response) -> tuple[str, str | None]:
    try:
        return _error_fields(response.json())
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:300]}", None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
