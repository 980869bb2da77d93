"""The JSON answer the enrichment prompts ask for: its fields, their order and its schema.

Kept as short as the task allows, because every output token costs ~40-60 ms on 2 cores and
the answer is most of an enrichment's latency:
- years, the language and excluded genres are not asked for: the rules in movie_constraints
  read them exactly from the request, and a 1.5B model given the chance invents them
  ("recent" → 2020, an exclusion copied from an example);
- themes and moods share one `keywords` list (split afterwards by a mood lexicon);
- keys are the API's names: shorter ones ("titles") cost recall (measured: reference titles
  found fell from 0.93 to 0.72 on the quality set).
Every field is required, in this order: llama.cpp's grammar writes required fields first, and
a model that has written its search text tends to stop, so optional fields after it were
mostly skipped. Titles come first, while the model is still reading the request.
"""

from __future__ import annotations

from typing import Any

from movie_constraints import GENRES

ANSWER_FIELDS = ("reference_titles", "genres", "keywords", "search_text")

ENRICHMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "reference_titles": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "genres": {
            "type": "array",
            "items": {"type": "string", "enum": list(GENRES)},
            "maxItems": 2,
        },
        "keywords": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "search_text": {"type": "string"},
    },
    "required": list(ANSWER_FIELDS),
    "additionalProperties": False,
}


def complete_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """`answer` with every field, in schema order (empty lists for what it leaves out)."""
    return {name: answer.get(name, "" if name == "search_text" else []) for name in ANSWER_FIELDS}
