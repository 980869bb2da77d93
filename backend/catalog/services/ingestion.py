"""Catalog ingestion: source records → database rows with embeddings → vector index.

Idempotent (a row whose content hash is unchanged is not touched), resumable (every chunk commits
on its own, so a re-run skips what an interrupted run already stored), batched and pipelined:
the model service embeds chunk n+1 while chunk n is written.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from catalog.documents import (
    content_hash,
    movie_to_record,
    record_embedding_text,
    record_fields_hash,
    text_hash,
)
from catalog.ingestion.records import MovieRecord, RatingRecord, SkippedRow
from catalog.ingestion.sources.base import CatalogSource
from catalog.models import Genre, Movie, MovieNeighbor, Rating
from catalog.services.indexing import (
    Embedder,
    index_sync_pending,
    index_write_movies,
    vector_to_bytes,
)
from catalog.services.neighbours import NeighboursReport, neighbours_compute
from movie_constraints import normalize_genres
from vector_index import VectorIndex

logger = logging.getLogger(__name__)

MOVIE_FIELDS = [
    "title", "original_title", "year", "release_date", "overview", "original_language",
    "runtime", "popularity", "vote_average", "vote_count", "poster_path", "keywords", "cast",
    "director", "imdb_id", "source", "content_hash",
]  # fmt: skip
EMBEDDING_FIELDS = ["embedding", "embedding_model", "embedding_text_hash"]
# A bulk request of a few hundred long texts takes seconds, far more than one query: its own,
# generous timeout (a busy 2-core machine can be several times slower than an idle one).
BULK_EMBED_TIMEOUT = 300.0


@dataclass
class IngestionReport:
    source: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    embedded: int = 0
    indexed: int = 0
    ratings_read: int = 0
    ratings_new: int = 0
    ratings_skipped: Counter[str] = field(default_factory=Counter)
    neighbours: NeighboursReport | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def add_time(self, phase: str, seconds: float) -> None:
        self.timings[phase] = self.timings.get(phase, 0.0) + seconds

    def lines(self) -> list[str]:
        skipped = sum(self.skipped.values())
        out = [
            f"source {self.source}: read {self.read}, inserted {self.inserted}, "
            f"updated {self.updated}, unchanged {self.unchanged}, skipped {skipped}",
        ]
        out += [f"  skipped ({reason}): {n}" for reason, n in self.skipped.most_common()]
        out.append(f"embedded {self.embedded}, indexed {self.indexed}")
        if self.ratings_read:
            out.append(
                f"ratings: read {self.ratings_read}, new {self.ratings_new}, "
                f"skipped {sum(self.ratings_skipped.values())}"
            )
            out += [f"  skipped ({r}): {n}" for r, n in self.ratings_skipped.most_common()]
        if self.neighbours is not None:
            out += self.neighbours.lines()
        if self.timings:
            out.append(
                "time: " + ", ".join(f"{k} {v:.1f}s" for k, v in sorted(self.timings.items()))
            )
        return out


@dataclass(slots=True)
class _PlannedRow:
    record: MovieRecord
    text: str
    text_hash: str
    content_hash: str
    exists: bool
    needs_embedding: bool


def _validate(record: MovieRecord) -> str | None:
    if record.tmdb_id <= 0:
        return "invalid id"
    if not record.title.strip():
        return "missing title"
    return None


class _GenreCache:
    def __init__(self) -> None:
        self._ids = dict(Genre.objects.values_list("name", "id"))

    def ids(self, names: Sequence[str]) -> list[int]:
        missing = [name for name in names if name not in self._ids]
        for name in missing:
            self._ids[name] = Genre.objects.get_or_create(name=name)[0].id
        return [self._ids[name] for name in names]


def _plan(records: list[MovieRecord], *, source: str, model: str) -> tuple[list[_PlannedRow], int]:
    existing = {
        row[0]: row[1:]
        for row in Movie.objects.filter(tmdb_id__in=[r.tmdb_id for r in records]).values_list(
            "tmdb_id", "content_hash", "embedding_text_hash", "embedding_model"
        )
    }
    planned: list[_PlannedRow] = []
    unchanged = 0
    for record in records:
        text = record_embedding_text(record)
        t_hash = text_hash(text)
        c_hash = content_hash(record_fields_hash(record, source), model, t_hash)
        old = existing.get(record.tmdb_id)
        if old and old[0] == c_hash:
            unchanged += 1
            continue
        needs_embedding = old is None or old[1] != t_hash or old[2] != model
        planned.append(_PlannedRow(record, text, t_hash, c_hash, old is not None, needs_embedding))
    return planned, unchanged


def _write_chunk(
    rows: list[_PlannedRow],
    vectors: Sequence | None,
    *,
    source: str,
    model: str,
    genres: _GenreCache,
) -> tuple[int, int]:
    """Insert or update one chunk of movies (and their genres) in one transaction."""
    new, changed = [], []
    now = timezone.now()  # bulk_update skips auto_now: set it, so catalog caches see the change
    for i, row in enumerate(rows):
        r = row.record
        movie = Movie(
            tmdb_id=r.tmdb_id, title=r.title.strip(), original_title=r.original_title,
            year=r.year, release_date=r.release_date, overview=r.overview,
            original_language=r.original_language, runtime=r.runtime, popularity=r.popularity,
            vote_average=r.vote_average, vote_count=r.vote_count, poster_path=r.poster_path or "",
            keywords=list(r.keywords), cast=list(r.cast), director=r.director,
            imdb_id=r.imdb_id, source=source, content_hash=row.content_hash,
        )  # fmt: skip
        if vectors is not None:
            movie.embedding = vector_to_bytes(vectors[i])
            movie.embedding_model = model
            movie.embedding_text_hash = row.text_hash
        if row.exists:
            movie.updated_at = now
        (changed if row.exists else new).append(movie)
    fields = [*MOVIE_FIELDS, "updated_at", *(EMBEDDING_FIELDS if vectors is not None else [])]
    through = Movie.genres.through
    with transaction.atomic():
        Movie.objects.bulk_create(new, batch_size=500)
        if changed:
            Movie.objects.bulk_update(changed, fields, batch_size=500)
        ids = [row.record.tmdb_id for row in rows]
        through.objects.filter(movie_id__in=[m.tmdb_id for m in changed]).delete()
        links = [
            through(movie_id=row.record.tmdb_id, genre_id=genre_id)
            for row in rows
            for genre_id in genres.ids(normalize_genres(row.record.genres))
        ]
        through.objects.bulk_create(links, batch_size=1000)
    logger.debug("wrote %d movies (%s)", len(ids), source)
    return len(new), len(changed)


def _windows(
    items: Iterator[MovieRecord | SkippedRow], size: int, report: IngestionReport, bar: tqdm
) -> Iterator[list[MovieRecord]]:
    """Valid, de-duplicated records in windows of `size`; everything else is counted as skipped."""
    seen: set[int] = set()
    window: list[MovieRecord] = []
    for item in items:
        report.read += 1
        bar.update(1)
        if isinstance(item, SkippedRow):
            report.skipped[item.reason] += 1
            continue
        reason = _validate(item)
        if reason is None and item.tmdb_id in seen:
            reason = "duplicate id"
        if reason:
            report.skipped[reason] += 1
            continue
        seen.add(item.tmdb_id)
        window.append(item)
        if len(window) >= size:
            yield window
            window = []
    if window:
        yield window


def catalog_ingest(
    *,
    source: CatalogSource,
    embedder: Embedder,
    index: VectorIndex | None,
    window_size: int = 4096,
    request_size: int = 256,
    progress: bool = True,
    on_chunk: Callable[[int], None] | None = None,
) -> IngestionReport:
    """Ingest a source's movies (and ratings, when it has them) into the database and index.

    `index` is None when another process owns the embedded index: rows are then left pending
    and that process indexes them (see catalog.index_sync).
    """
    report = IngestionReport(source=source.name)
    model = ""  # asked of the model service only once there are movies to ingest
    genres = _GenreCache()
    bar = tqdm(desc=f"{source.name}", unit=" movies", disable=not progress, mininterval=0.5)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed") as pool:
        for window in _windows(source.movies(), window_size, report, bar):
            model = model or embedder.embedding_model()
            t0 = time.perf_counter()
            planned, unchanged = _plan(window, source=source.name, model=model)
            report.unchanged += unchanged
            report.add_time("plan", time.perf_counter() - t0)

            # Metadata-only changes keep their stored vectors.
            meta_only = [row for row in planned if not row.needs_embedding]
            if meta_only:
                _apply(meta_only, None, source, model, genres, index, report, on_chunk)

            # Sorting by length keeps padding waste low inside each embedding request.
            to_embed = sorted((r for r in planned if r.needs_embedding), key=lambda r: len(r.text))
            chunks = [to_embed[i : i + request_size] for i in range(0, len(to_embed), request_size)]
            futures: list[Future] = []

            def submit(chunk: list[_PlannedRow]) -> Future:
                texts = [row.text for row in chunk]
                return pool.submit(embedder.embed, texts, timeout=BULK_EMBED_TIMEOUT)

            for i, chunk in enumerate(chunks):
                if i == 0:
                    futures.append(submit(chunk))
                if i + 1 < len(chunks):
                    futures.append(submit(chunks[i + 1]))
                t0 = time.perf_counter()
                batch = futures[i].result()
                report.add_time("embed wait", time.perf_counter() - t0)
                report.embedded += len(chunk)
                _apply(chunk, batch.vectors, source, model, genres, index, report, on_chunk)
    bar.close()

    if source.has_ratings:
        _ingest_ratings(source, report, progress)
        # New ratings change who likes what; an unchanged re-run keeps the stored neighbours
        # unless there are none yet (ratings stored before neighbours existed).
        if report.ratings_new or (Rating.objects.exists() and not MovieNeighbor.objects.exists()):
            report.neighbours = neighbours_compute()
            report.add_time("neighbours", report.neighbours.seconds)
    if index is not None:
        t0 = time.perf_counter()
        # Rows an interrupted run stored but did not index are unchanged now, yet pending.
        report.indexed += index_sync_pending(index=index)
        index.optimize()
        report.add_time("index optimize", time.perf_counter() - t0)
    report.add_time("total", time.perf_counter() - started)
    return report


def _apply(
    rows: list[_PlannedRow],
    vectors: Sequence | None,
    source: CatalogSource,
    model: str,
    genres: _GenreCache,
    index: VectorIndex | None,
    report: IngestionReport,
    on_chunk: Callable[[int], None] | None,
) -> None:
    t0 = time.perf_counter()
    inserted, updated = _write_chunk(rows, vectors, source=source.name, model=model, genres=genres)
    report.inserted += inserted
    report.updated += updated
    report.add_time("database", time.perf_counter() - t0)
    if index is not None:
        t0 = time.perf_counter()
        report.indexed += index_write_movies(index=index, tmdb_ids=[r.record.tmdb_id for r in rows])
        report.add_time("index", time.perf_counter() - t0)
    if on_chunk:
        on_chunk(len(rows))


def _ingest_ratings(source: CatalogSource, report: IngestionReport, progress: bool) -> None:
    t0 = time.perf_counter()
    catalog_ids = set(Movie.objects.values_list("tmdb_id", flat=True))
    before = Rating.objects.filter(source=source.name).count()
    batch: list[Rating] = []

    def flush() -> None:
        Rating.objects.bulk_create(
            batch,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["source", "user_id", "movie"],
            update_fields=["rating", "rated_at"],
        )
        batch.clear()

    for item in tqdm(source.ratings(), desc="ratings", unit=" ratings", disable=not progress):
        report.ratings_read += 1
        if isinstance(item, SkippedRow):
            report.ratings_skipped[item.reason] += 1
            continue
        assert isinstance(item, RatingRecord)
        if item.tmdb_id not in catalog_ids:
            report.ratings_skipped["movie not in catalog"] += 1
            continue
        batch.append(
            Rating(
                source=source.name,
                user_id=item.user_id,
                movie_id=item.tmdb_id,
                rating=item.rating,
                rated_at=item.timestamp,
            )
        )
        if len(batch) >= 5000:
            with transaction.atomic():
                flush()
    if batch:
        with transaction.atomic():
            flush()
    report.ratings_new = Rating.objects.filter(source=source.name).count() - before
    report.add_time("ratings", time.perf_counter() - t0)


def movies_embed(*, tmdb_ids: Sequence[int], embedder: Embedder, request_size: int = 256) -> int:
    """(Re-)embed stored movies from their current fields, e.g. rows that were never embedded."""
    model = embedder.embedding_model()
    done = 0
    movies = list(Movie.objects.filter(tmdb_id__in=list(tmdb_ids)).prefetch_related("genres"))
    for start in range(0, len(movies), request_size):
        chunk = movies[start : start + request_size]
        now = timezone.now()  # bulk_update skips auto_now: set it, so catalog caches see it
        records = [movie_to_record(movie) for movie in chunk]
        texts = [record_embedding_text(record) for record in records]
        vectors = embedder.embed(texts, timeout=BULK_EMBED_TIMEOUT).vectors
        for movie, record, text, vector in zip(chunk, records, texts, vectors, strict=True):
            movie.embedding = vector_to_bytes(vector)
            movie.embedding_model = model
            movie.embedding_text_hash = text_hash(text)
            movie.updated_at = now
            movie.content_hash = content_hash(
                record_fields_hash(record, movie.source), model, movie.embedding_text_hash
            )
        fields = [*EMBEDDING_FIELDS, "content_hash", "updated_at"]
        Movie.objects.bulk_update(chunk, fields, batch_size=500)
        done += len(chunk)
    return done
