"""Shared fixtures: a fake embedder for fast tests, a fresh embedded index per test."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from clients.model_service import EmbeddingBatch, ModelServiceUnavailable

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"


class FakeEmbedder:
    """Bag-of-words hashing vectors: texts sharing words are close. Counts its calls."""

    model = "fake-bow-384"

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.calls: list[int] = []
        self.down = False

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self.dim] += 1.0
        norm = np.linalg.norm(vector)
        if norm == 0:
            vector[0] = 1.0
            norm = 1.0
        return vector / norm

    def embed(self, texts: Sequence[str], *, timeout: float | None = None) -> EmbeddingBatch:
        if self.down:
            raise ModelServiceUnavailable("fake model service is down")
        self.calls.append(len(texts))
        return EmbeddingBatch(np.vstack([self._vector(t) for t in texts]), self.model)

    def embedding_model(self) -> str:
        if self.down:
            raise ModelServiceUnavailable("fake model service is down")
        return self.model

    def ready(self) -> dict:
        if self.down:
            raise ModelServiceUnavailable("fake model service is down")
        return {"status": "ready", "models": {"embedding": self.model}}


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a skip: a user's fresh clone does not have it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (real datasets live beside the project)")
    return SHARED_DATA


# Tracked under neutral names, so no fixture looks like a copy of the real dataset (and none is:
# the overviews are our own words); the source expects Kaggle's names, so tests get a folder
# laid out as Kaggle ships it.
KAGGLE_FIXTURES = Path(__file__).parent / "ingestion_sources" / "fixtures" / "kaggle"
KAGGLE_NAMES = {"metadata.csv": "movies_metadata.csv", "ratings-sample.csv": "ratings_small.csv"}


@pytest.fixture(scope="session")
def kaggle_folder(tmp_path_factory) -> Path:
    """A small "The Movies Dataset" folder: metadata with malformed rows, keywords, credits,
    links and ratings."""
    folder = tmp_path_factory.mktemp("kaggle")
    for path in KAGGLE_FIXTURES.iterdir():
        shutil.copy(path, folder / KAGGLE_NAMES.get(path.name, path.name))
    return folder


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def index_path(tmp_path, settings):
    """Point the catalog at an empty embedded index of its own; close it afterwards."""
    from catalog.vector_store import close_catalog_index

    close_catalog_index()
    settings.INDEX_PATH = tmp_path / "index"
    settings.QDRANT_URL = None
    yield settings.INDEX_PATH
    close_catalog_index()


@pytest.fixture
def catalog_index(index_path):
    from catalog.vector_store import get_catalog_index

    return get_catalog_index()


@pytest.fixture
def use_fake_embedder(monkeypatch, fake_embedder):
    """Make the API use the fake embedder instead of the model service."""
    import catalog.apis

    monkeypatch.setattr(catalog.apis, "get_model_service_client", lambda: fake_embedder)
    return fake_embedder
