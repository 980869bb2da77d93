"""A Qdrant server (or qdrant-client's in-process local mode) as the catalog's vector index."""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import httpx
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from vector_index.base import (
    INDEXED_FIELDS,
    VECTOR_SIZE,
    IndexCorrupted,
    IndexPoint,
    IndexUnavailable,
    PointNotFound,
    SearchFilter,
    SearchHit,
    as_vector,
)

_SCHEMA_TYPES = {
    "keyword": models.PayloadSchemaType.KEYWORD,
    "integer": models.PayloadSchemaType.INTEGER,
    "float": models.PayloadSchemaType.FLOAT,
}

_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    ResponseHandlingException,
    httpx.TransportError,
    ConnectionError,
    TimeoutError,
)
with contextlib.suppress(ImportError):  # only there when qdrant-client brought grpcio
    import grpc

    _TRANSPORT_ERRORS += (grpc.RpcError,)


class QdrantServerIndex:
    """The catalog's vectors in a collection of a Qdrant server, through qdrant-client.

    Any failure to reach the server is `IndexUnavailable` with the URL and what to do. The
    client is thread-safe; this class adds no locking. Also runs on qdrant-client's local mode
    (`QdrantClient(":memory:")` or `path=`), a brute-force engine in Python meant for tests.
    """

    name = "qdrant-server"

    def __init__(
        self,
        client: QdrantClient,
        *,
        collection: str = "movies",
        vector_size: int = VECTOR_SIZE,
        url: str | None = None,
        owns_client: bool = False,
    ) -> None:
        self.client = client
        self.collection = collection
        self.vector_size = vector_size
        self.url = url  # for messages only
        self._owns_client = owns_client  # close() closes the client only if we made it
        options = client.init_options
        is_local = options.get("location") == ":memory:" or options.get("path") is not None
        self._serial: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if is_local else contextlib.nullcontext()
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        api_key: str | None = None,
        collection: str = "movies",
        timeout: float = 5.0,
        vector_size: int = VECTOR_SIZE,
    ) -> QdrantServerIndex:
        """An index on the server at `url`; connects lazily (nothing is sent until first use)."""
        client = QdrantClient(
            url=url,
            api_key=api_key,
            timeout=timeout,  # type: ignore[arg-type]  # httpx takes float seconds
            check_compatibility=False,  # it would call the server here, at construction
        )
        return cls(
            client, collection=collection, vector_size=vector_size, url=url, owns_client=True
        )

    def __enter__(self) -> QdrantServerIndex:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"QdrantServerIndex({self._where()!r}, collection={self.collection!r})"

    # -- lifecycle -------------------------------------------------------------------------

    def exists(self) -> bool:
        with self._errors():
            return self.client.collection_exists(self.collection)

    def ensure_collection(self) -> None:
        with self._errors():
            if not self.client.collection_exists(self.collection):
                try:
                    self.client.create_collection(
                        self.collection,
                        vectors_config=models.VectorParams(
                            size=self.vector_size, distance=models.Distance.COSINE
                        ),
                    )
                except UnexpectedResponse as exc:
                    if exc.status_code != 409:  # 409: another process created it just now
                        raise
            info = self.client.get_collection(self.collection)
            self._check_vector_size(info.config.params.vectors)
            existing = info.payload_schema or {}
            with warnings.catch_warnings():
                # Local mode warns that payload indexes do nothing there; the server uses them.
                warnings.filterwarnings("ignore", message="Payload indexes have no effect")
                for field_name, kind in INDEXED_FIELDS.items():
                    if field_name not in existing:
                        self.client.create_payload_index(
                            self.collection, field_name, field_schema=_SCHEMA_TYPES[kind], wait=True
                        )

    def optimize(self) -> None:
        """Nothing to do: the server builds its HNSW graphs in the background."""

    def drop(self) -> None:
        with self._errors():
            self.client.delete_collection(self.collection)

    def close(self) -> None:
        if self._owns_client:
            with self._serial, contextlib.suppress(Exception):
                self.client.close()

    # -- writes ----------------------------------------------------------------------------

    def upsert(self, points: Iterable[IndexPoint], *, batch_size: int = 256) -> int:
        written = 0
        iterator = iter(points)
        while batch := list(islice(iterator, batch_size)):
            structs = [
                models.PointStruct(
                    id=int(p.id),
                    vector=as_vector(p.vector, self.vector_size),
                    payload=dict(p.payload),
                )
                for p in batch
            ]
            with self._errors():
                self.client.upsert(self.collection, points=structs, wait=True)
            written += len(structs)
        return written

    def delete(self, ids: Iterable[int]) -> int:
        id_list = [int(i) for i in ids]
        if not id_list:
            return 0
        with self._errors():
            self.client.delete(
                self.collection, points_selector=models.PointIdsList(points=id_list), wait=True
            )
        return len(id_list)

    # -- reads -----------------------------------------------------------------------------

    def search(
        self, vector: Sequence[float], *, limit: int = 10, filter: SearchFilter | None = None
    ) -> list[SearchHit]:
        return self._query(as_vector(vector, self.vector_size), limit, server_filter(filter))

    def search_similar(
        self, point_id: int, *, limit: int = 10, filter: SearchFilter | None = None
    ) -> list[SearchHit]:
        vector = self.get_vector(point_id)
        if vector is None:
            raise PointNotFound(point_id)
        return self._query(vector, limit, server_filter(filter, exclude=(point_id,)))

    def count(self, filter: SearchFilter | None = None) -> int:
        with self._errors():
            result = self.client.count(
                self.collection, count_filter=server_filter(filter), exact=True
            )
        return result.count

    def get_vector(self, point_id: int) -> list[float] | None:
        with self._errors():
            records = self.client.retrieve(
                self.collection, ids=[int(point_id)], with_payload=False, with_vectors=True
            )
        if not records or records[0].vector is None:
            return None
        vector: Any = records[0].vector
        if isinstance(vector, dict):  # named-vector form; ours is the default, unnamed one
            vector = vector.get("", next(iter(vector.values())))
        return [float(x) for x in vector]

    def iter_payloads(self, *, batch_size: int = 1000) -> Iterator[tuple[int, dict[str, Any]]]:
        offset: Any = None
        while True:
            with self._errors():
                records, offset = self.client.scroll(
                    self.collection,
                    limit=batch_size,
                    offset=offset,
                    with_payload=True,
                    with_vectors=False,
                )
            for record in records:
                yield int(record.id), dict(record.payload or {})
            if offset is None:
                return

    # -- internals -------------------------------------------------------------------------

    def _query(
        self, vector: list[float], limit: int, query_filter: models.Filter | None
    ) -> list[SearchHit]:
        if limit < 1:
            return []
        with self._errors():
            response = self.client.query_points(
                self.collection,
                query=vector,
                query_filter=query_filter,
                limit=limit,
                with_payload=True,
            )
        return [
            SearchHit(id=int(p.id), score=float(p.score), payload=dict(p.payload or {}))
            for p in response.points
        ]

    def _check_vector_size(self, vectors: Any) -> None:
        size = getattr(vectors, "size", None)  # None for named vectors: not a collection of ours
        if size != self.vector_size:
            raise IndexCorrupted(
                f"Collection {self.collection!r} at {self._where()} holds vectors of size {size}, "
                f"not {self.vector_size}: it was built by another model or program. Rebuild it "
                "with `python prepare-databases/prepare.py rebuild-index`, or set "
                "QDRANT_COLLECTION to another name."
            )

    def _where(self) -> str:
        return self.url or "the configured Qdrant"

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn the client's transport and 'no such collection' failures into IndexUnavailable."""
        try:
            with self._serial:
                yield
        except _TRANSPORT_ERRORS as exc:
            source = getattr(exc, "source", None) or exc
            raise IndexUnavailable(
                f"Cannot reach Qdrant at {self._where()} ({type(source).__name__}: {source}). "
                "Start it (`docker compose up -d qdrant`) or unset QDRANT_URL to use the "
                "embedded index."
            ) from exc
        except UnexpectedResponse as exc:
            if exc.status_code == 404:
                raise self._missing_collection() from exc
            detail = exc.content[:200].decode("utf-8", "replace")
            raise IndexUnavailable(
                f"Qdrant at {self._where()} answered {exc.status_code} {exc.reason_phrase}: "
                f"{detail}. Check QDRANT_URL and QDRANT_API_KEY, and the server's log."
            ) from exc
        except ValueError as exc:  # local mode's way to say the collection does not exist
            if f"Collection {self.collection} not found" in str(exc):
                raise self._missing_collection() from exc
            raise

    def _missing_collection(self) -> IndexUnavailable:
        return IndexUnavailable(
            f"Qdrant at {self._where()} has no collection {self.collection!r} yet. "
            "Run `make data SOURCE=<source> DATA=<path>` to build it."
        )


def server_filter(
    search_filter: SearchFilter | None, *, exclude: Sequence[int] = ()
) -> models.Filter | None:
    """The qdrant-client filter for a SearchFilter, also excluding the `exclude` ids."""
    f = search_filter or SearchFilter()
    must: list[Any] = []
    must_not: list[Any] = []
    if f.genres_any:
        must.append(models.FieldCondition(key="genres", match=_match_any(f.genres_any)))
    if f.genres_exclude:
        must_not.append(models.FieldCondition(key="genres", match=_match_any(f.genres_exclude)))
    if f.year_min is not None or f.year_max is not None:
        must.append(
            models.FieldCondition(key="year", range=models.Range(gte=f.year_min, lte=f.year_max))
        )
    if f.languages:
        must.append(models.FieldCondition(key="language", match=_match_any(f.languages)))
    if f.languages_exclude:
        must_not.append(
            models.FieldCondition(key="language", match=_match_any(f.languages_exclude))
        )
    if f.min_vote_average is not None:
        must.append(
            models.FieldCondition(key="vote_average", range=models.Range(gte=f.min_vote_average))
        )
    if f.min_vote_count is not None:
        must.append(
            models.FieldCondition(key="vote_count", range=models.Range(gte=f.min_vote_count))
        )
    excluded = sorted({int(i) for i in (*f.exclude_ids, *exclude)})
    if excluded:
        must_not.append(models.HasIdCondition(has_id=excluded))
    if not must and not must_not:
        return None
    return models.Filter(must=must or None, must_not=must_not or None)


def _match_any(values: Sequence[str]) -> models.MatchAny | models.MatchValue:
    # Same meaning; a single value is the cheaper MatchValue, as in the Edge backend.
    if len(values) == 1:
        return models.MatchValue(value=values[0])
    return models.MatchAny(any=[*values])
