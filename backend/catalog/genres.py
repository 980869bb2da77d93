"""The catalog's genre vocabulary (TMDB's names) and normalisation of other sources' labels."""

from __future__ import annotations

from collections.abc import Iterable

GENRES: tuple[str, ...] = (
    "Action",
    "Adventure",
    "Animation",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Family",
    "Fantasy",
    "History",
    "Horror",
    "Music",
    "Mystery",
    "Romance",
    "Science Fiction",
    "TV Movie",
    "Thriller",
    "War",
    "Western",
)

# TMDB genre ids, used by the live TMDB API source.
TMDB_GENRE_IDS: dict[int, str] = {
    28: "Action",
    12: "Adventure",
    16: "Animation",
    35: "Comedy",
    80: "Crime",
    99: "Documentary",
    18: "Drama",
    10751: "Family",
    14: "Fantasy",
    36: "History",
    27: "Horror",
    10402: "Music",
    9648: "Mystery",
    10749: "Romance",
    878: "Science Fiction",
    10770: "TV Movie",
    53: "Thriller",
    10752: "War",
    37: "Western",
}

_CANONICAL = {g.casefold(): g for g in GENRES}
_ALIASES = {
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
}


def normalize_genre(label: str) -> str | None:
    """Map a genre label from any source to the catalog vocabulary; None when it has no match."""
    key = " ".join(label.strip().casefold().split())
    if not key:
        return None
    return _CANONICAL.get(key) or _ALIASES.get(key)


def normalize_genres(labels: Iterable[str]) -> tuple[str, ...]:
    """Normalise and de-duplicate genre labels, keeping the source's order."""
    out: list[str] = []
    for label in labels:
        genre = normalize_genre(label)
        if genre and genre not in out:
            out.append(genre)
    return tuple(out)
