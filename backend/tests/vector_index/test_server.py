"""Qdrant server specifics (transport errors) and choosing a backend from configuration."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from vector_index import IndexUnavailable, VectorIndex
from vector_index.base import VECTOR_SIZE
from vector_index.edge import QdrantEdgeIndex
from vector_index.factory import build_vector_index
from vector_index.server import QdrantServerIndex

UNREACHABLE = "http://127.0.0.1:1"  # nothing listens on port 1


def test_unreachable_server_is_unavailable_quickly_with_the_url_and_a_way_out() -> None:
    started = time.monotonic()
    index = QdrantServerIndex.from_url(UNREACHABLE, timeout=1.0)  # builds nothing remote yet
    for call in (index.ensure_collection, index.count, lambda: index.search([0.1] * VECTOR_SIZE)):
        with pytest.raises(IndexUnavailable) as excinfo:
            call()
        message = str(excinfo.value)
        assert UNREACHABLE in message
        assert "QDRANT_URL" in message
    assert time.monotonic() - started < 5
    index.close()


def test_iterating_payloads_of_an_unreachable_server_is_unavailable() -> None:
    index = QdrantServerIndex.from_url(UNREACHABLE, timeout=1.0)
    with pytest.raises(IndexUnavailable, match="Cannot reach Qdrant"):
        list(index.iter_payloads())


def test_factory_builds_the_embedded_index_without_a_url(tmp_path: Path) -> None:
    index = build_vector_index(qdrant_url=None, qdrant_api_key=None, edge_path=tmp_path / "movies")
    try:
        assert isinstance(index, QdrantEdgeIndex)
        assert isinstance(index, VectorIndex)
        assert index.path == tmp_path / "movies"
    finally:
        index.close()


def test_factory_builds_an_in_process_server_index_for_memory(tmp_path: Path) -> None:
    index = build_vector_index(
        qdrant_url=":memory:", qdrant_api_key=None, edge_path=tmp_path, collection="films"
    )
    try:
        assert isinstance(index, QdrantServerIndex)
        assert index.collection == "films"
        index.ensure_collection()
        assert index.count() == 0
        assert not (tmp_path / "owner.lock").exists()  # the Edge path is not touched
    finally:
        index.close()


@pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")
def test_factory_builds_a_remote_index_for_a_url(tmp_path: Path) -> None:
    index = build_vector_index(
        qdrant_url=UNREACHABLE, qdrant_api_key="secret", edge_path=tmp_path, collection="movies"
    )
    assert isinstance(index, QdrantServerIndex)
    assert index.url == UNREACHABLE
    with pytest.raises(IndexUnavailable):
        index.exists()
    index.close()
