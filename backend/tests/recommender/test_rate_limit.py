"""Chat turns are limited per client: beyond CHAT_RATE_LIMIT a 429 in the one error shape with
Retry-After, before any work is done; other endpoints and other clients are not affected."""

from __future__ import annotations

import contextlib

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from recommender.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def limited(monkeypatch, demo_catalog, chat_client, stub_router):
    # ScopedRateThrottle reads its rates once, at import: patch them where it keeps them.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"chat": "2/minute"})
    cache.clear()
    yield
    with contextlib.suppress(Exception):  # a test may leave an unreachable cache configured
        cache.clear()


def test_the_third_turn_in_a_minute_is_refused_with_the_wait(limited):
    api = APIClient(REMOTE_ADDR="10.0.0.1")
    body = {"message": "a comedy", "reply": False}
    assert api.post("/api/chat/", body, format="json").status_code == 200
    assert api.post("/api/chat/stream/", body, format="json").status_code == 200
    before = Message.objects.count()

    refused = api.post("/api/chat/", body, format="json")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    error = refused.json()["error"]
    assert error["code"] == "throttled" and "seconds" in error["message"]
    streamed = api.post("/api/chat/stream/", body, format="json")
    assert streamed.status_code == 429 and streamed["Content-Type"] == "application/json"
    assert Message.objects.count() == before  # nothing was stored for refused turns

    # Another client, and the rest of the API, are unaffected.
    other = APIClient(REMOTE_ADDR="10.0.0.2")
    assert other.post("/api/chat/", body, format="json").status_code == 200
    assert api.get("/api/movies/?q=comedy").status_code == 200


def test_an_unreadable_rate_limit_stops_the_start_with_a_message(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import config.settings.base as base

    monkeypatch.setenv("CHAT_RATE_LIMIT", "lots")
    with pytest.raises(ImproperlyConfigured, match="30/minute"):
        importlib.reload(base)
    monkeypatch.setenv("CHAT_RATE_LIMIT", "off")
    importlib.reload(base)
    assert base.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {"chat": None}
    monkeypatch.delenv("CHAT_RATE_LIMIT")
    importlib.reload(base)
    assert base.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {"chat": "30/minute"}


def _redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "marquee-test",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def test_with_cache_url_the_count_lives_in_redis_for_every_process(limited, settings):
    import redis

    server = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    server.flushdb()
    settings.CACHES = _redis_cache("redis://127.0.0.1:6379/15")
    try:
        api = APIClient(REMOTE_ADDR="10.0.0.7")
        body = {"message": "a comedy", "reply": False}
        assert [api.post("/api/chat/", body, format="json").status_code for _ in range(3)] == [
            200, 200, 429,
        ]  # fmt: skip
        # The counter is in Redis, where another worker or replica reads the same history.
        keys = [key.decode() for key in server.keys("*")]
        assert any("throttle_chat" in key and "10.0.0.7" in key for key in keys), keys
    finally:
        server.flushdb()


def test_a_cache_that_does_not_answer_lets_turns_through(limited, settings, caplog):
    settings.CACHES = _redis_cache("redis://127.0.0.1:1/0")  # nothing listens there
    api = APIClient(REMOTE_ADDR="10.0.0.8")
    body = {"message": "a comedy", "reply": False}
    assert {api.post("/api/chat/", body, format="json").status_code for _ in range(3)} == {200}
    assert "rate limit not applied: the cache is unavailable" in caplog.text


def test_cache_url_must_be_redis(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import config.settings.base as base

    monkeypatch.setenv("CACHE_URL", "memcached://127.0.0.1:11211")
    with pytest.raises(ImproperlyConfigured, match="redis://"):
        importlib.reload(base)
    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6379/0")
    importlib.reload(base)
    assert base.CACHES["default"]["BACKEND"].endswith("RedisCache")
    monkeypatch.delenv("CACHE_URL")
    importlib.reload(base)
    assert base.CACHES["default"]["BACKEND"].endswith("LocMemCache")
