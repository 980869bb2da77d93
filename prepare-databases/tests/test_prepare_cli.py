"""The ingestion CLI as a user runs it: clear errors, a summary, idempotent re-runs, verify."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.stack import free_port, model_service_process

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "backend" / "tests" / "catalog" / "fixtures" / "small.jsonl"


def run_cli(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "prepare-databases/prepare.py", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.fixture
def cli_env(tmp_path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "MARQUEE_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": "",
        "QDRANT_URL": "",
        "MODEL_SERVICE_URL": "http://127.0.0.1:9",  # nothing listens: must not be needed
    }


def test_unknown_source_is_refused_with_the_valid_names(cli_env):
    result = run_cli("ingest", "--source", "imdb", env=cli_env)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr and "tmdb-csv" in result.stderr


def test_missing_data_path_says_what_was_expected(cli_env, tmp_path):
    result = run_cli(
        "ingest", "--source", "tmdb-csv", "--data", str(tmp_path / "nope.csv"), env=cli_env
    )
    assert result.returncode == 2
    assert "error:" in result.stderr and "nope.csv" in result.stderr


def test_verify_on_an_empty_catalog_is_clean(cli_env):
    result = run_cli("verify", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "missing from index: 0" in result.stdout


@pytest.mark.slow
def test_ingest_twice_then_verify_with_the_real_model_service(cli_env):
    port = free_port()
    env = {**cli_env, "MODEL_SERVICE_URL": f"http://127.0.0.1:{port}"}
    model = model_service_process("127.0.0.1", port, env).start()
    try:
        model.wait_ready(180)
        first = run_cli(
            "ingest", "--source", "jsonl", "--data", str(FIXTURE), "--no-progress", env=env
        )
        assert first.returncode == 0, first.stderr
        assert "inserted 6" in first.stdout and "skipped (duplicate id): 1" in first.stdout
        second = run_cli(
            "ingest", "--source", "jsonl", "--data", str(FIXTURE), "--no-progress", env=env
        )
        assert "inserted 0, updated 0, unchanged 6" in second.stdout
        verify = run_cli("verify", env=env)
        assert verify.returncode == 0 and "index points:    6" in verify.stdout
    finally:
        model.stop()
