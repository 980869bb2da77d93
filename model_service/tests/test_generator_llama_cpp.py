"""The llama.cpp generator on real weights (SmolLM2-135M), and assembling packaged models."""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import types

import pytest

from model_service.config import Settings
from model_service.generators.base import (
    ChatMessage,
    Finish,
    GeneratorLoadError,
    SamplingParams,
    TextDelta,
    UnsupportedRequestError,
)
from model_service.generators.factory import GeneratorSpec, load_generator
from model_service.generators.llama_cpp import LlamaCppGenerator
from model_service.generators.packaged import (
    QWEN_CODER_1_5B,
    PackagedModel,
    assemble,
    smollm2_path,
)

QUESTION = [
    ChatMessage("system", "You are a helpful assistant. Answer briefly."),
    ChatMessage("user", "What is the capital of France?"),
]


@pytest.fixture(scope="module")
def smollm() -> LlamaCppGenerator:
    generator = LlamaCppGenerator.load(smollm2_path(), context_length=1024, threads=2)
    yield generator
    generator.close()


def run(generator, messages, params, cancel=None):
    events = list(generator.generate(messages, params, cancel or threading.Event()))
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    finishes = [e for e in events if isinstance(e, Finish)]
    assert len(finishes) == 1 and events[-1] is finishes[0]
    return text, finishes[0]


def test_loads_with_its_chat_template_and_answers(smollm):
    assert smollm.family == "smollm"
    assert smollm.context_length == 1024
    assert "<|im_start|>user" in smollm.render_prompt(QUESTION)
    text, finish = run(smollm, QUESTION, SamplingParams(max_tokens=24, temperature=0))
    assert "paris" in text.casefold()
    assert finish.reason in ("stop", "length")
    assert finish.prompt_tokens == smollm.count_prompt_tokens(QUESTION)
    assert 0 < finish.completion_tokens <= 24


def test_greedy_generation_is_repeatable_and_reuses_the_cached_prefix(smollm):
    params = SamplingParams(max_tokens=12, temperature=0)
    first, _ = run(smollm, QUESTION, params)
    second, finish = run(smollm, QUESTION, params)
    assert first == second
    # Same prompt again: llama.cpp keeps the KV cache, nearly nothing is re-processed.
    assert finish.cached_prompt_tokens >= finish.prompt_tokens - 1
    other = [QUESTION[0], ChatMessage("user", "What is the capital of Italy?")]
    _, other_finish = run(smollm, other, params)
    system_tokens = smollm.count_prompt_tokens(QUESTION[:1])
    assert other_finish.cached_prompt_tokens >= system_tokens - 2  # the shared system prompt


def test_saved_states_keep_two_alternating_prompts_cached():
    generator = LlamaCppGenerator.load(
        smollm2_path(), context_length=1024, threads=2, state_cache_bytes=64 << 20
    )
    try:
        params = SamplingParams(max_tokens=4, temperature=0)
        long_system = "You are a film expert. " * 40
        a = [ChatMessage("system", long_system), ChatMessage("user", "Name a comedy.")]
        b = [ChatMessage("system", "Answer briefly."), ChatMessage("user", "2+2?")]
        run(generator, a, params)
        run(generator, b, params)  # the KV cache now holds b
        again = [a[0], ChatMessage("user", "Name a drama.")]
        _, finish = run(generator, again, params)
        # Without saved states only the chat template's first tokens would match.
        assert finish.cached_prompt_tokens >= generator.count_prompt_tokens(a[:1]) - 2
        # A restored state answers exactly as processing the whole prompt does.
        restored_text, _ = run(generator, again, params)
        run(generator, b, params)
        resumed_text, resumed = run(generator, again, params)
        assert resumed.cached_prompt_tokens >= resumed.prompt_tokens - 1
        fresh = LlamaCppGenerator.load(smollm2_path(), context_length=1024, threads=2)
        try:
            fresh_text, fresh_finish = run(fresh, again, params)
        finally:
            fresh.close()
        assert fresh_finish.cached_prompt_tokens == 0
        assert resumed_text == restored_text == fresh_text
        # States are the context alone, counted in bytes, within the capacity.
        states = generator._states
        assert states is not None and len(states) >= 2
        assert 0 < states.size_bytes <= states.capacity_bytes
    finally:
        generator.close()


def test_saved_states_stay_within_their_capacity():
    generator = LlamaCppGenerator.load(
        smollm2_path(), context_length=1024, threads=2, state_cache_bytes=256 << 20
    )
    try:
        params = SamplingParams(max_tokens=2, temperature=0)
        states = generator._states
        assert states is not None
        run(generator, [ChatMessage("user", "Say the number 0. " * 20)], params)
        one = states.size_bytes
        assert 0 < one < 16 << 20  # the context state, not a copy of every logit
        states.capacity_bytes = one * 3 // 2  # room for one state of this size, not two
        for number in range(1, 4):
            run(generator, [ChatMessage("user", f"Say the number {number}. " * 20)], params)
            assert len(states) == 1
            assert states.size_bytes <= states.capacity_bytes
    finally:
        generator.close()


def test_max_tokens_stop_strings_and_cancel(smollm):
    story = [ChatMessage("user", "Write a long story about a dragon.")]
    _, finish = run(smollm, story, SamplingParams(max_tokens=5, temperature=0))
    assert finish.reason == "length"
    assert finish.completion_tokens == 5
    text, _ = run(smollm, story, SamplingParams(max_tokens=40, temperature=0, stop=(" the",)))
    assert " the" not in text
    cancel = threading.Event()
    cancel.set()
    text, finish = run(smollm, story, SamplingParams(max_tokens=200, temperature=0), cancel)
    assert finish.reason == "cancelled"
    assert finish.completion_tokens <= 2


def test_json_schema_constrains_the_output(smollm):
    schema = {
        "type": "object",
        "properties": {
            "genres": {
                "type": "array",
                "items": {"enum": ["Comedy", "Drama", "Horror"]},
                "maxItems": 2,
            },
            "year": {"type": "integer"},
        },
        "required": ["genres", "year"],
    }
    messages = [ChatMessage("user", "A funny movie from 1995, as JSON.")]
    text, _ = run(
        smollm, messages, SamplingParams(max_tokens=60, temperature=0, json_schema=schema)
    )
    value = json.loads(text)
    assert set(value) == {"genres", "year"}
    assert set(value["genres"]) <= {"Comedy", "Drama", "Horror"}
    assert isinstance(value["year"], int)


def test_a_schema_llama_cpp_cannot_compile_is_a_clear_request_error(smollm):
    with pytest.raises(UnsupportedRequestError) as error:
        run(
            smollm,
            QUESTION,
            SamplingParams(
                max_tokens=5,
                json_schema={"type": "object", "properties": {"a": {"$ref": "#/nowhere"}}},
            ),
        )
    assert error.value.param == "response_format"


def test_missing_file_is_a_load_error_that_says_what_to_do(tmp_path):
    with pytest.raises(GeneratorLoadError, match="MODEL_GENERATOR=llama-cpp"):
        LlamaCppGenerator.load(tmp_path / "nope.gguf")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("llama-cpp:default", GeneratorSpec("llama-cpp", "default")),
        ("", GeneratorSpec("llama-cpp", "default")),
        ("none", GeneratorSpec("none")),
        ("llama-cpp:/models/x.gguf", GeneratorSpec("llama-cpp", "/models/x.gguf")),
        ("hf:google/flan-t5-base", GeneratorSpec("hf", "google/flan-t5-base")),
        ("hf:/models/qwen#q4.gguf", GeneratorSpec("hf", "/models/qwen", "q4.gguf")),
        (
            "openai:http://gpu:8000/v1#Qwen/Qwen2.5-7B",
            GeneratorSpec("openai", "http://gpu:8000/v1", "Qwen/Qwen2.5-7B"),
        ),
    ],
)
def test_generator_spec_parsing(value, expected):
    assert GeneratorSpec.parse(value) == expected


@pytest.mark.parametrize("value", ["gpt4", "vllm:http://x", "hf:", "openai:"])
def test_bad_generator_specs_are_refused_with_the_accepted_forms(value):
    with pytest.raises(GeneratorLoadError, match="MODEL_GENERATOR"):
        GeneratorSpec.parse(value)


def test_factory_loads_the_packaged_smollm2():
    generator = load_generator(
        Settings(generator="llama-cpp:smollm2", threads=1, generator_context=512)
    )
    try:
        assert isinstance(generator, LlamaCppGenerator)
        assert generator.model_id == "smollm2-135m-instruct-q4_1"
        assert generator.context_length == 512
    finally:
        generator.close()


# -- assembling a model from part packages ----------------------------------------------------


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Three tiny part "packages" whose joined bytes have a known digest."""
    chunks = [b"first-", b"second-", b"third"]
    for index, chunk in enumerate(chunks, start=1):
        path = tmp_path / "parts" / f"part{index}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(chunk)
        module = types.ModuleType(f"fake_model_part{index}")
        module.get_part_path = lambda path=path: str(path)
        monkeypatch.setitem(sys.modules, module.__name__, module)
    joined = b"".join(chunks)
    model = PackagedModel(
        model_id="fake",
        file_name="fake.gguf",
        size=len(joined),
        sha256=hashlib.sha256(joined).hexdigest(),
        part_module="fake_model_part{index}",
        parts=3,
        pip_spec="fake-model-part{1..3}",
    )
    return model, joined, tmp_path / "cache"


def test_assembles_once_and_verifies(fake_parts):
    model, joined, cache = fake_parts
    path = assemble(model, cache)
    assert path.read_bytes() == joined
    mtime = path.stat().st_mtime_ns
    assert assemble(model, cache) == path
    assert path.stat().st_mtime_ns == mtime  # not rewritten on the next start


def test_a_corrupted_cached_file_is_rebuilt_from_the_parts(fake_parts):
    model, joined, cache = fake_parts
    path = assemble(model, cache)
    path.write_bytes(b"X" * len(joined))  # same size, different content
    assert assemble(model, cache).read_bytes() == joined


def test_parts_that_do_not_match_the_digest_are_refused(fake_parts, tmp_path):
    model, _, cache = fake_parts
    (tmp_path / "parts" / "part2.bin").write_bytes(b"tampered")
    with pytest.raises(GeneratorLoadError, match="refusing to load"):
        assemble(model, cache)
    assert not (cache / "fake.gguf").exists()
    assert not (cache / "fake.gguf.partial").exists()


def test_a_missing_part_package_says_how_to_install_it(fake_parts, monkeypatch):
    model, _, cache = fake_parts
    monkeypatch.delitem(sys.modules, "fake_model_part2")
    with pytest.raises(GeneratorLoadError, match="pip install fake-model-part"):
        assemble(model, cache)


@pytest.mark.slow
def test_the_default_qwen_model_assembles_and_matches_the_official_digest(tmp_path):
    path = assemble(QWEN_CODER_1_5B, tmp_path)
    assert path.stat().st_size == 1_117_320_768
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    assert digest == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
