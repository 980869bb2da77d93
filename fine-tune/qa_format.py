"""The request→intent pairs and how a model sees them: the same prompt the model service sends
at serving time (model_service.prompts, by model family) and, as the answer, the JSON the
enrichment parser reads. Training on anything else would teach a format the service never asks.

A pair (one JSON line of data/qa/*.jsonl):
  {"id": "syn-00042", "source": "synthetic" | "feedback",
   "message": "a funny heist film from the 90s",
   "history": [{"role": "user" | "assistant", "content": "..."}],   # earlier turns, oldest first
   "answer": {"reference_titles": [...], "genres": [...], "keywords": [...], "search_text": "..."},
   "enrichment": {...},   # what /v1/enrich returns for it: genres, exclude_genres, themes,
                          # moods, reference_titles, year_min, year_max, language, search_text
   "template": "similar"} # optional: the request family that made it (build_data.py); for
                          # summaries and stratified splits, never shown to the model
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model_service.generators.base import ChatMessage
from model_service.prompts import for_family
from model_service.prompts.answer_format import ANSWER_FIELDS, complete_answer

REPO = Path(__file__).resolve().parents[1]
QA_DIR = REPO / "data" / "qa"
TRAIN_FILE = QA_DIR / "train.jsonl"
# Held out: never written to data/qa, never trained on (the model-service quality set).
HELD_OUT_FILE = REPO / "data" / "enrichment" / "quality.jsonl"


# The fields of an /v1/enrich response a pair keeps as its `enrichment` (and evaluation scores).
ENRICHMENT_FIELDS = (
    "genres",
    "exclude_genres",
    "themes",
    "moods",
    "reference_titles",
    "year_min",
    "year_max",
    "language",
    "search_text",
)


@dataclass(frozen=True)
class Pair:
    id: str
    message: str
    answer: dict[str, Any]
    history: tuple[tuple[str, str], ...] = ()
    source: str = "synthetic"
    enrichment: dict[str, Any] = field(default_factory=dict)
    template: str = ""

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Pair:
        return cls(
            id=str(row["id"]),
            message=str(row["message"]),
            answer=complete_answer(row.get("answer") or {}),
            history=tuple((t["role"], t["content"]) for t in row.get("history") or ()),
            source=str(row.get("source", "synthetic")),
            enrichment=dict(row.get("enrichment") or {}),
            template=str(row.get("template") or ""),
        )

    def to_json(self) -> dict[str, Any]:
        row = {
            "id": self.id,
            "source": self.source,
            "message": self.message,
            "history": [{"role": r, "content": c} for r, c in self.history],
            "answer": complete_answer(self.answer),
            "enrichment": self.enrichment,
        }
        if self.template:
            row["template"] = self.template
        return row

    def prompt(self, family: str) -> list[ChatMessage]:
        """The messages the model service sends a model of `family` for this request."""
        return for_family(family).enrichment_messages(self.message, self.history)

    def target(self) -> str:
        """The answer as the model should write it: compact JSON, fields in schema order."""
        return json.dumps(complete_answer(self.answer), ensure_ascii=False)


def read_pairs(path: Path = TRAIN_FILE) -> list[Pair]:
    with path.open(encoding="utf-8") as lines:
        return [Pair.from_json(json.loads(line)) for line in lines if line.strip()]


def write_pairs(pairs: Iterable[Pair], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for pair in pairs:
            out.write(json.dumps(pair.to_json(), ensure_ascii=False) + "\n")
            count += 1
    return count


def iter_held_out(path: Path = HELD_OUT_FILE) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


__all__ = [
    "ANSWER_FIELDS",
    "ENRICHMENT_FIELDS",
    "HELD_OUT_FILE",
    "TRAIN_FILE",
    "Pair",
    "read_pairs",
    "write_pairs",
]
