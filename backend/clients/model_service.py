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
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
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
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelServiceError(
                "The model service returned a malformed embeddings answer."
            ) from exc
        if vectors.shape[0] != len(texts):
            raise ModelServiceError(
                f"The model service returned {vectors.shape[0]} embeddings for {len(texts)} inputs."
            )
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
        if not isinstance(body, dict) or not isinstance(body.get("search_text"), str):
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
        body = self._request("GET", "/v1/models").json()
        for item in body.get("data", []):
            if item.get("type", "embedding") == "embedding" or "dimensions" in item:
                return str(item["id"])
        raise ModelServiceError("The model service lists no embedding model.")

    def ready(self) -> dict[str, Any]:
        """The service's readiness report; raises ModelServiceUnavailable when not ready."""
        return self._request("GET", "/readyz", timeout=2.0).json()


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
        if "error" in chunk:
            error = chunk["error"] or {}
            raise ModelServiceError(f"The reply failed mid-stream: {error.get('message', error)}")
        for choice in chunk.get("choices") or ():
            text = (choice.get("delta") or {}).get("content")
            if text:
                yield text


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        return str(error.get("message") or error) or response.text[:200]
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
