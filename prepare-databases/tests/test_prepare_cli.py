"""The ingestion CLI as a user runs it: clear errors, a summary, idempotent re-runs, verify."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
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


@pytest.fixture(scope="module")
def model_service_url():
    """One real model service for this module's slow tests."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "MODEL_GENERATOR": "none",
    }
    model = model_service_process("127.0.0.1", port, env).start()
    try:
        model.wait_ready(180)
        yield f"http://127.0.0.1:{port}"
    finally:
        model.stop()


@pytest.mark.slow
def test_ingest_twice_then_verify_with_the_real_model_service(cli_env, model_service_url):
    env = {**cli_env, "MODEL_SERVICE_URL": model_service_url}
    first = run_cli("ingest", "--source", "jsonl", "--data", str(FIXTURE), "--no-progress", env=env)
    assert first.returncode == 0, first.stderr
    assert "inserted 6" in first.stdout and "skipped (duplicate id): 1" in first.stdout
    second = run_cli(
        "ingest", "--source", "jsonl", "--data", str(FIXTURE), "--no-progress", env=env
    )
    assert "inserted 0, updated 0, unchanged 6" in second.stdout
    verify = run_cli("verify", env=env)
    assert verify.returncode == 0 and "index points:    6" in verify.stdout


@pytest.mark.slow
def test_ingestion_killed_midway_completes_on_rerun_with_a_consistent_index(
    cli_env, model_service_url, tmp_path
):
    env = {**cli_env, "MODEL_SERVICE_URL": model_service_url}
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text(
        "\n".join(
            json.dumps({"tmdb_id": i, "title": f"Film number {i}", "year": 1950 + i % 70,
                        "genres": ["Drama"], "overview": f"A story about item {i}. " * 8})
            for i in range(1, 1501)
        )
    )  # fmt: skip
    database = tmp_path / "var" / "marquee.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "prepare-databases/prepare.py", "ingest", "--source", "jsonl",
         "--data", str(catalog), "--no-progress"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip

    def stored() -> int:
        try:
            with sqlite3.connect(database, timeout=5) as db:
                return db.execute("select count(*) from catalog_movie").fetchone()[0]
        except sqlite3.OperationalError:
            return 0

    deadline = time.monotonic() + 240
    while stored() == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # no chance to clean up
    proc.wait()
    partial = stored()
    assert 0 < partial < 1500, "the kill should land between the first and the last chunk"

    rerun = run_cli("ingest", "--source", "jsonl", "--data", str(catalog), "--no-progress", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert f"inserted {1500 - partial}, updated 0, unchanged {partial}" in rerun.stdout
    verify = run_cli("verify", env=env)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "index points:    1500" in verify.stdout and "missing from index: 0" in verify.stdout


@pytest.mark.slow
def test_a_corrupted_index_is_reported_and_rebuilt_from_the_database(
    cli_env, model_service_url, tmp_path
):
    env = {**cli_env, "MODEL_SERVICE_URL": model_service_url}
    assert run_cli("ingest", "--source", "jsonl", "--data", str(FIXTURE), env=env).returncode == 0
    shard = tmp_path / "var" / "index" / "movies" / "shard"
    for path in shard.rglob("*"):
        if path.is_file():
            path.write_bytes(b"\x00garbage" * 64)

    verify = run_cli("verify", env=env)
    assert verify.returncode == 2
    assert "cannot be read" in verify.stderr and "rebuild-index" in verify.stderr

    rebuild = run_cli("rebuild-index", env={**env, "MODEL_SERVICE_URL": "http://127.0.0.1:9"})
    assert rebuild.returncode == 0, rebuild.stderr
    assert "6 movies, 6 points" in rebuild.stdout
    assert run_cli("verify", env=env).returncode == 0


def test_a_ratings_only_source_needs_no_model_service(cli_env):
    ratings = REPO / "backend/tests/ingestion_sources/fixtures/kaggle/ratings-sample.csv"
    result = run_cli("ingest", "--source", "ratings", "--data", str(ratings), "--no-progress",
                     env=cli_env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Starting a model service" not in result.stderr
    assert "skipped (movie not in catalog)" in result.stdout
