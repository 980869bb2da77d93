"""Fixtures for chat tests: the demo catalog behind a fake model service, and a stub router."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from clients.model_service import ModelServiceUnavailable
from movie_constraints import parse_constraints
from recommender import resources
from recommender.pipeline import rule_intent


class FakeChatClient:
    """The model service as the chat turn sees it: embeddings (the shared bag-of-words fake),
    enrichment and chat replies."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.enrichment: dict[str, Any] | Exception | None = None
        self.reply: str | Exception = "Here are a few films you might enjoy."
        self.enrich_calls: list[str] = []
        self.chat_calls: list[list[dict[str, str]]] = []

    @property
    def down(self) -> bool:
        return self.embedder.down

    @down.setter
    def down(self, value: bool) -> None:
        self.embedder.down = value

    def embed(self, texts: Sequence[str], *, timeout: float | None = None):
        return self.embedder.embed(texts, timeout=timeout)

    def embedding_model(self) -> str:
        return self.embedder.embedding_model()

    def ready(self) -> dict:
        return self.embedder.ready()

    def enrich(
        self, message: str, *, history: Sequence[dict[str, str]] = (), timeout: float | None = None
    ) -> dict[str, Any]:
        self.enrich_calls.append(message)
        if self.down:
            raise ModelServiceUnavailable("fake model service is down")
        if isinstance(self.enrichment, Exception):
            raise self.enrichment
        base = {
            "genres": [], "exclude_genres": [], "themes": [], "moods": [],
            "reference_titles": [], "year_min": None, "year_max": None, "language": None,
            "search_text": message, "fallback": False, "model": "fake", "latency_ms": 1.0,
        }  # fmt: skip
        return {**base, **(self.enrichment or {})}

    def chat_stream(
        self,
        messages: Sequence[dict[str, str]],
        *,
        max_tokens: int = 200,
        temperature: float = 0.3,
        timeout: float | None = None,
    ) -> Iterator[str]:
        self.chat_calls.append(list(messages))
        if self.down:
            raise ModelServiceUnavailable("fake model service is down")
        if isinstance(self.reply, Exception):
            raise self.reply
        words = self.reply.split(" ")
        for i, word in enumerate(words):
            yield word if i == len(words) - 1 else word + " "


@dataclass(frozen=True)
class _Prediction:
    intent: str
    confidence: float
    scores: dict
    nearest: str
    signals: tuple


class RuleRouter:
    """Routes by the pipeline's cheap rules, plus a few fixed phrases: the API tests are about
    the API, the real router has its own tests."""

    def classify(self, text: str, *, vector: Any = None, has_title: bool = False, **_: Any):
        lowered = text.lower()
        if "how do" in lowered or "what can you" in lowered:
            intent = "faq"
        elif "weather" in lowered or "recipe" in lowered:
            intent = "out_of_scope"
        else:
            constraints = parse_constraints(text)
            intent = rule_intent(text, has_title=has_title, constraints=constraints)
        return _Prediction(intent, 0.9, {intent: 0.9}, "", ("stub",))


@dataclass(frozen=True)
class _FaqMatch:
    id: str
    question: str
    answer: str
    score: float


class StubFaq:
    def match(self, vector: Any) -> _FaqMatch:
        return _FaqMatch(
            "how-to-ask", "How do I ask?", "Just describe what you want to watch.", 0.9
        )


@pytest.fixture
def chat_client(monkeypatch, fake_embedder) -> FakeChatClient:
    client = FakeChatClient(fake_embedder)
    import recommender.apis

    monkeypatch.setattr(recommender.apis, "get_model_service_client", lambda: client)
    return client


@pytest.fixture
def stub_router(monkeypatch):
    resources.reset()
    monkeypatch.setattr(resources, "intent_router", lambda embedder: RuleRouter())
    monkeypatch.setattr(resources, "faq_index", lambda embedder: StubFaq())
    yield
    resources.reset()


@pytest.fixture
def demo_catalog(db, catalog_index, fake_embedder):
    """The shipped demo catalog, embedded by the fake embedder into a fresh real index."""
    from catalog.ingestion.sources import open_source
    from catalog.services.ingestion import catalog_ingest

    report = catalog_ingest(
        source=open_source("demo", None),
        embedder=fake_embedder,
        index=catalog_index,
        progress=False,
    )
    assert report.inserted > 300
    return catalog_index
