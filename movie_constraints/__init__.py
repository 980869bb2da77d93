"""Model-free reading of movie requests: constraints, and genre, language and title vocabulary."""

from __future__ import annotations

from .genres import GENRES, TMDB_GENRE_IDS, normalize_genre, normalize_genres
from .languages import LANGUAGE_NAMES, language_name, normalize_language
from .parse import (
    ACCLAIMED_MIN_RATING,
    GENRE_TERMS,
    SPAN_KINDS,
    Constraints,
    Span,
    parse_constraints,
)
from .titles import title_words

__all__ = [
    "ACCLAIMED_MIN_RATING",
    "GENRES",
    "GENRE_TERMS",
    "LANGUAGE_NAMES",
    "SPAN_KINDS",
    "TMDB_GENRE_IDS",
    "Constraints",
    "Span",
    "language_name",
    "normalize_genre",
    "normalize_genres",
    "normalize_language",
    "parse_constraints",
    "title_words",
]
