"""The `tmdb-api` source: popular movies from the live TMDB API, with optional per-movie details."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx

from catalog.ingestion.records import MovieRecord, RatingRecord, SkippedRow
from catalog.ingestion.sources.base import SourceError
from catalog.ingestion.sources.parsing import (
    clean_names,
    clean_text,
    director_name,
    id_problem,
    parse_date,
    parse_float,
    parse_id,
    parse_int,
    parse_positive_int,
    release_year,
    top_cast,
)
from movie_constraints import TMDB_GENRE_IDS

API_KEY_ENV = "TMDB_API_KEY"
DEFAULT_BASE_URL = "https://api.themoviedb.org/3"
TMDB_MAX_PAGE = 500  # TMDB refuses page numbers above 500
CAST_SIZE = 5
MAX_RETRY_WAIT = 60.0  # seconds; a longer Retry-After is capped rather than obeyed blindly

# Looked up at call time so tests can replace it instead of sleeping.
_sleep = time.sleep


class TmdbNotFoundError(SourceError):
    """TMDB answered 404 for one resource (e.g. a movie removed since it was listed)."""


class TmdbApiClient:
    """A small typed TMDB v3 client: auth, timeouts, retries on 429/5xx (honouring Retry-After),
    and transport failures wrapped in SourceError."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        max_retries: int = 4,
        retry_backoff: float = 1.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json"}
        self._params: dict[str, str] = {}
        # TMDB issues two credentials: a v4 "read access token" (a JWT, sent as a bearer token)
        # and a short v3 "API key" (sent as a query parameter). Accept either.
        if api_key.startswith("eyJ"):
            headers["Authorization"] = f"Bearer {api_key}"
        else:
            self._params["api_key"] = api_key
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=timeout,
            transport=transport,
        )
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff

    def __enter__(self) -> TmdbApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def discover_page(self, page: int, *, min_votes: int, language: str) -> dict[str, Any]:
        """One page of /discover/movie, most popular first, with at least min_votes votes."""
        params = {
            "sort_by": "popularity.desc",
            "vote_count.gte": str(min_votes),
            "include_adult": "false",
            "include_video": "false",
            "language": language,
            "page": str(page),
        }
        return self.get_json("discover/movie", params)

    def movie_details(self, tmdb_id: int, *, language: str) -> dict[str, Any]:
        """/movie/{id} with credits and keywords in the same response."""
        params = {"append_to_response": "credits,keywords", "language": language}
        return self.get_json(f"movie/{tmdb_id}", params)

    def get_json(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            last_try = attempt == attempts - 1
            try:
                response = self._client.get(path, params={**self._params, **params})
            except httpx.TransportError as exc:
                if last_try:
                    raise SourceError(
                        f"Could not reach TMDB at {self._client.base_url} ({exc.__class__.__name__}"
                        f": {exc}). Check the network or the base_url option."
                    ) from exc
                _sleep(self._backoff(attempt))
                continue
            status = response.status_code
            if status == 429 or status >= 500:
                if last_try:
                    raise SourceError(
                        f"TMDB answered {status} to /{path} {attempts} times; try again later "
                        "or lower max_pages."
                    )
                _sleep(_retry_after(response) or self._backoff(attempt))
                continue
            return _json_body(response, path)
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _backoff(self, attempt: int) -> float:
        return min(self.retry_backoff * 2**attempt, MAX_RETRY_WAIT)


def _json_body(response: httpx.Response, path: str) -> dict[str, Any]:
    status = response.status_code
    if status in (401, 403):
        raise SourceError(
            f"TMDB refused the credentials ({status}: {_status_message(response)}). "
            f"Check {API_KEY_ENV}: it must be a TMDB API key or API read access token."
        )
    if status == 404:
        raise TmdbNotFoundError(f"TMDB has no /{path} (404).")
    if status >= 400:
        raise SourceError(f"TMDB answered {status} to /{path}: {_status_message(response)}")
    try:
        body = response.json()
    except ValueError as exc:
        raise SourceError(f"TMDB sent a response to /{path} that is not JSON.") from exc
    if not isinstance(body, dict):
        raise SourceError(f"TMDB sent an unexpected response to /{path} (not a JSON object).")
    return body


def _status_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and isinstance(body.get("status_message"), str):
        return body["status_message"]
    return response.text[:200]


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), capped."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    seconds = parse_float(value)
    if seconds is None:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_WAIT)


class TmdbApiSource:
    """Popular movies from TMDB's /discover/movie (sorted by popularity), page by page.

    Options:
      api_key: TMDB API key or read access token (default: the TMDB_API_KEY environment
        variable).
      max_pages: pages of 20 movies to read (default 50, at most 500).
      min_votes: keep movies with at least this many votes (default 100).
      details: fetch /movie/{id} with credits and keywords for runtime, IMDb id, director,
        cast and keywords (default True; one extra request per movie).
      language: TMDB language for titles and overviews (default "en-US").
      base_url: API root (default https://api.themoviedb.org/3).
      timeout, max_retries, retry_backoff: HTTP behaviour (10 s, 4 retries, 1 s doubling).
      transport: an httpx transport, for tests.
    """

    name: ClassVar[str] = "tmdb-api"
    has_ratings = False

    def __init__(
        self,
        path: Path | None = None,
        *,
        api_key: str | None = None,
        max_pages: int = 50,
        min_votes: int = 100,
        details: bool = True,
        language: str = "en-US",
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        max_retries: int = 4,
        retry_backoff: float = 1.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if path is not None:
            raise SourceError("The tmdb-api source reads from the TMDB API and takes no path.")
        key = (api_key or os.environ.get(API_KEY_ENV, "")).strip()
        if not key:
            raise SourceError(
                f"{API_KEY_ENV} is not set. Create a free TMDB account, request an API key at "
                "https://www.themoviedb.org/settings/api, then set TMDB_API_KEY in your .env "
                "(or the environment) and run the ingestion again."
            )
        if max_pages < 1:
            raise SourceError(f"max_pages must be at least 1, got {max_pages}.")
        self.api_key = key
        self.max_pages = min(max_pages, TMDB_MAX_PAGE)
        self.min_votes = min_votes
        self.details = details
        self.language = language
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.transport = transport

    def client(self) -> TmdbApiClient:
        return TmdbApiClient(
            self.api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            retry_backoff=self.retry_backoff,
            transport=self.transport,
        )

    def movies(self) -> Iterator[MovieRecord | SkippedRow]:
        with self.client() as client:
            page, total_pages = 1, self.max_pages
            while page <= min(self.max_pages, total_pages):
                body = client.discover_page(page, min_votes=self.min_votes, language=self.language)
                total_pages = parse_int(body.get("total_pages")) or page
                results = body.get("results")
                for item in results if isinstance(results, list) else []:
                    yield self._movie(client, item, page)
                page += 1

    def ratings(self) -> Iterator[RatingRecord | SkippedRow]:
        return iter(())

    def _movie(self, client: TmdbApiClient, item: object, page: int) -> MovieRecord | SkippedRow:
        if not isinstance(item, dict):
            return SkippedRow("malformed row", f"page {page}: result is not an object")
        raw_id = item.get("id")
        tmdb_id = parse_id(raw_id)
        if tmdb_id is None:
            return SkippedRow(id_problem(raw_id), f"page {page}: id {raw_id!r}")
        votes = parse_int(item.get("vote_count"))
        if votes is None or votes < self.min_votes:
            return SkippedRow("too few votes", f"id {tmdb_id}: {votes} < {self.min_votes}")
        if not clean_text(item.get("title")):
            return SkippedRow("missing title", f"page {page}: id {tmdb_id}")
        detail: dict[str, Any] = {}
        if self.details:
            try:
                detail = client.movie_details(tmdb_id, language=self.language)
            except TmdbNotFoundError:
                detail = {}  # removed since it was listed: keep what the list told us
        return movie_from_tmdb({**item, **detail}, tmdb_id, page)


def movie_from_tmdb(
    data: Mapping[str, Any], tmdb_id: int, page: int | None = None
) -> MovieRecord | SkippedRow:
    """A MovieRecord from a TMDB list result, optionally merged with its details response."""
    title = clean_text(data.get("title"))
    if not title:
        where = f"page {page}: " if page is not None else ""
        return SkippedRow("missing title", f"{where}id {tmdb_id}")
    released = parse_date(data.get("release_date"))
    credits = data.get("credits") if isinstance(data.get("credits"), dict) else {}
    keywords = data.get("keywords") if isinstance(data.get("keywords"), dict) else {}
    return MovieRecord(
        tmdb_id=tmdb_id,
        title=title,
        original_title=clean_text(data.get("original_title")),
        year=release_year(released, data.get("release_date")),
        release_date=released,
        genres=_genres(data),
        overview=clean_text(data.get("overview")),
        original_language=clean_text(data.get("original_language")),
        runtime=parse_positive_int(data.get("runtime")),
        popularity=parse_float(data.get("popularity")),
        vote_average=parse_float(data.get("vote_average")),
        vote_count=parse_int(data.get("vote_count")),
        poster_path=clean_text(data.get("poster_path")),
        keywords=_names(keywords.get("keywords")),
        cast=top_cast(credits.get("cast"), CAST_SIZE),
        director=director_name(credits.get("crew")),
        imdb_id=clean_text(data.get("imdb_id")),
    )


def _genres(data: Mapping[str, Any]) -> tuple[str, ...]:
    # List results carry genre_ids; details carry genres [{id, name}]. Ids avoid localised names.
    ids: list[object] = []
    if isinstance(data.get("genres"), list):
        ids = [g.get("id") for g in data["genres"] if isinstance(g, dict)]
    elif isinstance(data.get("genre_ids"), list):
        ids = data["genre_ids"]
    out: list[str] = []
    for raw in ids:
        genre = TMDB_GENRE_IDS.get(parse_int(raw) or 0)
        if genre and genre not in out:
            out.append(genre)
    return tuple(out)


def _names(items: object) -> tuple[str, ...]:
    if not isinstance(items, list):
        return ()
    return clean_names(item.get("name") for item in items if isinstance(item, dict))
