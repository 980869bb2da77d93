"""Enrichment prompts for chat models of unknown family (e.g. behind an OpenAI-compatible API).

Larger models follow the instructions without help, so this reuses the Qwen wording; kept as
its own module so a deployment's model can get its own prompt without touching Qwen's.
"""

from __future__ import annotations

from collections.abc import Sequence

from model_service.generators.base import ChatMessage
from model_service.prompts import qwen
from model_service.prompts._render import system_and_request

FAMILY = "chat"
MAX_TOKENS = 200
SYSTEM = qwen.SYSTEM


def enrichment_messages(message: str, history: Sequence[tuple[str, str]] = ()) -> list[ChatMessage]:
    return system_and_request(SYSTEM, message, history)
