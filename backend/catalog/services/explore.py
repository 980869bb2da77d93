"""A 2D map of the catalog's embeddings (PCA) for the Explore page, the notebook and the CLI.

The API computes the map on demand and keeps it until the catalog changes (its signature: row
count and latest update, see recommender.catalog_cache), so any ingestion or staff edit is
seen without a manual step. `prepare.py map` saves the same payload to var/explore/map.json.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from catalog.models import Movie
from catalog.services.indexing import vector_from_bytes
from common.errors import ApplicationError
from recommender.catalog_cache import CatalogDerived

MAP_METHOD = "pca"
EMPTY_DIM = 384


def _first_genres(embedded: Any) -> dict[int, list[str]]:
    """Genre names of the given movies, in the order they were stored (the source's order)."""
    through = Movie.genres.through
    rows = (
        through.objects.filter(movie__in=embedded)
        .order_by("movie_id", "pk")
        .values_list("movie_id", "genre__name")
    )
    genres: dict[int, list[str]] = {}
    for movie_id, name in rows:
        genres.setdefault(movie_id, []).append(name)
    return genres


def catalog_embeddings() -> tuple[list[dict[str, Any]], np.ndarray]:
    """Every embedded movie's id, title, year, genres (and first genre), with its vectors as a
    matrix, in TMDB id order. Two queries, whatever the catalog's size."""
    embedded = Movie.objects.filter(embedding__isnull=False)
    genres = _first_genres(embedded)
    rows = embedded.order_by("tmdb_id").values_list("tmdb_id", "title", "year", "embedding")
    items, vectors = [], []
    for tmdb_id, title, year, embedding in rows:
        names = genres.get(tmdb_id, [])
        items.append(
            {
                "id": tmdb_id,
                "title": title,
                "year": year,
                "genre": names[0] if names else "",
                "genres": names,
            }
        )
        vectors.append(vector_from_bytes(embedding))
    if not vectors:
        return items, np.zeros((0, EMPTY_DIM), dtype=np.float32)
    dims = Counter(len(vector) for vector in vectors)
    if len(dims) > 1:
        (usual, _), *others = dims.most_common()
        odd = sum(count for _, count in others)
        raise ApplicationError(
            f"{odd} movies have embeddings of another size than the other {dims[usual]} "
            f"({usual} values): they were embedded by another model. Re-embed them with "
            "`prepare.py verify --repair` to draw the map.",
            code="mixed_embeddings",
            status_code=409,
            details={"dimensions": {str(dim): count for dim, count in dims.items()}},
        )
    return items, np.vstack(vectors)


def pca_2d(matrix: np.ndarray) -> np.ndarray:
    """Project rows onto their first two principal components, scaled into [-1, 1].

    Both axes share one scale, so distances on the map keep their proportions. The covariance
    (d x d) is diagonalised rather than the n x d matrix: ~20 ms for 10,000 x 384. Each axis's
    sign is fixed (largest loading positive), so a rebuild does not mirror the map.
    """
    n = len(matrix)
    if n == 0:
        return np.zeros((0, 2), dtype=np.float32)
    centered = np.asarray(matrix, dtype=np.float64)
    centered = centered - centered.mean(axis=0)
    _, eigenvectors = np.linalg.eigh(centered.T @ centered)
    components = eigenvectors[:, ::-1][:, :2].copy()  # eigh sorts eigenvalues ascending
    if components.shape[1] < 2:  # 1-dimensional vectors: nothing for y
        components = np.pad(components, ((0, 0), (0, 2 - components.shape[1])))
    for k in range(2):
        if components[np.argmax(np.abs(components[:, k])), k] < 0:
            components[:, k] = -components[:, k]
    coords = centered @ components
    scale = float(np.abs(coords).max())
    if scale < 1e-12:  # one movie, or identical vectors: all in the centre
        return np.zeros((n, 2), dtype=np.float32)
    return np.clip(coords / scale, -1.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class CatalogMap:
    """The map's response body (`payload`) and a validator of its content (`etag`)."""

    payload: dict[str, Any]
    etag: str


def catalog_map_compute() -> CatalogMap:
    """Read the embedded movies, project them, and shape the API's (and map.json's) body."""
    items, matrix = catalog_embeddings()
    coords = pca_2d(matrix).tolist()
    points = [
        {
            "id": item["id"],
            "title": item["title"],
            "year": item["year"],
            "genre": item["genre"],
            "x": round(x, 5),
            "y": round(y, 5),
        }
        for item, (x, y) in zip(items, coords, strict=True)
    ]
    payload = {"method": MAP_METHOD, "count": len(points), "points": points}
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    digest = hashlib.blake2b(body, digest_size=12).hexdigest()
    return CatalogMap(payload=payload, etag=f'"{digest}"')


_catalog_map: CatalogDerived[CatalogMap] = CatalogDerived(catalog_map_compute)


def catalog_map_get() -> CatalogMap:
    """The map of the current catalog: built on first use, rebuilt when the catalog changes."""
    return _catalog_map.get()


def clear_catalog_map() -> None:
    """Forget the cached map (tests; to see a bulk import at once rather than within seconds)."""
    _catalog_map.clear()


def catalog_map_build(*, out: Path | None = None) -> Path:
    """Save the map (the body GET /api/catalog/map/ answers) for the notebook and the CLI."""
    path = out or settings.VAR_DIR / "explore" / "map.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(catalog_map_compute().payload, ensure_ascii=False))
    return path
