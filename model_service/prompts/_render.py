"""Rendering helpers the prompt modules share: history lines and compact example JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from model_service.generators.base import ChatMessage
from model_service.prompts.answer_format import complete_answer

# Only the last turns matter for "what does the user want now"; older ones cost prompt time.
HISTORY_TURNS = 6
HISTORY_CHARS = 400


def compact_json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def example_json(answer: dict[str, Any]) -> str:
    """An example answer exactly as the model must write it: every field, schema order."""
    return compact_json(complete_answer(answer))


def history_lines(history: Sequence[tuple[str, str]]) -> str:
    lines = []
    for role, content in list(history)[-HISTORY_TURNS:]:
        text = " ".join(content.split())
        if len(text) > HISTORY_CHARS:
            text = text[:HISTORY_CHARS] + "…"
        lines.append(f"{'User' if role == 'user' else 'Assistant'}: {text}")
    return "\n".join(lines)


def request_block(message: str, history: Sequence[tuple[str, str]]) -> str:
    """The conversation so far and the request, as the user turn of an enrichment prompt."""
    earlier = history_lines(history)
    request = " ".join(message.split())
    if earlier:
        return f"Conversation so far:\n{earlier}\nLatest request: {request}"
    return f"Request: {request}"


def system_and_request(
    system: str, message: str, history: Sequence[tuple[str, str]]
) -> list[ChatMessage]:
    """A static system prompt (cacheable prefix), then the conversation and request."""
    return [ChatMessage("system", system), ChatMessage("user", request_block(message, history))]
