"""Backup and restore, as docs.txt describes them for `make run` (section 2, "Backups"): the
database is dumped while Marquee runs, restored into a fresh database, the embedded index is
rebuilt from the restored rows alone (no model service), and the restored stack answers the
same: catalog rows, conversations, messages, recommendations and feedback identical, the same
search results, and new turns stored after the restored ones.

PostgreSQL: `pg_dump -Fc` of a temporary database, `pg_restore` into another (both dropped
afterwards; skipped without a PostgreSQL at 127.0.0.1:5432 or its client tools). SQLite: the
online backup API, while the backend runs.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.stack import (
    PYTHON,
    REPO,
    SMALL_GENERATOR,
    ManagedProcess,
    backend_process,
    child_env,
    free_port,
    local_model_service,
    postgres_available,
    temporary_postgres_database,
)

pytestmark = pytest.mark.slow

QUERIES = ["a boy discovers he is a wizard", "a French comedy from the 90s", "space adventure"]
TABLES = {  # table -> primary key, for a row-by-row comparison
    "catalog_genre": "id",
    "catalog_movie": "tmdb_id",
    "catalog_movie_genres": "id",
    "recommender_conversation": "id",
    "recommender_message": "id",
    "recommender_recommendation": "id",
    "recommender_feedback": "id",
}


@pytest.fixture(scope="module")
def model_url(tmp_path_factory) -> Iterator[str]:
    env = child_env(**SMALL_GENERATOR, MODEL_THREADS="2")
    log_path = tmp_path_factory.mktemp("backup-model") / "model_service.log"
    with local_model_service(env, log_path=log_path) as (url, _):
        yield url


def stack_env(var: Path, database_url: str, model_url: str) -> dict[str, str]:
    return child_env(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        MARQUEE_VAR_DIR=str(var),
        DATABASE_URL=database_url,
        QDRANT_URL="",
        MODEL_SERVICE_URL=model_url,
        CHAT_RATE_LIMIT="off",
    )


def prepare(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "prepare-databases/prepare.py", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, f"prepare.py {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def start_backend(env: dict[str, str], var: Path) -> tuple[ManagedProcess, str]:
    port = free_port()
    backend = backend_process("127.0.0.1", port, env)
    backend.start(var / "logs" / "backend.log").wait_ready(120)
    return backend, f"http://127.0.0.1:{port}"


def table_rows(database_url: str, sqlite_path: Path | None) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    if database_url:
        import psycopg

        with psycopg.connect(database_url) as conn:
            for table, key in TABLES.items():
                rows = conn.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
                out[table] = [
                    tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows
                ]
        return out
    assert sqlite_path is not None
    with sqlite3.connect(sqlite_path) as conn:
        for table, key in TABLES.items():
            out[table] = conn.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
    return out


def write_conversations(http: httpx.Client) -> list[str]:
    """Two conversations, five turns, ratings on films and on a reply."""
    first = http.post("/api/chat/", json={"message": "a French comedy from the 90s"}).json()
    conversation = first["conversation_id"]
    turns = [first]
    for message in ("older ones?", "something like Amelie"):
        body = {"message": message, "conversation_id": conversation, "reply": False}
        turns.append(http.post("/api/chat/", json=body).json())
    other = http.post("/api/chat/", json={"message": "space adventure", "reply": False}).json()
    turns.append(other)
    turns.append(
        http.post(
            "/api/chat/",
            json={"message": "who directed Heat?", "conversation_id": other["conversation_id"]},
        ).json()
    )

    def on_film(turn: dict[str, Any], rank: int, rating: int) -> dict[str, Any]:
        return {"message_id": turn["message_id"], "movie_id": turn["movies"][rank]["id"],
                "rating": rating}  # fmt: skip

    ratings = [
        on_film(turns[0], 0, 1),
        on_film(turns[0], 1, -1),
        {"message_id": turns[1]["message_id"], "rating": 1, "comment": "good reply"},
        on_film(turns[3], 0, 1),
    ]
    for rating in ratings:
        response = http.post("/api/feedback/", json=rating)
        assert response.status_code == 201, response.text
    return [conversation, other["conversation_id"]]


def api_view(http: httpx.Client, conversations: list[str]) -> dict[str, Any]:
    """What a client sees: the conversations, and search results with their scores."""
    view: dict[str, Any] = {}
    for conversation in conversations:
        response = http.get(f"/api/conversations/{conversation}/")
        assert response.status_code == 200, response.text
        view[conversation] = response.json()
    for query in QUERIES:
        body = http.get("/api/movies/", params={"q": query, "limit": 10}).json()
        assert body["mode"] == "semantic", body
        view[query] = [(m["id"], round(m["score"], 4)) for m in body["results"]]
    return view


def digest(rows: dict[str, list[tuple]]) -> str:
    return hashlib.sha256(repr(sorted(rows.items())).encode()).hexdigest()[:12]


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"])
def test_backup_restores_the_catalog_conversations_and_search(
    tmp_path: Path, model_url: str, engine: str
) -> None:
    with ExitStack() as cleanup:
        if engine == "postgresql":
            if not postgres_available():
                pytest.skip("no PostgreSQL at 127.0.0.1:5432")
            if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
                pytest.skip("pg_dump / pg_restore are not installed")
            source_db = cleanup.enter_context(temporary_postgres_database("marquee_backup"))
            restored_db = cleanup.enter_context(temporary_postgres_database("marquee_restored"))
        else:
            source_db = restored_db = ""
        source_var, restored_var = tmp_path / "source", tmp_path / "restored"
        source_env = stack_env(source_var, source_db, model_url)
        prepare(source_env, "ingest", "--source", "demo", "--no-progress")
        backend, base = start_backend(source_env, source_var)
        cleanup.callback(backend.stop)
        with httpx.Client(base_url=base, timeout=180) as http:
            conversations = write_conversations(http)
            before = api_view(http, conversations)

            # The backup, taken while the backend runs.
            started = time.perf_counter()
            if engine == "postgresql":
                dump = tmp_path / "marquee.dump"
                subprocess.run(
                    ["pg_dump", "-Fc", "-d", source_db, "-f", str(dump)], check=True, timeout=300
                )
            else:
                dump = tmp_path / "marquee-backup.sqlite3"
                source = sqlite3.connect(source_var / "marquee.sqlite3")
                target = sqlite3.connect(dump)
                source.backup(target)
                target.close()
                source.close()
            backup_seconds = time.perf_counter() - started
        rows_before = table_rows(source_db, source_var / "marquee.sqlite3")
        backend.stop()

        # Restore into a fresh database and folder, then rebuild the index from the rows alone:
        # the model service URL points nowhere, so nothing can be re-embedded.
        started = time.perf_counter()
        if engine == "postgresql":
            subprocess.run(
                ["pg_restore", "--no-owner", "-d", restored_db, str(dump)], check=True, timeout=300
            )
        else:
            restored_var.mkdir()
            shutil.copy(dump, restored_var / "marquee.sqlite3")
        offline = stack_env(restored_var, restored_db, f"http://127.0.0.1:{free_port()}")
        rebuilt = prepare(offline, "rebuild-index")
        verified = prepare(offline, "verify")
        restore_seconds = time.perf_counter() - started
        assert "missing from index: 0" in verified and "never embedded:     0" in verified

        rows_after = table_rows(restored_db, restored_var / "marquee.sqlite3")
        for table in TABLES:
            assert rows_after[table] == rows_before[table], f"{table} differs after the restore"
        assert len(rows_after["recommender_feedback"]) == 4
        assert len(rows_after["recommender_message"]) == 10

        restored_env = stack_env(restored_var, restored_db, model_url)
        backend, base = start_backend(restored_env, restored_var)
        cleanup.callback(backend.stop)
        with httpx.Client(base_url=base, timeout=180) as http:
            after = api_view(http, conversations)
            assert after == before
            # The restored database takes new rows after the old ones (sequences restored).
            more = http.post(
                "/api/chat/",
                json={"message": "a thriller", "conversation_id": conversations[0], "reply": False},
            )
            assert more.status_code == 200, more.text
            messages = http.get(f"/api/conversations/{conversations[0]}/").json()["messages"]
            assert len(messages) == 8 and messages[-1]["id"] == more.json()["message_id"]
    counts = {table: len(rows) for table, rows in rows_before.items()}
    print(
        f"\n{engine}: backup {backup_seconds:.1f} s ({dump.stat().st_size / 1e6:.1f} MB), restore "
        f"+ index rebuilt from the database {restore_seconds:.1f} s; rows identical "
        f"({digest(rows_before)}): {counts}; {rebuilt.strip()}; same conversations and "
        f"search results for {len(QUERIES)} queries"
    )
