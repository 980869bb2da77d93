"""Catalog sources by name, and `open_source` to build one from a path and keyword options."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from catalog.ingestion.sources.base import CatalogSource, SourceError
from catalog.ingestion.sources.demo import DemoSource
from catalog.ingestion.sources.jsonl import JsonlSource
from catalog.ingestion.sources.movielens import MovieLensSource
from catalog.ingestion.sources.movies_dataset import MoviesDatasetSource
from catalog.ingestion.sources.ratings import RatingsSource
from catalog.ingestion.sources.tmdb_api import TmdbApiSource
from catalog.ingestion.sources.tmdb_csv import TmdbCsvSource

SOURCES: dict[str, type[Any]] = {
    cls.name: cls
    for cls in (
        DemoSource,
        JsonlSource,
        TmdbCsvSource,
        MoviesDatasetSource,
        MovieLensSource,
        RatingsSource,
        TmdbApiSource,
    )
}
SOURCE_NAMES: tuple[str, ...] = tuple(SOURCES)

__all__ = ["SOURCES", "SOURCE_NAMES", "CatalogSource", "SourceError", "open_source"]


def open_source(name: str, path: Path | None, **options: Any) -> CatalogSource:
    """The source called name reading path, configured by options.

    Raises SourceError for an unknown name, an option the source does not take, or missing
    input files. Reading happens later, when movies() or ratings() is iterated.
    """
    cls = SOURCES.get(name)
    if cls is None:
        raise SourceError(f"Unknown catalog source {name!r}. Choose one of: {', '.join(SOURCES)}.")
    accepted = {
        parameter.name: parameter
        for parameter in inspect.signature(cls).parameters.values()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) if accepted else "no options"
        raise SourceError(
            f"The {name} source has no option {', '.join(unknown)}; it takes: {takes}."
        )
    values = {
        key: _coerce(name, key, value, accepted[key].default) for key, value in options.items()
    }
    source: CatalogSource = cls(Path(path) if path is not None else None, **values)
    return source


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_EXPECTED = {bool: "true or false", int: "a whole number", float: "a number"}


def _coerce(source: str, key: str, value: Any, default: Any) -> Any:
    """Options from a command line arrive as text: "false" must not count as true."""
    if not isinstance(value, str) or default is None or isinstance(default, str):
        return value
    text = value.strip().lower()
    if isinstance(default, bool):
        if text in _TRUE | _FALSE:
            return text in _TRUE
    else:
        try:
            return type(default)(text)
        except ValueError:
            pass
    expected = _EXPECTED.get(type(default), type(default).__name__)
    raise SourceError(f"Option {key} of the {source} source must be {expected}, got {value!r}.")
