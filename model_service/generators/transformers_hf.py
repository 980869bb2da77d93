"""The transformers generator: Hub checkpoints (causal or seq2seq) and GGUF files on torch."""

from __future__ import annotations

import gc
import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import is_offline_mode
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    GenerationConfig,
    PreTrainedConfig,
    StoppingCriteria,
    StoppingCriteriaList,
)
from transformers.generation.streamers import BaseStreamer
from transformers.utils import logging as transformers_logging

from model_service.generators.base import (
    END_OF_TURN_TOKENS,
    ChatMessage,
    Finish,
    FinishReason,
    GenerationEvent,
    GeneratorError,
    GeneratorLoadError,
    SamplingParams,
    TextDelta,
    UnsupportedRequestError,
    chat_family,
)

logger = logging.getLogger("model_service.generators")

# How often the consumer wakes to look at `cancel` while the model computes a step.
POLL_SECONDS = 0.05


def family_of(model_id: str, config: PreTrainedConfig) -> str:
    """Which prompt module suits a checkpoint, from its architecture and name."""
    if config.is_encoder_decoder:
        return "t5"
    return chat_family(f"{model_id} {getattr(config, 'name_or_path', '')}", config.model_type or "")


def _context_length_of(config: PreTrainedConfig, tokenizer: Any) -> int:
    tokenizer_limit = getattr(tokenizer, "model_max_length", None)
    # Tokenizers without a limit report a huge sentinel (int(1e30)).
    sane_tokenizer_limit = (
        int(tokenizer_limit)
        if isinstance(tokenizer_limit, int) and tokenizer_limit < 100_000
        else None
    )
    if config.is_encoder_decoder:
        # T5 uses relative positions, so nothing in the config bounds the input; the tokenizer's
        # limit is what the model was trained on.
        return sane_tokenizer_limit or 512
    for attribute in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(config, attribute, None)
        if isinstance(value, int) and value > 0:
            return value
    return sane_tokenizer_limit or 2048


def _resolve_source(name_or_path: str, gguf_file: str | None) -> tuple[str, str | None, str, bool]:
    """(what to pass to from_pretrained, gguf file name, model id, is local)."""
    path = Path(name_or_path).expanduser()
    if gguf_file is None and name_or_path.endswith(".gguf"):
        # transformers loads GGUF as from_pretrained(directory, gguf_file=name).
        return str(path.parent), path.name, path.stem, True
    if path.exists():
        model_id = Path(gguf_file).stem if gguf_file else path.resolve().name
        return str(path), gguf_file, model_id, True
    looks_local = name_or_path.startswith(("/", "./", "../", "~")) or name_or_path.count("/") > 1
    model_id = f"{name_or_path}/{Path(gguf_file).stem}" if gguf_file else name_or_path
    return name_or_path, gguf_file, model_id, looks_local


def _load_failure(name_or_path: str, gguf_file: str | None, is_local: bool, exc: Exception) -> str:
    what = f"{name_or_path} (gguf_file={gguf_file})" if gguf_file else name_or_path
    if not is_local and is_offline_mode():
        return (
            f"transformers could not load {what}: it is not a local path and the Hub is offline "
            "(HF_HUB_OFFLINE=1), so only models already in the Hugging Face cache load. Download "
            "it first (hf download, or HF_HUB_OFFLINE=0 once) or point MODEL_GENERATOR at a "
            "local directory: hf:<directory> or hf:<directory>#<file.gguf>. "
            f"({type(exc).__name__}: {exc})"
        )
    return (
        f"transformers could not load {what}: {type(exc).__name__}: {exc}. It needs a directory "
        "with config.json, weights and tokenizer files, a Hub id in the local cache, or a GGUF "
        "file of an architecture transformers can dequantize."
    )


class _Halt(StoppingCriteria):
    """Ends generate() after the current step once the request is cancelled or finished."""

    def __init__(self, *events: threading.Event) -> None:
        self._events = events

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        halt = any(event.is_set() for event in self._events)
        return torch.full((input_ids.shape[0],), halt, dtype=torch.bool, device=input_ids.device)


class _TokenQueue(BaseStreamer):
    """Hands each new token id from the generation thread to the consumer."""

    def __init__(self, tokens: queue.Queue[int | None]) -> None:
        self._tokens = tokens
        # generate() first puts the prompt (for seq2seq, the decoder start token): not output.
        self._prompt_seen = False

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        for token in value.reshape(-1).tolist():
            self._tokens.put(int(token))

    def end(self) -> None:
        pass  # the thread puts the end marker itself, after generate() returned or raised


class TransformersGenerator:
    """A transformers model loaded once; generates one completion at a time.

    model.generate() runs in a helper thread and streams token ids through a queue; the calling
    thread decodes them, applies stop strings and watches `cancel`. A stopping criterion ends
    the helper after the step in progress, and generate() joins it before returning.
    """

    # No constrained decoding here: callers validate the JSON and repair or retry instead.
    supports_json_schema = False

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        model_id: str,
        context_length: int | None = None,
        device: str = "cpu",
    ) -> None:
        self._model = model
        self._tokenizer = tokenizer
        self._device = torch.device(device)
        config = model.config
        self.model_id = model_id
        self.is_encoder_decoder = bool(config.is_encoder_decoder)
        self.family = family_of(model_id, config)
        model_limit = _context_length_of(config, tokenizer)
        if context_length and (self.is_encoder_decoder or context_length <= model_limit):
            self.context_length = context_length
        else:
            # A causal model has no positions past its table (learned ones, like GPT-2's, raise
            # an IndexError; rotary ones write nonsense), whatever the setting asks for.
            self.context_length = model_limit
        self.has_chat_template = not self.is_encoder_decoder and bool(
            getattr(tokenizer, "chat_template", None)
        )
        self._stop_ids = self._end_token_ids(model, tokenizer)
        pad_candidates = (
            model.generation_config.pad_token_id,
            tokenizer.pad_token_id,
            *sorted(self._stop_ids),
        )
        self._pad_id = next((t for t in pad_candidates if isinstance(t, int)), None)

    @classmethod
    def load(
        cls,
        name_or_path: str,
        *,
        device: str = "cpu",
        threads: int | None = None,
        gguf_file: str | None = None,
        context_length: int | None = None,
    ) -> TransformersGenerator:
        source, gguf_name, model_id, is_local = _resolve_source(name_or_path, gguf_file)
        local = Path(source).expanduser() / (gguf_name or "")
        if is_local and not local.exists():
            raise GeneratorLoadError(
                f"No model at {local}. Point MODEL_GENERATOR at a model directory with "
                "config.json, weights and tokenizer files (hf:<directory>) or at a GGUF file "
                "(hf:<directory>#<file.gguf>)."
            )
        if threads:
            torch.set_num_threads(threads)
        extra: dict[str, Any] = {"gguf_file": gguf_name} if gguf_name else {}
        transformers_logging.disable_progress_bar()  # a progress bar is noise in a service log
        started = time.perf_counter()
        try:
            config = AutoConfig.from_pretrained(source, **extra)
            tokenizer = AutoTokenizer.from_pretrained(source, **extra)
            model_class = (
                AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM
            )
            # Passing the config saves parsing it again (for a GGUF file, seconds of metadata).
            # Half precision is slow or unsupported on most CPUs: compute in float32 there.
            model = model_class.from_pretrained(
                source,
                config=config,
                dtype=torch.float32 if device == "cpu" else "auto",
                **extra,
            )
            model.to(device)
        except Exception as exc:  # transformers raises OSError, ValueError, KeyError, ...
            raise GeneratorLoadError(_load_failure(name_or_path, gguf_name, is_local, exc)) from exc
        model.eval()
        logger.info(
            "loaded %s with transformers (%s) in %.1f s",
            model_id,
            type(model).__name__,
            time.perf_counter() - started,
        )
        return cls(
            model, tokenizer, model_id=model_id, context_length=context_length, device=device
        )

    @staticmethod
    def _end_token_ids(model: Any, tokenizer: Any) -> frozenset[int]:
        ids: set[int] = set()
        for source in (model.generation_config.eos_token_id, tokenizer.eos_token_id):
            if isinstance(source, int):
                ids.add(source)
            elif source is not None:
                ids.update(int(token) for token in source)
        vocab = tokenizer.get_vocab()
        ids.update(vocab[text] for text in END_OF_TURN_TOKENS if text in vocab)
        return frozenset(ids)

    # -- prompts -------------------------------------------------------------------------
    def render_prompt(self, messages: Sequence[ChatMessage]) -> str:
        """The prompt text the model sees for `messages`."""
        if self.has_chat_template:
            return self._apply_template(messages)
        if self.is_encoder_decoder:
            # Flan-T5 takes instructions as plain text, not a chat transcript with a cue.
            lines = [
                m.content if m.role == "system" else f"{_speaker(m)}: {m.content}" for m in messages
            ]
            return "\n".join(lines)
        lines = [f"{_speaker(m)}: {m.content}" for m in messages]
        return "\n".join([*lines, "Assistant:"])

    def _apply_template(self, messages: Sequence[ChatMessage]) -> str:
        from jinja2 import TemplateError

        turns = [{"role": m.role, "content": m.content} for m in messages]
        try:
            return self._tokenizer.apply_chat_template(
                turns, add_generation_prompt=True, tokenize=False
            )
        except TemplateError:
            # Some templates (Gemma, early Mistral) refuse a system turn: fold it into the first
            # user turn, which is what their authors recommend.
            if not any(m.role == "system" for m in messages):
                raise
            system = "\n\n".join(m.content for m in messages if m.role == "system")
            rest = [t for t in turns if t["role"] != "system"]
            if rest and rest[0]["role"] == "user":
                rest[0] = {"role": "user", "content": f"{system}\n\n{rest[0]['content']}"}
            else:
                rest.insert(0, {"role": "user", "content": system})
            return self._tokenizer.apply_chat_template(
                rest, add_generation_prompt=True, tokenize=False
            )

    def _prompt_ids(self, messages: Sequence[ChatMessage]) -> list[int]:
        # Chat templates write BOS and the like themselves; plain prompts need the tokenizer's
        # (T5's closing </s>, a causal model's BOS).
        return self._tokenizer(
            self.render_prompt(messages), add_special_tokens=not self.has_chat_template
        )["input_ids"]

    def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return len(self._prompt_ids(messages))

    # -- generation ----------------------------------------------------------------------
    def generate(
        self, messages: Sequence[ChatMessage], params: SamplingParams, cancel: threading.Event
    ) -> Iterator[GenerationEvent]:
        if self._model is None:
            raise GeneratorError(f"{self.model_id} is closed; load it again.")
        if params.json_schema is not None:
            raise UnsupportedRequestError(
                f"{self.model_id} runs on transformers, which does not support JSON-schema "
                "constrained output; ask for JSON in the prompt and validate it, or use the "
                "llama.cpp generator.",
                param="response_format",
            )
        if params.max_tokens < 1:
            raise UnsupportedRequestError("max_tokens must be at least 1.", param="max_tokens")
        prompt = self._prompt_ids(messages)
        max_new_tokens = params.max_tokens
        if len(prompt) >= self.context_length:
            raise UnsupportedRequestError(
                f"The prompt is {len(prompt)} tokens; {self.model_id} takes at most "
                f"{self.context_length - 1} plus the reply. Shorten the conversation.",
                param="messages",
            )
        if not self.is_encoder_decoder:
            # Prompt and reply share a causal model's positions; past them it writes nonsense.
            max_new_tokens = min(max_new_tokens, self.context_length - len(prompt))
        return self._stream(prompt, params, max_new_tokens, cancel)

    def _stream(
        self,
        prompt: list[int],
        params: SamplingParams,
        max_new_tokens: int,
        cancel: threading.Event,
    ) -> Iterator[GenerationEvent]:
        started = time.perf_counter()
        if cancel.is_set():
            yield Finish(reason="cancelled", prompt_tokens=len(prompt), completion_tokens=0)
            return
        tokens: queue.Queue[int | None] = queue.Queue()
        done = threading.Event()  # set by this side: stop string seen, or the consumer left
        failure: list[BaseException] = []
        thread = threading.Thread(
            target=self._run,
            args=(
                prompt,
                params,
                max_new_tokens,
                tokens,
                StoppingCriteriaList([_Halt(cancel, done)]),
            ),
            kwargs={"failure": failure},
            name="transformers-generate",
            daemon=True,
        )
        thread.start()

        stops = [s for s in params.stop if s]
        longest_stop = max((len(s) for s in stops), default=0)
        ids: list[int] = []  # generated text tokens (end-of-turn tokens are not text)
        prefix_offset = read_offset = 0
        text = ""  # decoded so far: emitted, then held back
        emitted = 0  # characters of `text` already yielded
        pending_tokens = 0  # tokens behind the held-back text
        completion_tokens = 0
        first_token_at: float | None = None
        reason: FinishReason | None = None
        try:
            while True:
                if cancel.is_set():
                    reason = "cancelled"
                    break
                try:
                    token = tokens.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                if token is None:  # generate() returned or raised
                    break
                if first_token_at is None:
                    first_token_at = time.perf_counter()
                completion_tokens += 1
                if token in self._stop_ids:
                    reason = "stop"
                    break
                ids.append(token)
                pending_tokens += 1
                piece, prefix_offset, read_offset = self._decode_step(
                    ids, prefix_offset, read_offset
                )
                text += piece
                if not piece:
                    continue
                cut = _find_stop(text, stops, max(0, emitted - longest_stop))
                if cut is not None:
                    text = text[:cut]
                    reason = "stop"
                    break
                safe = len(text) - _held_back(text, stops)
                if safe > emitted:
                    yield TextDelta(text[emitted:safe], tokens=pending_tokens)
                    emitted, pending_tokens = safe, 0
        finally:
            # Whatever ended the loop (including the caller abandoning this iterator), stop the
            # helper after its current step and wait: it must not outlive the request.
            done.set()
            thread.join()
        if failure and reason is None:  # a failure after the reply was complete loses nothing
            raise GeneratorError(
                f"transformers failed while generating with {self.model_id}: "
                f"{type(failure[0]).__name__}: {failure[0]}"
            ) from failure[0]
        if reason is None:
            # generate() ended on its own: the token budget, or a stop token it knew itself.
            reason = "length" if completion_tokens >= max_new_tokens else "stop"
        if reason != "cancelled" and len(text) > emitted:
            # Held back for a stop string that never completed: it is plain text after all.
            yield TextDelta(text[emitted:], tokens=max(pending_tokens, 1))
        ended = time.perf_counter()
        yield Finish(
            reason=reason,
            prompt_tokens=len(prompt),
            completion_tokens=completion_tokens,
            timings={
                "prompt_ms": ((first_token_at or ended) - started) * 1000,
                "generation_ms": (ended - (first_token_at or ended)) * 1000,
            },
        )

    def _run(
        self,
        prompt: list[int],
        params: SamplingParams,
        max_new_tokens: int,
        tokens: queue.Queue[int | None],
        stopping: StoppingCriteriaList,
        *,
        failure: list[BaseException],
    ) -> None:
        """The helper thread: model.generate(), streaming into `tokens`, then the end marker."""
        try:
            greedy = params.temperature <= 0
            config = GenerationConfig(
                max_new_tokens=max_new_tokens,
                do_sample=not greedy,
                # Greedy ignores these; neutral values keep generate() from warning about the
                # checkpoint's own sampling defaults.
                temperature=1.0 if greedy else params.temperature,
                top_p=1.0 if greedy else params.top_p,
                eos_token_id=sorted(self._stop_ids) or None,
                pad_token_id=self._pad_id,
            )
            if params.seed is not None and not greedy:
                # generate() takes no torch.Generator: seed the global one, which only this
                # thread uses while a generation runs (generators are one-at-a-time).
                torch.manual_seed(params.seed)
            input_ids = torch.tensor([prompt], dtype=torch.long, device=self._device)
            with torch.inference_mode():
                self._model.generate(
                    input_ids=input_ids,
                    attention_mask=torch.ones_like(input_ids),
                    generation_config=config,
                    stopping_criteria=stopping,
                    streamer=_TokenQueue(tokens),
                )
        except BaseException as exc:  # re-raised in the consumer as GeneratorError
            failure.append(exc)
        finally:
            tokens.put(None)

    def _decode_step(
        self, ids: list[int], prefix_offset: int, read_offset: int
    ) -> tuple[str, int, int]:
        """The text the tokens after `read_offset` add; "" while they end mid-character."""
        # Decoding a token alone goes wrong (SentencePiece drops a word's leading space,
        # byte-level BPE splits characters), so decode it after the previous ones and take the
        # difference: ids[prefix_offset:read_offset] were already emitted.
        decode = self._tokenizer.decode
        before = decode(ids[prefix_offset:read_offset], skip_special_tokens=True)
        after = decode(ids[prefix_offset:], skip_special_tokens=True)
        if len(after) > len(before) and not after.endswith("\ufffd"):
            return after[len(before) :], read_offset, len(ids)
        return "", prefix_offset, read_offset

    def close(self) -> None:
        self._model = None
        self._tokenizer = None
        gc.collect()


def _speaker(message: ChatMessage) -> str:
    return {"system": "System", "user": "User", "assistant": "Assistant"}[message.role]


def _find_stop(text: str, stops: Sequence[str], start: int) -> int | None:
    """Where the first stop string in `text` begins (searching from `start`), if any."""
    found = [index for stop in stops if (index := text.find(stop, start)) != -1]
    return min(found) if found else None


def _held_back(text: str, stops: Sequence[str]) -> int:
    """How many trailing characters of `text` could be the start of a stop string."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:size]):
                longest = size
                break
    return longest
