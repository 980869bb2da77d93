"""Reads of the catalog: semantic search, browsing, movie details, similar movies, health."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import DatabaseError
from django.db.models import Q

from catalog.models import Movie, MovieNeighbor
from catalog.services.indexing import Embedder, vector_from_bytes
from clients.model_service import ModelServiceError
from common.errors import ApplicationError, ServiceUnavailable
from vector_index import IndexError as VectorIndexError
from vector_index import SearchFilter, SearchHit, VectorIndex

logger = logging.getLogger(__name__)

IndexGetter = Callable[[], VectorIndex]

REBUILD_HINT = (
    "Rebuild it from the database with `make verify REPAIR=1` (`.venv/bin/python "
    "prepare-databases/prepare.py verify --repair`; stop the backend first when the index is "
    "the embedded one); the catalog itself is safe in the database."
)


def index_unavailable(exc: Exception) -> ServiceUnavailable:
    """The 503 of a search that needs the vector index, saying how to bring it back."""
    return ServiceUnavailable(
        f"The vector index is unavailable ({exc}). {REBUILD_HINT}",
        code="index_unavailable",
    )


@dataclass(frozen=True, slots=True)
class MovieQuery:
    q: str = ""
    genres: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    language: str = ""
    min_rating: float | None = None
    limit: int = 20

    def index_filter(self) -> SearchFilter:
        return SearchFilter(
            genres_any=self.genres,
            year_min=self.year_min,
            year_max=self.year_max,
            languages=(self.language,) if self.language else (),
            min_vote_average=self.min_rating,
        )


@dataclass
class MovieResults:
    movies: list[Movie]
    scores: dict[int, float] = field(default_factory=dict)
    reasons: dict[int, str] = field(default_factory=dict)  # why each movie is there (similar)
    mode: str = "browse"  # semantic | browse | keyword
    degraded: bool = False
    notice: str = ""


def _in_order(ids: list[int]) -> list[Movie]:
    by_id = Movie.objects.prefetch_related("genres").in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def movies_matching(search_filter: SearchFilter) -> Any:
    """The catalog's movies that pass an index filter, read from the database.

    Same semantics as the index's payload filter (a missing value never matches a condition),
    so a route that falls back to the database, or checks candidates, agrees with the index.
    """
    movies = Movie.objects.all()
    if search_filter.exclude_ids:
        movies = movies.exclude(tmdb_id__in=search_filter.exclude_ids)
    if search_filter.genres_any:
        movies = movies.filter(
            tmdb_id__in=Movie.genres.through.objects.filter(
                genre__name__in=search_filter.genres_any
            ).values("movie_id")
        )
    if search_filter.genres_exclude:
        movies = movies.exclude(genres__name__in=search_filter.genres_exclude)
    if search_filter.year_min is not None:
        movies = movies.filter(year__gte=search_filter.year_min)
    if search_filter.year_max is not None:
        movies = movies.filter(year__lte=search_filter.year_max)
    if search_filter.languages:
        movies = movies.filter(original_language__in=search_filter.languages)
    if search_filter.languages_exclude:
        movies = movies.exclude(original_language__in=search_filter.languages_exclude)
    if search_filter.min_vote_average is not None:
        movies = movies.filter(vote_average__gte=search_filter.min_vote_average)
    if search_filter.min_vote_count is not None:
        movies = movies.filter(vote_count__gte=search_filter.min_vote_count)
    return movies


def _db_filtered(query: MovieQuery) -> Any:
    return (
        movies_matching(query.index_filter())
        .prefetch_related("genres")
        .order_by("-popularity", "tmdb_id")
    )


def movie_search(*, query: MovieQuery, embedder: Embedder, get_index: IndexGetter) -> MovieResults:
    """Semantic search when there is a query, browsing by popularity otherwise.

    If the model service fails, answer from the database by keywords and say so (degraded):
    it comes back on its own. If the vector index fails (missing, damaged, locked, server
    down), raise a 503 saying how to rebuild it: that needs someone to act, and keyword results
    passed off as search would hide it. The chat still answers from the database meanwhile.
    """
    if not query.q:
        return MovieResults(list(_db_filtered(query)[: query.limit]))
    try:
        index = get_index()
    except VectorIndexError as exc:
        raise index_unavailable(exc) from exc
    try:
        vector = embedder.embed([query.q]).vectors[0]
    except ModelServiceError as exc:
        return _keyword_search(query, f"Semantic search is unavailable ({exc}).")
    try:
        hits = index.search(vector.tolist(), limit=query.limit, filter=query.index_filter())
    except VectorIndexError as exc:
        raise index_unavailable(exc) from exc
    return MovieResults(
        _in_order([hit.id for hit in hits]),
        scores={hit.id: hit.score for hit in hits},
        mode="semantic",
    )


def _keyword_search(query: MovieQuery, reason: str) -> MovieResults:
    logger.warning("search degraded to keywords: %s", reason)
    words = [w for w in query.q.split() if len(w) > 2][:8] or [query.q]
    match = Q()
    for word in words:
        match |= Q(title__icontains=word) | Q(overview__icontains=word)
    movies = list(_db_filtered(query).filter(match)[: query.limit])
    return MovieResults(movies, mode="keyword", degraded=True, notice=reason)


def movie_get(*, tmdb_id: int) -> Movie:
    movie = Movie.objects.prefetch_related("genres").filter(tmdb_id=tmdb_id).first()
    if movie is None:
        raise ApplicationError(
            f"No movie with TMDB id {tmdb_id} in the catalog.", code="not_found", status_code=404
        )
    return movie


@dataclass(frozen=True, slots=True)
class SimilarCandidate:
    """One "more like this" candidate: TMDB id, blended score, where it came from and why."""

    id: int
    score: float
    source: str  # "ratings" | "content" | "blend"
    reason: str


@dataclass(frozen=True, slots=True)
class SimilarWeights:
    """How the signals of "more like this" are blended; each is scaled to [0, 1] per query.

    Global values chosen on evaluation/eval_similar.py's protocol (never per query); its
    results barely move across ratings 1, content 0.1-0.35, bridges 0.5-1, prior 0.1-0.35.
    Without ratings neighbours of its own, content closeness alone is a weak sign of taste,
    so the prior counts for more (well-liked, widely seen films among the close ones).
    """

    ratings: float = 1.0  # the movie's own collaborative neighbours
    content: float = 0.35  # cosine of the movies' vectors
    # A movie without ratings neighbours borrows those of its closest content neighbours that
    # have some ("fans of the films most like it also liked"), weighted by that closeness.
    bridges: float = 0.5
    bridge_count: int = 10
    prior: float = 0.2  # quality prior: Bayesian vote average and reach
    prior_without_ratings: float = 0.75
    # Bayesian average of vote_average towards prior_mean with prior_votes pseudo-votes;
    # reach is log(vote_count) against reach_votes.
    prior_mean: float = 6.0
    prior_votes: float = 500.0
    reach_votes: float = 20000.0
    content_pool: int = 200  # content hits considered per query


SIMILAR_WEIGHTS = SimilarWeights()


@dataclass(slots=True)
class _Signals:
    ratings: float = 0.0
    content: float | None = None  # raw cosine while collecting
    bridged: float = 0.0
    bridge: str = ""  # title of the movie whose fans liked this one most


def _passing_filter(ids: set[int], search_filter: SearchFilter) -> dict[int, tuple]:
    """{id: (vote_average, vote_count)} of the movies among ids that pass the filter."""
    rows = (
        movies_matching(search_filter)
        .filter(tmdb_id__in=ids)
        .order_by()
        .values_list("tmdb_id", "vote_average", "vote_count")
    )
    return {tmdb_id: (average, votes) for tmdb_id, average, votes in rows}


def _quality_prior(
    vote_average: float | None, vote_count: int | None, weights: SimilarWeights
) -> float:
    """0..1: half Bayesian-average rating, half reach (how many people voted)."""
    votes = float(vote_count or 0)
    average = vote_average if vote_average is not None else weights.prior_mean
    bayesian = (votes * average + weights.prior_votes * weights.prior_mean) / (
        votes + weights.prior_votes
    )
    quality = min(1.0, max(0.0, (bayesian - 5.0) / 3.5))
    reach = min(1.0, math.log1p(votes) / math.log1p(weights.reach_votes))
    return 0.5 * quality + 0.5 * reach


def _content_hits(
    movie: Movie, *, limit: int, get_index: IndexGetter, search_filter: SearchFilter
) -> list[SearchHit] | None:
    """Neighbours of the movie's own vector, None if it was never embedded.

    Raises VectorIndexError when the index is unavailable.
    """
    index = get_index()
    try:
        # search_similar leaves the point out itself; a filter doing only that costs a wider beam.
        only_self = search_filter == SearchFilter(exclude_ids=(movie.tmdb_id,))
        return index.search_similar(
            movie.tmdb_id, limit=limit, filter=None if only_self else search_filter
        )
    except KeyError:
        # Not indexed yet (e.g. pending): search from the vector the database keeps.
        if movie.embedding is None:
            return None
        return index.search(
            vector_from_bytes(movie.embedding).tolist(), limit=limit, filter=search_filter
        )


def _bridge_neighbours(
    hits: list[SearchHit], signals: dict[int, _Signals], weights: SimilarWeights
) -> None:
    """Add the ratings neighbours of the closest content hits that have some, as `bridged`."""
    hit_ids = [hit.id for hit in hits]
    with_neighbours = set(
        MovieNeighbor.objects.filter(movie_id__in=hit_ids, rank=1).values_list(
            "movie_id", flat=True
        )
    )
    bridges = [hit for hit in hits if hit.id in with_neighbours][: weights.bridge_count]
    if not bridges:
        return
    closeness = {hit.id: hit.score for hit in bridges}
    titles = dict(Movie.objects.filter(tmdb_id__in=closeness).values_list("tmdb_id", "title"))
    rows = list(
        MovieNeighbor.objects.filter(movie_id__in=closeness).values_list(
            "movie_id", "neighbor_id", "score", "rank"
        )
    )
    top_score = {movie_id: score for movie_id, _, score, rank in rows if rank == 1}
    best: dict[int, float] = {}
    for bridge_id, neighbor_id, score, _ in rows:
        contribution = closeness[bridge_id] * score / (top_score.get(bridge_id) or score)
        signal = signals.setdefault(neighbor_id, _Signals())
        signal.bridged += contribution
        if contribution > best.get(neighbor_id, 0.0):
            best[neighbor_id] = contribution
            signal.bridge = titles.get(bridge_id, "")


def _terms(movie: Movie) -> list[str]:
    return [genre.name.lower() for genre in movie.genres.all()] + [
        str(keyword).lower() for keyword in movie.keywords or []
    ]


def _shared_terms(query_terms: list[str], movie: Movie, *, limit: int = 3) -> list[str]:
    """What the two movies have in common (genres, then keywords), or the candidate's genres."""
    terms = _terms(movie)
    shared = [term for term in query_terms if term in terms]
    return (shared or terms)[:limit]


def _max(values: Iterable[float]) -> float:
    return max(values, default=0.0) or 1.0


def similar_candidates(
    *,
    tmdb_id: int,
    limit: int,
    get_index: IndexGetter,
    search_filter: SearchFilter | None = None,
    weights: SimilarWeights | None = None,
) -> list[SimilarCandidate]:
    """'More like this', best first: collaborative neighbours blended with content similarity.

    Signals, each scaled to [0, 1] for this query, then weighted (SIMILAR_WEIGHTS):
    the stored "people who liked X also liked Y" neighbours (MovieNeighbor); the cosine of the
    movie's own vector in the index; a quality prior (Bayesian vote average, reach). A movie
    without ratings neighbours (new or admin-added) borrows those of its closest content
    neighbours instead. `search_filter` applies to every source. Raises 404 for an unknown id;
    503 when the index is down, 409 when the movie was never embedded, and in either case it
    has no ratings neighbours to answer from. `weights` replaces SIMILAR_WEIGHTS (the chat
    turn drops the prior here because its own ranking applies one to every route).
    """
    weights = weights or SIMILAR_WEIGHTS
    movie = movie_get(tmdb_id=tmdb_id)
    search_filter = search_filter or SearchFilter()
    excluded = {*search_filter.exclude_ids, tmdb_id}
    search_filter = replace(search_filter, exclude_ids=tuple(sorted(excluded)))

    signals: dict[int, _Signals] = {}
    own = MovieNeighbor.objects.filter(movie_id=tmdb_id).values_list("neighbor_id", "score")
    for neighbor_id, score in own:
        signals.setdefault(neighbor_id, _Signals()).ratings = score
    has_own = bool(signals)
    try:
        hits = _content_hits(
            movie,
            limit=max(limit, weights.content_pool),
            get_index=get_index,
            search_filter=search_filter,
        )
    except VectorIndexError as exc:
        if not has_own:
            raise index_unavailable(exc) from exc
        logger.warning("similar: index unavailable, ratings neighbours only: %s", exc)
        hits = []
    if hits is None:
        if not has_own:
            raise ApplicationError(
                f"{movie.title} has no embedding yet; run `prepare.py verify --repair`.",
                code="not_indexed",
                status_code=409,
            )
        hits = []
    hits = [hit for hit in hits if hit.id not in excluded]
    for hit in hits:
        signals.setdefault(hit.id, _Signals()).content = hit.score
    if not has_own and weights.bridges:
        _bridge_neighbours(hits, signals, weights)

    passing = _passing_filter(set(signals) - excluded, search_filter)
    kept = [signals[movie_id] for movie_id in passing]
    top_ratings = _max(s.ratings for s in kept)
    top_bridged = _max(s.bridged for s in kept)
    cosines = [s.content for s in kept if s.content is not None]
    low, high = min(cosines, default=0.0), max(cosines, default=0.0)
    prior_weight = weights.prior if has_own else weights.prior_without_ratings
    scores: dict[int, float] = {}
    for movie_id, (vote_average, vote_count) in passing.items():
        signal = signals[movie_id]
        content = 0.0
        if signal.content is not None:
            content = (signal.content - low) / (high - low) if high > low else 1.0
        scores[movie_id] = (
            weights.ratings * signal.ratings / top_ratings
            + weights.content * content
            + weights.bridges * signal.bridged / top_bridged
            + prior_weight * _quality_prior(vote_average, vote_count, weights)
        )
    best = sorted(scores, key=lambda movie_id: (-scores[movie_id], movie_id))[:limit]
    return [
        SimilarCandidate(movie_id, scores[movie_id], *_explain(movie, signals[movie_id], shown))
        for movie_id, shown in _with_terms(best).items()
    ]


def _with_terms(ids: list[int]) -> dict[int, Movie]:
    """The movies, in the order of ids, with genres and keywords for their reasons."""
    movies = Movie.objects.only("tmdb_id", "keywords").prefetch_related("genres").in_bulk(ids)
    return {movie_id: movies[movie_id] for movie_id in ids if movie_id in movies}


def _explain(query: Movie, signal: _Signals, candidate: Movie) -> tuple[str, str]:
    """(source, reason): whose fans liked it, and what it shares with the query movie."""
    fans_of = query.title if signal.ratings else signal.bridge if signal.bridged else ""
    terms = " · ".join(_shared_terms(_terms(query), candidate))
    if not fans_of:
        return "content", terms or f"close to {query.title}"
    if signal.content is None:
        return "ratings", f"liked by fans of {fans_of}"
    return "blend", f"liked by fans of {fans_of}" + (f" · {terms}" if terms else "")


def movie_similar(*, tmdb_id: int, limit: int, get_index: IndexGetter) -> MovieResults:
    """'More like this' for the API: see similar_candidates. Without the vector index, a movie
    with ratings neighbours is answered from them alone (degraded, with a notice); one without
    gets the 503."""
    notice = ""
    try:
        get_index()
    except VectorIndexError as exc:
        notice = (
            f"The vector index is unavailable ({exc}); these come from ratings alone. "
            f"{REBUILD_HINT}"
        )
    candidates = similar_candidates(tmdb_id=tmdb_id, limit=limit, get_index=get_index)
    return MovieResults(
        _in_order([c.id for c in candidates]),
        scores={c.id: c.score for c in candidates},
        reasons={c.id: c.reason for c in candidates},
        mode="similar",
        degraded=bool(notice),
        notice=notice,
    )


def catalog_health(*, embedder_ready: Callable[[], dict], get_index: IndexGetter) -> dict[str, Any]:
    """Each dependency reported on its own, plus catalog size and index size.

    The index is read the way a search reads it (index_probe), so damaged files that still
    open are reported too; a failure says how to rebuild it. Never raises: whatever a
    dependency answers, the report says what is wrong.
    """
    from catalog.vector_store import index_probe

    report: dict[str, Any] = {"movies": None, "indexed": None}
    try:
        report["movies"] = Movie.objects.count()
        report["database"] = {"ok": True}
    except DatabaseError as exc:
        report["database"] = {"ok": False, "detail": f"{exc.__class__.__name__}: {exc}"}
    try:
        index = get_index()
        report["indexed"] = index.count()
        index_probe(index)
        report["index"] = {"ok": True, "backend": index.name}
    except VectorIndexError as exc:
        report["index"] = {"ok": False, "detail": f"{exc} {REBUILD_HINT}"}
    except DatabaseError as exc:  # opening checks the index against the database
        detail = f"not checked: the database is unavailable ({exc})"
        report["index"] = {"ok": False, "detail": detail}
    try:
        ready = embedder_ready()
        report["model_service"] = {"ok": True, "models": ready.get("models", {})}
    except ModelServiceError as exc:
        report["model_service"] = {"ok": False, "detail": str(exc)}
    except Exception as exc:  # an answer of the wrong shape must not turn health into a 500
        logger.warning("model service readiness answer unusable: %r", exc)
        report["model_service"] = {"ok": False, "detail": f"unusable answer: {exc!r}"}
    oks = [report[k]["ok"] for k in ("database", "index", "model_service")]
    report["status"] = "ok" if all(oks) else ("error" if not oks[0] else "degraded")
    return report
