"""The llama.cpp generator (llama-cpp-python): the CPU default, with JSON-schema grammars."""

from __future__ import annotations

import ctypes
import json
import logging
import threading
import time
from collections import OrderedDict
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

    def __init__(
        self, llama: Any, *, model_id: str, path: Path, state_cache_bytes: int = 0
    ) -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self._llama = llama
        # One KV cache serves every prompt, so the enrichment prompt and the chat reply prompt,
        # taking turns, would each make the other re-process its ~500-token static prefix
        # (seconds on a CPU). Saved states let the next request resume from the longest
        # matching prefix any earlier request left behind.
        self._states = PromptStates(state_cache_bytes) if state_cache_bytes > 0 else None
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
        return cls(
            llama, model_id=model_id or path.stem, path=path, state_cache_bytes=state_cache_bytes
        )

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

        started = time.perf_counter()
        if self._states is not None:
            self._states.restore(self._llama, prompt)
        cached_before = self._cached_prefix(prompt)
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
        if self._states is not None:
            self._states.save(self._llama)
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
        """How many leading prompt tokens need no processing: those in the KV cache (left by
        the last request, or restored from a saved state)."""
        count = _common_prefix(self._llama.input_ids[: self._llama.n_tokens], prompt)
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


class PromptStates:
    """Snapshots of the llama.cpp context after earlier requests, keyed by their tokens; a new
    prompt resumes from the snapshot it shares the longest prefix with, when that beats what
    the KV cache holds.

    llama-cpp-python's LlamaRAMCache does the same, but each of its states also copies the
    whole logits buffer (batch size x vocabulary floats: ~310 MB for Qwen2.5, about half a
    second per request to save) and its capacity is counted with sys.getsizeof, which does
    not see that buffer. A state here is the context state alone (the KV cells in use: ~28 KB
    per token for Qwen2.5-1.5B), and the capacity counts its bytes. Least recently used
    states go first; a state whose tokens start a newer one is replaced by it.
    """

    def __init__(self, capacity_bytes: int) -> None:
        self.capacity_bytes = capacity_bytes
        self._states: OrderedDict[tuple[int, ...], bytes] = OrderedDict()
        self.size_bytes = 0

    def __len__(self) -> int:
        return len(self._states)

    def restore(self, llama: Any, prompt: Sequence[int]) -> int:
        """Load the best saved state for `prompt` if it beats the KV cache; the number of
        prompt tokens it covers (0 when nothing was loaded)."""
        import llama_cpp

        prompt = list(prompt)
        current = _common_prefix(llama.input_ids[: llama.n_tokens], prompt)
        best, best_count = None, current
        for key in self._states:
            count = _common_prefix(key, prompt)
            if count > best_count:
                best, best_count = key, count
        if best is None:
            return 0
        data = self._states[best]
        self._states.move_to_end(best)
        buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        if llama_cpp.llama_state_set_data(llama._ctx.ctx, buffer, len(data)) != len(data):
            logger.warning("llama.cpp refused a saved state; processing the prompt in full")
            self._drop(best)
            return 0
        # What Llama.load_state does after loading (llama-cpp-python 0.3.36, pinned), without
        # the logits copy: generate() re-evaluates at least the last prompt token anyway.
        llama.input_ids[: len(best)] = best
        llama.n_tokens = len(best)
        llama._requires_eval = True
        return best_count

    def save(self, llama: Any) -> None:
        import llama_cpp

        key = tuple(int(t) for t in llama.input_ids[: llama.n_tokens])
        if not key:
            return
        if key in self._states:
            self._states.move_to_end(key)
            return
        size = llama_cpp.llama_state_get_size(llama._ctx.ctx)
        if size > self.capacity_bytes:
            return
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_get_data(llama._ctx.ctx, buffer, size)
        data = ctypes.string_at(buffer, written)
        for older in [k for k in self._states if len(k) < len(key) and key[: len(k)] == k]:
            self._drop(older)
        self._states[key] = data
        self.size_bytes += len(data)
        while self.size_bytes > self.capacity_bytes:
            self._drop(next(iter(self._states)))

    def _drop(self, key: tuple[int, ...]) -> None:
        self.size_bytes -= len(self._states.pop(key))
