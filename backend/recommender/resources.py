"""Process-wide, lazily built helpers of the chat turn: the intent router and the FAQ index
(both need the model service to embed their data once), and the catalog's title and people
linkers."""

from __future__ import annotations

import threading
import time
from typing import Any

from catalog.services.indexing import Embedder
from recommender.faq import FaqIndex
from recommender.intents import IntentRouter
from recommender.people import PeopleLinker, catalog_people_linker
from recommender.title_linking import TitleLinker, catalog_title_linker

# After a failed build (model service down), wait this long before trying again, so a turn in
# degraded mode does not pay for a doomed request every time.
RETRY_AFTER_SECONDS = 10.0

_lock = threading.Lock()
_built: dict[str, Any] = {}
_failed_at: dict[str, float] = {}


def _get(name: str, embedder: Embedder, build: Any) -> Any:
    with _lock:
        if name in _built:
            return _built[name]
        failed = _failed_at.get(name)
        if failed is not None and time.monotonic() - failed < RETRY_AFTER_SECONDS:
            return None
    try:
        value = build(embedder=embedder)
    except Exception:
        with _lock:
            _failed_at[name] = time.monotonic()
        raise
    with _lock:
        _built[name] = value
        _failed_at.pop(name, None)
    return value


def intent_router(embedder: Embedder) -> IntentRouter | None:
    """The router, or None while the model service cannot embed its exemplars (retried after
    RETRY_AFTER_SECONDS); the first failure raises so the caller can say why."""
    return _get("intent_router", embedder, IntentRouter.load)


def faq_index(embedder: Embedder) -> FaqIndex | None:
    return _get("faq_index", embedder, FaqIndex.load)


def title_linker() -> TitleLinker:
    return catalog_title_linker()


def people_linker() -> PeopleLinker:
    return catalog_people_linker()


def reset() -> None:
    """Forget what was built (tests; a changed embedding model)."""
    with _lock:
        _built.clear()
        _failed_at.clear()
