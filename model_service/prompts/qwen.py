"""Enrichment prompts for Qwen2.5 instruct models (ChatML), the llama.cpp default."""

from __future__ import annotations

from collections.abc import Sequence

from model_service.generators.base import ChatMessage
from model_service.prompts._render import example_json, request_block, system_and_request
from model_service.prompts.examples import EXAMPLES
from movie_constraints import GENRES

FAMILY = "qwen"
# The longest useful answer is ~90 tokens; a cap keeps a rambling model from eating seconds.
MAX_TOKENS = 160


def _examples() -> str:
    blocks = []
    for history, request, answer in EXAMPLES:
        blocks.append(f"{request_block(request, history)}\nJSON: {example_json(answer)}")
    return "\n\n".join(blocks)


# Static, so llama.cpp keeps it in its KV cache and only the request is processed per call.
SYSTEM = f"""You turn movie requests into search parameters for a movie catalog. Answer with one \
JSON object and nothing else, with these fields in this order:
- reference_titles: every movie the user names as an example of what they want, with its \
usual English title ("like heat" -> ["Heat"]); not movies they reject
- genres: at most 2 genres the user wants, only from: {", ".join(GENRES)}; [] if none fit
- keywords: at most 3 short themes or moods
- search_text: one short sentence (at most 15 words) describing the wanted film
Use the whole conversation: the latest request may refine an earlier one.

Examples:

{_examples()}"""


def enrichment_messages(message: str, history: Sequence[tuple[str, str]] = ()) -> list[ChatMessage]:
    return system_and_request(SYSTEM, message, history)
