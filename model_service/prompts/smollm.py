"""Enrichment prompts for SmolLM2 instruct models: short instructions, examples as chat turns.

A 135M model loses long instructions; it copies the shape of earlier assistant turns better,
so the examples are given as user/assistant exchanges.
"""

from __future__ import annotations

from collections.abc import Sequence

from model_service.generators.base import ChatMessage
from model_service.prompts._render import example_json, request_block
from model_service.prompts.examples import EXAMPLES
from movie_constraints import GENRES

FAMILY = "smollm"
MAX_TOKENS = 128

SYSTEM = (
    "Turn the movie request into JSON search parameters. Genres only from: "
    f"{', '.join(GENRES)}. Always write search_text."
)


def enrichment_messages(message: str, history: Sequence[tuple[str, str]] = ()) -> list[ChatMessage]:
    messages = [ChatMessage("system", SYSTEM)]
    for example_history, request, answer in EXAMPLES[:3]:
        messages.append(ChatMessage("user", request_block(request, example_history)))
        messages.append(ChatMessage("assistant", example_json(answer)))
    messages.append(ChatMessage("user", request_block(message, history)))
    return messages
