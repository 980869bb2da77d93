"""FAQ answers about using Marquee: a message matched to the nearest entry of data/faq/faq.jsonl.

Each entry's question and alternate phrasings are embedded, and so is its answer. An entry's
score for a message is half the best cosine to one of its phrasings plus half the cosine to
its answer (the answer's content words help when the user's wording matches none of the
phrasings: leave-one-out over the phrasings, each held out and matched against the rest, put
the right entry first 79% of the time this way, against 71% with phrasings alone). The best
entry answers if its score reaches the threshold. Vectors are cached like the intent
router's: in-process and under VAR_DIR/cache/, keyed by embedding model and the file's sha256.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

from recommender.intents import Embedder, cached_embeddings

# Weight of the answer's cosine in an entry's score (the rest: its best phrasing).
ANSWER_WEIGHT = 0.5
# With all-MiniLM-L6-v2, leave-one-out over the FAQ's own phrasings: 82% of held-out
# phrasings that find their entry score at least this, and so do 32% of the intent router's
# non-faq exemplars. Only messages the router labelled faq are matched, and a miss falls back
# to a general help reply, so the threshold leans towards answering.
DEFAULT_THRESHOLD = 0.35


@dataclass(frozen=True)
class FaqEntry:
    id: str
    question: str
    answer: str
    alternates: tuple[str, ...] = ()

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.alternates)


@dataclass(frozen=True)
class FaqMatch:
    id: str
    question: str
    answer: str
    score: float


def load_faq(path: Path) -> list[FaqEntry]:
    """The entries of a FAQ JSONL file; a malformed line or a repeated id is an error."""
    entries: list[FaqEntry] = []
    seen: set[str] = set()
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        entry_id, question, answer = row.get("id"), row.get("question"), row.get("answer")
        alternates = row.get("alternates", [])
        if not all(isinstance(v, str) and v.strip() for v in (entry_id, question, answer)):
            raise ValueError(f"{path}:{lineno}: need a non-empty id, question and answer")
        if not isinstance(alternates, list) or not all(
            isinstance(a, str) and a.strip() for a in alternates
        ):
            raise ValueError(f"{path}:{lineno}: alternates must be a list of non-empty strings")
        if entry_id in seen:
            raise ValueError(f"{path}:{lineno}: duplicate id {entry_id!r}")
        seen.add(entry_id)
        phrasings = tuple(a.strip() for a in alternates)
        entries.append(FaqEntry(entry_id, question.strip(), answer.strip(), phrasings))
    return entries


class FaqIndex:
    """FAQ entries with their embedded phrasings and answers."""

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        *,
        phrasing_vectors: np.ndarray,
        answer_vectors: np.ndarray,
        threshold: float = DEFAULT_THRESHOLD,
        model: str = "",
    ) -> None:
        self.entries = list(entries)
        self.owners = np.array(
            [i for i, entry in enumerate(self.entries) for _ in entry.phrasings], dtype=np.int64
        )
        self.phrasing_vectors = np.asarray(phrasing_vectors, dtype=np.float32)
        self.answer_vectors = np.asarray(answer_vectors, dtype=np.float32)
        if self.phrasing_vectors.shape[0] != len(self.owners):
            raise ValueError("one phrasing vector per question and alternate is needed")
        if self.answer_vectors.shape[0] != len(self.entries):
            raise ValueError("one answer vector per entry is needed")
        self.threshold = threshold
        self.model = model

    @classmethod
    def load(
        cls, *, embedder: Embedder, path: Path | None = None, threshold: float = DEFAULT_THRESHOLD
    ) -> FaqIndex:
        """The index of a FAQ file, embedded once per embedding model and file content."""
        path = Path(path or Path(settings.DATA_DIR) / "faq" / "faq.jsonl")
        raw = path.read_bytes()
        entries = load_faq(path)
        phrasings = [text for entry in entries for text in entry.phrasings]
        cached = cached_embeddings(
            kind="faq",
            texts=[*phrasings, *(entry.answer for entry in entries)],
            digest=hashlib.sha256(raw).hexdigest(),
            embedder=embedder,
        )
        vectors = cached["vectors"]
        return cls(
            entries,
            phrasing_vectors=vectors[: len(phrasings)],
            answer_vectors=vectors[len(phrasings) :],
            threshold=threshold,
            model=cached["model"],
        )

    def scores(self, vector: np.ndarray) -> np.ndarray:
        """One score per entry: (1 - w)·best phrasing cosine + w·answer cosine."""
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        best = np.full(len(self.entries), -1.0, dtype=np.float64)
        np.maximum.at(best, self.owners, self.phrasing_vectors @ vector)
        return (1 - ANSWER_WEIGHT) * best + ANSWER_WEIGHT * (self.answer_vectors @ vector)

    def match(self, vector: np.ndarray, *, threshold: float | None = None) -> FaqMatch | None:
        """The best entry for a message vector, or None when none scores the threshold."""
        if not self.entries:
            return None
        scores = self.scores(vector)
        best = int(np.argmax(scores))
        limit = self.threshold if threshold is None else threshold
        if scores[best] < limit:
            return None
        entry = self.entries[best]
        return FaqMatch(entry.id, entry.question, entry.answer, float(scores[best]))
