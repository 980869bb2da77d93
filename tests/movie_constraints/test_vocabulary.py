"""movie_constraints' genre and language vocabularies, and their agreement with the backend."""

from __future__ import annotations

import re

import pytest

import movie_constraints
from catalog import documents as backend_documents
from movie_constraints import (
    GENRE_TERMS,
    GENRES,
    LANGUAGE_NAMES,
    TMDB_GENRE_IDS,
    language_name,
    normalize_genre,
    normalize_genres,
    normalize_language,
    title_words,
)
from movie_constraints.languages import COUNTRY_LANGUAGES, TEXT_LANGUAGE_TERMS

# --- genres ---------------------------------------------------------------------------------


def test_genres_are_tmdbs_names_exactly() -> None:
    assert len(set(GENRES)) == 19
    assert set(TMDB_GENRE_IDS.values()) == set(GENRES)
    assert TMDB_GENRE_IDS[878] == "Science Fiction"


# Labels the catalog's sources use (TMDB, MovieLens, Kaggle); ingestion relies on these.
SOURCE_LABELS = {
    "sci-fi": "Science Fiction",
    "scifi": "Science Fiction",
    "science-fiction": "Science Fiction",
    "sf": "Science Fiction",
    "children": "Family",
    "children's": "Family",
    "kids": "Family",
    "musical": "Music",
    "film-noir": "Crime",
    "film noir": "Crime",
    "noir": "Crime",
    "animated": "Animation",
    "anime": "Animation",
    "romantic": "Romance",
    "romcom": "Romance",
    "historical": "History",
    "documentaries": "Documentary",
    "suspense": "Thriller",
    "tv": "TV Movie",
    **{genre.casefold(): genre for genre in GENRES},
}


def _source_labels() -> list[tuple[str, str]]:
    """Every source label, with case and spacing variants."""
    cases: list[tuple[str, str]] = []
    for key, genre in SOURCE_LABELS.items():
        for label in (key, key.upper(), key.title(), f"  {key} ", key.replace(" ", "  ")):
            cases.append((label, genre))
    return cases


@pytest.mark.parametrize(("label", "genre"), _source_labels())
def test_normalize_genre_maps_every_source_label(label: str, genre: str) -> None:
    assert normalize_genre(label) == genre


def test_normalize_genre_leaves_unknown_labels_out() -> None:
    for label in ["", "   ", "IMAX", "(no genres listed)", "Biography", "Sport", "News", "xyz"]:
        assert normalize_genre(label) is None


@pytest.mark.parametrize(
    ("label", "genre"),
    [
        ("Sci-Fi", "Science Fiction"),
        ("sci fi", "Science Fiction"),
        ("SciFi", "Science Fiction"),
        ("science-fiction", "Science Fiction"),
        ("SF", "Science Fiction"),
        ("Sci-Fi & Fantasy", "Science Fiction"),
        ("Children's", "Family"),
        ("children", "Family"),
        ("Kids", "Family"),
        ("Musical", "Music"),
        ("musicals", "Music"),
        ("Film-Noir", "Crime"),
        ("noir", "Crime"),
        ("neo-noir", "Crime"),
        ("Animated", "Animation"),
        ("anime", "Animation"),
        ("cartoons", "Animation"),
        ("Romantic", "Romance"),
        ("romcom", "Romance"),
        ("Rom-Com", "Romance"),
        ("Historical", "History"),
        ("Documentaries", "Documentary"),
        ("docs", "Documentary"),
        ("Suspense", "Thriller"),
        ("thrillers", "Thriller"),
        ("TV", "TV Movie"),
        ("tv movie", "TV Movie"),
        ("Made-for-TV", "TV Movie"),
        ("Comedies", "Comedy"),
        ("mysteries", "Mystery"),
        ("westerns", "Western"),
        ("Horror movies", "Horror"),
        ("war film", "War"),
        ("genre: drama", "Drama"),
        ("Action & Adventure", "Action"),
        ("War & Politics", "War"),
        ("science_fiction", "Science Fiction"),
    ],
)
def test_normalize_genre_variants(label: str, genre: str) -> None:
    assert normalize_genre(label) == genre


def test_normalize_genres_dedupes_in_order() -> None:
    assert normalize_genres(["sci-fi", "Horror", "Science Fiction", "IMAX", "horror"]) == (
        "Science Fiction",
        "Horror",
    )


def test_genre_terms_map_to_catalog_genres() -> None:
    for pattern, genres in GENRE_TERMS.items():
        re.compile(pattern)
        assert genres, pattern
        assert set(genres) <= set(GENRES), pattern
    # Every genre but "TV Movie"-like rarities can be asked for in words.
    named = {g for genres in GENRE_TERMS.values() for g in genres}
    assert named == set(GENRES)


# --- languages ------------------------------------------------------------------------------

REQUIRED_CODES = (
    "hi", "ta", "te", "ml", "ko", "ja", "zh", "cn", "fr", "es", "pt", "de", "it", "sv", "da", "no",
    "fi", "nl", "pl", "ru", "tr", "fa", "ar", "he", "th", "id", "el", "cs", "hu", "ro", "uk", "en",
)  # fmt: skip


def test_language_names_cover_the_common_film_languages() -> None:
    assert set(REQUIRED_CODES) <= set(LANGUAGE_NAMES)
    assert len(LANGUAGE_NAMES) >= 40
    assert LANGUAGE_NAMES["cn"] == "Cantonese"
    assert LANGUAGE_NAMES["zh"] == "Mandarin"
    for code in LANGUAGE_NAMES:
        assert re.fullmatch(r"[a-z]{2}", code)


def test_backend_language_codes_are_known() -> None:
    assert set(backend_documents.LANGUAGE_NAMES) <= set(LANGUAGE_NAMES)


def test_language_tables_use_known_codes() -> None:
    for table in (TEXT_LANGUAGE_TERMS, COUNTRY_LANGUAGES):
        for term, code in table.items():
            assert code is None or code in LANGUAGE_NAMES, term
            assert term == term.lower()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("fr", "fr"),
        ("FR", "fr"),
        (" ko ", "ko"),
        ("cn", "cn"),
        ("zh", "zh"),
        ("fra", "fr"),
        ("jpn", "ja"),
        ("yue", "cn"),
        ("fr-CA", "fr"),
        ("pt_BR", "pt"),
        ("en-US", "en"),
        ("zh-HK", "cn"),
        ("zh-CN", "zh"),
        ("French", "fr"),
        ("french-language", "fr"),
        ("Korean cinema", "ko"),
        ("Korean", "ko"),
        ("Japanese", "ja"),
        ("Mandarin", "zh"),
        ("Chinese", "zh"),
        ("Cantonese", "cn"),
        ("Hong Kong", "cn"),
        ("Bollywood", "hi"),
        ("Hindi", "hi"),
        ("Tollywood", "te"),
        ("Telugu", "te"),
        ("Kollywood", "ta"),
        ("Tamil", "ta"),
        ("Malayalam", "ml"),
        ("Brazilian", "pt"),
        ("Portuguese", "pt"),
        ("Mexican", "es"),
        ("Argentinian", "es"),
        ("Spanish", "es"),
        ("Iranian", "fa"),
        ("Persian", "fa"),
        ("Farsi", "fa"),
        ("Hollywood", "en"),
        ("American", "en"),
        ("British", "en"),
        ("English", "en"),
        ("German", "de"),
        ("Italian", "it"),
        ("Swedish", "sv"),
        ("Danish", "da"),
        ("Norwegian", "no"),
        ("Finnish", "fi"),
        ("Dutch", "nl"),
        ("Polish", "pl"),
        ("Russian", "ru"),
        ("Soviet", "ru"),
        ("Turkish", "tr"),
        ("Arabic", "ar"),
        ("Egyptian", "ar"),
        ("Hebrew", "he"),
        ("Israeli", "he"),
        ("Thai", "th"),
        ("Indonesian", "id"),
        ("Greek", "el"),
        ("Czech", "cs"),
        ("Hungarian", "hu"),
        ("Romanian", "ro"),
        ("Ukrainian", "uk"),
        ("France", "fr"),
        ("South Korea", "ko"),
        ("the UK", "en"),
        ("Latin", "la"),
    ],
)
def test_normalize_language(text: str, code: str) -> None:
    assert normalize_language(text) == code


@pytest.mark.parametrize(
    "text", ["", "  ", "foreign", "Indian", "European", "Asian", "Scandinavian", "Klingon", "xyz"]
)
def test_normalize_language_ambiguous_or_unknown(text: str) -> None:
    assert normalize_language(text) is None


def test_language_name() -> None:
    assert language_name("ko") == "Korean"
    assert language_name(" CN ") == "Cantonese"
    assert language_name("qq") is None


def test_every_name_round_trips() -> None:
    for code, name in LANGUAGE_NAMES.items():
        if code != "xx":
            assert normalize_language(name) == code, name
        assert normalize_language(code) == code


def test_public_api() -> None:
    assert set(movie_constraints.__all__) >= {
        "Constraints",
        "Span",
        "parse_constraints",
        "GENRES",
        "normalize_genre",
        "LANGUAGE_NAMES",
        "normalize_language",
    }
    for name in movie_constraints.__all__:
        assert hasattr(movie_constraints, name)


@pytest.mark.parametrize(
    ("title", "words"),
    [
        ("Amélie", ["amelie"]),
        ("Ocean's Eleven", ["oceans", "11"]),
        ("The Godfather Part II", ["the", "godfather", "part", "2"]),
        ("Fast & Furious", ["fast", "and", "furious"]),
        ("Spirited Away (2001)", ["spirited", "away", "2001"]),
    ],
)
def test_title_words_spell_titles_one_way(title: str, words: list[str]) -> None:
    assert title_words(title) == words
