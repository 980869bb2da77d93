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

_CANONICAL: dict[str, str] = {g.casefold(): g for g in GENRES}

# Labels other sources use for a catalog genre. The first block is exactly the table of
# backend/catalog/genres.py (a test keeps them in step); the rest are unambiguous variants seen in
# MovieLens, IMDb, TMDB's TV genres and free-form labels. Labels with no single TMDB genre
# (Biography, Sport, IMAX, ...) are deliberately absent: they normalise to None.
_ALIASES: dict[str, str] = {
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
    # Spelling variants of the above.
    "sci fi": "Science Fiction",
    "sci-fi & fantasy": "Science Fiction",
    "childrens": "Family",
    "kid": "Family",
    "kids & family": "Family",
    "family-friendly": "Family",
    "neo-noir": "Crime",
    "neo noir": "Crime",
    "cartoon": "Animation",
    "rom-com": "Romance",
    "rom com": "Romance",
    "romantic comedy": "Romance",
    "period piece": "History",
    "docu": "Documentary",
    "doc": "Documentary",
    "docs": "Documentary",
    "tv-movie": "TV Movie",
    "tv film": "TV Movie",
    "tv-film": "TV Movie",
    "television movie": "TV Movie",
    "television film": "TV Movie",
    "made for tv": "TV Movie",
    "made-for-tv": "TV Movie",
    "action & adventure": "Action",
    "action and adventure": "Action",
    "war & politics": "War",
    "suspenseful": "Thriller",
    "whodunit": "Mystery",
    "whodunnit": "Mystery",
    "detective": "Mystery",
    "superhero": "Action",
    "martial arts": "Action",
    "heist": "Crime",
    "gangster": "Crime",
    "slasher": "Horror",
    "space opera": "Science Fiction",
    "cyberpunk": "Science Fiction",
    "melodrama": "Drama",
}

# Words a label may carry around the genre name ("Horror movies", "Genre: Drama").
_SUFFIXES = (" movies", " movie", " films", " film", " flicks", " genre", " cinema")
_PREFIXES = ("genre: ", "genre:")


def _lookup(key: str) -> str | None:
    """The genre for an exact normalised key, trying the singular of a plural."""
    for candidate in (key, key[:-1] if key.endswith("s") else "", _singular_ies(key)):
        if candidate:
            genre = _CANONICAL.get(candidate) or _ALIASES.get(candidate)
            if genre:
                return genre
    return None


def _singular_ies(key: str) -> str:
    """'comedies' -> 'comedy'; '' when the key does not end in -ies."""
    return key[:-3] + "y" if key.endswith("ies") and len(key) > 4 else ""


def normalize_genre(label: str) -> str | None:
    """Map a genre label from any source to the catalog vocabulary; None when it has no match."""
    key = " ".join(label.strip().casefold().replace("_", " ").split())
    if not key:
        return None
    genre = _lookup(key)
    if genre:
        return genre
    # Decorated labels ("Horror movies", "genre: drama") are tried without the decoration, so a
    # bare word that is no genre still maps to None.
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix) :].strip()
    for suffix in _SUFFIXES:
        if key.endswith(suffix):
            key = key[: -len(suffix)].strip()
            break
    return _lookup(key) if key else None


def normalize_genres(labels: Iterable[str]) -> tuple[str, ...]:
    """Normalise and de-duplicate genre labels, keeping the source's order."""
    out: list[str] = []
    for label in labels:
        genre = normalize_genre(label)
        if genre and genre not in out:
            out.append(genre)
    return tuple(out)
