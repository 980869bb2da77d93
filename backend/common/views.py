"""The web client: the built single-page app at `/` and its client-side routes."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View


def _index_html() -> str | None:
    index = Path(settings.FRONTEND_DIST) / "index.html"
    try:
        return index.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


class SpaView(View):
    """Serve frontend/dist/index.html (built by `make run` / `make frontend`); its scripts and
    styles are static files under /static/. Without a build, a page that says how to make one."""

    def get(self, request: HttpRequest) -> HttpResponse:
        html = _index_html()
        if html is None:
            return render(request, "common/not_built.html", status=503)
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
        # The page names hashed assets: always revalidate it, so a new build is picked up.
        response["Cache-Control"] = "no-cache"
        return response
