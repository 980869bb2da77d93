"""What every generator provides, so the queue, the chat API and enrichment work with any of them.

A generator is blocking and thread-confined: the generation queue calls it from one worker
thread, one generation at a time. It knows nothing of HTTP.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length", "cancelled"]


class GeneratorError(RuntimeError):
    """A generation failed for a reason the caller should report (message says what to do)."""


class GeneratorLoadError(GeneratorError):
    """The generator could not be loaded (missing or corrupt weights, bad configuration)."""


class UnsupportedRequestError(GeneratorError):
    """The request asks for something this generator cannot do (e.g. a JSON schema it rejects).

    `param` names the request field at fault, as the API reports it.
    """

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class SamplingParams:
    """How to sample one completion. `json_schema` constrains the output where supported."""

    max_tokens: int
    temperature: float = 0.7
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    json_schema: dict[str, Any] | None = None
    seed: int | None = None


@dataclass(frozen=True)
class TextDelta:
    """The next piece of generated text (one or more tokens)."""

    text: str
    tokens: int = 1


@dataclass(frozen=True)
class Finish:
    """The last item of every generation: why it ended and what it cost."""

    reason: FinishReason
    prompt_tokens: int
    completion_tokens: int
    # Prompt tokens whose processing was skipped because the runtime reused a cached prefix.
    cached_prompt_tokens: int = 0
    timings: dict[str, float] = field(default_factory=dict)


GenerationEvent = TextDelta | Finish

# End-of-turn tokens of common chat templates. A model's metadata often names only the
# pretraining EOS, and the model would otherwise write past the end of its turn.
END_OF_TURN_TOKENS = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>")


def chat_family(name: str, architecture: str) -> str:
    """Which prompt module suits a decoder-only chat model, from its name and architecture
    ("qwen", "smollm", or the generic "chat"); see model_service.prompts."""
    name, architecture = name.casefold(), architecture.casefold()
    if "qwen" in name or architecture.startswith("qwen"):
        return "qwen"
    if "smollm" in name:
        return "smollm"
    return "chat"


@runtime_checkable
class Generator(Protocol):
    """A loaded language model that turns chat messages into text, token by token."""

    model_id: str
    # Which prompt module suits it ("qwen", "smollm", "t5", "chat"): see model_service.prompts.
    family: str
    context_length: int
    supports_json_schema: bool

    def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Tokens the prompt built from `messages` occupies in the context window."""
        ...

    def generate(
        self, messages: Sequence[ChatMessage], params: SamplingParams, cancel: threading.Event
    ) -> Iterator[GenerationEvent]:
        """Yield text deltas, then exactly one Finish. Stop soon after `cancel` is set
        (finish reason "cancelled"). Raise GeneratorError/UnsupportedRequestError on failure."""
        ...

    def close(self) -> None: ...


def join_text(events: Sequence[GenerationEvent]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))
