"""POST /v1/enrich through the API: model answers, fallbacks, cache, bad input."""

from __future__ import annotations

import json

import pytest

from model_service.app import create_app
from model_service.generators.fake import FakeGenerator

ANSWER = json.dumps(
    {
        "genres": ["Comedy"],
        "reference_titles": ["Inception"],
        "themes": ["dreams"],
        "search_text": "a funny mind-bending film about dreams",
    }
)


async def test_enriches_with_the_model_and_caches(settings, fake_engine, serve):
    generator = FakeGenerator(json_reply=ANSWER)
    async with serve(create_app(settings, fake_engine, generator=generator)) as client:
        first = await client.post(
            "/v1/enrich", json={"message": "something like Inception but funnier"}
        )
        again = await client.post(
            "/v1/enrich", json={"message": "Something like Inception  but funnier"}
        )
        metrics = (await client.get("/metrics")).text
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["genres"] == ["Comedy"]
    assert body["reference_titles"] == ["Inception"]
    assert body["themes"] == ["dreams"]
    assert body["search_text"] == "a funny mind-bending film about dreams"
    assert body["fallback"] is False and body["cached"] is False
    assert body["model"] == "fake-llm"
    assert body["latency_ms"] >= 0
    assert set(body) >= {
        "genres",
        "exclude_genres",
        "themes",
        "moods",
        "reference_titles",
        "year_min",
        "year_max",
        "language",
        "search_text",
        "model",
        "latency_ms",
    }
    assert again.json()["cached"] is True
    assert len(generator.calls) == 1
    messages, params = generator.calls[0]
    assert params.json_schema is not None and params.temperature == 0
    assert "Inception" in messages[-1].content
    assert 'marquee_enrichments_total{source="cache"} 1.0' in metrics


@pytest.mark.parametrize(
    "generator",
    [
        FakeGenerator(json_reply="I'm sorry, I can't help with movies."),
        FakeGenerator(fail="llama.cpp crashed"),
    ],
    ids=["refuses", "fails"],
)
async def test_falls_back_to_rules_and_the_message_never_500(
    settings, fake_engine, serve, generator
):
    async with serve(create_app(settings, fake_engine, generator=generator)) as client:
        response = await client.post(
            "/v1/enrich", json={"message": "a French comedy from the 90s, no horror"}
        )
    assert response.status_code == 200
    body = response.json()
    assert body["fallback"] is True
    assert body["fallback_reason"]
    assert body["language"] == "fr"
    assert (body["year_min"], body["year_max"]) == (1990, 1999)
    assert "Comedy" in body["genres"] and body["exclude_genres"] == ["Horror"]
    assert body["search_text"]


async def test_slow_model_falls_back_within_the_timeout(settings, fake_engine, serve):
    import dataclasses

    generator = FakeGenerator(json_reply=" ".join(["x"] * 100), token_delay_s=0.05)
    app = create_app(
        dataclasses.replace(settings, enrich_timeout_s=0.3), fake_engine, generator=generator
    )
    async with serve(app) as client:
        response = await client.post("/v1/enrich", json={"message": "movies that make me cry"})
    body = response.json()
    assert body["fallback"] is True
    assert "longer than" in body["fallback_reason"]
    assert body["latency_ms"] < 2000


async def test_without_a_generator_rules_answer(settings, fake_engine, serve):
    async with serve(create_app(settings, fake_engine)) as client:
        response = await client.post(
            "/v1/enrich",
            json={
                "message": "something older, from the 70s",
                "history": [
                    {"role": "user", "content": "a heist movie"},
                    {"role": "assistant", "content": "Heat?"},
                ],
            },
        )
    body = response.json()
    assert response.status_code == 200
    assert body["model"] == "rules" and body["fallback"] is True
    assert (body["year_min"], body["year_max"]) == (1970, 1979)


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        ({"message": ""}, "message"),
        ({"message": "   "}, "message"),
        ({}, "message"),
        ({"message": 42}, "message"),
        ({"message": "x" * 2001}, "message"),
        ({"message": "hi", "history": [{"role": "system", "content": "x"}]}, "history[0].role"),
        ({"message": "hi", "history": [{"role": "user", "content": "x"}] * 51}, "history"),
    ],
)
async def test_bad_enrich_requests_name_the_field(settings, fake_engine, serve, payload, param):
    async with serve(create_app(settings, fake_engine)) as client:
        response = await client.post("/v1/enrich", json=payload)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


async def test_log_lines_written_while_serving_carry_the_request_id(
    settings, fake_engine, serve, caplog
):
    from model_service.middleware import RequestIdLogFilter

    caplog.handler.addFilter(RequestIdLogFilter())
    caplog.set_level("INFO", logger="model_service")
    app = create_app(settings, fake_engine, generator=FakeGenerator(fail="boom"))
    async with serve(app) as client:
        await client.post(
            "/v1/enrich", json={"message": "a sad film"}, headers={"X-Request-ID": "trace-42"}
        )
    fallback = [r for r in caplog.records if r.name == "model_service.enrichment"]
    assert fallback and all(r.request_id == "trace-42" for r in fallback)


async def test_a_client_that_hangs_up_frees_the_language_model(settings, fake_engine, serve):
    import asyncio
    import time

    from model_service.tests.test_api_disconnect import post_then_disconnect

    # Each answer takes ~2 s; the first client gives up after 0.2 s.
    generator = FakeGenerator(json_reply=" ".join(["x"] * 40), token_delay_s=0.05)
    app = create_app(settings, fake_engine, generator=generator)
    async with serve(app) as client:
        hang_up = asyncio.Event()
        abandoned = asyncio.ensure_future(
            post_then_disconnect(
                app, {"message": "a film that feels like autumn"}, hang_up, path="/v1/enrich"
            )
        )
        await asyncio.sleep(0.2)
        hang_up.set()
        sent = await asyncio.wait_for(abandoned, 2)
        started = time.perf_counter()
        await client.post("/v1/enrich", json={"message": "something to watch with grandma"})
        waited = time.perf_counter() - started

    assert sent[0]["status"] == 499
    # Served in about one answer's time, not behind the abandoned one's remaining ~1.8 s.
    assert waited < 3.0
    assert app.state.models["generator"].value.stats.cancelled >= 1
