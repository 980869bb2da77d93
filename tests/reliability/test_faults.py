"""Dependency faults against a real stack (RELIABILITY.md lists what each test injects).

The stack: a real model service (MiniLM embeddings, SmolLM2 through llama.cpp: fast), the
backend under gunicorn as `make run` starts it, a temporary PostgreSQL database of its own
(SQLite when no PostgreSQL answers at 127.0.0.1:5432; the database-outage tests then skip) and
the embedded index in a temporary folder. Each test breaks one real dependency while the stack
runs, checks what the API answers meanwhile, brings the dependency back and checks that the
stack recovered without a restart:

- the model service hung (SIGSTOP: it keeps its port and answers nothing), then continued;
- the model service stopped, then a server on its port answering 200 with junk (HTML, JSON of
  the wrong shape, vectors of the wrong size, NaN, the wrong count, a cut-off body; and a
  language model whose enrichments and reply streams are junk while embeddings are real), then
  the real service again;
- the embedded index damaged while the backend is stopped (garbage in its files, deleted,
  vector files truncated): search and "more like this" answer 503 saying how to rebuild it,
  health says so, chat answers from the database; `prepare.py verify --repair` restores search
  without changing a catalog row;
- the database refusing connections (only this test's temporary database), and every connection
  to it killed, as a server restart does;
- a write failing between the rows of a turn (a PostgreSQL trigger in the real stack; the ORM,
  in process): nothing of the turn is stored;
- `prepare.py ingest` SIGKILLed twice part-way through 3,000 movies: the re-run completes it
  and `prepare.py verify` finds no mismatch.

Timings are printed (pytest -s shows them), never asserted: the machine may be busy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from scripts.stack import (
    PYTHON,
    REPO,
    SMALL_GENERATOR,
    SeparateServices,
    child_env,
    free_port,
    model_service_process,
    postgres_available,
    temporary_postgres_database,
)

pytestmark = pytest.mark.slow

EXPLICIT = "a French comedy from the 90s"
VAGUE = "movies that make me cry"
SIMILAR = "something like The Matrix"
QUERY = "a boy discovers he is a wizard and goes to a school of magic"
BACKEND_THREADS = 8


# -- the stack --------------------------------------------------------------------------------


class Stack(SeparateServices):
    """The model service and the backend over one database and one index folder."""

    def __init__(self, var: Path, database_url: str) -> None:
        self.var = var
        self.database_url = database_url
        model_port = free_port()
        env = child_env(
            DJANGO_SETTINGS_MODULE="config.settings.local",
            MARQUEE_VAR_DIR=str(var),
            DATABASE_URL=database_url,
            QDRANT_URL="",
            MODEL_SERVICE_URL=f"http://127.0.0.1:{model_port}",
            MODEL_THREADS="2",
            CHAT_RATE_LIMIT="off",
            # Short waits for a hung model service, so each fault costs seconds, not minutes.
            MODEL_SERVICE_TIMEOUT="4",
            MODEL_SERVICE_RETRIES="1",
            CHAT_EMBED_TIMEOUT="2",
            CHAT_ENRICH_TIMEOUT="6",
            INDEX_SYNC_INTERVAL="0.5",
            BACKEND_THREADS=str(BACKEND_THREADS),
        )
        super().__init__(env, var / "logs", model_port=model_port, backend_port=free_port())

    @property
    def index_path(self) -> Path:
        return self.var / "index" / "movies"

    def start_model(self, log_name: str = "model_service.log", **extra: str) -> None:
        super().start_model(log_name, **{**SMALL_GENERATOR, **extra})

    def prepare(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return run_prepare(self.env, *args, timeout=timeout)


def run_prepare(env: dict[str, str], *args: str, timeout: float = 600):
    return subprocess.run(
        [PYTHON, "prepare-databases/prepare.py", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.fixture(scope="module")
def database_url(tmp_path_factory) -> Iterator[str]:
    """A temporary PostgreSQL database, or SQLite under the stack's folder without one."""
    if not postgres_available():
        yield ""
        return
    with temporary_postgres_database("marquee_faults") as url:
        yield url


@pytest.fixture(scope="module")
def stack(tmp_path_factory, database_url) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("faults"), database_url)
    try:
        running.start_model()
        started = time.perf_counter()
        result = running.prepare("ingest", "--source", "demo", "--no-progress")
        assert result.returncode == 0, result.stdout + result.stderr
        print(f"\ndemo catalog ingested in {time.perf_counter() - started:.1f} s")
        running.start_backend()
        yield running
    finally:
        running.stop_backend()
        running.stop_model()


@pytest.fixture(scope="module")
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=180) as client:
        yield client


@pytest.fixture
def postgres(database_url: str) -> str:
    if not database_url:
        pytest.skip("no PostgreSQL at 127.0.0.1:5432: the outage is injected into PostgreSQL")
    return database_url


# -- helpers ----------------------------------------------------------------------------------


def chat(http: httpx.Client, message: str, *, reply: bool = True, **extra: Any) -> httpx.Response:
    return http.post("/api/chat/", json={"message": message, "reply": reply, **extra})


def chat_ok(http: httpx.Client, message: str, **extra: Any) -> dict[str, Any]:
    response = chat(http, message, **extra)
    assert response.status_code == 200, response.text
    return response.json()


def stream_events(http: httpx.Client, body: dict[str, Any]) -> tuple[int, list[tuple[str, dict]]]:
    events: list[tuple[str, dict]] = []
    with http.stream("POST", "/api/chat/stream/", json=body) as response:
        if response.status_code != 200:
            response.read()
            return response.status_code, [("http", response.json())]
        name = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
    return 200, events


def assert_answered_without_the_model(body: dict[str, Any], *, reply: bool = True) -> None:
    """A turn the model service could not help with: films, degraded, a templated reply."""
    assert body["movies"], body
    assert body["degraded"] is True, body
    if reply:
        assert body["reply_source"] == "template", body
        assert body["reply"].strip(), body


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def health(http: httpx.Client) -> tuple[int, dict[str, Any]]:
    response = http.get("/api/health/")
    return response.status_code, response.json()


def model_service_healthy(http: httpx.Client) -> bool:
    return health(http)[1].get("model_service", {}).get("ok") is True


# -- a model service answering junk ------------------------------------------------------------


def _hash_vector(text: str, dim: int = 384) -> list[float]:
    """Bag-of-words hashing: texts sharing words are close (as backend/tests' FakeEmbedder)."""
    vector = np.zeros(dim, dtype=np.float32)
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        vector[int.from_bytes(digest[:4], "little") % dim] += 1.0
    norm = float(np.linalg.norm(vector)) or 1.0
    if not vector.any():
        vector[0] = 1.0
    return (vector / norm).tolist()


JUNK_KINDS = ["html", "json-array", "wrong-fields", "wrong-shapes", "nan", "wrong-count",
              "cut-off", "empty"]  # fmt: skip


class FakeModelService:
    """An HTTP server on the model service's port, answering as `kind` says:

    - a junk kind (JUNK_KINDS): every endpoint answers 200 with junk of that kind;
    - "llm-junk": embeddings, models and readiness forwarded to a real model service at
      `upstream`; enrichment and chat completions answered with junk of rotating shapes;
    - "embeddings": a working embeddings-only service (hashing vectors), each embeddings request
      taking `delay` seconds (an ingestion to interrupt).
    """

    def __init__(self, port: int, kind: str = "html", *, upstream: str = "") -> None:
        self.kind, self.upstream, self.delay = kind, upstream, 0.0
        self.requests = 0
        self._rotation = 0
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                service._handle(self, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                service._handle(self, body if isinstance(body, dict) else {})

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeModelService:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        self.requests += 1
        path = handler.path.split("?")[0]
        texts = body.get("input") if isinstance(body.get("input"), list) else [""]
        if self.kind == "cut-off":  # promises more than it sends, then hangs up
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", "4096")
            handler.end_headers()
            handler.wfile.write(b'{"data": [{"index": 0, "embedding": [0.1, ')
            handler.wfile.flush()
            handler.close_connection = True
            return
        if self.kind == "embeddings":
            status, ctype, data = self._embeddings(path, texts)
        elif self.kind == "llm-junk":
            status, ctype, data = self._llm_junk(path, body)
        else:
            status, ctype, data = 200, *self._junk(path, len(texts))
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", ctype)
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client was killed meanwhile
            pass

    def _junk(self, path: str, n: int) -> tuple[str, bytes]:
        kind = self.kind
        if kind == "html":
            return "text/html", b"<html><body><h1>It works!</h1></body></html>"
        if kind == "empty":
            return "application/json", b""
        if kind == "json-array":
            return "application/json", b"[1, 2, 3]"
        if kind == "wrong-fields":
            junk = {"data": "nope", "search_text": 42, "choices": 7, "status": None, "models": 3}
            return "application/json", json.dumps(junk).encode()
        if kind == "wrong-shapes":
            return self._wrong_shapes(path, n)
        if kind == "nan":
            if path == "/v1/embeddings":
                rows = [{"index": i, "embedding": [float("nan")] * 384} for i in range(n)]
                return "application/json", json.dumps({"data": rows, "model": "junk"}).encode()
            return "application/json", b'{"status": "ready", "models": {}}'
        if kind == "wrong-count":
            if path == "/v1/embeddings":
                rows = [{"index": i, "embedding": [0.05] * 384} for i in range(n + 1)]
                return "application/json", json.dumps({"data": rows, "model": "junk"}).encode()
            return "application/json", b"null"
        raise ValueError(kind)

    def _wrong_shapes(self, path: str, n: int) -> tuple[str, bytes]:
        if path == "/v1/embeddings":  # three dimensions instead of 384
            rows = [{"index": i, "embedding": [0.1, 0.2, 0.3]} for i in range(n)]
            return "application/json", json.dumps({"data": rows, "model": "junk"}).encode()
        if path == "/v1/models":
            return "application/json", b'{"data": [{"id": 5, "type": "embedding"}]}'
        if path.startswith("/v1/chat"):
            return "text/event-stream", b'data: [1, 2]\n\ndata: {"choices": "x"}\n\n'
        return "application/json", b'{"status": "ready", "models": "all of them"}'

    _ENRICH_JUNK = [
        {"search_text": "x", "genres": 5},
        {"search_text": "x", "exclude_genres": {"a": 1}, "reference_titles": 7},
        {"search_text": None},
        {"search_text": "x", "year_min": "soon", "language": ["fr"]},
        "just a string",
    ]
    _CHAT_JUNK = [
        b"data: [1, 2]\n\n",
        b'data: {"choices": "x"}\n\n',
        b'data: {"choices": [5]}\n\n',
        b'data: {"choices": [{"delta": {"content": 5}}]}\n\n',
        b"data: {not json\n\n",
        b'data: {"error": "boom"}\n\n',
    ]

    def _llm_junk(self, path: str, body: dict[str, Any]) -> tuple[int, str, bytes]:
        self._rotation += 1
        if path == "/v1/enrich":
            junk = self._ENRICH_JUNK[self._rotation % len(self._ENRICH_JUNK)]
            return 200, "application/json", json.dumps(junk).encode()
        if path == "/v1/chat/completions":
            junk = self._CHAT_JUNK[self._rotation % len(self._CHAT_JUNK)]
            return 200, "text/event-stream", junk + b"data: [DONE]\n\n"
        response = httpx.request(  # embeddings, models, readiness: the real service's answers
            "POST" if body else "GET", f"{self.upstream}{path}", json=body or None, timeout=60
        )
        ctype = response.headers.get("content-type", "application/json")
        return response.status_code, ctype, response.content

    def _embeddings(self, path: str, texts: list[Any]) -> tuple[int, str, bytes]:
        if path == "/v1/embeddings":
            time.sleep(self.delay)
            rows = [
                {"object": "embedding", "index": i, "embedding": _hash_vector(str(text))}
                for i, text in enumerate(texts)
            ]
            data = {"object": "list", "data": rows, "model": "fake-hashing-384"}
            return 200, "application/json", json.dumps(data).encode()
        if path == "/v1/models":
            data = {"data": [{"id": "fake-hashing-384", "type": "embedding", "dimensions": 384}]}
            return 200, "application/json", json.dumps(data).encode()
        if path in ("/readyz", "/healthz"):
            data = {"status": "ready", "models": {"embedding": "fake-hashing-384"}}
            return 200, "application/json", json.dumps(data).encode()
        return 404, "application/json", b'{"error": {"message": "no such endpoint"}}'


# -- the model service ---------------------------------------------------------------------------


def test_model_service_hung_then_continued(stack: Stack, http: httpx.Client) -> None:
    """SIGSTOP: the port stays open and nothing answers. Turns wait one CHAT_EMBED_TIMEOUT,
    then answer from the database with a templated reply; after SIGCONT the next turn is whole."""
    before = chat_ok(http, EXPLICIT)  # also builds the intent router and the FAQ index
    assert before["degraded"] is False and before["movies"], before

    assert stack.model is not None
    stack.model.pause()
    try:
        started = time.perf_counter()
        body = chat_ok(http, EXPLICIT)
        hung_turn = time.perf_counter() - started
        assert_answered_without_the_model(body)
        assert any("model service" in notice for notice in body["notices"]), body["notices"]

        started = time.perf_counter()
        search = http.get("/api/movies/", params={"q": QUERY})
        hung_search = time.perf_counter() - started
        assert search.status_code == 200, search.text
        assert search.json()["degraded"] is True and search.json()["mode"] == "keyword"

        code, report = health(http)
        assert code == 200 and report["status"] == "degraded", report
        assert report["model_service"]["ok"] is False and report["database"]["ok"] is True
    finally:
        stack.model.resume()

    recovered_in = wait_for(lambda: model_service_healthy(http), 120, "the model service")
    started = time.perf_counter()
    after = chat_ok(http, EXPLICIT)
    assert after["degraded"] is False, after
    assert after["reply_source"] in ("model", "template") and after["reply"].strip()
    print(
        f"\nhung model service: turn {hung_turn:.1f} s (CHAT_EMBED_TIMEOUT 2 s), search "
        f"{hung_search:.1f} s (MODEL_SERVICE_TIMEOUT 4 s); healthy again {recovered_in:.1f} s "
        f"after SIGCONT; next turn {time.perf_counter() - started:.1f} s, not degraded"
    )


def test_model_service_down_then_junk_then_back(stack: Stack, http: httpx.Client) -> None:
    """Stopped: turns answer from the database at once. A server answering 200 with junk on
    its port: never a 5xx, every turn degraded. The real service back: the next turn is whole."""
    stack.stop_model()
    started = time.perf_counter()
    body = chat_ok(http, EXPLICIT)
    down_turn = time.perf_counter() - started
    assert_answered_without_the_model(body)
    code, events = stream_events(http, {"message": SIMILAR})
    assert code == 200 and events[0][0] == "meta", events
    done = dict(events)["done"]
    assert dict(events)["meta"]["movies"] and done["degraded"] is True
    assert done["reply_source"] == "template" and done["reply"].strip()
    search = http.get("/api/movies/", params={"q": QUERY}).json()
    assert search["degraded"] is True and search["mode"] == "keyword" and search["results"]
    code, report = health(http)
    assert code == 200 and report["model_service"]["ok"] is False, report

    outcomes: dict[str, list[str]] = {}
    with FakeModelService(stack.model_port) as junk:
        for kind in JUNK_KINDS:
            junk.kind = kind
            seen = outcomes.setdefault(kind, [])
            for message in (EXPLICIT, VAGUE, SIMILAR):
                response = chat(http, message)
                assert response.status_code == 200, f"{kind}: {message}: {response.text}"
                body = response.json()
                assert_answered_without_the_model(body)
                seen.append(body["reply_source"])
            code, events = stream_events(http, {"message": EXPLICIT})
            assert code == 200 and "done" in dict(events), f"{kind}: {events}"
            assert dict(events)["done"]["degraded"] is True
            search = http.get("/api/movies/", params={"q": QUERY})
            assert search.status_code == 200 and search.json()["degraded"] is True, search.text
            code, report = health(http)
            assert code == 200, f"{kind}: {report}"
        assert junk.requests > 0

    # Real embeddings, junk from the language model: enrichment and replies fall back.
    upstream_port = free_port()
    upstream = model_service_process(
        "127.0.0.1", upstream_port, {**stack.env, "MODEL_GENERATOR": "none"}
    ).start(stack.logs / "model_service_embeddings.log")
    try:
        upstream.wait_ready(300)
        with FakeModelService(
            stack.model_port, "llm-junk", upstream=f"http://127.0.0.1:{upstream_port}"
        ):
            sources, notices = [], []
            for message in (EXPLICIT, VAGUE, SIMILAR, "films about growing up", VAGUE):
                body = chat_ok(http, message)
                assert body["reply"].strip() and body["reply_source"] != "model", body
                assert body["degraded"] is True and body["enrichment"] is None, body
                sources.append((body["intent"], len(body["movies"])))
                notices += body["notices"]
            outcomes["llm-junk"] = [str(s) for s in sources]
            # The junk reached both the enrichment and the reply, and each fell back.
            assert any("Request understanding" in notice for notice in notices), notices
            assert any("could not write a reply" in notice for notice in notices), notices
            print(f"\nllm-junk turns (intent, films): {sources}")
    finally:
        upstream.stop()

    stack.start_model()
    recovered_in = wait_for(lambda: model_service_healthy(http), 60, "the model service")
    after = chat_ok(http, EXPLICIT)
    assert after["degraded"] is False and after["movies"], after
    code, report = health(http)
    assert code == 200 and report["status"] == "ok", report
    print(
        f"\nmodel service down: turn {down_turn:.2f} s; junk kinds answered 200, degraded: "
        f"{', '.join(outcomes)}; back and healthy {recovered_in:.1f} s after the restart"
    )


# -- the vector index ---------------------------------------------------------------------------


def catalog_rows(database_url: str, var: Path) -> tuple[int, str]:
    """(movies, digest of every catalog row but the index bookkeeping): to show that a repair
    of the index changed nothing in the database."""
    columns = (
        "tmdb_id, title, overview, year, vote_average, content_hash, embedding_text_hash, "
        "embedding_model, embedding, created_at, updated_at"
    )
    query = f"SELECT {columns} FROM catalog_movie ORDER BY tmdb_id"
    rows = sql_rows(database_url, var, query)
    links = sql_rows(
        database_url, var, "SELECT movie_id, genre_id FROM catalog_movie_genres ORDER BY 1, 2"
    )
    digest = hashlib.sha256(repr([*rows, *links]).encode()).hexdigest()
    return len(rows), digest


def sql_rows(database_url: str, var: Path, query: str, params: tuple = ()) -> list[tuple]:
    if database_url:
        import psycopg

        with psycopg.connect(database_url) as conn:
            return [
                tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in conn.execute(query.replace("?", "%s"), params).fetchall()
            ]
    with sqlite3.connect(var / "marquee.sqlite3") as conn:
        return conn.execute(query, params).fetchall()


def damage_index(path: Path, damage: str) -> None:
    shard = path / "shard"
    assert shard.is_dir(), f"no index at {path}"
    if damage == "garbage":
        for file in shard.rglob("*.json"):
            file.write_bytes(b"\x00\xffnot json{{{")
    elif damage == "deleted":
        shutil.rmtree(path)
    elif damage == "vectors-truncated":
        files = list(shard.rglob("*.mmap"))
        assert files
        for file in files:
            file.write_bytes(b"")
    else:
        raise ValueError(damage)


@pytest.mark.parametrize("damage", ["garbage", "deleted", "vectors-truncated"])
def test_damaged_index_503_then_verify_repair_restores_search(
    stack: Stack, http: httpx.Client, damage: str
) -> None:
    baseline = http.get("/api/movies/", params={"q": QUERY, "limit": 5}).json()
    assert baseline["mode"] == "semantic" and baseline["results"], baseline
    top = baseline["results"][0]["id"]
    rows_before = catalog_rows(stack.database_url, stack.var)

    stack.stop_backend()
    damage_index(stack.index_path, damage)
    stack.start_backend()

    search = http.get("/api/movies/", params={"q": QUERY})
    assert search.status_code == 503, search.text
    error = error_of(search)
    assert error["code"] == "index_unavailable", error
    assert "verify --repair" in error["message"] and "make verify" in error["message"], error
    assert search.headers.get("Retry-After")
    similar = http.get(f"/api/movies/{top}/similar/")
    assert similar.status_code == 503 and error_of(similar)["code"] == "index_unavailable"
    code, report = health(http)
    assert code == 200 and report["status"] == "degraded", report
    assert report["index"]["ok"] is False and "verify --repair" in report["index"]["detail"]
    body = chat_ok(http, EXPLICIT)
    assert body["movies"] and body["degraded"] is True, body
    assert any("vector index" in notice for notice in body["notices"]), body["notices"]
    assert http.get("/api/movies/", params={"genre": "Comedy"}).status_code == 200

    stack.stop_backend()
    started = time.perf_counter()
    # Either way the message gives: `verify --repair`, or ingesting the same catalog again
    # (which finds the index short of what the database holds and writes it all back).
    repair = ["verify", "--repair"]
    if damage == "deleted":
        repair = ["ingest", "--source", "demo", "--no-progress"]
    result = stack.prepare(*repair)
    repair_seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert catalog_rows(stack.database_url, stack.var) == rows_before
    check = stack.prepare("verify")
    assert check.returncode == 0, check.stdout + check.stderr
    stack.start_backend()

    again = http.get("/api/movies/", params={"q": QUERY, "limit": 5}).json()
    assert again["mode"] == "semantic" and again["results"][0]["id"] == top, again
    code, report = health(http)
    assert code == 200 and report["status"] == "ok", report
    assert report["indexed"] == report["movies"] == rows_before[0]
    print(
        f"\nindex {damage}: search 503 ({error['message'][:90]}…); `prepare.py "
        f"{' '.join(repair)}` {repair_seconds:.1f} s, {rows_before[0]} catalog rows unchanged; "
        "search back"
    )


# -- the database -------------------------------------------------------------------------------


def _admin() -> Any:
    import psycopg

    from scripts.stack import POSTGRES_ADMIN_URL

    return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True)


def kill_connections(name: str) -> int:
    with _admin() as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
    return int(row[0])


@contextmanager
def database_refusing(database_url: str) -> Iterator[None]:
    """This test's database only: refuse new connections and end the open ones."""
    from psycopg import sql

    name = database_url.rsplit("/", 1)[1]
    with _admin() as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(name))
        )
    try:
        kill_connections(name)
        yield
    finally:
        with _admin() as admin:
            admin.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(name))
            )


def burst(http: httpx.Client, path: str, n: int) -> list[int]:
    with ThreadPoolExecutor(BACKEND_THREADS * 2) as pool:
        return list(pool.map(lambda _: http.get(path).status_code, range(n)))


def test_database_unavailable_503_then_back(
    stack: Stack, http: httpx.Client, postgres: str
) -> None:
    first = chat_ok(http, EXPLICIT, reply=False)
    conversation = first["conversation_id"]
    movie = first["movies"][0]["id"]

    with database_refusing(postgres):
        for response in (
            chat(http, EXPLICIT, reply=False),
            chat(http, EXPLICIT, reply=False, conversation_id=conversation),
            http.post("/api/chat/stream/", json={"message": EXPLICIT}),
            http.post("/api/feedback/", json={"message_id": first["message_id"], "rating": 1}),
            http.get(f"/api/conversations/{conversation}/"),
            http.get("/api/movies/", params={"q": QUERY}),
            http.get("/api/movies/", params={"genre": "Comedy"}),
            http.get(f"/api/movies/{movie}/"),
            http.get(f"/api/movies/{movie}/similar/"),
            http.get("/api/catalog/map/"),
        ):
            where = f"{response.request.method} {response.request.url.path}"
            assert response.status_code == 503, f"{where}: {response.text}"
            assert error_of(response)["code"] == "database_unavailable", where
            assert response.headers.get("Retry-After"), where
        code, report = health(http)
        assert code == 503 and report["status"] == "error", report
        assert report["database"]["ok"] is False

    # Back: the threads that answered during the outage dropped their broken connections.
    statuses = burst(http, "/api/movies/?genre=Comedy", 4 * BACKEND_THREADS)
    stale_after_outage = sum(s != 200 for s in statuses)
    # A server restart: every open connection ends at once. Threads whose connection died
    # while idle find out on their next query (without CONN_HEALTH_CHECKS: a 503, once each).
    killed = kill_connections(postgres.rsplit("/", 1)[1])
    restart = burst(http, "/api/movies/?genre=Comedy", 4 * BACKEND_THREADS)
    stale_after_restart = sum(s != 200 for s in restart)
    assert set(statuses + restart) <= {200, 503}, statuses + restart  # never a 500
    settled = burst(http, "/api/movies/?genre=Comedy", 4 * BACKEND_THREADS)
    assert settled == [200] * len(settled), settled
    from django.conf import settings

    if settings.DATABASES["default"].get("CONN_HEALTH_CHECKS"):
        assert stale_after_outage == stale_after_restart == 0
    else:
        assert stale_after_outage + stale_after_restart <= 2 * BACKEND_THREADS

    after = chat_ok(http, EXPLICIT, reply=False, conversation_id=conversation)
    stored = http.get(f"/api/conversations/{conversation}/").json()["messages"]
    assert [m["role"] for m in stored] == ["user", "assistant"] * 2
    assert stored[-1]["id"] == after["message_id"]
    print(
        f"\ndatabase refusing connections: every endpoint 503 database_unavailable; after it: "
        f"{stale_after_outage} failed requests of {4 * BACKEND_THREADS}; after killing "
        f"{killed} connections (a restart): {stale_after_restart} of {4 * BACKEND_THREADS} "
        "(connections checked before reuse: CONN_HEALTH_CHECKS), then all 200"
    )


@contextmanager
def failing_inserts(database_url: str, table: str) -> Iterator[None]:
    """A PostgreSQL trigger: every INSERT into `table` fails, as a full disk or a lost
    connection would part-way through a transaction."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION reliability_fail() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'injected failure on %', TG_TABLE_NAME; END $$ LANGUAGE plpgsql"
        )
        conn.execute(
            f"CREATE TRIGGER reliability_fail BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION reliability_fail()"
        )
    try:
        yield
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"DROP TRIGGER IF EXISTS reliability_fail ON {table}")


def turn_counts(database_url: str) -> dict[str, int]:
    tables = {
        "conversations": "recommender_conversation",
        "messages": "recommender_message",
        "recommendations": "recommender_recommendation",
        "feedback": "recommender_feedback",
    }
    return {
        name: sql_rows(database_url, Path(), f"SELECT count(*) FROM {table}")[0][0]
        for name, table in tables.items()
    }


def test_a_write_failing_mid_turn_stores_nothing(
    stack: Stack, http: httpx.Client, postgres: str
) -> None:
    """The recommendations are a turn's last rows: failing them must take the conversation
    and both messages back with them (one transaction)."""
    first = chat_ok(http, EXPLICIT, reply=False)
    conversation = first["conversation_id"]
    (updated_before,) = sql_rows(
        postgres, Path(), "SELECT updated_at FROM recommender_conversation WHERE id = ?",
        (conversation,),
    )[0]  # fmt: skip
    before = turn_counts(postgres)

    with failing_inserts(postgres, "recommender_recommendation"):
        fresh = chat(http, EXPLICIT, reply=False)
        assert fresh.status_code == 503, fresh.text
        assert error_of(fresh)["code"] == "database_unavailable"
        existing = chat(http, SIMILAR, reply=False, conversation_id=conversation)
        assert existing.status_code == 503, existing.text
        code, events = stream_events(http, {"message": EXPLICIT, "reply": False})
        assert code == 200 and [name for name, _ in events] == ["meta", "error"], events
        assert events[-1][1]["code"] == "database_unavailable"
    assert turn_counts(postgres) == before
    (updated_after,) = sql_rows(
        postgres, Path(), "SELECT updated_at FROM recommender_conversation WHERE id = ?",
        (conversation,),
    )[0]  # fmt: skip
    assert updated_after == updated_before

    with failing_inserts(postgres, "recommender_feedback"):
        response = http.post(
            "/api/feedback/",
            json={"message_id": first["message_id"], "movie_id": first["movies"][0]["id"],
                  "rating": 1},
        )  # fmt: skip
        assert response.status_code == 503, response.text
    assert turn_counts(postgres) == before

    # Nothing left behind that would break the next write.
    after = chat_ok(http, SIMILAR, reply=False, conversation_id=conversation)
    response = http.post(
        "/api/feedback/",
        json={"message_id": after["message_id"], "movie_id": after["movies"][0]["id"],
              "rating": -1},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    counts = turn_counts(postgres)
    assert counts["messages"] == before["messages"] + 2
    assert counts["conversations"] == before["conversations"]
    assert counts["feedback"] == before["feedback"] + 1
    print(f"\nfailing writes: 3 turns and 1 feedback refused, rows unchanged {before}")


@pytest.mark.django_db(transaction=True)
def test_chat_turn_rows_are_one_transaction_in_process(monkeypatch) -> None:
    """The same guarantee through the ORM, in process: Recommendation.bulk_create raises after
    the conversation and both messages were written; none of them is left."""
    from django.db import DatabaseError
    from rest_framework.test import APIClient

    from catalog.models import Genre, Movie
    from recommender.models import Conversation, Feedback, Message, Recommendation
    from recommender.pipeline import ChatTurn, ShownMovie, TurnPlan

    movie = Movie.objects.create(tmdb_id=424242, title="A Test Film", year=1994)
    movie.genres.add(Genre.objects.create(name="Comedy"))

    def plan(self: Any, request: Any) -> TurnPlan:
        return TurnPlan(
            intent="recommend",
            intent_confidence=1.0,
            movies=[ShownMovie(Movie.objects.get(tmdb_id=424242), 1.0, "a test")],
            understanding={},
            fallback_reply="Try A Test Film.",
        )

    def fail(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("injected: the disk is full")

    monkeypatch.setattr(ChatTurn, "plan", plan)
    api = APIClient()
    saved = api.post("/api/chat/", {"message": "a comedy", "reply": False}, format="json")
    assert saved.status_code == 200, saved.json()
    conversation = saved.json()["conversation_id"]
    stamp = Conversation.objects.get(id=conversation).updated_at

    monkeypatch.setattr(Recommendation.objects, "bulk_create", fail)
    for body in ({}, {"conversation_id": conversation}):
        response = api.post(
            "/api/chat/", {"message": "another comedy", "reply": False, **body}, format="json"
        )
        assert response.status_code == 503, response.json()
        assert response.json()["error"]["code"] == "database_unavailable"
    response = api.post("/api/chat/stream/", {"message": "a comedy"}, format="json")
    events = b"".join(response.streaming_content).decode()
    assert "event: meta" in events and "database_unavailable" in events
    assert Conversation.objects.count() == 1
    assert Message.objects.count() == 2 and Recommendation.objects.count() == 1
    assert Conversation.objects.get(id=conversation).updated_at == stamp

    monkeypatch.setattr(Feedback.objects, "update_or_create", fail)
    message_id = saved.json()["message_id"]
    response = api.post("/api/feedback/", {"message_id": message_id, "rating": 1}, format="json")
    assert response.status_code == 503 and Feedback.objects.count() == 0


# -- ingestion ------------------------------------------------------------------------------------


def synthetic_catalog(path: Path, count: int) -> Path:
    words = [
        "heist", "storm", "island", "orchestra", "detective", "robot", "winter", "desert",
        "circus", "lighthouse", "pilot", "garden", "chess", "volcano", "librarian", "comet",
    ]  # fmt: skip
    genres = ["Drama", "Comedy", "Thriller", "Science Fiction", "Romance", "Animation"]
    with path.open("w") as out:
        for i in range(count):
            picked = [words[(i * 7 + k * 3) % len(words)] for k in range(4)]
            out.write(
                json.dumps(
                    {
                        "tmdb_id": 900_000 + i,
                        "title": f"Synthetic {i}: The {picked[0].title()}",
                        "year": 1950 + i % 70,
                        "genres": [genres[i % len(genres)], genres[(i // 6) % len(genres)]],
                        "original_language": ["en", "fr", "ko", "ja"][i % 4],
                        "overview": f"A story of a {picked[1]} and a {picked[2]} near a "
                        f"{picked[3]}, number {i}.",
                        "vote_average": 5 + (i % 40) / 10,
                        "vote_count": 10 + i,
                        "popularity": float(i % 97),
                    }
                )
                + "\n"
            )
    return path


@pytest.fixture
def ingestion_database(tmp_path) -> Iterator[str]:
    if not postgres_available():
        yield ""
        return
    with temporary_postgres_database("marquee_ingest") as url:
        yield url


def test_ingestion_killed_midway_is_completed_by_a_rerun(tmp_path, ingestion_database) -> None:
    count = 3000
    data = synthetic_catalog(tmp_path / "synthetic.jsonl", count)
    port = free_port()
    env = child_env(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        MARQUEE_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=ingestion_database,
        QDRANT_URL="",
        MODEL_SERVICE_URL=f"http://127.0.0.1:{port}",
    )
    ingest = [PYTHON, "prepare-databases/prepare.py", "ingest", "--source", "jsonl",
              "--data", str(data), "--no-progress"]  # fmt: skip

    def stored() -> int:
        try:
            rows = sql_rows(
                ingestion_database, tmp_path / "var", "SELECT count(*) FROM catalog_movie"
            )
        except Exception:  # not migrated yet
            return 0
        return int(rows[0][0])

    kills = []
    with FakeModelService(port, "embeddings") as embedder:
        embedder.delay = 0.4  # ~12 requests of 256 texts: the run takes several seconds
        # Two kills at different moments of a chunk: right as rows are committed, and a
        # little later (embedding the next chunk, or writing this one to the index).
        for kill_at, pause in ((count // 3, 0.0), (2 * count // 3, 0.25)):
            proc = subprocess.Popen(
                ingest, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            try:
                wait_for(
                    lambda at=kill_at, proc=proc: stored() >= at or proc.poll() is not None,
                    300,
                    f"{kill_at} movies stored",
                )
                time.sleep(pause)
            finally:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(30)
            assert proc.returncode == -signal.SIGKILL, "the ingestion ended before the kill"
            state = run_prepare(env, "verify", timeout=300)
            kills.append((stored(), state.stdout.strip().splitlines()))

        started = time.perf_counter()
        final = run_prepare(env, *ingest[2:], timeout=600)
        rerun = time.perf_counter() - started
    assert final.returncode == 0, final.stdout + final.stderr
    summary = final.stdout
    assert re.search(rf"read {count}\b", summary), summary

    verify = run_prepare(env, "verify", timeout=300)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    report = verify.stdout
    expected = [
        "missing from index: 0", "extra in index:     0", "stale in index:     0",
        "never embedded:     0", f"database movies: {count}", f"index points:    {count}",
    ]  # fmt: skip
    for line in expected:
        assert line in report, report
    for stored_at_kill, lines in kills:
        missing = next((line for line in lines if line.startswith("missing")), "?")
        print(f"\nkilled with {stored_at_kill} of {count} movies stored: verify said {missing!r}")
    print(f"re-run completed it in {rerun:.1f} s:\n{summary.strip()}\nverify: 0 mismatches")


def test_a_turn_stops_asking_a_hung_model_service_but_waits_for_a_busy_language_model() -> None:
    """The per-turn breaker of the chat (recommender.apis._TurnClient), in process: an
    embedding that timed out (hung service) or a refused connection makes the rest of the turn
    skip the service; an enrichment that only took too long does not."""
    from clients.model_service import ModelServiceUnavailable
    from recommender.apis import _TurnClient

    def unavailable(cause: Exception) -> ModelServiceUnavailable:
        try:
            raise ModelServiceUnavailable("no answer") from cause
        except ModelServiceUnavailable as exc:
            return exc

    class Service:
        def __init__(self, embed_error: Exception | None, enrich_error: Exception | None):
            self.embed_error, self.enrich_error, self.replies = embed_error, enrich_error, 0

        def embed(self, texts: list[str], *, timeout: float | None = None) -> str:
            if self.embed_error:
                raise self.embed_error
            return "vectors"

        def enrich(self, message: str, **kwargs: Any) -> dict[str, Any]:
            if self.enrich_error:
                raise self.enrich_error
            return {"search_text": message}

        def chat_stream(self, messages: list[dict[str, str]], **kwargs: Any) -> Iterator[str]:
            self.replies += 1
            yield "A reply."

    def reply(service: Service) -> str:
        client = _TurnClient(service)
        for call in (lambda: client.embed(["x"]), lambda: client.enrich("x")):
            with contextlib.suppress(ModelServiceUnavailable):
                call()
        try:
            return "".join(client.chat_stream([{"role": "user", "content": "x"}]))
        except ModelServiceUnavailable:
            return "template"

    hung = Service(unavailable(httpx.ReadTimeout("slow")), None)
    assert reply(hung) == "template" and hung.replies == 0
    refused = Service(None, unavailable(httpx.ConnectError("refused")))
    assert reply(refused) == "template" and refused.replies == 0
    busy = Service(None, unavailable(httpx.ReadTimeout("slow")))
    assert reply(busy) == "A reply." and busy.replies == 1
