"""The tmdb-api source against a fake TMDB: paging, vote threshold, genres, details, retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from catalog.ingestion.records import MovieRecord
from catalog.ingestion.sources import SourceError, open_source, tmdb_api

from .helpers import partition, reasons

KEY = "test-key-123"


def _result(tmdb_id: int, title: str, votes: int, genre_ids: list[int]) -> dict:
    return {
        "id": tmdb_id,
        "title": title,
        "original_title": title,
        "release_date": "2010-07-15",
        "genre_ids": genre_ids,
        "overview": f"About {title}.",
        "original_language": "en",
        "popularity": 50.5,
        "vote_average": 8.1,
        "vote_count": votes,
        "poster_path": f"/{tmdb_id}.jpg",
    }


PAGES = {
    1: [
        _result(27205, "Inception", 30000, [28, 878, 12, 99999]),  # 99999: not a TMDB genre
        _result(5, "Obscure", 12, [18]),  # below the vote threshold
    ],
    2: [_result(603, "The Matrix", 24000, [28, 878]), {"id": 7, "title": "  ", "vote_count": 500}],
    3: [_result(11, "Star Wars", 19000, [12])],
}
DETAILS = {
    27205: {
        "runtime": 148,
        "imdb_id": "tt1375666",
        "genres": [{"id": 28, "name": "Acción"}, {"id": 878, "name": "Ciencia ficción"}],
        "credits": {
            "cast": [
                {"name": "Leonardo DiCaprio", "order": 0},
                {"name": "Ken Watanabe", "order": 5},
                {"name": "Joseph Gordon-Levitt", "order": 1},
                {"name": "Elliot Page", "order": 2},
                {"name": "Tom Hardy", "order": 3},
                {"name": "Cillian Murphy", "order": 4},
            ],
            "crew": [
                {"name": "Emma Thomas", "job": "Producer"},
                {"name": "Christopher Nolan", "job": "Director"},
            ],
        },
        "keywords": {"keywords": [{"id": 1, "name": "dream"}, {"id": 2, "name": "heist"}]},
    },
}


class FakeTmdb:
    """Answers /discover/movie and /movie/{id} like TMDB; records every request it saw."""

    def __init__(self, *, throttle_page: int | None = None, fail_status: int | None = None):
        self.requests: list[httpx.Request] = []
        self.throttle_page = throttle_page  # answer 429 once for this page
        self.fail_status = fail_status  # answer every request with this status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail_status:
            return httpx.Response(self.fail_status, json={"status_message": "nope"})
        if request.url.params.get("api_key") != KEY:
            return httpx.Response(401, json={"status_message": "Invalid API key"})
        path = request.url.path
        if path == "/3/discover/movie":
            page = int(request.url.params["page"])
            if page == self.throttle_page:
                self.throttle_page = None
                return httpx.Response(429, headers={"Retry-After": "3"})
            return httpx.Response(
                200, json={"page": page, "total_pages": len(PAGES), "results": PAGES[page]}
            )
        if path.startswith("/3/movie/"):
            tmdb_id = int(path.rsplit("/", 1)[1])
            if tmdb_id not in DETAILS:
                return httpx.Response(404, json={"status_message": "not found"})
            return httpx.Response(200, json={**_find(tmdb_id), **DETAILS[tmdb_id]})
        return httpx.Response(404)

    def paths(self) -> list[str]:
        return [f"{r.url.path}?page={r.url.params.get('page', '')}" for r in self.requests]


def _find(tmdb_id: int) -> dict:
    return next(r for rs in PAGES.values() for r in rs if r["id"] == tmdb_id)


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Record waits instead of sleeping."""
    waited: list[float] = []
    monkeypatch.setattr(tmdb_api, "_sleep", waited.append)
    return waited


def _source(fake: FakeTmdb, **options):
    return open_source(
        "tmdb-api", None, api_key=KEY, transport=httpx.MockTransport(fake), **options
    )


def test_pages_threshold_genres_and_details(sleeps) -> None:
    fake = FakeTmdb()
    records, skipped = partition(_source(fake, max_pages=2).movies())

    assert records[0] == MovieRecord(
        tmdb_id=27205,
        title="Inception",
        original_title="Inception",
        year=2010,
        release_date=date(2010, 7, 15),
        genres=("Action", "Science Fiction"),  # by id from details, not localised names
        overview="About Inception.",
        original_language="en",
        runtime=148,
        popularity=50.5,
        vote_average=8.1,
        vote_count=30000,
        poster_path="/27205.jpg",
        keywords=("dream", "heist"),
        cast=(
            "Leonardo DiCaprio",
            "Joseph Gordon-Levitt",
            "Elliot Page",
            "Tom Hardy",
            "Cillian Murphy",
        ),
        director="Christopher Nolan",
        imdb_id="tt1375666",
    )
    # The Matrix's details are 404 (removed): the list data is kept.
    assert records[1].title == "The Matrix"
    assert records[1].genres == ("Action", "Science Fiction")
    assert (records[1].runtime, records[1].director) == (None, "")
    assert [(s.reason, s.detail) for s in skipped] == [
        ("too few votes", "id 5: 12 < 100"),
        ("missing title", "page 2: id 7"),
    ]
    # max_pages=2: page 3 (Star Wars) is never requested.
    assert fake.paths() == [
        "/3/discover/movie?page=1",
        "/3/movie/27205?page=",
        "/3/discover/movie?page=2",
        "/3/movie/603?page=",
    ]
    assert sleeps == []


def test_discover_query_asks_for_popular_movies_with_enough_votes() -> None:
    fake = FakeTmdb()
    list(_source(fake, max_pages=1, min_votes=250, details=False).movies())

    params = fake.requests[0].url.params
    assert params["sort_by"] == "popularity.desc"
    assert params["vote_count.gte"] == "250"
    assert params["include_adult"] == "false"
    assert params["api_key"] == KEY


def test_list_genre_ids_map_without_details_and_paging_stops_at_total_pages() -> None:
    fake = FakeTmdb()
    records, skipped = partition(_source(fake, details=False).movies())

    assert [r.title for r in records] == ["Inception", "The Matrix", "Star Wars"]
    assert records[0].genres == ("Action", "Science Fiction", "Adventure")  # 99999 dropped
    assert records[0].runtime is None
    assert reasons(skipped) == {"too few votes": 1, "missing title": 1}
    assert len(fake.requests) == 3  # total_pages is 3, although max_pages defaults to 50


def test_429_is_retried_after_the_servers_retry_after(sleeps) -> None:
    fake = FakeTmdb(throttle_page=2)
    records, _ = partition(_source(fake, details=False).movies())

    assert [r.title for r in records] == ["Inception", "The Matrix", "Star Wars"]
    assert sleeps == [3.0]
    assert fake.paths().count("/3/discover/movie?page=2") == 2


def test_persistent_5xx_gives_up_with_a_source_error(sleeps) -> None:
    fake = FakeTmdb(fail_status=503)

    with pytest.raises(SourceError, match="503"):
        list(_source(fake, max_retries=2, retry_backoff=0.5).movies())
    assert len(fake.requests) == 3
    assert sleeps == [0.5, 1.0]  # exponential backoff without Retry-After


def test_rejected_key_is_a_clear_error() -> None:
    source = open_source(
        "tmdb-api", None, api_key="wrong", transport=httpx.MockTransport(FakeTmdb())
    )

    with pytest.raises(SourceError, match=r"refused the credentials.*TMDB_API_KEY"):
        list(source.movies())


def test_read_access_token_is_sent_as_bearer() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"page": 1, "total_pages": 1, "results": []})

    token = "eyJhbGciOiJIUzI1NiJ9.fake.token"
    source = open_source("tmdb-api", None, api_key=token, transport=httpx.MockTransport(handler))

    assert list(source.movies()) == []
    assert seen[0].headers["Authorization"] == f"Bearer {token}"
    assert "api_key" not in seen[0].url.params


def test_missing_key_explains_how_to_get_one(monkeypatch) -> None:
    monkeypatch.delenv("TMDB_API_KEY", raising=False)

    with pytest.raises(SourceError, match=r"TMDB_API_KEY is not set.*themoviedb.org/settings/api"):
        open_source("tmdb-api", None)


def test_key_is_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("TMDB_API_KEY", KEY)
    fake = FakeTmdb()

    source = open_source("tmdb-api", None, transport=httpx.MockTransport(fake), details=False)
    assert len(list(source.movies())) == 5
    assert fake.requests[0].url.params["api_key"] == KEY


def test_a_path_is_refused() -> None:
    with pytest.raises(SourceError, match="takes no path"):
        open_source("tmdb-api", Path("movies.csv"), api_key=KEY)


@pytest.fixture
def loopback_tmdb() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 serving one page; it throttles the first request."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            if len(seen) == 1:
                self._send(429, {"status_message": "slow down"}, {"Retry-After": "0"})
            elif self.path.startswith("/3/discover/movie?"):
                body = {"page": 1, "total_pages": 1, "results": PAGES[1]}
                self._send(200, body)
            else:
                self._send(200, {**_find(27205), **DETAILS[27205]})

        def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:  # keep pytest output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/3", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_real_http_round_trip_over_loopback(loopback_tmdb) -> None:
    base_url, seen = loopback_tmdb

    source = open_source("tmdb-api", None, api_key=KEY, base_url=base_url, timeout=5)
    records, skipped = partition(source.movies())

    assert [(r.title, r.director, r.runtime) for r in records] == [
        ("Inception", "Christopher Nolan", 148)
    ]
    assert reasons(skipped) == {"too few votes": 1}
    assert [p.split("?")[0] for p in seen] == [
        "/3/discover/movie",  # 429, retried
        "/3/discover/movie",
        "/3/movie/27205",
    ]
    assert f"api_key={KEY}" in seen[0]
