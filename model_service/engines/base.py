"""What every embedding engine provides, so the API and the batcher work with real and fake ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Embeddings:
    """Vectors for a list of texts, in the texts' order, with the tokens each text cost."""

    vectors: np.ndarray  # (n, dimensions) float32, each row L2-normalised
    token_counts: np.ndarray  # (n,) int64

    def __post_init__(self) -> None:
        if len(self.vectors) != len(self.token_counts):
            raise ValueError(
                f"{len(self.vectors)} vectors but {len(self.token_counts)} token counts"
            )

    def __len__(self) -> int:
        return len(self.vectors)

    def slice(self, start: int, stop: int) -> Embeddings:
        return Embeddings(self.vectors[start:stop], self.token_counts[start:stop])

    @property
    def total_tokens(self) -> int:
        return sum(self.token_counts.tolist())  # ~5x faster than numpy for a few counts


@runtime_checkable
class EmbeddingBackend(Protocol):
    """A loaded embedding model. Blocking and thread-confined: call it from one thread at a time."""

    model_id: str
    aliases: tuple[str, ...]
    dimensions: int
    max_seq_length: int

    def embed(self, texts: Sequence[str]) -> Embeddings: ...


def answers_to(engine: EmbeddingBackend, name: str) -> bool:
    """Whether a request's `model` field names this engine (its id or an alias, any case)."""
    wanted = name.strip().casefold()
    return wanted in {engine.model_id.casefold(), *(alias.casefold() for alias in engine.aliases)}
