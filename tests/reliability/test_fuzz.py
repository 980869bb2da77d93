"""Property-based fuzzing of both OpenAPI schemas with schemathesis: zero 5xx.

Every operation of the backend (/api/schema/, drf-spectacular) and of the model service
(/openapi.json, FastAPI) gets up to MAX_EXAMPLES generated requests that follow its schema
(positive) and as many that break it (negative), Hypothesis derandomized (the same cases every
run). Operations with a path id run twice: with generated ids, and pinned to a film or
conversation that exists, so edits, deletes and "more like this" reach their code. The backend
runs in process (WSGI) over the demo catalog with the fake embedder and the fake chat client
(no language model), signed in as staff with a CSRF token, so the staff-only writes are fuzzed
too; the model service runs on a loopback port (uvicorn) with the weightless engines.

Must hold, for every case: no 5xx; every 4xx in the service's one error shape; no streamed
`error` event reporting an internal error. Reported, not failed (schema precision, owned by the
endpoints' modules): responses outside the documented statuses or response schemas, and
schema-valid requests the service refuses (or the reverse); see the summary at the end.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from model_service.app import create_app
from model_service.engines.fake import FakeEmbeddingEngine, fake_engine_settings
from model_service.generators.fake import FakeGenerator
from model_service.tests.conftest import live_server

# Generated cases per operation, generation mode and path-id variant: bounded so that both
# services together take about a minute on a loaded 2-core machine (a backend case runs a whole
# chat turn; a model-service case is cheap).
MAX_EXAMPLES = {"backend": 40, "model service": 100}


def hypothesis_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=True,  # a fixed seed: the same cases every run
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        print_blob=False,
    )


SOFT_CHECKS = {
    GenerationMode.POSITIVE: [
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        positive_data_acceptance,
    ],
    GenerationMode.NEGATIVE: [status_code_conformance, negative_data_rejection],
}


@dataclass
class FuzzRun:
    max_examples: int
    cases: int = 0
    statuses: Counter = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    failures: dict[str, str] = field(default_factory=dict)  # operation → what broke
    findings: Counter = field(default_factory=Counter)  # (operation, check) → cases
    examples: dict[tuple[str, str], str] = field(default_factory=dict)

    def line(self) -> str:
        statuses = ", ".join(f"{s}×{n}" for s, n in sorted(self.statuses.items()))
        server_errors = sum(n for s, n in self.statuses.items() if s >= 500)
        return (
            f"{self.cases:,} cases over {len(self.operations)} operations "
            f"(at most {self.max_examples} per operation, mode and id variant; derandomized); "
            f"statuses {statuses}; 5xx: {server_errors}"
        )


def _has_input(operation, *, besides_path: bool = False) -> bool:
    definition = operation.definition.raw
    parameters = [
        p for p in definition.get("parameters", []) if not (besides_path and p.get("in") == "path")
    ]
    return bool(parameters or definition.get("requestBody"))


def _examples(strategy, mode, label, run, call, assert_response) -> Callable[[], None]:
    @hypothesis_settings(run.max_examples)
    @given(case=strategy)
    def examples(case) -> None:
        response = call(case)
        run.cases += 1
        run.statuses[response.status_code] += 1
        case.validate_response(response, checks=[not_a_server_error])
        assert_response(case, response)
        try:
            case.validate_response(response, checks=SOFT_CHECKS[mode])
        except BaseException as group:  # schemathesis' FailureGroup
            for failure in getattr(group, "exceptions", [group]):
                title = getattr(failure, "title", type(failure).__name__)
                run.findings[(label, title)] += 1
                run.examples.setdefault(
                    (label, title), f"{response.status_code} {response.text[:160]!r}"
                )

    return examples


def fuzz(
    schema,
    run: FuzzRun,
    *,
    call: Callable[[Any], Any],
    assert_response: Callable[[Any, Any], None],
    pinned: dict[str, Any],
    repairs: dict[str, Callable[[Any], Any]] | None = None,
) -> None:
    """Fuzz every operation; hard failures go to run.failures, soft findings to run.findings.

    `pinned`: path parameters that also get a run with an existing value. `repairs`: for an
    operation whose schema is looser than its checks (most generated cases would be refused
    before reaching the code behind), one more positive run with each case made acceptable.
    """
    repairs = repairs or {}
    for result in schema.get_all_operations():
        operation = result.ok()
        label = operation.label
        run.operations.add(label)
        variants: list[tuple[str, dict[str, Any] | None, Any]] = [("generated", None, None)]
        for parameter, value in pinned.items():
            if "{" + parameter + "}" in operation.path:
                variants.append((f"{parameter}={value}", {parameter: value}, None))
        if label in repairs:
            variants.append(("repaired", None, repairs[label]))
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for name, path_parameters, repair in variants:
                # Negative cases need an input to break (a pinned id is not one).
                if mode is GenerationMode.NEGATIVE and (
                    repair is not None
                    or not _has_input(operation, besides_path=path_parameters is not None)
                ):
                    continue
                strategy = operation.as_strategy(
                    generation_mode=mode, path_parameters=path_parameters
                )
                if repair is not None:
                    strategy = strategy.map(repair)
                examples = _examples(strategy, mode, label, run, call, assert_response)
                try:
                    examples()
                except BaseException as exc:
                    if isinstance(exc, KeyboardInterrupt):
                        raise
                    run.failures[f"{label} ({mode.value}, {name})"] = str(exc)[:3000]


def _report(report, suite: str, run: FuzzRun, started: float) -> None:
    report.summary(suite, f"{run.line()}; {time.perf_counter() - started:.0f} s")
    for (label, title), count in sorted(run.findings.items()):
        example = run.examples.get((label, title), "")
        report.summary(suite, f"  schema finding: {label}: {title} ×{count} (e.g. {example})")
    print(f"{suite}: {run.line()}")


def _assert_no_failures(run: FuzzRun) -> None:
    assert not run.failures, "\n\n".join(f"{op}:\n{text}" for op, text in run.failures.items())
    assert run.cases > 0


# --- backend -------------------------------------------------------------------------------------
def _backend_error_shape(case, response) -> None:
    if 400 <= response.status_code < 500:
        body = response.json()
        assert set(body) == {"error"}, body
        assert set(body["error"]) == {"code", "message", "details"}, body
        assert isinstance(body["error"]["details"], dict), body
    if case.operation.path == "/api/chat/stream/" and response.status_code == 200:
        text = response.text
        assert text.startswith("event: meta"), text[:300]
        assert "event: error" not in text, text[-600:]
        assert "event: done" in text, text[-600:]


@pytest.mark.slow
# Transactional: raw WSGI calls close the connection after each request, as in production; a
# test wrapped in one transaction would lose it (on PostgreSQL: "the connection is closed").
@pytest.mark.django_db(transaction=True)
def test_fuzz_backend(
    demo_catalog,
    chat_client,
    stub_router,
    use_fake_embedder,
    staff_writes,
    django_user_model,
    report,
):
    from django.core.wsgi import get_wsgi_application
    from django.test import Client
    from rest_framework.test import APIClient

    from catalog.models import Movie

    started = time.perf_counter()
    staff = django_user_model.objects.create_user("fuzz-staff", is_staff=True)
    browser = Client()
    browser.force_login(staff)
    csrf = "fuzzcsrftoken0123456789abcdefABC"  # a CSRF secret: 32 letters and digits
    cookies = {"sessionid": browser.cookies["sessionid"].value, "csrftoken": csrf}
    # Identity: the WSGI transport would hand over the map's gzip bytes undecoded.
    headers = {"X-CSRFToken": csrf, "Accept-Encoding": "identity"}
    # A film and a conversation that exist, for the pinned path ids.
    film = {"tmdb_id": 990005, "title": "Fuzzed", "overview": "A film that is edited a lot."}
    conversation = str(
        APIClient()
        .post("/api/chat/", {"message": "a heist"}, format="json")
        .json()["conversation_id"]
    )

    def call(case):
        if not Movie.objects.filter(tmdb_id=film["tmdb_id"]).exists():  # a DELETE took it
            Movie.objects.create(**film)
        return case.call(cookies=cookies, headers=headers)

    Movie.objects.create(**film)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    run = FuzzRun(MAX_EXAMPLES["backend"])
    fuzz(
        schema,
        run,
        call=call,
        assert_response=_backend_error_shape,
        pinned={"tmdb_id": film["tmdb_id"], "conversation_id": conversation},
    )
    _report(report, "fuzz, backend", run, started)
    _assert_no_failures(run)
    assert run.statuses[200] and run.statuses[201], run.statuses  # chats ran, staff wrote


# --- model service ------------------------------------------------------------------------------
def _model_service_error_shape(case, response) -> None:
    if 400 <= response.status_code < 500:
        body = response.json()
        assert set(body) == {"error"}, body
        assert set(body["error"]) == {"message", "type", "param", "code"}, body
    content_type = response.headers.get("content-type") or [""]
    if content_type[0].startswith("text/event-stream"):
        for line in response.text.splitlines():
            if line.startswith("data: {"):
                event = json.loads(line[6:])
                assert event.get("error", {}).get("type") != "server_error", line


_ROLES = ("system", "user", "assistant", "developer")


def _repair_chat(case):
    """Known roles, text content, and a user message with text last: the generator runs."""
    body = case.body if isinstance(case.body, dict) else {}
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)][:6]
    for index, message in enumerate(messages):
        message["role"] = _ROLES[index % len(_ROLES)]
        if not isinstance(message.get("content"), str):
            message["content"] = "tell me about a film"
    messages.append({"role": "user", "content": "a film about the sea"})
    body["messages"] = messages
    for key in ("model", "n"):
        body.pop(key, None)
    case.body = body
    return case


def _repair_embeddings(case):
    body = case.body if isinstance(case.body, dict) else {}
    texts = body.get("input")
    texts = [texts] if isinstance(texts, str) else [t for t in texts or [] if isinstance(t, str)]
    body["input"] = [t if t.strip() else f"text {i}" for i, t in enumerate(texts)] or ["film"]
    for key in ("model", "dimensions"):
        body.pop(key, None)
    case.body = body
    return case


def _repair_enrich(case):
    body = case.body if isinstance(case.body, dict) else {}
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        body["message"] = "a quiet film about the sea"
    case.body = body
    return case


@pytest.mark.slow
def test_fuzz_model_service(report):
    started = time.perf_counter()
    settings_ = fake_engine_settings()
    generator = FakeGenerator(context_length=4096)
    app = create_app(settings_, FakeEmbeddingEngine(), generator=generator)
    run = FuzzRun(MAX_EXAMPLES["model service"])
    with live_server(app) as url, requests.Session() as session:
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        fuzz(
            schema,
            run,
            call=lambda case: case.call(base_url=url, session=session),
            assert_response=_model_service_error_shape,
            pinned={},
            repairs={
                "POST /v1/chat/completions": _repair_chat,
                "POST /v1/embeddings": _repair_embeddings,
                "POST /v1/enrich": _repair_enrich,
            },
        )
    _report(report, "fuzz, model service", run, started)
    _assert_no_failures(run)
    assert run.statuses[200], run.statuses
    assert len(generator.calls) >= MAX_EXAMPLES["model service"] // 2  # fuzzed the generator
