"""Shared helpers for the catalog source tests: fixture paths and record/skip partitioning."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

import pytest

from catalog.ingestion.records import SkippedRow

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# backend/tests/ingestion_sources/helpers.py -> parents[3] is the repository root.
REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

T = TypeVar("T")


def partition(rows: Iterable[T | SkippedRow]) -> tuple[list[T], list[SkippedRow]]:
    """Split a source's output into records and skipped rows, keeping order."""
    records: list[T] = []
    skipped: list[SkippedRow] = []
    for row in rows:
        (skipped if isinstance(row, SkippedRow) else records).append(row)
    return records, skipped


def reasons(skipped: Iterable[SkippedRow]) -> Counter[str]:
    return Counter(row.reason for row in skipped)


def shared_file(relative: str) -> Path:
    """A file under ../shared/data, or skip the test (a fresh clone has no ../shared)."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} is absent (real data lives beside the repo, in ../shared/data)")
    return path
