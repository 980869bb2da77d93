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
