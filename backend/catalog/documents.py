"""What a movie is embedded from, and the hashes that tell when it must be re-embedded."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

from catalog.ingestion.records import MovieRecord

# Bump when movie_embedding_text changes, so stored embeddings are recomputed.
EMBEDDING_TEXT_VERSION = "1"

LANGUAGE_NAMES = {
    "ar": "Arabic", "cn": "Cantonese", "cs": "Czech", "da": "Danish", "de": "German",
    "el": "Greek", "es": "Spanish", "fa": "Persian", "fi": "Finnish", "fr": "French",
    "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian", "id": "Indonesian", "it": "Italian",
    "ja": "Japanese", "ko": "Korean", "ml": "Malayalam", "nl": "Dutch", "no": "Norwegian",
    "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sv": "Swedish",
    "ta": "Tamil", "te": "Telugu", "th": "Thai", "tl": "Tagalog", "tr": "Turkish",
    "uk": "Ukrainian", "zh": "Chinese",
}  # fmt: skip


def movie_embedding_text(
    *,
    title: str,
    year: int | None,
    genres: Sequence[str],
    overview: str,
    original_language: str = "",
    keywords: Sequence[str] = (),
    director: str = "",
    cast: Sequence[str] = (),
) -> str:
    """The text a movie is embedded from: only what the movie has, never placeholder words.

    Title, genres and overview come first because MiniLM reads at most 256 tokens.
    """
    parts = [f"{title} ({year})." if year else f"{title}."]
    language = LANGUAGE_NAMES.get(original_language)
    if genres:
        kind = ", ".join(genres)
        parts.append(f"{language} {kind} film." if language else f"{kind} film.")
    elif language:
        parts.append(f"{language}-language film.")
    if overview.strip():
        parts.append(overview.strip())
    if keywords:
        parts.append("Themes: " + ", ".join(keywords[:12]) + ".")
    if director:
        parts.append(f"Directed by {director}.")
    if cast:
        parts.append("Starring " + ", ".join(cast[:4]) + ".")
    return " ".join(parts)


def record_embedding_text(record: MovieRecord) -> str:
    return movie_embedding_text(
        title=record.title,
        year=record.year,
        genres=record.genres,
        overview=record.overview,
        original_language=record.original_language,
        keywords=record.keywords,
        director=record.director,
        cast=record.cast,
    )


def movie_to_record(movie: Any) -> MovieRecord:
    """The record a stored Movie row corresponds to (genres must be prefetched or cheap)."""
    return MovieRecord(
        tmdb_id=movie.tmdb_id, title=movie.title, original_title=movie.original_title,
        year=movie.year, release_date=movie.release_date,
        genres=tuple(genre.name for genre in movie.genres.all()), overview=movie.overview,
        original_language=movie.original_language, runtime=movie.runtime,
        popularity=movie.popularity, vote_average=movie.vote_average,
        vote_count=movie.vote_count, poster_path=movie.poster_path,
        keywords=tuple(movie.keywords), cast=tuple(movie.cast), director=movie.director,
        imdb_id=movie.imdb_id,
    )  # fmt: skip


def text_hash(text: str) -> str:
    return hashlib.sha256(f"{EMBEDDING_TEXT_VERSION}\n{text}".encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def record_fields_hash(record: MovieRecord, source: str) -> str:
    """Hash of everything a record sets on a row; equal hashes mean re-ingesting changes nothing."""
    fields = {key: _jsonable(value) for key, value in asdict(record).items()}
    fields["source"] = source
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def content_hash(fields_hash: str, embedding_model: str, embedding_text_hash: str) -> str:
    """What the index stores per point; a row whose indexed_hash differs is pending."""
    key = f"{fields_hash}|{embedding_model}|{embedding_text_hash}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]
