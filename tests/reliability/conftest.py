"""Shared by the reliability suites (test_bad_input, test_fuzz, test_injection,
test_production_settings): the backend's fakes and fixtures, loaded from backend/tests'
conftests (one fake embedder, one fake chat client), a staff API client, and `report`, whose
lines are printed once at the end of the run ("reliability summary").

The backend's conftests are loaded by path (backend/tests is not a package) and their fixtures
re-exported here, so pytest finds them for every suite in this folder.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_backend = _load("_reliability_backend_conftest", REPO / "backend/tests/conftest.py")
_recommender = _load(
    "_reliability_recommender_conftest", REPO / "backend/tests/recommender/conftest.py"
)

FakeEmbedder = _backend.FakeEmbedder
FakeChatClient = _recommender.FakeChatClient

# Re-exported fixtures (pytest registers them by their own names).
fake_embedder = _backend.fake_embedder
index_path = _backend.index_path
catalog_index = _backend.catalog_index
use_fake_embedder = _backend.use_fake_embedder
chat_client = _recommender.chat_client
stub_router = _recommender.stub_router
demo_catalog = _recommender.demo_catalog


@pytest.fixture
def staff_writes(monkeypatch, fake_embedder):
    """The staff write endpoints use the fake embedder."""
    import catalog.apis_staff

    monkeypatch.setattr(catalog.apis_staff, "get_model_service_client", lambda: fake_embedder)
    return fake_embedder


@pytest.fixture
def production_csp(settings):
    """The Content-Security-Policy the production settings send (the test settings send none)."""
    settings.CONTENT_SECURITY_POLICY = settings.SPA_CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY_RELAXED = settings.DOCS_CONTENT_SECURITY_POLICY
    return settings.CONTENT_SECURITY_POLICY


@pytest.fixture
def staff_api(db):
    """An API client signed in as a staff user (APIClient does not enforce the CSRF check)."""
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    user = get_user_model().objects.create_user("reliability-staff", is_staff=True)
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- summaries: each suite records what it measured; printed once at the end of the run. ---
SUMMARIES: dict[str, list[str]] = {}
STATUS_COUNTS: dict[str, Counter] = {}


def record_status(suite: str, status: int) -> None:
    STATUS_COUNTS.setdefault(suite, Counter())[status] += 1


def record_summary(suite: str, line: str) -> None:
    SUMMARIES.setdefault(suite, []).append(line)


class _SummaryPlugin:
    def pytest_terminal_summary(self, terminalreporter) -> None:
        lines = []
        for suite, counts in sorted(STATUS_COUNTS.items()):
            statuses = ", ".join(f"{status}×{n}" for status, n in sorted(counts.items()))
            lines.append(f"{suite}: {sum(counts.values())} cases; statuses {statuses}")
        for suite, extra in sorted(SUMMARIES.items()):
            lines.extend(f"{suite}: {line}" for line in extra)
        if lines:
            terminalreporter.write_sep("-", "reliability summary")
            for line in lines:
                terminalreporter.write_line(line)


class Report:
    status = staticmethod(record_status)
    summary = staticmethod(record_summary)


@pytest.fixture(scope="session")
def report(pytestconfig) -> Report:
    """Where a suite records its statuses and figures, printed at the end of the run."""
    manager = pytestconfig.pluginmanager
    if not manager.has_plugin("reliability-summary"):
        manager.register(_SummaryPlugin(), "reliability-summary")
    return Report()
