"""The OpenAI-upstream generator against a fake OpenAI-compatible server on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

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
from model_service.generators.openai_upstream import OpenAIUpstreamGenerator, normalize_base_url

MODEL = "fake-upstream-7b"
PROMPT_TOKENS = 11  # what the fake reports in usage; differs from the generator's estimate


@dataclass
class FakeUpstream:
    """What the fake server saw, for the tests to assert on."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    disconnects: list[str] = field(default_factory=list)

    @property
    def last(self) -> dict[str, Any]:
        return self.requests[-1]


def sse(payload: Any) -> str:
    return f"data: {json.dumps(payload)}\n\n"


def chunk(content: str | None = None, finish: str | None = None, **delta: Any) -> dict:
    if content is not None:
        delta["content"] = content
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


async def wait_or_disconnect(request: Request, seconds: float, record: list[str], tag: str) -> bool:
    """Sleep, noticing a client that goes away (recorded under `tag`); True if it did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            record.append(tag)
            return True
        await asyncio.sleep(0.02)
    return False


def build_app(state: FakeUpstream) -> FastAPI:
    """A fake upstream: echoes the last user message word by word; a leading #mode word picks
    a behaviour (#400, #500, #garbage, #slow, #stall, #sleep, #nousage, #nodone, #errchunk)."""
    app = FastAPI()

    @app.get("/v1/models")
    async def models(request: Request) -> dict:
        state.headers.append(dict(request.headers))
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "max_model_len": 8192}]}

    @app.get("/llamacpp/v1/models")
    async def llamacpp_models() -> dict:
        return {"data": [{"id": "qwen.gguf", "meta": {"n_ctx_train": 32768, "n_vocab": 151936}}]}

    @app.get("/empty/v1/models")
    async def no_models() -> dict:
        return {"object": "list", "data": []}

    @app.get("/locked/v1/models")
    async def locked() -> JSONResponse:
        error = {"message": "Invalid API key", "type": "auth_error", "param": None}
        return JSONResponse({"error": error}, status_code=401)

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await request.json()
        state.requests.append(body)
        state.headers.append(dict(request.headers))
        text = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
        mode, _, rest = text.partition(" ") if text.startswith("#") else ("", "", text)
        words = rest.split()
        if mode == "#400":
            error = {
                "message": "response_format: schema is not supported",
                "type": "invalid_request_error",
                "param": "response_format",
                "code": None,
            }
            return JSONResponse({"error": error}, status_code=400)
        if mode == "#500":
            return JSONResponse({"error": {"message": "CUDA out of memory"}}, status_code=500)
        if mode == "#sleep":
            await wait_or_disconnect(request, 3.0, state.disconnects, "sleep")
            return JSONResponse({"error": {"message": "too late"}}, status_code=500)

        budget = body.get("max_tokens") or len(words)
        emitted = words[:budget]
        finish = "length" if len(words) > budget else "stop"

        async def stream() -> AsyncIterator[str]:
            yield sse(chunk(role="assistant", content=""))
            for i, word in enumerate(emitted):
                if mode == "#garbage" and i == 1:
                    yield "data: {not json\n\n"
                    return
                if mode == "#errchunk" and i == 1:
                    yield sse({"error": {"message": "engine died", "code": 500}})
                    return
                yield sse(chunk(word if i == 0 else " " + word))
                yield ": keep-alive\n\n"
                if mode == "#slow" and await wait_or_disconnect(
                    request, 0.2, state.disconnects, "slow"
                ):
                    return
                if mode == "#stall" and await wait_or_disconnect(
                    request, 3.0, state.disconnects, "stall"
                ):
                    return
            if mode == "#nodone":
                return
            yield sse(chunk(finish=finish))
            if body.get("stream_options", {}).get("include_usage") and mode != "#nousage":
                usage = {
                    "prompt_tokens": PROMPT_TOKENS,
                    "completion_tokens": len(emitted),
                    "total_tokens": PROMPT_TOKENS + len(emitted),
                    "prompt_tokens_details": {"cached_tokens": 3},
                }
                yield sse({"id": "chatcmpl-1", "choices": [], "usage": usage})
            yield "data: [DONE]\n\n"

        async def watched() -> AsyncIterator[str]:
            # The server may notice the client is gone by a failed send rather than by polling.
            try:
                async for piece in stream():
                    yield piece
            except BaseException:
                state.disconnects.append(mode[1:])
                raise

        return StreamingResponse(watched(), media_type="text/event-stream")

    return app


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    state = FakeUpstream()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        build_app(state), log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            if server.started and httpx.get(f"{state.url}/v1/models", timeout=1).is_success:
                break
        except httpx.TransportError:
            pass
        assert thread.is_alive() and time.monotonic() < deadline, "fake upstream did not start"
        time.sleep(0.02)
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


@pytest.fixture
def closed_port_url() -> Iterator[str]:
    # Bound but not listening: connections are refused, and no other test can take the port.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        sock.close()


@pytest.fixture
def gen(upstream: FakeUpstream) -> Iterator[OpenAIUpstreamGenerator]:
    generator = OpenAIUpstreamGenerator.connect(upstream.url)
    yield generator
    generator.close()


def user(text: str) -> list[ChatMessage]:
    return [ChatMessage("system", "You recommend movies."), ChatMessage("user", text)]


def run(
    generator: OpenAIUpstreamGenerator,
    text: str,
    params: SamplingParams | None = None,
    cancel: threading.Event | None = None,
) -> list[GenerationEvent]:
    params = params or SamplingParams(max_tokens=64)
    return list(generator.generate(user(text), params, cancel or threading.Event()))


def assert_one_finish_last(events: list[GenerationEvent]) -> Finish:
    finishes = [event for event in events if isinstance(event, Finish)]
    assert len(finishes) == 1
    assert events[-1] is finishes[0]
    assert all(isinstance(event, TextDelta) and event.text for event in events[:-1])
    return finishes[0]


# --- discovery and configuration ---------------------------------------------------------


def test_connect_discovers_model_and_context_length(gen, upstream):
    assert isinstance(gen, Generator)
    assert gen.model_id == MODEL
    assert gen.context_length == 8192
    assert gen.family == "chat"
    assert gen.supports_json_schema is True


def test_explicit_model_and_context_length_win(upstream):
    generator = OpenAIUpstreamGenerator.connect(
        upstream.url, model="other", context_length=2048, family="qwen"
    )
    try:
        assert (generator.model_id, generator.context_length, generator.family) == (
            "other",
            2048,
            "qwen",
        )
        run(generator, "hi")
        assert upstream.last["model"] == "other"
    finally:
        generator.close()


def test_llama_cpp_context_length_and_url_prefix(upstream):
    generator = OpenAIUpstreamGenerator.connect(f"{upstream.url}/llamacpp/")
    try:
        assert generator.base_url == f"{upstream.url}/llamacpp/v1"
        assert generator.model_id == "qwen.gguf"
        assert generator.context_length == 32768
    finally:
        generator.close()


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
def test_base_url_with_or_without_v1(upstream, suffix):
    generator = OpenAIUpstreamGenerator.connect(upstream.url + suffix)
    try:
        assert generator.base_url == f"{upstream.url}/v1"
        assert join_text(run(generator, "a quiet western")) == "a quiet western"
    finally:
        generator.close()


def test_normalize_base_url():
    assert normalize_base_url("http://gpu:8000") == "http://gpu:8000/v1"
    assert normalize_base_url("http://gpu:8000/v1") == "http://gpu:8000/v1"
    assert normalize_base_url("https://host/api/") == "https://host/api/v1"


def test_no_models_is_a_load_error(upstream):
    with pytest.raises(GeneratorLoadError, match="lists no models"):
        OpenAIUpstreamGenerator.connect(f"{upstream.url}/empty")


def test_rejected_models_request_is_a_load_error(upstream):
    with pytest.raises(GeneratorLoadError, match=r"HTTP 401: Invalid API key.*API key"):
        OpenAIUpstreamGenerator.connect(f"{upstream.url}/locked")


def test_unreachable_upstream(closed_port_url):
    with pytest.raises(GeneratorLoadError) as caught:
        OpenAIUpstreamGenerator.connect(closed_port_url)
    message = str(caught.value)
    assert f"cannot reach the upstream at {closed_port_url}" in message
    assert "MODEL_GENERATOR=openai:<base-url>" in message

    generator = OpenAIUpstreamGenerator(closed_port_url, model="m")
    try:
        with pytest.raises(GeneratorError) as caught:
            run(generator, "hello")
        assert not isinstance(caught.value, UnsupportedRequestError)
        assert closed_port_url in str(caught.value)
        assert "that the server is running" in str(caught.value)
    finally:
        generator.close()


# --- streaming ---------------------------------------------------------------------------


def test_streams_deltas_then_one_finish_with_usage(gen, upstream):
    events = run(gen, "a slow burning thriller set in Lisbon")

    finish = assert_one_finish_last(events)
    assert join_text(events) == "a slow burning thriller set in Lisbon"
    assert len(events) == 8  # seven words and the Finish: the empty role delta yields nothing
    assert finish.reason == "stop"
    assert (finish.prompt_tokens, finish.completion_tokens) == (PROMPT_TOKENS, 7)
    assert finish.cached_prompt_tokens == 3


def test_max_tokens_reached_is_length(gen):
    events = run(gen, "one two three four five", SamplingParams(max_tokens=3))

    finish = assert_one_finish_last(events)
    assert join_text(events) == "one two three"
    assert finish.reason == "length"
    assert finish.completion_tokens == 3


def test_without_usage_counts_deltas_and_estimates_prompt(gen):
    messages = user("#nousage alpha beta gamma")

    events = list(gen.generate(messages, SamplingParams(max_tokens=10), threading.Event()))

    finish = assert_one_finish_last(events)
    assert join_text(events) == "alpha beta gamma"
    assert finish.completion_tokens == 3
    assert finish.prompt_tokens == gen.count_prompt_tokens(messages)


def test_prompt_estimate_is_conservative(gen):
    messages = user("x" * 300)
    chars = sum(len(m.content) for m in messages)
    assert gen.count_prompt_tokens(messages) >= chars / 4 + 4 * len(messages)
    assert gen.count_prompt_tokens([]) == 0


def test_forwards_sampling_params_and_schema(gen, upstream):
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    params = SamplingParams(
        max_tokens=42, temperature=0.2, top_p=0.9, stop=("\n\n", "END"), json_schema=schema, seed=7
    )

    run(gen, "hello there", params)

    body = upstream.last
    assert body["model"] == MODEL
    assert body["messages"] == [
        {"role": "system", "content": "You recommend movies."},
        {"role": "user", "content": "hello there"},
    ]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert (body["max_tokens"], body["temperature"], body["top_p"]) == (42, 0.2, 0.9)
    assert body["stop"] == ["\n\n", "END"]
    assert body["seed"] == 7
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": schema, "strict": True},
    }


def test_optional_params_are_left_out(gen, upstream):
    run(gen, "hello")

    assert not {"stop", "seed", "response_format"} & set(upstream.last)


def test_api_key_is_sent_as_bearer(upstream):
    upstream.headers.clear()
    generator = OpenAIUpstreamGenerator.connect(upstream.url, api_key="sk-upstream")
    try:
        run(generator, "hello")
    finally:
        generator.close()

    assert len(upstream.headers) == 2  # GET /models and the completion
    assert all(h["authorization"] == "Bearer sk-upstream" for h in upstream.headers)


# --- cancellation ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["#slow", "#stall"])
def test_cancel_after_first_delta_stops_promptly(gen, upstream, mode):
    """#slow sends a word every 0.2 s; #stall sends one word and then nothing for 3 s."""
    cancel = threading.Event()
    events: list[GenerationEvent] = []
    cancelled_at = 0.0
    stream = gen.generate(user(f"{mode} {'word ' * 30}"), SamplingParams(max_tokens=64), cancel)
    for event in stream:
        events.append(event)
        if len(events) == 1:

            def set_cancel() -> None:
                nonlocal cancelled_at
                cancelled_at = time.monotonic()
                cancel.set()

            threading.Timer(0.05, set_cancel).start()
    elapsed = time.monotonic() - cancelled_at

    finish = assert_one_finish_last(events)
    assert finish.reason == "cancelled"
    assert elapsed < 1.0
    assert finish.completion_tokens == len(events) - 1
    # The upstream sees the client go away, so it can stop generating.
    deadline = time.monotonic() + 1.0
    while mode[1:] not in upstream.disconnects and time.monotonic() < deadline:
        time.sleep(0.02)
    assert mode[1:] in upstream.disconnects


def test_cancel_before_start_sends_nothing(gen, upstream):
    sent = len(upstream.requests)
    cancel = threading.Event()
    cancel.set()

    events = run(gen, "hello", cancel=cancel)

    assert [type(e) for e in events] == [Finish]
    assert events[0].reason == "cancelled"
    assert len(upstream.requests) == sent


def test_closing_the_stream_early_is_clean(gen):
    stream = gen.generate(
        user("#slow a b c d e f"), SamplingParams(max_tokens=64), threading.Event()
    )
    assert isinstance(next(stream), TextDelta)
    stream.close()
    # The client is still usable afterwards.
    assert join_text(run(gen, "still here")) == "still here"


# --- errors ------------------------------------------------------------------------------


def test_upstream_400_is_unsupported_request_with_its_message(gen):
    with pytest.raises(UnsupportedRequestError) as caught:
        run(gen, "#400 hello")

    assert str(caught.value) == "response_format: schema is not supported"
    assert caught.value.param == "response_format"


def test_upstream_500_is_generator_error(gen, upstream):
    with pytest.raises(GeneratorError) as caught:
        run(gen, "#500 hello")

    assert not isinstance(caught.value, UnsupportedRequestError)
    assert "HTTP 500" in str(caught.value)
    assert "CUDA out of memory" in str(caught.value)
    assert upstream.url in str(caught.value)


def test_garbage_chunk_is_generator_error(gen):
    with pytest.raises(GeneratorError, match="upstream sent an invalid stream chunk"):
        run(gen, "#garbage one two three")


def test_error_chunk_mid_stream_is_generator_error(gen):
    with pytest.raises(GeneratorError, match="engine died"):
        run(gen, "#errchunk one two three")


def test_stream_ending_without_finish_is_generator_error(gen):
    with pytest.raises(GeneratorError, match="ended the stream without finishing"):
        run(gen, "#nodone one two")


@pytest.mark.parametrize("mode", ["#sleep", "#stall"])
def test_silent_upstream_times_out(upstream, mode):
    """#sleep sends no headers; #stall goes quiet after the first word."""
    generator = OpenAIUpstreamGenerator.connect(upstream.url, timeout=0.3)
    try:
        started = time.monotonic()
        with pytest.raises(GeneratorError, match=r"sent nothing for 0.3 s") as caught:
            run(generator, f"{mode} one two three")
        assert time.monotonic() - started < 1.5
        assert not isinstance(caught.value, UnsupportedRequestError)
    finally:
        generator.close()
