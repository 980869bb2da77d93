"""Prompts, one module per model family; `for_family` picks the module for a generator."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Protocol

from model_service.generators.base import ChatMessage
from model_service.prompts import chat, qwen, smollm, t5

Turn = tuple[str, str]  # (role, content) of an earlier message in the conversation


class EnrichmentPrompt(Protocol):
    """What a prompt module provides for enrichment."""

    FAMILY: str
    MAX_TOKENS: int

    def enrichment_messages(
        self, message: str, history: Sequence[Turn] = ()
    ) -> list[ChatMessage]: ...


_MODULES: dict[str, ModuleType] = {module.FAMILY: module for module in (qwen, smollm, t5, chat)}


def for_family(family: str) -> EnrichmentPrompt:
    """The prompt module for a model family; the generic chat prompts for unknown families."""
    return _MODULES.get(family, chat)  # type: ignore[return-value]
