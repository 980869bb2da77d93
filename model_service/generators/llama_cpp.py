"""The llama.cpp generator (llama-cpp-python): the CPU default, with JSON-schema grammars."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from model_service.generators.base import (
    END_OF_TURN_TOKENS,
    ChatMessage,
    Finish,
    GenerationEvent,
    GeneratorError,
    GeneratorLoadError,
    SamplingParams,
    TextDelta,
    UnsupportedRequestError,
    chat_family,
)

logger = logging.getLogger("model_service.generators")


class LlamaCppGenerator:
    """A GGUF model loaded once with llama.cpp; generates one completion at a time.

    The prompt is rendered with the model's own chat template and tokenised here, so the
    context check counts exactly what the model will see. llama.cpp keeps the KV cache of the
    previous prompt and re-evaluates only the tokens after the longest common prefix: requests
    that share a static system prompt (enrichment, replies) skip most prompt processing.
    """

    supports_json_schema = True

    def __init__(self, llama: Any, *, model_id: str, path: Path) -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self._llama = llama
        self.model_id = model_id
        self.path = path
        self.context_length = int(llama.n_ctx())
        architecture = llama.metadata.get("general.architecture", "")
        self.family = chat_family(model_id, architecture)
        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise GeneratorLoadError(
                f"{path} carries no chat template (tokenizer.chat_template); use an instruct/"
                "chat GGUF model."
            )
        eos_id = llama.token_eos()
        bos_id = llama.token_bos()
        vocab = llama._model
        self._eos_token = vocab.token_get_text(eos_id) if eos_id != -1 else ""
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=self._eos_token,
            bos_token=vocab.token_get_text(bos_id) if bos_id != -1 else "",
        )
        # End-of-turn tokens: the template's own (<|im_end|> for ChatML) and EOS.
        self._stop_ids = {eos_id}
        for text in END_OF_TURN_TOKENS:
            ids = llama.tokenize(text.encode(), add_bos=False, special=True)
            if len(ids) == 1:
                self._stop_ids.add(ids[0])
        self._grammars: dict[str, Any] = {}

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        model_id: str | None = None,
        context_length: int = 4096,
        threads: int | None = None,
        batch_size: int = 512,
        state_cache_bytes: int = 0,
    ) -> LlamaCppGenerator:
        path = Path(path).expanduser()
        if not path.is_file():
            raise GeneratorLoadError(
                f"No GGUF file at {path}. Set MODEL_GENERATOR=llama-cpp:<path to a .gguf file>, "
                "or llama-cpp:default for the packaged Qwen2.5-Coder-1.5B-Instruct."
            )
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise GeneratorLoadError(
                f"llama-cpp-python is not installed ({exc}); `make setup` compiles it."
            ) from exc
        try:
            llama = Llama(
                model_path=str(path),
                n_ctx=context_length,
                n_batch=batch_size,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise GeneratorLoadError(f"llama.cpp could not load {path}: {exc}") from exc
        if state_cache_bytes > 0:
            # One KV cache serves every prompt, so the enrichment prompt and the chat reply
            # prompt, taking turns, would each make the other re-process its ~500-token static
            # prefix (seconds on a CPU). Saved states let the next request resume from the
            # longest matching prefix any earlier request left behind.
            from llama_cpp import LlamaRAMCache

            llama.set_cache(LlamaRAMCache(capacity_bytes=state_cache_bytes))
        return cls(llama, model_id=model_id or path.stem, path=path)

    # -- prompts -------------------------------------------------------------------------
    def render_prompt(self, messages: Sequence[ChatMessage]) -> str:
        rendered = self._formatter(
            messages=[{"role": m.role, "content": m.content} for m in messages]
        )
        return rendered.prompt

    def _prompt_tokens(self, messages: Sequence[ChatMessage]) -> list[int]:
        # The template writes special tokens as text (<|im_start|>); parse them as such.
        return self._llama.tokenize(
            self.render_prompt(messages).encode("utf-8"), add_bos=False, special=True
        )

    def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return len(self._prompt_tokens(messages))

    def _grammar(self, schema: dict[str, Any]) -> Any:
        from llama_cpp import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        grammar = self._grammars.get(key)
        if grammar is None:
            try:
                # The schema as given, not `key`: property order decides the order the
                # grammar makes the model write the fields in.
                grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
            except Exception as exc:  # the converter raises plain exceptions on bad schemas
                raise UnsupportedRequestError(
                    f"llama.cpp cannot turn this JSON schema into a grammar: {exc}",
                    param="response_format",
                ) from exc
            if len(self._grammars) >= 32:  # a few schemas are reused; don't grow unbounded
                self._grammars.pop(next(iter(self._grammars)))
            self._grammars[key] = grammar
        return grammar

    # -- generation ----------------------------------------------------------------------
    def generate(
        self, messages: Sequence[ChatMessage], params: SamplingParams, cancel: threading.Event
    ) -> Iterator[GenerationEvent]:
        from llama_cpp import StoppingCriteriaList

        prompt = self._prompt_tokens(messages)
        grammar = self._grammar(params.json_schema) if params.json_schema is not None else None
        stop_ids = self._stop_ids

        def should_stop(tokens: Any, logits: Any) -> bool:
            return cancel.is_set() or int(tokens[-1]) in stop_ids

        cached_before = self._cached_prefix(prompt)
        started = time.perf_counter()
        first_token_at: float | None = None
        completion_tokens = 0
        finish = "stop"
        try:
            stream = self._llama.create_completion(
                prompt,
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                stop=list(params.stop) or None,
                seed=params.seed,
                grammar=grammar,
                stream=True,
                stopping_criteria=StoppingCriteriaList([should_stop]),
            )
            for chunk in stream:
                choice = chunk["choices"][0]
                text = choice.get("text") or ""
                if text:
                    if first_token_at is None:
                        first_token_at = time.perf_counter()
                    yield TextDelta(text)
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
            # Streamed chunks may hold several tokens (UTF-8, stop-string lookahead), so count
            # the KV cache instead: every sampled token but the last was evaluated into it.
            completion_tokens = max(0, self._llama.n_tokens - len(prompt) + 1)
        except (RuntimeError, ValueError) as exc:
            raise GeneratorError(f"llama.cpp failed while generating: {exc}") from exc
        ended = time.perf_counter()
        reason = "cancelled" if cancel.is_set() else ("length" if finish == "length" else "stop")
        prefill = (first_token_at or ended) - started
        yield Finish(
            reason=reason,
            prompt_tokens=len(prompt),
            completion_tokens=completion_tokens,
            cached_prompt_tokens=cached_before,
            timings={
                "prompt_ms": prefill * 1000,
                "generation_ms": (ended - (first_token_at or ended)) * 1000,
            },
        )

    def _cached_prefix(self, prompt: list[int]) -> int:
        """How many leading prompt tokens need no processing: those in the KV cache from the
        last request, or in the longest-matching saved state (which llama.cpp then loads)."""
        count = _common_prefix(self._llama.input_ids[: self._llama.n_tokens], prompt)
        states = getattr(self._llama, "cache", None)
        if states is not None:
            key = states._find_longest_prefix_key(tuple(prompt))
            if key is not None:
                count = max(count, _common_prefix(key, prompt))
        return max(0, min(count, len(prompt) - 1))

    def close(self) -> None:
        llama, self._llama = self._llama, None
        if llama is not None:
            llama.close()


def _common_prefix(a: Any, b: list[int]) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count
