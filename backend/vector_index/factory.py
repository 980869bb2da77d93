"""Choose the vector index backend from settings: a Qdrant server if a URL is set, else Edge."""

from __future__ import annotations

from pathlib import Path

from vector_index.base import VectorIndex

IN_PROCESS_URL = ":memory:"  # qdrant-client's local mode: tests and quick experiments only


def build_vector_index(
    *,
    qdrant_url: str | None,
    qdrant_api_key: str | None,
    edge_path: Path,
    collection: str = "movies",
    timeout: float = 5.0,
) -> VectorIndex:
    """The index to use: the server at `qdrant_url`, or the embedded one under `edge_path`.

    Opening the embedded index takes its lock (it may raise `IndexLocked`); a server index
    sends nothing until first use. `collection` names the server's collection; the embedded
    index is the directory `edge_path` itself.
    """
    if qdrant_url:
        from qdrant_client import QdrantClient

        from vector_index.server import QdrantServerIndex

        if qdrant_url == IN_PROCESS_URL:
            return QdrantServerIndex(
                QdrantClient(IN_PROCESS_URL), collection=collection, url=qdrant_url,
                owns_client=True,
            )  # fmt: skip
        return QdrantServerIndex.from_url(
            qdrant_url, api_key=qdrant_api_key or None, collection=collection, timeout=timeout
        )
    from vector_index.edge import QdrantEdgeIndex

    return QdrantEdgeIndex(Path(edge_path))
