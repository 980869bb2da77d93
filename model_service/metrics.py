"""Prometheus metrics of one app: requests and latency per endpoint, queue, tokens, enrichment."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from model_service.generators.base import Finish

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class ServiceMetrics:
    """One registry per app, so several apps in one process (tests) keep separate counts."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "marquee_http_requests",
            "HTTP requests by endpoint, method and status.",
            ["endpoint", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "marquee_http_request_duration_seconds",
            "Time from request to the end of the response, by endpoint.",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_depth = Gauge(
            "marquee_generation_queue_depth",
            "Generation requests admitted and not finished (running + waiting).",
            registry=r,
        )
        self.queue_rejected = Counter(
            "marquee_generation_rejected",
            "Generation requests refused with 503 because the queue was full.",
            registry=r,
        )
        self.generations = Counter(
            "marquee_generations", "Finished generations by finish reason.", ["reason"], registry=r
        )
        self.tokens_generated = Counter(
            "marquee_generated_tokens", "Completion tokens generated.", registry=r
        )
        self.prompt_tokens = Counter(
            "marquee_prompt_tokens",
            "Prompt tokens, by whether the KV cache held them.",
            ["cached"],
            registry=r,
        )
        self.tokens_per_second = Gauge(
            "marquee_generation_tokens_per_second",
            "Decoding speed of the last generation (completion tokens / generation time).",
            registry=r,
        )
        self.generation_seconds = Histogram(
            "marquee_generation_duration_seconds",
            "Time a generation held the model, from start to finish.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.enrichments = Counter(
            "marquee_enrichments",
            "Enrichment results by source: model, cache or fallback (rules only).",
            ["source"],
            registry=r,
        )
        self.embedded_texts = Counter(
            "marquee_embedded_texts", "Texts embedded through /v1/embeddings.", registry=r
        )

    def watch_queue(self, depth: Callable[[], int]) -> None:
        self.queue_depth.set_function(depth)

    def observe_generation(self, finish: Finish, seconds: float) -> None:
        self.generations.labels(finish.reason).inc()
        self.tokens_generated.inc(finish.completion_tokens)
        cached = min(finish.cached_prompt_tokens, finish.prompt_tokens)
        self.prompt_tokens.labels("true").inc(cached)
        self.prompt_tokens.labels("false").inc(finish.prompt_tokens - cached)
        self.generation_seconds.observe(seconds)
        generation_ms = finish.timings.get("generation_ms")
        if generation_ms and finish.completion_tokens > 1:
            self.tokens_per_second.set((finish.completion_tokens - 1) / (generation_ms / 1000))

    def render(self) -> bytes:
        return generate_latest(self.registry)
