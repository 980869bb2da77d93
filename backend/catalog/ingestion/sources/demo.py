"""The `demo` source: the small catalog shipped in the repository, in the jsonl schema."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from catalog.ingestion.sources.base import SourceError
from catalog.ingestion.sources.jsonl import JsonlSource

# backend/catalog/ingestion/sources/demo.py -> parents[4] is the repository root.
REPO_ROOT = Path(__file__).resolve().parents[4]
DEMO_CATALOG_PATH = REPO_ROOT / "data" / "demo" / "movies.jsonl"


class DemoSource(JsonlSource):
    """The shipped demo catalog (data/demo/movies.jsonl) unless another path is given."""

    name: ClassVar[str] = "demo"

    def __init__(self, path: Path | None = None) -> None:
        target = Path(path) if path is not None else DEMO_CATALOG_PATH
        if not target.is_file():
            raise SourceError(
                f"Demo catalog not found at {target}. It ships with the repository as "
                "data/demo/movies.jsonl; restore it (git checkout data/demo) or pass a path."
            )
        super().__init__(target)
