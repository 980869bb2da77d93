"""POST /v1/chat/completions with a fake generator: shape, streaming, limits, queue, disconnects."""

from __future__ import annotations

import dataclasses
import threading
import time

import httpx
import openai
import pytest

from model_service.app import create_app
from model_service.generators.fake import FakeGenerator
from model_service.tests.conftest import live_server

USER = [{"role": "user", "content": "Recommend a heist movie."}]

CHAT_SERIES = 'marquee_http_requests_total{endpoint="/v1/chat/completions",method="POST"'
CHAT_200 = CHAT_SERIES + ',status="200"}'
CHAT_400 = CHAT_SERIES + ',status="400"}'


@pytest.fixture
def generator() -> FakeGenerator:
    return FakeGenerator(reply="Try Heat, a tense heist thriller.")


@pytest.fixture
def app(settings, fake_engine, generator):
    return create_app(settings, fake_engine, generator=generator)


async def test_completion_in_openai_shape(app, serve, generator):
    async with serve(app) as client:
        response = await client.post(
            "/v1/chat/completions",
            json={"messages": USER, "max_tokens": 20, "temperature": 0, "seed": 7},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == "fake-llm"
    choice = body["choices"][0]
    assert choice["message"] == {
        "role": "assistant",
        "content": "Try Heat, a tense heist thriller.",
    }
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["completion_tokens"] == 6
    assert usage["total_tokens"] == usage["prompt_tokens"] + 6
    messages, params = generator.calls[0]
    assert messages[0].content == "Recommend a heist movie."
    assert (params.max_tokens, params.temperature, params.seed) == (20, 0.0, 7)


async def test_max_tokens_ends_with_length_and_stop_sequences_cut(app, serve):
    async with serve(app) as client:
        short = await client.post("/v1/chat/completions", json={"messages": USER, "max_tokens": 2})
        stopped = await client.post(
            "/v1/chat/completions", json={"messages": USER, "stop": [", a"]}
        )
    assert short.json()["choices"][0]["finish_reason"] == "length"
    assert short.json()["choices"][0]["message"]["content"] == "Try Heat,"
    assert stopped.json()["choices"][0]["message"]["content"] == "Try Heat"


async def test_max_tokens_above_the_cap_is_lowered_to_it(settings, fake_engine, generator, serve):
    app = create_app(
        dataclasses.replace(settings, generator_max_tokens=3), fake_engine, generator=generator
    )
    async with serve(app) as client:
        response = await client.post(
            "/v1/chat/completions", json={"messages": USER, "max_tokens": 100}
        )
    assert response.status_code == 200
    assert generator.calls[0][1].max_tokens == 3


async def test_json_schema_response_format_reaches_the_generator(app, serve, generator):
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    async with serve(app) as client:
        response = await client.post(
            "/v1/chat/completions",
            json={
                "messages": USER,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "t", "schema": schema},
                },
            },
        )
        json_object = await client.post(
            "/v1/chat/completions",
            json={"messages": USER, "response_format": {"type": "json_object"}},
        )
    assert response.status_code == 200
    assert generator.calls[0][1].json_schema == schema
    assert generator.calls[1][1].json_schema == {"type": "object"}
    assert json_object.json()["choices"][0]["message"]["content"] == generator.json_reply


@pytest.mark.parametrize(
    ("payload", "status", "code", "param"),
    [
        ({"messages": []}, 400, "empty_messages", "messages"),
        ({}, 400, "missing_required_parameter", "messages"),
        (
            {"messages": [{"role": "wizard", "content": "hi"}]},
            400,
            "invalid_role",
            "messages[0].role",
        ),
        (
            {"messages": [{"role": "tool", "content": "hi"}]},
            400,
            "invalid_role",
            "messages[0].role",
        ),
        (
            {"messages": [{"role": "user", "content": "   "}]},
            400,
            "empty_content",
            "messages[0].content",
        ),
        (
            {"messages": [{"role": "system", "content": "be nice"}]},
            400,
            "no_user_message",
            "messages",
        ),
        ({"messages": USER, "temperature": 5}, 400, "invalid_value", "temperature"),
        ({"messages": USER, "max_tokens": 0}, 400, "invalid_value", "max_tokens"),
        ({"messages": USER, "n": 2}, 400, "invalid_value", "n"),
        ({"messages": USER, "stop": ["a", "b", "c", "d", "e"]}, 400, "invalid_value", "stop"),
        ({"messages": USER, "model": "gpt-4o"}, 404, "model_not_found", "model"),
        (
            {
                "messages": USER,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"schema": {"type": "nonsense"}},
                },
            },
            400,
            "invalid_json_schema",
            "response_format.json_schema.schema",
        ),
        (
            {"messages": USER, "response_format": {"type": "json_schema"}},
            400,
            "missing_required_parameter",
            "response_format.json_schema",
        ),
        (
            {"messages": [{"role": "user", "content": "word " * 300}], "max_tokens": 400},
            400,
            "context_length_exceeded",
            "max_tokens",
        ),
        (
            {"messages": [{"role": "user", "content": "word " * 600}]},
            400,
            "context_length_exceeded",
            "messages",
        ),
        (
            {"messages": [{"role": "user", "content": "x" * 100_000}]},
            400,
            "context_length_exceeded",
            "messages",
        ),
    ],
)
async def test_bad_requests_get_a_4xx_naming_the_field(
    app, serve, generator, payload, status, code, param
):
    async with serve(app) as client:
        response = await client.post("/v1/chat/completions", json=payload)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["param"] == param
    assert error["message"]
    assert generator.calls == []


async def test_without_a_generator_chat_answers_503_and_says_why(settings, fake_engine, serve):
    async with serve(create_app(settings, fake_engine)) as client:
        response = await client.post("/v1/chat/completions", json={"messages": USER})
    assert response.status_code == 503
    assert "generator" in response.json()["error"]["message"]


async def test_a_failing_generator_gives_a_503_not_a_500(settings, fake_engine, serve):
    app = create_app(settings, fake_engine, generator=FakeGenerator(fail="out of memory"))
    async with serve(app) as client:
        response = await client.post("/v1/chat/completions", json={"messages": USER})
    assert response.status_code == 503
    assert "out of memory" in response.json()["error"]["message"]


def test_streams_chunks_that_the_openai_client_parses(app):
    with live_server(app) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        stream = client.chat.completions.create(
            model="fake-llm",
            messages=USER,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
        completion = client.chat.completions.create(model="default", messages=USER)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Try Heat, a tense heist thriller."
    assert chunks[0].choices[0].delta.role == "assistant"
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 6
    assert completion.choices[0].message.content == text


def test_stream_arrives_token_by_token(settings, fake_engine):
    generator = FakeGenerator(reply="one two three four five", token_delay_s=0.2)
    with live_server(create_app(settings, fake_engine, generator=generator)) as url:
        arrivals = []
        started = time.perf_counter()
        with httpx.stream(
            "POST", f"{url}/v1/chat/completions", json={"messages": USER, "stream": True}
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if (
                    line.startswith("data: ")
                    and '"content":"' in line
                    and '"content":""' not in line
                ):
                    arrivals.append(time.perf_counter() - started)
    assert len(arrivals) == 5
    assert arrivals[-1] - arrivals[0] > 0.5  # spread out, not delivered in one piece at the end


def test_full_queue_answers_503_with_retry_after(settings, fake_engine):
    gate = threading.Event()
    generator = FakeGenerator(gate=gate)
    app = create_app(
        dataclasses.replace(settings, generator_queue=0), fake_engine, generator=generator
    )
    with live_server(app) as url:
        results: list[httpx.Response] = []
        busy = threading.Thread(
            target=lambda: results.append(
                httpx.post(f"{url}/v1/chat/completions", json={"messages": USER}, timeout=10)
            )
        )
        busy.start()
        assert generator.started.wait(5)
        refused = httpx.post(f"{url}/v1/chat/completions", json={"messages": USER}, timeout=10)
        gate.set()
        busy.join(10)
        metrics = httpx.get(f"{url}/metrics").text
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "queue_full"
    assert results[0].status_code == 200
    assert "marquee_generation_rejected_total 1.0" in metrics


def test_client_disconnect_cancels_the_generation(settings, fake_engine):
    generator = FakeGenerator(reply=" ".join(["word"] * 400), token_delay_s=0.02)
    app = create_app(settings, fake_engine, generator=generator)
    with live_server(app) as url:
        with httpx.stream(
            "POST",
            f"{url}/v1/chat/completions",
            json={"messages": USER, "stream": True, "max_tokens": 400},
        ) as response:
            for line in response.iter_lines():
                if '"content":"word"' in line:
                    break  # hang up after the first token
        assert generator.cancelled.wait(5), "generation kept running after the client left"
        # Non-streaming too: a client that times out and hangs up frees the model.
        generator.cancelled.clear()
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                f"{url}/v1/chat/completions",
                json={"messages": USER, "max_tokens": 400},
                timeout=httpx.Timeout(5, read=0.3),
            )
        assert generator.cancelled.wait(5)
        after = httpx.post(f"{url}/v1/chat/completions", json={"messages": USER, "max_tokens": 3})
    assert after.status_code == 200


def test_metrics_count_requests_tokens_and_queue(app):
    with live_server(app) as url:
        httpx.post(f"{url}/v1/chat/completions", json={"messages": USER})
        httpx.post(f"{url}/v1/chat/completions", json={"messages": []})
        response = httpx.get(f"{url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert CHAT_200 + " 1.0" in text
    assert CHAT_400 + " 1.0" in text
    assert (
        'marquee_http_request_duration_seconds_count{endpoint="/v1/chat/completions"} 2.0' in text
    )
    assert "marquee_generated_tokens_total 6.0" in text
    assert "marquee_generation_queue_depth 0.0" in text
    assert 'marquee_generations_total{reason="stop"} 1.0' in text
    assert "marquee_generation_tokens_per_second" in text
