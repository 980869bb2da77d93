"""Enrichment prompts for Flan-T5-style seq2seq models: one plain-text instruction.

Flan-T5 was tuned on short instructions, not chat transcripts, and has a 512-token budget: one
example, then the request. Fine-tuned checkpoints from fine-tune/ learn the format itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from model_service.generators.base import ChatMessage
from model_service.prompts._render import example_json, request_block
from model_service.prompts.examples import EXAMPLES
from movie_constraints import GENRES

FAMILY = "t5"
MAX_TOKENS = 128


def enrichment_messages(message: str, history: Sequence[tuple[str, str]] = ()) -> list[ChatMessage]:
    _, example_request, example_answer = EXAMPLES[2]
    instruction = (
        "Extract movie search parameters as JSON with the keys reference_titles (movies "
        "named as examples), genres, keywords, search_text (a short description). Genres from: "
        f"{', '.join(GENRES)}.\n"
        f"Request: {example_request}\nJSON: {example_json(example_answer)}\n"
        f"{request_block(message, history)}\nJSON:"
    )
    return [ChatMessage("user", instruction)]
