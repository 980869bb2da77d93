"""Bounded load on a real stack: bench/bench_load.py's clients for 10 s instead of 60.

The stack: the model service with SmolLM2 (llama.cpp), the demo catalog in SQLite under a
temporary folder (the `make run` default), the backend under gunicorn with CHAT_RATE_LIMIT=off.
20 clients mix chat turns (`reply: false`), searches, "more like this" and feedback while 4
clients stream chat turns whose replies the language model writes. Then the model service gets
1 + GEN_QUEUE_SIZE + 6 completions at once.

Asserted: no 5xx and no transport error or timeout from the backend; every chat turn and
feedback it accepted is stored (read back through the API, and the turns counted in the
database too); the model service refuses what its queue cannot hold with 503 + Retry-After,
at once, and answers the rest, none timing out. Latencies are printed, never asserted.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.bench_load import run_load, shed_burst, stored_counts
from scripts.stack import (
    PYTHON,
    REPO,
    SMALL_GENERATOR,
    backend_process,
    child_env,
    free_port,
    model_service_process,
)

pytestmark = pytest.mark.slow

CLIENTS, STREAMS, SECONDS = 20, 4, 10.0
GEN_QUEUE_SIZE = 4


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[tuple[str, str, Path]]:
    var = tmp_path_factory.mktemp("load")
    model_port, backend_port = free_port(), free_port()
    env = child_env(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        MARQUEE_VAR_DIR=str(var),
        DATABASE_URL="",  # SQLite, as `make run` on a fresh clone
        QDRANT_URL="",
        MODEL_SERVICE_URL=f"http://127.0.0.1:{model_port}",
        MODEL_THREADS="2",
        CHAT_RATE_LIMIT="off",  # every client comes from one address, on purpose
    )
    model = model_service_process(
        "127.0.0.1",
        model_port,
        {**env, **SMALL_GENERATOR, "GEN_QUEUE_SIZE": str(GEN_QUEUE_SIZE)},
    )  # fmt: skip
    backend = backend_process("127.0.0.1", backend_port, env)
    try:
        model.start(var / "logs" / "model_service.log").wait_ready(300)
        subprocess.run(
            [PYTHON, "prepare-databases/prepare.py", "ingest", "--source", "demo",
             "--no-progress"],
            cwd=REPO, env=env, check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        backend.start(var / "logs" / "backend.log").wait_ready(120)
        base = f"http://127.0.0.1:{backend_port}"
        with httpx.Client(base_url=base, timeout=120) as http:  # warm-up: router, linkers
            for message in ("a French comedy from the 90s", "something like Heat"):
                assert http.post("/api/chat/", json={"message": message}).status_code == 200
        yield base, f"http://127.0.0.1:{model_port}", var
    finally:
        backend.stop()
        model.stop()


def test_mixed_load_no_5xx_and_every_accepted_row_stored(stack) -> None:
    base, _, var = stack
    result = asyncio.run(run_load(base, clients=CLIENTS, streams=STREAMS, seconds=SECONDS))
    print(f"\n{CLIENTS} clients + {STREAMS} streaming chats, {SECONDS:.0f} s:")
    for line in result.lines():
        print(line)

    assert result.server_errors() == 0, result.statuses
    assert result.transport_errors() == 0, result.statuses
    for kind, statuses in result.statuses.items():
        assert set(statuses) <= {200, 201}, (kind, statuses)
    assert {"chat", "search", "similar", "feedback", "stream"} <= set(result.statuses)
    assert result.streams.get("done"), "no streamed turn finished"

    stored = asyncio.run(stored_counts(base, result))
    accepted = sum(result.turns.values())
    print(
        f"stored: user messages {stored.user_messages} of {accepted} turns answered, "
        f"feedback {stored.feedback} of {len(result.feedback)} accepted"
    )
    assert stored.unreadable == 0
    assert stored.user_messages == accepted
    assert stored.feedback == len(result.feedback) > 0

    # The same, counted in the database itself.
    ids = list(result.turns)
    marks = ",".join("?" * len(ids))
    with sqlite3.connect(var / "marquee.sqlite3") as db:
        (users,) = db.execute(
            "SELECT count(*) FROM recommender_message WHERE role = 'user' "
            f"AND replace(conversation_id, '-', '') IN ({marks})",
            [i.replace("-", "") for i in ids],
        ).fetchone()
        (feedback,) = db.execute(
            "SELECT count(*) FROM recommender_feedback f JOIN recommender_message m "
            f"ON m.id = f.message_id WHERE replace(m.conversation_id, '-', '') IN ({marks})",
            [i.replace("-", "") for i in ids],
        ).fetchone()
    assert users == accepted and feedback == len(result.feedback), (users, feedback)


def test_model_service_sheds_past_its_queue_with_503_and_retry_after(stack) -> None:
    _, model_url, _ = stack
    sent = 1 + GEN_QUEUE_SIZE + 6
    shed = asyncio.run(shed_burst(model_url, requests=sent, max_tokens=256))
    print()
    for line in shed.lines(sent, GEN_QUEUE_SIZE):
        print(line)
    assert shed.timeouts == 0
    assert set(shed.statuses) <= {200, 503}, shed.statuses
    assert shed.statuses[200] >= 1 + GEN_QUEUE_SIZE  # whatever the queue can hold is served
    assert shed.statuses[503] >= 1
    assert len(shed.retry_after) == shed.statuses[503] and min(shed.retry_after) >= 1
    assert sum(shed.statuses.values()) == sent
