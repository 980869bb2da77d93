"""Every error, from DRF or Django, leaves in the one JSON shape."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_method_not_allowed_and_unknown_urls_use_the_error_shape():
    client = APIClient()
    response = client.post("/api/movies/27205/similar/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    response = client.get("/definitely/not/here/")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No such page or resource.", "details": {}}
    }


def test_a_database_error_in_any_view_is_a_503_in_the_one_shape():
    from django.db import OperationalError

    from common.errors import api_exception_handler

    response = api_exception_handler(OperationalError("connection refused"), {"view": None})
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.data["error"]["code"] == "database_unavailable"
