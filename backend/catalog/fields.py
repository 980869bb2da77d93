"""Validation of the genre and language values API clients send, shared by every endpoint."""

from __future__ import annotations

from collections.abc import Iterable

from rest_framework import serializers

from movie_constraints import GENRES, normalize_genre, normalize_language


def genres_from_labels(labels: Iterable[str]) -> tuple[str, ...]:
    """Catalog genre names for labels such as "sci-fi" or "Animation"; unknown ones are an
    error that lists the valid genres."""
    genres = []
    for label in labels:
        genre = normalize_genre(label)
        if genre is None:
            raise serializers.ValidationError(
                f"Unknown genre {label!r}; valid genres: {', '.join(GENRES)}."
            )
        genres.append(genre)
    return tuple(dict.fromkeys(genres))


def language_from_label(value: str) -> str:
    """An ISO 639-1 code for "fr", "French", "fra", ...; "" for blank."""
    value = value.strip()
    if not value:
        return ""
    code = normalize_language(value)
    if code:
        return code
    if value.isalpha() and len(value) == 2:
        return value.lower()
    raise serializers.ValidationError(
        "Use an ISO 639-1 code such as 'fr' or a language name such as 'French'."
    )
