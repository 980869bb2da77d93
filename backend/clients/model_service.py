"""Typed HTTP client for the model service (embeddings now; generation joins later)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

logger = logging.getLogger(__name__)


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
        """Embed texts (any number; sent in one request, the service batches)."""
        if not texts:
            return EmbeddingBatch(np.zeros((0, 0), dtype=np.float32), "")
        response = self._request(
            "POST", "/v1/embeddings", json={"input": list(texts)}, timeout=timeout
        )
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
        return EmbeddingBatch(vectors, model)

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


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        return str(error.get("message") or error) or response.text[:200]
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
