"""`python -m model_service` as a real process: readiness, HTTP embeddings, clean shutdown."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]

CHAT_SERIES = 'marquee_http_requests_total{endpoint="/v1/chat/completions",method="POST"'
CHAT_200 = CHAT_SERIES + ',status="200"}'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceProcess:
    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "model-service.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "model_service"],
            cwd=REPO_ROOT,
            env={
                **os.environ,
                "MODEL_SERVICE_PORT": str(self.port),
                "MODEL_THREADS": "1",
                "MODEL_GENERATOR": "none",
                **env,
            },
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_model(
        self, status: str, timeout_s: float = 60, kind: str = "embeddings"
    ) -> httpx.Response:
        """Poll /readyz until the model of `kind` reports `status`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"service exited early:\n{self.log}"
            try:
                response = httpx.get(f"{self.base_url}/readyz", timeout=2)
                if response.json()["models"].get(kind, {}).get("status") == status:
                    return response
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"model not {status} after {timeout_s} s:\n{self.log}")

    def stop(self, sig: signal.Signals) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=20)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()


def connection_survives_idle(port: int, idle_s: float) -> bool:
    """Whether a keep-alive connection still serves a request after `idle_s` idle."""
    request = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        time.sleep(idle_s)
        try:
            sock.sendall(request)
            return sock.recv(65536).startswith(b"HTTP/1.1 200")
        except OSError:
            return False


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator:
    started: list[ServiceProcess] = []

    def start(**env: str) -> ServiceProcess:
        service = ServiceProcess(tmp_path, **env)
        started.append(service)
        return service

    yield start
    for service in started:
        service.kill()


def test_serves_embeddings_over_http_and_stops_on_sigterm(start_service):
    service = start_service()

    ready = service.wait_for_model("ready")
    response = httpx.post(
        f"{service.base_url}/v1/embeddings",
        json={"input": ["a scary movie about ghosts"], "model": "minilm"},
        headers={"X-Request-ID": "process-test"},
        timeout=30,
    )
    idle_connection_kept = connection_survives_idle(service.port, idle_s=6.0)
    exit_code = service.stop(signal.SIGTERM)

    assert ready.status_code == 200
    assert response.status_code == 200
    # Longer than an httpx pool keeps an idle connection (5 s), so clients never reuse one
    # the service is closing.
    assert idle_connection_kept
    assert response.headers["x-request-id"] == "process-test"
    body = response.json()
    assert body["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert len(body["data"][0]["embedding"]) == 384
    assert exit_code == 0, service.log
    assert "request_id=process-test method=POST path=/v1/embeddings status=200" in service.log
    assert "Application shutdown complete" in service.log


@pytest.mark.slow
def test_serves_a_real_language_model_to_an_openai_client(start_service):
    service = start_service(MODEL_GENERATOR="llama-cpp:smollm2", MODEL_THREADS="2")
    service.wait_for_model("ready", kind="generator")
    ready = service.wait_for_model("ready")
    client = openai.OpenAI(base_url=f"{service.base_url}/v1", api_key="unused", max_retries=0)
    listed = [model.id for model in client.models.list()]
    chunks = list(
        client.chat.completions.create(
            model="smollm2-135m-instruct-q4_1",
            messages=[{"role": "user", "content": "Name a famous movie about a shark."}],
            max_tokens=24,
            temperature=0,
            stream=True,
        )
    )
    enriched = httpx.post(
        f"{service.base_url}/v1/enrich",
        json={"message": "a French comedy from the 90s"},
        timeout=60,
    )
    metrics = httpx.get(f"{service.base_url}/metrics", timeout=5).text
    exit_code = service.stop(signal.SIGTERM)

    assert ready.status_code == 200
    assert "smollm2-135m-instruct-q4_1" in listed
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")
    assert enriched.status_code == 200
    body = enriched.json()
    assert body["language"] == "fr" and (body["year_min"], body["year_max"]) == (1990, 1999)
    assert body["model"] == "smollm2-135m-instruct-q4_1"
    assert CHAT_200 + " 1.0" in metrics
    assert "marquee_generated_tokens_total" in metrics
    assert exit_code == 0, service.log


def test_a_model_that_cannot_load_leaves_the_service_up_and_unready(start_service, tmp_path):
    missing = tmp_path / "no-model-here"
    service = start_service(MODEL_EMBEDDING=str(missing))

    failed = service.wait_for_model("failed")
    alive = httpx.get(f"{service.base_url}/healthz", timeout=5)
    refused = httpx.post(f"{service.base_url}/v1/embeddings", json={"input": "x"}, timeout=5)
    exit_code = service.stop(signal.SIGINT)

    assert failed.status_code == 503
    assert str(missing) in failed.json()["error"]["message"]
    assert alive.status_code == 200
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "model_load_failed"
    assert "embedding model failed to load" in service.log
    assert exit_code == 0, service.log


def test_bad_configuration_exits_with_a_clear_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "model_service"],
        cwd=REPO_ROOT,
        env={**os.environ, "MODEL_SERVICE_PORT": "not-a-port"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "MODEL_SERVICE_PORT must be an integer, got 'not-a-port'" in result.stderr
