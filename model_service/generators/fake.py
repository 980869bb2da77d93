"""A weightless generator with scripted answers, for fast API and queue tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence

from model_service.generators.base import (
    ChatMessage,
    Finish,
    GenerationEvent,
    GeneratorError,
    SamplingParams,
    TextDelta,
)


class FakeGenerator:
    """Answers `reply` (or `json_reply` when a JSON schema is asked for), one word per token.

    `token_delay_s` paces the words; `gate`, when given, holds each generation before its first
    token until set; `fail` raises GeneratorError instead. Records every call in `calls` and
    sets `started` when a generation begins. Tokens are whitespace words (+3 per message).
    """

    def __init__(
        self,
        reply: str = "Here are three films you might enjoy tonight.",
        *,
        json_reply: str = '{"search_text": "a film"}',
        model_id: str = "fake-llm",
        family: str = "chat",
        context_length: int = 512,
        token_delay_s: float = 0.0,
        gate: threading.Event | None = None,
        fail: str | None = None,
    ) -> None:
        self.reply = reply
        self.json_reply = json_reply
        self.model_id = model_id
        self.family = family
        self.context_length = context_length
        self.supports_json_schema = True
        self.token_delay_s = token_delay_s
        self.gate = gate
        self.fail = fail
        self.calls: list[tuple[list[ChatMessage], SamplingParams]] = []
        self.started = threading.Event()
        self.cancelled = threading.Event()
        self.closed = False

    def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return sum(len(m.content.split()) + 3 for m in messages)

    def generate(
        self, messages: Sequence[ChatMessage], params: SamplingParams, cancel: threading.Event
    ) -> Iterator[GenerationEvent]:
        self.calls.append((list(messages), params))
        self.started.set()
        if self.gate is not None:
            while not self.gate.wait(0.01):
                if cancel.is_set():
                    break
        if self.fail:
            raise GeneratorError(self.fail)
        text = self.json_reply if params.json_schema is not None else self.reply
        for stop in params.stop:
            text = text.split(stop, 1)[0]
        words = text.split(" ")
        prompt_tokens = self.count_prompt_tokens(messages)
        produced = 0
        for index, word in enumerate(words):
            if cancel.is_set():
                self.cancelled.set()
                yield Finish("cancelled", prompt_tokens, produced)
                return
            if produced >= params.max_tokens:
                yield Finish("length", prompt_tokens, produced)
                return
            if self.token_delay_s:
                time.sleep(self.token_delay_s)
            produced += 1
            yield TextDelta(word if index == 0 else f" {word}")
        yield Finish(
            "stop", prompt_tokens, produced, timings={"generation_ms": max(1.0, produced * 1.0)}
        )

    def close(self) -> None:
        self.closed = True
