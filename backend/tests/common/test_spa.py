"""The web client's page: the built index.html at / and /explore, or a page saying how to build."""

from __future__ import annotations

from django.test import Client


def test_the_built_client_is_served_at_root_and_its_routes(settings, tmp_path):
    (tmp_path / "index.html").write_text(
        '<!doctype html><div id="root"></div><script src="/static/assets/index-Ab12Cd34.js">'
        "</script>"
    )
    settings.FRONTEND_DIST = tmp_path
    client = Client()
    for path in ("/", "/explore"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Type"] == "text/html; charset=utf-8"
        assert response["Cache-Control"] == "no-cache"
        assert b'<div id="root">' in response.content


def test_without_a_build_the_page_says_how_to_make_one(settings, tmp_path):
    settings.FRONTEND_DIST = tmp_path / "missing"
    response = Client().get("/")
    assert response.status_code == 503
    assert b"make frontend" in response.content
    assert b'href="/api/docs/"' in response.content


def test_unknown_paths_stay_json_404s(settings, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html>")
    settings.FRONTEND_DIST = tmp_path
    response = Client().get("/explore/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
