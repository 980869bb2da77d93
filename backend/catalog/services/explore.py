"""A 2D map of the catalog's embeddings (PCA), saved for the Explore page and the notebook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from catalog.models import Movie
from catalog.services.indexing import vector_from_bytes


def catalog_embeddings() -> tuple[list[dict[str, Any]], np.ndarray]:
    """Every embedded movie's id, title, year and first genre, with its vectors as a matrix."""
    rows = (
        Movie.objects.filter(embedding__isnull=False)
        .prefetch_related("genres")
        .only("tmdb_id", "title", "year", "embedding")
        .order_by("tmdb_id")
    )
    items, vectors = [], []
    for movie in rows:
        names = [genre.name for genre in movie.genres.all()]
        items.append(
            {
                "id": movie.tmdb_id,
                "title": movie.title,
                "year": movie.year,
                "genre": names[0] if names else "",
                "genres": names,
            }
        )
        vectors.append(vector_from_bytes(movie.embedding))
    matrix = np.vstack(vectors) if vectors else np.zeros((0, 384), dtype=np.float32)
    return items, matrix


def pca_2d(matrix: np.ndarray) -> np.ndarray:
    """Project rows onto their first two principal components, scaled to [-1, 1]."""
    if len(matrix) < 3:
        return np.zeros((len(matrix), 2), dtype=np.float32)
    centered = matrix - matrix.mean(axis=0)
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    coords = centered @ vt[:2].T
    scale = np.abs(coords).max(axis=0)
    scale[scale == 0] = 1.0
    return (coords / scale).astype(np.float32)


def catalog_map_build(*, out: Path | None = None) -> Path:
    items, matrix = catalog_embeddings()
    coords = pca_2d(matrix)
    for item, (x, y) in zip(items, coords, strict=True):
        item["x"], item["y"] = round(float(x), 5), round(float(y), 5)
    path = out or settings.VAR_DIR / "explore" / "map.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"method": "pca", "points": items}, ensure_ascii=False))
    return path
