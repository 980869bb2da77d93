"""Smoke test: start the stack the way `make run` does, search it, ingest beside it, stop it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from scripts.stack import free_port

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "backend" / "tests" / "catalog" / "fixtures" / "small.jsonl"

pytestmark = pytest.mark.slow


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_make_run_serves_search_accepts_make_data_and_stops_cleanly(tmp_path):
    backend_port, model_port = free_port(), free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "MARQUEE_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": "",  # the embedded default, as on a fresh clone
        "QDRANT_URL": "",
        "BACKEND_PORT": str(backend_port),
        "MODEL_SERVICE_PORT": str(model_port),
        "MODEL_SERVICE_URL": f"http://127.0.0.1:{model_port}",
        "INDEX_SYNC_INTERVAL": "0.5",
    }
    log = (tmp_path / "stack.log").open("w+")
    stack = subprocess.Popen(
        [sys.executable, "scripts/stack.py"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{backend_port}"
    try:
        wait_for(
            lambda: (
                "Marquee is running at" in Path(log.name).read_text() or stack.poll() is not None
            ),
            300,
            "the stack to start",
        )
        assert stack.poll() is None, Path(log.name).read_text()
        assert f"{base}/" in Path(log.name).read_text()

        health = get_json(f"{base}/api/health/")
        assert health["status"] == "ok", health
        assert health["movies"] >= 300 and health["indexed"] == health["movies"]

        found = get_json(f"{base}/api/movies/?q=a+boy+discovers+he+is+a+wizard&limit=5")
        assert found["mode"] == "semantic"
        assert any("Harry Potter" in m["title"] for m in found["results"]), found["results"]
        korean = get_json(f"{base}/api/movies/?q=dark+thriller&language=ko&limit=5")
        assert korean["results"] and all(m["original_language"] == "ko" for m in korean["results"])

        # `make data` while `make run` owns the embedded index: handed over, never corrupted.
        before = health["movies"]
        result = subprocess.run(
            [sys.executable, "prepare-databases/prepare.py", "ingest", "--source", "jsonl",
             "--data", str(FIXTURE), "--no-progress", "--wait-seconds", "60"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert "owned by another process" in result.stdout
        assert "All movies are indexed." in result.stdout
        after = get_json(f"{base}/api/health/")
        new_ids = {json.loads(line)["tmdb_id"] for line in FIXTURE.read_text().splitlines()
                   if line.startswith("{") and json.loads(line)["title"].strip()}  # fmt: skip
        assert after["indexed"] == after["movies"] >= before
        assert after["movies"] - before <= len(new_ids)
    finally:
        stack.send_signal(signal.SIGINT)
        try:
            code = stack.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stack.kill()
            raise
        output = Path(log.name).read_text()
    assert code == 0, output
    assert "Stopped." in output
