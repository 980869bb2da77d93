"""EmbeddingEngine with the real packaged all-MiniLM-L6-v2 (slow: loads torch and the weights)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model_service.app import create_app
from model_service.config import Settings, packaged_minilm_path
from model_service.engines.embeddings import (
    PACKAGED_MINILM_ID,
    EmbeddingEngine,
    EngineLoadError,
    model_identity,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm() -> EmbeddingEngine:
    return EmbeddingEngine.load(str(packaged_minilm_path()), threads=2, batch_size=16)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_embeddings_are_384_dimensional_unit_float32_vectors(minilm):
    vectors = minilm.encode(["a scary movie about ghosts", "space opera"])

    assert minilm.model_id == PACKAGED_MINILM_ID
    assert minilm.dimensions == 384
    assert vectors.shape == (2, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_similar_meanings_are_closer(minilm):
    query, horror, romcom = minilm.encode(
        ["a scary movie about ghosts", "haunted house horror film", "romantic comedy in Paris"]
    )

    assert cosine(query, horror) > cosine(query, romcom) + 0.1


def test_mixed_lengths_keep_input_order_and_match_single_encodes(minilm):
    texts = [
        "noir",
        "A retired assassin is pulled back into the underworld when a crime lord's son steals "
        "his car and kills the dog his late wife left him, leaving a trail of bodies behind.",
        "feel-good comedy",
        "space",
        "Two estranged sisters inherit a crumbling seaside hotel and discover that the guests "
        "who never check out are not entirely alive.",
    ] * 4  # 20 texts: more than one internal batch of 16, so sorting really reorders them

    batch = minilm.encode(texts)
    singles = np.stack([minilm.encode([text])[0] for text in texts[:5]])

    for i in range(5):
        assert cosine(batch[i], singles[i]) > 0.999
        np.testing.assert_allclose(batch[i], batch[i + 5], atol=1e-5)
    assert cosine(batch[0], batch[1]) < 0.9  # rows really differ, so the checks above bite


def test_one_worker_and_two_workers_give_the_same_vectors(minilm):
    single = EmbeddingEngine.load(str(packaged_minilm_path()), threads=2, workers=1)
    texts = [f"movie number {i} about {'ghosts ' * (i % 7)}in a castle" for i in range(40)]

    try:
        np.testing.assert_allclose(single.encode(texts), minilm.encode(texts), atol=1e-5)
    finally:
        single.close()
    assert (single.workers, minilm.workers) == (1, 2)


def test_token_counts_include_special_tokens_and_stop_at_max_length(minilm):
    counts = minilm.count_tokens(["hello world", "word " * 1000])

    assert counts.tolist() == [4, minilm.max_seq_length]
    assert minilm.embed(["hello world"]).total_tokens == 4


def test_model_identity_names_the_packaged_model_and_its_aliases():
    model_id, aliases = model_identity(str(packaged_minilm_path()))

    assert model_id == "sentence-transformers/all-MiniLM-L6-v2"
    assert {"all-MiniLM-L6-v2", "minilm", "default"} <= set(aliases)
    assert model_identity("BAAI/bge-small-en-v1.5") == (
        "BAAI/bge-small-en-v1.5",
        ("bge-small-en-v1.5", "default"),
    )


def test_a_model_that_is_not_there_fails_with_a_helpful_message(tmp_path: Path):
    with pytest.raises(EngineLoadError) as caught:
        EmbeddingEngine.load("no-such-org/no-such-model-xyz")
    assert "no-such-org/no-such-model-xyz" in str(caught.value)
    assert "HF_HUB_OFFLINE=0" in str(caught.value)
    assert "MODEL_EMBEDDING=minilm" in str(caught.value)

    with pytest.raises(EngineLoadError, match="empty-dir"):
        EmbeddingEngine.load(str(tmp_path / "empty-dir"))


async def test_the_api_serves_real_embeddings(minilm, serve):
    settings = Settings(embedding_model=str(packaged_minilm_path()), threads=2)
    async with serve(create_app(settings, minilm)) as client:
        response = await client.post(
            "/v1/embeddings",
            json={
                "input": ["a scary movie about ghosts", "haunted house horror film"],
                "model": "minilm",
            },
        )

    assert response.status_code == 200
    body = response.json()
    assert body["model"] == PACKAGED_MINILM_ID
    query, horror = (np.array(item["embedding"]) for item in body["data"])
    assert query.shape == (384,)
    assert cosine(query, horror) > 0.5
    np.testing.assert_allclose(query, minilm.encode(["a scary movie about ghosts"])[0], atol=1e-5)
    assert body["usage"]["prompt_tokens"] == int(
        minilm.count_tokens(["a scary movie about ghosts", "haunted house horror film"]).sum()
    )
