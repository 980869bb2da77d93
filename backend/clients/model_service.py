"""Typed HTTP client for the model service: embeddings, enrichment and chat completions."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

logger = logging.getLogger(__name__)


# Texts per embeddings request; the service accepts up to 512 (EMBED_MAX_INPUTS).
EMBED_REQUEST_SIZE = 256


class ModelServiceError(Exception):
    """The model service answered with an error, or an answer we cannot use."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class ModelServiceUnavailable(ModelServiceError):
    """The model service cannot be reached, timed out, or is not ready yet."""


@dataclass(frozen=True, slots=True)
class EmbeddingBatch:
    vectors: np.ndarray  # (n, dim) float32, L2-normalised
    model: str


class ModelServiceClient:
    """Talks to the model service over HTTP with timeouts and retries on connection errors."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str = "",
        timeout: float = 10.0,
        retries: int = 2,
        dimensions: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        # Embeddings of another size are an answer we cannot use (the index is fixed-size).
        self.dimensions = dimensions
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, *, timeout: float | None = None, **kwargs: Any):
        attempt = 0
        while True:
            try:
                extra = {"timeout": timeout} if timeout is not None else {}
                response = self._http.request(method, path, **kwargs, **extra)
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ConnectTimeout) as exc:
                if attempt < self.retries:
                    attempt += 1
                    time.sleep(0.2 * 2**attempt)
                    continue
                raise ModelServiceUnavailable(
                    f"The model service at {self.base_url} is not reachable "
                    f"({exc.__class__.__name__}). Start it with `make run` (or "
                    "`python -m model_service`), or set MODEL_SERVICE_URL."
                ) from exc
            except httpx.TimeoutException as exc:
                raise ModelServiceUnavailable(
                    f"The model service at {self.base_url} did not answer in time."
                ) from exc
            if response.status_code == 503:
                raise ModelServiceUnavailable(
                    f"The model service at {self.base_url} is not ready: "
                    f"{_error_message(response)}",
                    status_code=503,
                )
            if response.status_code >= 400:
                raise ModelServiceError(
                    f"The model service rejected {method} {path}: {_error_message(response)}",
                    status_code=response.status_code,
                )
            return response

    def embed(self, texts: Sequence[str], *, timeout: float | None = None) -> EmbeddingBatch:
        """Embed texts, any number: sent in requests of at most EMBED_REQUEST_SIZE (the
        service accepts 512 per request and batches them itself)."""
        if not texts:
            return EmbeddingBatch(np.zeros((0, 0), dtype=np.float32), "")
        parts, model = [], ""
        for start in range(0, len(texts), EMBED_REQUEST_SIZE):
            chunk = list(texts[start : start + EMBED_REQUEST_SIZE])
            vectors, model = self._embed_request(chunk, timeout)
            parts.append(vectors)
        return EmbeddingBatch(parts[0] if len(parts) == 1 else np.vstack(parts), model)

    def _embed_request(self, texts: list[str], timeout: float | None) -> tuple[np.ndarray, str]:
        response = self._request("POST", "/v1/embeddings", json={"input": texts}, timeout=timeout)
        try:
            body = response.json()
            rows = sorted(body["data"], key=lambda item: item["index"])
            vectors = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
            model = str(body.get("model", ""))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelServiceError(
                "The model service returned a malformed embeddings answer."
            ) from exc
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            count = vectors.shape[0] if vectors.ndim else 0
            raise ModelServiceError(
                f"The model service returned {count} embeddings for {len(texts)} inputs."
            )
        if self.dimensions is not None and vectors.shape[1] != self.dimensions:
            raise ModelServiceError(
                f"The model service returned {vectors.shape[1]}-dimensional embeddings; the "
                f"index holds {self.dimensions}-dimensional ones. Check MODEL_EMBEDDING."
            )
        if not np.isfinite(vectors).all():
            raise ModelServiceError("The model service returned embeddings with NaN or inf.")
        return vectors, model

    def enrich(
        self, message: str, *, history: Sequence[dict[str, str]] = (), timeout: float | None = None
    ) -> dict[str, Any]:
        """Structured search intent for a request (POST /v1/enrich); the service's JSON answer.

        A `fallback: true` answer means the service could not use its language model (missing,
        busy, slow); callers treat it as no enrichment.
        """
        response = self._request(
            "POST",
            "/v1/enrich",
            json={"message": message, "history": list(history)},
            timeout=timeout,
        )
        try:
            body = response.json()
        except ValueError as exc:
            raise ModelServiceError("The model service returned a malformed enrichment.") from exc
        if not _is_enrichment(body):
            raise ModelServiceError("The model service returned a malformed enrichment.")
        return body

    def chat_stream(
        self,
        messages: Sequence[dict[str, str]],
        *,
        max_tokens: int = 200,
        temperature: float = 0.3,
        timeout: float | None = None,
    ) -> Iterator[str]:
        """Stream a chat completion's text deltas (POST /v1/chat/completions, stream: true).

        Closing the iterator early closes the connection, which stops the generation.
        Errors before the first delta raise like every other call; a failure mid-stream raises
        ModelServiceError from the iterator.
        """
        body = {
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        extra = {"timeout": timeout} if timeout is not None else {}
        try:
            with self._http.stream("POST", "/v1/chat/completions", json=body, **extra) as response:
                if response.status_code >= 400:
                    response.read()
                    error = ModelServiceUnavailable if response.status_code == 503 else None
                    raise (error or ModelServiceError)(
                        f"The model service could not write a reply: {_error_message(response)}",
                        status_code=response.status_code,
                    )
                yield from _sse_deltas(response.iter_lines())
        except httpx.TimeoutException as exc:
            raise ModelServiceUnavailable(
                f"The model service at {self.base_url} did not answer in time."
            ) from exc
        except httpx.TransportError as exc:
            raise ModelServiceUnavailable(
                f"The model service at {self.base_url} is not reachable "
                f"({exc.__class__.__name__}). Start it with `make run`, or set MODEL_SERVICE_URL."
            ) from exc

    def embedding_model(self) -> str:
        """Id of the embedding model the service has loaded."""
        body = _json_object(self._request("GET", "/v1/models"), "model list")
        items = body.get("data")
        for item in items if isinstance(items, list) else ():
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            if item.get("type", "embedding") == "embedding" or "dimensions" in item:
                return item["id"]
        raise ModelServiceError("The model service lists no embedding model.")

    def ready(self) -> dict[str, Any]:
        """The service's readiness report; raises ModelServiceUnavailable when not ready, and
        ModelServiceError when the answer is not a readiness report."""
        body = _json_object(self._request("GET", "/readyz", timeout=2.0), "readiness report")
        if not isinstance(body.get("models", {}), dict):
            raise ModelServiceError("The model service returned a malformed readiness report.")
        return body


def _sse_deltas(lines: Iterator[str]) -> Iterator[str]:
    """Text deltas from OpenAI-style SSE lines; raises on an error chunk or garbage."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise ModelServiceError("The model service sent a malformed stream chunk.") from exc
        if not isinstance(chunk, dict):
            raise ModelServiceError("The model service sent a malformed stream chunk.")
        if "error" in chunk:
            error = chunk["error"] or {}
            message = error.get("message", error) if isinstance(error, dict) else error
            raise ModelServiceError(f"The reply failed mid-stream: {message}")
        choices = chunk.get("choices") or ()
        if not isinstance(choices, list | tuple):
            raise ModelServiceError("The model service sent a malformed stream chunk.")
        for choice in choices:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            text = delta.get("content") if isinstance(delta, dict) else None
            if not isinstance(delta, dict | None) or not isinstance(text, str | None):
                raise ModelServiceError("The model service sent a malformed stream chunk.")
            if text:
                yield text


# Enrichment fields the chat reads, and the types it can use them as.
_ENRICHMENT_LISTS = ("genres", "exclude_genres", "themes", "moods", "reference_titles")
_ENRICHMENT_INTS = ("year_min", "year_max")


def _is_enrichment(body: Any) -> bool:
    """Whether an enrichment answer has the shape the chat reads (absent fields are fine)."""
    if not isinstance(body, dict) or not isinstance(body.get("search_text"), str):
        return False
    for name in _ENRICHMENT_LISTS:
        value = body.get(name)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(item, str) for item in value)
        ):
            return False
    for name in _ENRICHMENT_INTS:
        value = body.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            return False
    return isinstance(body.get("language"), str | None)


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise ModelServiceError(f"The model service returned a malformed {what}.") from exc
    if not isinstance(body, dict):
        raise ModelServiceError(f"The model service returned a malformed {what}.")
    return body


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    error = body.get("error", {}) if isinstance(body, dict) else body
    if isinstance(error, dict):
        return str(error.get("message") or error) or response.text[:200]
    return str(error)[:200] or f"HTTP {response.status_code}"
