"""A weightless embedding engine with deterministic hash-based unit vectors, for fast tests."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Sequence

import numpy as np

from model_service.config import Settings
from model_service.engines.base import Embeddings


class FakeEmbeddingEngine:
    """Same text -> same unit vector (seeded by its SHA-256), whatever batch it arrives in.

    Records every `embed` call in `calls`; `delay_s` makes each call sleep, to simulate work.
    Token counts are whitespace words + 2 (as if [CLS] and [SEP] were added).
    """

    def __init__(
        self,
        *,
        dimensions: int = 384,
        model_id: str = "fake-embedding",
        aliases: tuple[str, ...] = ("default",),
        max_seq_length: int = 256,
        delay_s: float = 0.0,
    ) -> None:
        self.dimensions = dimensions
        self.model_id = model_id
        self.aliases = aliases
        self.max_seq_length = max_seq_length
        self.delay_s = delay_s
        self.calls: list[list[str]] = []
        self._lock = threading.Lock()

    def vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(self.dimensions).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def embed(self, texts: Sequence[str]) -> Embeddings:
        with self._lock:
            self.calls.append(list(texts))
        if self.delay_s:
            time.sleep(self.delay_s)
        vectors = np.array([self.vector(text) for text in texts], dtype=np.float32)
        counts = np.array([len(text.split()) + 2 for text in texts], dtype=np.int64)
        return Embeddings(vectors.reshape(len(texts), self.dimensions), counts)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts).vectors


class GatedEmbeddingEngine(FakeEmbeddingEngine):
    """Blocks inside embed until the test opens `gate`, so a batch can be held in flight."""

    def __init__(self) -> None:
        super().__init__(dimensions=8)
        self.entered = threading.Event()
        self.gate = threading.Event()

    def embed(self, texts: Sequence[str]) -> Embeddings:
        self.entered.set()
        self.gate.wait(timeout=5)
        return super().embed(texts)


def fake_engine_settings(**overrides: object) -> Settings:
    """Settings for an app serving FakeEmbeddingEngine and no language model, read from
    nothing in the environment; `overrides` replace single fields."""
    defaults: dict[str, object] = {
        "embedding_model": "fake-embedding",
        "threads": 1,
        "embed_max_batch": 64,
        "embed_batch_wait_ms": 2.0,
        "embed_max_inputs": 512,
        "embed_max_input_chars": 20_000,
        "generator": "none",
        "generator_warmup": False,
    }
    return Settings(**{**defaults, **overrides})  # type: ignore[arg-type]
