"""Qdrant Edge specifics: one owning process, crash durability, corrupted files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vector_index import IndexCorrupted, IndexLocked, IndexPoint, IndexUnavailable
from vector_index.base import VECTOR_SIZE
from vector_index.edge import LOCK_FILE, SHARD_DIR, QdrantEdgeIndex

BACKEND = Path(__file__).resolve().parents[2]


def point(i: int) -> IndexPoint:
    vector = [0.0] * VECTOR_SIZE
    vector[i % VECTOR_SIZE] = 1.0
    return IndexPoint(id=i, vector=vector, payload={"title": f"movie {i}", "genres": ["Drama"]})


def run_child(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh Python process that imports the backend like the app does."""
    env = {**os.environ, "PYTHONPATH": str(BACKEND)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


TRY_OPEN = """
    import json, sys
    from pathlib import Path
    from vector_index import IndexLocked
    from vector_index.edge import QdrantEdgeIndex
    try:
        index = QdrantEdgeIndex(Path(sys.argv[1]))
    except IndexLocked as exc:
        print(json.dumps({"locked": True, "owner_pid": exc.owner_pid, "message": str(exc)}))
    else:
        index.ensure_collection()
        print(json.dumps({"locked": False, "count": index.count()}))
        index.close()
"""


def test_another_process_is_locked_out_while_open_and_gets_in_after_close(tmp_path: Path) -> None:
    owner = QdrantEdgeIndex(tmp_path)
    owner.ensure_collection()
    owner.upsert([point(1), point(2)])

    outcome = json.loads(run_child(TRY_OPEN, str(tmp_path)).stdout)
    assert outcome["locked"] is True
    assert outcome["owner_pid"] == os.getpid()
    assert str(os.getpid()) in outcome["message"]
    assert "stop `make run` or wait for `make data` to finish" in outcome["message"].lower()

    owner.close()
    outcome = json.loads(run_child(TRY_OPEN, str(tmp_path)).stdout)
    assert outcome == {"locked": False, "count": 2}


def test_second_handle_in_the_same_process_is_locked_out(tmp_path: Path) -> None:
    with QdrantEdgeIndex(tmp_path):
        with pytest.raises(IndexLocked) as excinfo:
            QdrantEdgeIndex(tmp_path)
        assert excinfo.value.owner_pid == os.getpid()
        assert isinstance(excinfo.value, IndexUnavailable)
    QdrantEdgeIndex(tmp_path).close()  # released by the context manager


def test_lock_owner_reports_the_holder_without_disturbing_it(tmp_path: Path) -> None:
    assert QdrantEdgeIndex.lock_owner(tmp_path) is None  # nothing there yet
    index = QdrantEdgeIndex(tmp_path)
    assert QdrantEdgeIndex.lock_owner(tmp_path) == os.getpid()
    assert (tmp_path / LOCK_FILE).read_text().strip() == str(os.getpid())
    index.ensure_collection()  # still ours after the probe
    index.close()
    assert QdrantEdgeIndex.lock_owner(tmp_path) is None
    assert (tmp_path / LOCK_FILE).read_text() == ""


def test_killed_writer_loses_nothing_and_releases_the_lock(tmp_path: Path) -> None:
    code = """
        import os, signal, sys
        from pathlib import Path
        from vector_index import IndexPoint
        from vector_index.edge import QdrantEdgeIndex
        index = QdrantEdgeIndex(Path(sys.argv[1]))
        index.ensure_collection()
        vector = [1.0] + [0.0] * 383
        points = (IndexPoint(id=i, vector=vector, payload={"title": str(i)}) for i in range(1, 301))
        index.upsert(points)
        os.kill(os.getpid(), signal.SIGKILL)  # no close(), no atexit
    """
    result = run_child(code, str(tmp_path))
    assert result.returncode == -signal.SIGKILL
    assert QdrantEdgeIndex.lock_owner(tmp_path) is None
    with QdrantEdgeIndex(tmp_path) as index:
        index.ensure_collection()
        assert index.count() == 300
        assert dict(index.iter_payloads())[300] == {"title": "300"}


def test_corrupted_files_raise_index_corrupted_with_the_rebuild_hint(tmp_path: Path) -> None:
    with QdrantEdgeIndex(tmp_path) as index:
        index.ensure_collection()
        index.upsert([point(i) for i in range(1, 50)])
    for file in (tmp_path / SHARD_DIR).rglob("*.json"):
        file.write_bytes(b"\x00not json{{{")

    index = QdrantEdgeIndex(tmp_path)  # taking the lock does not read the shard
    with pytest.raises(IndexCorrupted) as excinfo:
        index.ensure_collection()
    message = str(excinfo.value)
    assert str(tmp_path) in message
    assert "rebuild-index" in message
    assert "make data" in message

    # drop() needs no readable shard, so dropping is the way to start over.
    index.drop()
    index.ensure_collection()
    assert index.count() == 0
    index.close()


def test_unusable_directory_is_unavailable_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("")
    with pytest.raises(IndexUnavailable, match="writable directory"):
        QdrantEdgeIndex(tmp_path / "not-a-dir")


def test_closed_handle_says_so(tmp_path: Path) -> None:
    index = QdrantEdgeIndex(tmp_path)
    index.ensure_collection()
    index.close()
    index.close()  # idempotent
    with pytest.raises(IndexUnavailable, match="closed"):
        index.search([0.0] * VECTOR_SIZE)


def test_drop_keeps_the_lock(tmp_path: Path) -> None:
    with QdrantEdgeIndex(tmp_path) as index:
        index.ensure_collection()
        index.upsert([point(1)])
        index.drop()
        assert not (tmp_path / SHARD_DIR).exists()
        assert QdrantEdgeIndex.lock_owner(tmp_path) == os.getpid()
        with pytest.raises(IndexLocked):
            QdrantEdgeIndex(tmp_path)
