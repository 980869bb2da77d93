#!/usr/bin/env python
"""Build the request→intent training pairs: data/qa/train.jsonl (qa_format.Pair per line).

    .venv/bin/python fine-tune/build_data.py [--seed 13] [--count 3600] [--out PATH]
                                             [--feedback var/exports/feedback.jsonl]

Two sources:
- synthetic: requests written from the demo catalog (data/demo/movies.jsonl) by a dozen
  template families (similar titles, "X but funnier", mood + genre + era, themes, exclusions,
  people, languages, eras, runtime, audiences, multi-turn follow-ups) in many phrasings, with
  lowercase, typos and a casual tone now and then. Every answer is derived from the catalog:
  reference titles are the films named (spelled as in the catalog), genres those the request
  implies (its own words, the rules' reading, or - for a theme alone - the genre most films
  with that keyword share), keywords the moods (a lexicon of model_service.enrichment's mood
  words) and themes (catalog keywords) it states, and the search text describes the kind of
  film (for "like Inception": Inception's genres, keywords and mood, never the title).
- feedback: rated chat turns exported by `manage.py export_feedback` (merged when the file
  exists): a thumbs-up turn becomes a pair whose answer is the enrichment (or understanding)
  stored with it; thumbs-down and unrated turns are skipped.

Each pair's `enrichment` is what /v1/enrich returns for it: model_service.enrichment.enrich_from
applied to the answer as if the model had written it, so training targets equal serving
outputs. A synthetic pair is kept only when that enrichment also meets what the template meant
(years, language, exclusions, titles), checked with model_service.evaluation's scorer.

Nothing is taken from the held-out sets: any request equal or close (normalised text) to a
message of data/enrichment/quality.jsonl or a user turn of data/conversations/ is dropped and
counted. Same seed, same options: a byte-identical file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from random import Random
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, Path(__file__).resolve().parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from qa_format import ENRICHMENT_FIELDS, HELD_OUT_FILE, TRAIN_FILE, Pair, write_pairs  # noqa: E402

from model_service.enrichment import MOOD_WORDS, enrich_from, title_named  # noqa: E402
from model_service.evaluation import QualityCase, score_enrichment  # noqa: E402
from model_service.prompts.answer_format import complete_answer  # noqa: E402
from movie_constraints import GENRES, normalize_genre, parse_constraints, title_words  # noqa: E402

CATALOG_FILE = REPO / "data" / "demo" / "movies.jsonl"
CONVERSATIONS_FILE = REPO / "data" / "conversations" / "conversations.jsonl"
FEEDBACK_FILE = REPO / "var" / "exports" / "feedback.jsonl"
DEFAULT_SEED = 13
DEFAULT_COUNT = 3600

MAX_GENRES = 2  # answer_format.ENRICHMENT_SCHEMA
MAX_KEYWORDS = 3
MAX_TITLES = 3
LATEST_YEAR = 2025  # no year bound past this in a request


@dataclass(frozen=True)
class BuildOptions:
    seed: int = DEFAULT_SEED
    count: int = DEFAULT_COUNT
    out: Path = TRAIN_FILE
    feedback: Path | None = FEEDBACK_FILE
    catalog: Path = CATALOG_FILE
    held_out: Path = HELD_OUT_FILE
    conversations: Path | None = CONVERSATIONS_FILE


# --- vocabulary ------------------------------------------------------------------------------

# Moods a request may state, and the genres of films they suit. Every word is one of the
# service's MOOD_WORDS, so it lands in `moods` (not `themes`) when the answer is merged.
MOOD_FITS: dict[str, tuple[str, ...]] = {
    "dark": ("Crime", "Thriller", "Drama", "Horror", "Mystery", "Science Fiction", "War"),
    "gritty": ("Crime", "Thriller", "Action", "War", "Western", "Drama"),
    "bleak": ("Drama", "War", "Science Fiction", "Crime", "Western"),
    "tense": ("Thriller", "Crime", "Horror", "Mystery", "War", "Action", "Science Fiction"),
    "suspenseful": ("Thriller",),
    "creepy": ("Horror", "Mystery", "Thriller"),
    "eerie": ("Horror", "Mystery", "Science Fiction"),
    "atmospheric": ("Horror", "Mystery", "Science Fiction", "Fantasy", "Western", "Crime"),
    "scary": ("Horror",),
    "terrifying": ("Horror",),
    "chilling": ("Horror", "Thriller", "Mystery"),
    "disturbing": ("Horror", "Thriller", "Crime"),
    "funny": ("Comedy",),
    "hilarious": ("Comedy",),
    "witty": ("Comedy", "Romance", "Crime"),
    "silly": ("Comedy", "Family", "Animation"),
    "quirky": ("Comedy", "Drama", "Romance", "Animation"),
    "heartwarming": ("Family", "Animation", "Comedy", "Drama", "Romance"),
    "wholesome": ("Family", "Animation", "Comedy"),
    "feel-good": ("Comedy", "Family", "Romance", "Music", "Animation"),
    "uplifting": ("Drama", "Music", "Family", "Comedy"),
    "inspiring": ("Drama", "History", "Music", "Documentary"),
    "charming": ("Comedy", "Romance", "Family", "Animation", "Fantasy"),
    "cozy": ("Family", "Animation", "Comedy", "Romance", "Mystery"),
    "whimsical": ("Fantasy", "Animation", "Comedy", "Family"),
    "lighthearted": ("Comedy", "Family", "Adventure", "Romance", "Animation"),
    "romantic": ("Romance",),
    "bittersweet": ("Drama", "Romance", "Comedy", "Music"),
    "melancholic": ("Drama", "Romance"),
    "heartbreaking": ("Drama", "Romance", "War"),
    "moving": ("Drama", "War", "History", "Music", "Family"),
    "emotional": ("Drama", "Romance", "War", "Family"),
    "touching": ("Drama", "Family", "Animation", "Romance"),
    "hopeful": ("Drama", "Science Fiction", "Family"),
    "thoughtful": ("Drama", "Science Fiction", "Mystery", "History"),
    "mysterious": ("Mystery", "Science Fiction", "Fantasy", "Thriller"),
    "dreamy": ("Fantasy", "Romance", "Animation"),
    "epic": ("Adventure", "Fantasy", "War", "History", "Science Fiction", "Western"),
    "exciting": ("Action", "Adventure", "Science Fiction", "Thriller"),
    "thrilling": ("Action", "Adventure", "Thriller"),
    "intense": ("Thriller", "Action", "War", "Crime", "Horror"),
    "nostalgic": ("Comedy", "Drama", "Family", "Music"),
    "playful": ("Comedy", "Animation", "Family", "Romance"),
    "gentle": ("Drama", "Family", "Animation", "Romance"),
    "haunting": ("Drama", "Horror", "Mystery", "War"),
    "relaxing": ("Family", "Animation", "Comedy", "Documentary"),
    "sweet": ("Romance", "Family", "Animation", "Comedy"),
    "upbeat": ("Comedy", "Music", "Family"),
    "grim": ("War", "Crime", "Horror", "Western"),
}

# Surface forms of a genre in a request: (singular, plural).
GENRE_WORDS: dict[str, tuple[tuple[str, str], ...]] = {
    "Action": (("action movie", "action movies"), ("action film", "action films")),
    "Adventure": (("adventure movie", "adventure movies"), ("adventure", "adventures")),
    "Animation": (("animated movie", "animated movies"), ("animated film", "animated films"),
                  ("cartoon", "cartoons")),
    "Comedy": (("comedy", "comedies"), ("comedy movie", "comedy movies")),
    "Crime": (("crime movie", "crime movies"), ("crime film", "crime films")),
    "Documentary": (("documentary", "documentaries"),),
    "Drama": (("drama", "dramas"),),
    "Family": (("family movie", "family movies"), ("family film", "family films"),
               ("kids movie", "kids movies")),
    "Fantasy": (("fantasy movie", "fantasy movies"), ("fantasy film", "fantasy films")),
    "History": (("historical film", "historical films"), ("history movie", "history movies"),
                ("period piece", "period pieces")),
    "Horror": (("horror movie", "horror movies"), ("horror film", "horror films")),
    "Music": (("musical", "musicals"), ("music movie", "music movies")),
    "Mystery": (("mystery", "mysteries"), ("mystery movie", "mystery movies"),
                ("whodunit", "whodunits")),
    "Romance": (("romance", "romances"), ("romantic movie", "romantic movies"),
                ("love story", "love stories")),
    "Science Fiction": (("sci-fi movie", "sci-fi movies"), ("science fiction film",
                        "science fiction films"), ("scifi movie", "scifi movies")),
    "Thriller": (("thriller", "thrillers"),),
    "War": (("war movie", "war movies"), ("war film", "war films")),
    "Western": (("western", "westerns"), ("cowboy movie", "cowboy movies")),
}  # fmt: skip

# Two genres named at once, and the films they fit.
GENRE_PAIRS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Horror", "Comedy"): ("horror comedy", "horror comedies"),
    ("Crime", "Thriller"): ("crime thriller", "crime thrillers"),
    ("Science Fiction", "Thriller"): ("sci-fi thriller", "sci-fi thrillers"),
    ("Romance", "Comedy"): ("romcom", "romcoms", "romantic comedy", "romantic comedies"),
    ("Action", "Comedy"): ("action comedy", "action comedies"),
    ("Fantasy", "Adventure"): ("fantasy adventure", "fantasy adventures"),
    ("Animation", "Adventure"): ("animated adventure", "animated adventures"),
    ("War", "Drama"): ("war drama", "war dramas"),
    ("History", "Drama"): ("historical drama", "historical dramas"),
    ("Mystery", "Thriller"): ("mystery thriller", "mystery thrillers"),
    ("Comedy", "Drama"): ("dramedy", "dramedies", "comedy drama", "comedy dramas"),
    ("Crime", "Comedy"): ("crime comedy", "crime comedies"),
    ("Science Fiction", "Action"): ("sci-fi action movie", "sci-fi action movies"),
    ("Family", "Comedy"): ("family comedy", "family comedies"),
    ("Romance", "Drama"): ("romantic drama", "romantic dramas"),
}

# Genres as the search text names them: a noun, and a modifier for a second genre.
GENRE_NOUN = {
    "Action": "action film", "Adventure": "adventure", "Animation": "animated film",
    "Comedy": "comedy", "Crime": "crime film", "Documentary": "documentary", "Drama": "drama",
    "Family": "family film", "Fantasy": "fantasy", "History": "historical drama",
    "Horror": "horror film", "Music": "music film", "Mystery": "mystery",
    "Romance": "romance", "Science Fiction": "science fiction", "TV Movie": "TV movie",
    "Thriller": "thriller", "War": "war film", "Western": "western",
}  # fmt: skip
GENRE_ADJ = {
    "Action": "action", "Adventure": "adventure", "Animation": "animated", "Comedy": "comic",
    "Crime": "crime", "Documentary": "documentary", "Drama": "dramatic", "Family": "family",
    "Fantasy": "fantasy", "History": "historical", "Horror": "horror", "Music": "musical",
    "Mystery": "mystery", "Romance": "romantic", "Science Fiction": "science fiction",
    "TV Movie": "TV", "Thriller": "suspenseful", "War": "war", "Western": "western",
}  # fmt: skip
GENRE_PHRASES: dict[frozenset[str], str] = {
    frozenset(pair): phrase
    for pair, phrase in (
        (("Action", "Adventure"), "action adventure"),
        (("Animation", "Family"), "animated family film"),
        (("Crime", "Thriller"), "crime thriller"),
        (("Horror", "Comedy"), "horror comedy"),
        (("Comedy", "Drama"), "comedy drama"),
        (("Thriller", "Mystery"), "mystery thriller"),
        (("Drama", "History"), "historical drama"),
        (("War", "Drama"), "war drama"),
        (("Fantasy", "Adventure"), "fantasy adventure"),
        (("Animation", "Fantasy"), "animated fantasy"),
        (("Horror", "Thriller"), "horror thriller"),
        (("Crime", "Drama"), "crime drama"),
        (("Crime", "Comedy"), "crime comedy"),
        (("Music", "Drama"), "music drama"),
        (("Animation", "Comedy"), "animated comedy"),
        (("Animation", "Adventure"), "animated adventure"),
        (("Comedy", "Romance"), "romantic comedy"),
        (("Drama", "Romance"), "romantic drama"),
        (("Family", "Comedy"), "family comedy"),
        (("Family", "Adventure"), "family adventure"),
        (("Action", "Thriller"), "action thriller"),
        (("Science Fiction", "Action"), "science fiction action film"),
        (("Western", "Action"), "action western"),
        (("Action", "Comedy"), "action comedy"),
        (("Mystery", "Horror"), "mystery horror film"),
    )
}
# What a search text says of a genre when the request gives no theme (the kind of film, as
# the prompt examples do: "gritty Italian crime thriller with gangsters and police").
GENRE_FLAVOUR: dict[str, tuple[str, ...]] = {
    "Action": ("with fights, chases and explosions", "full of stunts and big set pieces"),
    "Adventure": ("with a journey to far-off places", "about a daring quest"),
    "Animation": ("with colourful animation", "full of imaginative animated worlds"),
    "Comedy": ("with lots of laughs", "with jokes and absurd situations"),
    "Crime": ("with gangsters and police", "about criminals, cops and heists"),
    "Documentary": ("about real people and events", "telling a true story"),
    "Drama": ("about people facing hard choices", "with strong performances and real emotion"),
    "Family": ("for children and parents to watch together", "for the whole family"),
    "Fantasy": ("with magic and other worlds", "full of myth, magic and monsters"),
    "History": ("set in the past, based on real events", "about a historical period"),
    "Horror": ("with dread, monsters and jump scares", "that builds fear and dread"),
    "Music": ("about musicians, songs and performance", "full of music and songs"),
    "Mystery": ("with clues, suspects and a puzzle to solve", "about an investigation"),
    "Romance": ("about falling in love", "about love and relationships"),
    "Science Fiction": ("with future technology and space", "about science and the future"),
    "TV Movie": ("made for television",),
    "Thriller": ("with suspense, danger and twists", "that keeps you on edge"),
    "War": ("about soldiers and battles", "set during a war"),
    "Western": ("with cowboys, outlaws and the frontier", "set in the old west"),
}
# What a search text says of a mood stated alone ("something cozy").
MOOD_FLAVOUR: dict[str, str] = {
    "dark": "dark, serious film about the worst in people",
    "gritty": "gritty, violent story on mean streets",
    "bleak": "bleak, unflinching drama",
    "tense": "tense, gripping film full of suspense",
    "suspenseful": "suspenseful thriller that keeps you guessing",
    "creepy": "creepy, unsettling film",
    "eerie": "eerie, atmospheric film with something uncanny",
    "atmospheric": "atmospheric, moody film",
    "scary": "scary film full of dread",
    "terrifying": "terrifying horror that is hard to watch alone",
    "chilling": "chilling story that gets under your skin",
    "disturbing": "disturbing, dark film",
    "funny": "funny, lighthearted film full of laughs",
    "hilarious": "hilarious comedy, laugh out loud",
    "witty": "witty film with sharp dialogue",
    "silly": "silly, goofy fun",
    "quirky": "quirky, offbeat film with odd characters",
    "heartwarming": "heartwarming story about kindness",
    "wholesome": "wholesome, gentle film for everyone",
    "feel-good": "feel-good film that leaves you happy",
    "uplifting": "uplifting, hopeful story",
    "inspiring": "inspiring story about overcoming the odds",
    "charming": "charming, sweet film",
    "cozy": "cozy, comforting film",
    "whimsical": "whimsical, playful fairy tale",
    "lighthearted": "lighthearted, easy film",
    "romantic": "romantic film about falling in love",
    "bittersweet": "bittersweet story about love and loss",
    "melancholic": "melancholic, quiet drama",
    "heartbreaking": "heartbreaking drama about loss",
    "moving": "moving, emotional story",
    "emotional": "emotional, moving story",
    "touching": "touching story about family and love",
    "hopeful": "hopeful story about a better future",
    "thoughtful": "thoughtful film that makes you think",
    "mysterious": "mysterious film full of secrets",
    "dreamy": "dreamy, poetic film",
    "epic": "epic story on a grand scale",
    "exciting": "exciting, fast-paced adventure",
    "thrilling": "thrilling, action-packed ride",
    "intense": "intense, gripping film",
    "nostalgic": "nostalgic film about growing up",
    "playful": "playful, fun film",
    "gentle": "gentle, quiet film",
    "haunting": "haunting, unforgettable story",
    "relaxing": "relaxing, easygoing film",
    "sweet": "sweet, charming story",
    "upbeat": "upbeat, cheerful film with music",
    "grim": "grim, violent story",
    "sad": "sad, emotional film",
}

_BAD_MOODS = sorted((set(MOOD_FITS) | set(MOOD_FLAVOUR)) - MOOD_WORDS)
assert not _BAD_MOODS, f"not model_service mood words: {_BAD_MOODS}"
assert set(MOOD_FITS) <= set(MOOD_FLAVOUR), sorted(set(MOOD_FITS) - set(MOOD_FLAVOUR))

# Request words for a film's original language (each checked against the rules per pair).
LANGUAGE_WORDS: dict[str, tuple[str, ...]] = {
    "fr": ("French",), "ja": ("Japanese",), "ko": ("Korean",), "es": ("Spanish",),
    "it": ("Italian",), "hi": ("Hindi", "Bollywood"), "de": ("German",),
    "zh": ("Chinese", "Mandarin"), "cn": ("Cantonese",), "sv": ("Swedish",),
    "ru": ("Russian",), "da": ("Danish",), "pt": ("Portuguese", "Brazilian"), "th": ("Thai",),
    "fa": ("Iranian", "Persian"), "no": ("Norwegian",), "pl": ("Polish",), "tr": ("Turkish",),
    "id": ("Indonesian",), "hu": ("Hungarian",), "ar": ("Arabic",), "en": ("English",),
}  # fmt: skip
# Languages one can say "in X" of.
LANGUAGE_NAMES_IN = {
    "fr": "French", "ja": "Japanese", "ko": "Korean", "es": "Spanish", "it": "Italian",
    "hi": "Hindi", "de": "German", "zh": "Mandarin", "cn": "Cantonese", "sv": "Swedish",
    "ru": "Russian", "da": "Danish", "pt": "Portuguese", "tr": "Turkish", "en": "English",
}  # fmt: skip

# Negated forms of a genre ("no horror") the rules read as an exclusion.
EXCLUDE_WORDS: dict[str, tuple[str, ...]] = {
    "Horror": ("horror", "horror movies", "scary stuff"),
    "Romance": ("romance", "romcoms", "love stories"),
    "Animation": ("cartoons", "animation", "animated stuff"),
    "Comedy": ("comedies", "comedy"),
    "Documentary": ("documentaries",),
    "Music": ("musicals",),
    "War": ("war movies", "war films"),
    "Western": ("westerns",),
    "Family": ("kids movies",),
    "Science Fiction": ("sci-fi", "science fiction"),
    "Action": ("action movies",),
    "Thriller": ("thrillers",),
    "Crime": ("crime movies",),
    "Fantasy": ("fantasy",),
    "Mystery": ("mysteries",),
    "History": ("period pieces",),
    "Drama": ("dramas", "drama"),
}

# Catalog keywords that name a studio, a format or a label rather than a theme.
META_KEYWORDS = frozenset(
    (
        *("pixar", "disney", "studio ghibli", "dreamworks", "marvel", "mcu", "dc comics"),
        *("sequel", "remake", "low budget", "3d", "silent film", "black and white"),
        *("anime", "musical", "romantic comedy", "french comedy", "action comedy"),
        *("family comedy", "love story", "music", "kids", "biopic", "biography", "family"),
        *("romance", "comedy", "mystery", "war", "adventure", "crime", "suspense", "epic"),
        *("new wave", "expressionism", "bollywood", "j-horror", "oscar", "spin-off"),
    )
)
# Keywords that read as places ("set in Paris").
PLACES = frozenset(
    (
        *("new york", "paris", "los angeles", "london", "san francisco", "tokyo", "berlin"),
        *("rome", "chicago", "hong kong", "philadelphia", "boston", "las vegas", "vienna"),
        *("buenos aires", "mexico city", "rio de janeiro", "texas", "mexico", "australia"),
        *("italy", "brooklyn", "taipei", "tehran", "toronto", "amsterdam", "new england"),
        *("english countryside", "monument valley", "jupiter", "singapore", "brazil"),
    )
)
# Style words: fine as answer keywords, odd after "about" in a request.
STYLE_KEYWORDS = frozenset(
    (
        *("surreal", "absurd", "nonlinear", "philosophical", "deadpan", "slow burn"),
        *("mind-bending", "satire", "slapstick", "screwball", "gothic", "farce", "tragicomedy"),
        *("twist", "twist ending", "found footage", "real time", "giallo", "nordic noir"),
        *("neo-noir", "film noir", "heroic bloodshed", "wuxia", "spaghetti western"),
        *("stop motion", "folk horror", "psychological horror", "cyberpunk", "space opera"),
        *("dark humour", "dark comedy", "black comedy", "post-apocalyptic", "anti-war"),
        *("unreliable narrator", "colourful", "tension", "chaos", "violence", "gore"),
    )
)
THEME_PHRASES = {
    "father son": "a father and son",
    "father daughter": "a father and daughter",
    "father daughters": "a father and his daughters",
    "mother son": "a mother and son",
    "mother daughter": "a mother and daughter",
    "true story": "a true story",
    "coming of age": "coming of age",
}

COMMON_TYPOS = {
    "something": "somthing", "recommend": "recomend", "really": "realy", "movie": "moive",
    "movies": "moveis", "thriller": "thriler", "comedy": "comdey", "please": "plese",
    "anything": "anythin", "about": "abt", "you": "u", "because": "bc", "suggest": "sugest",
    "favourite": "favorite", "documentary": "documentry", "looking": "lookin",
    "watch": "wacth", "similar": "similiar", "romantic": "romantic", "before": "befor",
}  # fmt: skip
PREFIXES = ("hey ", "hi! ", "ok so ", "hmm ", "so ", "yo ", "quick one: ", "help me out, ")
SUFFIXES = ("?", " please", " pls", " thx", " for tonight", " lol", "!", " :)", " tbh", "??")


# --- the catalog -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Film:
    title: str
    year: int
    genres: tuple[str, ...]
    language: str
    runtime: int | None
    director: str
    cast: tuple[str, ...]
    themes: tuple[str, ...]  # catalog keywords that describe a subject, commonest first
    moods: tuple[str, ...]  # mood words of its overview and keywords
    keywords: tuple[str, ...]  # all catalog keywords
    shared_themes: tuple[str, ...] = ()  # themes other catalog films have too


def load_catalog(path: Path = CATALOG_FILE) -> list[Film]:
    with path.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    frequency = Counter(
        str(k).strip().casefold() for row in rows for k in row.get("keywords") or ()
    )
    films = []
    for row in rows:
        genres = tuple(g for g in row.get("genres") or () if g in GENRES)
        if not genres or not row.get("year"):
            continue
        title = row["title"]
        keywords = tuple(str(k).strip().casefold() for k in row.get("keywords") or ())
        themes = tuple(
            # Commonest first; sorted() is stable, so catalog order among equals.
            sorted((k for k in keywords if _is_theme(k, title)), key=lambda k: -frequency[k])
        )
        text_words = re.findall(r"[a-z-]+", (row.get("overview") or "").casefold())
        moods = tuple(
            dict.fromkeys(
                w for w in [*keywords, *text_words] if w in MOOD_FITS and _mood_fits(w, genres)
            )
        )
        films.append(
            Film(
                title=title,
                year=int(row["year"]),
                genres=genres,
                language=str(row.get("original_language") or ""),
                runtime=row.get("runtime"),
                director=str(row.get("director") or ""),
                cast=tuple(row.get("cast") or ()),
                themes=themes,
                moods=moods,
                keywords=keywords,
                shared_themes=tuple(t for t in themes if frequency[t] >= 2),
            )
        )
    return films


def _is_theme(keyword: str, title: str) -> bool:
    """A catalog keyword that names a subject: no studio, label, decade, mood or genre, and
    no word of the film's title (a search text describes the film without naming it)."""
    title_set = {w for w in title_words(title) if len(w) > 3}
    return (
        keyword not in META_KEYWORDS
        and keyword not in MOOD_WORDS
        and not re.fullmatch(r"\d{4}s", keyword)
        and not set(title_words(keyword)) & title_set
        and normalize_genre(keyword) not in GENRES
    )


def _mood_fits(mood: str, genres: Iterable[str]) -> bool:
    return bool(set(MOOD_FITS[mood]) & set(genres))


@dataclass
class Catalog:
    films: list[Film]
    by_genre: dict[str, list[Film]] = field(default_factory=dict)
    by_language: dict[str, list[Film]] = field(default_factory=dict)
    directors: dict[str, list[Film]] = field(default_factory=dict)
    actors: dict[str, list[Film]] = field(default_factory=dict)
    theme_genre: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, films: list[Film]) -> Catalog:
        catalog = cls(films)
        theme_films: dict[str, list[Film]] = {}
        for film in films:
            for genre in film.genres:
                catalog.by_genre.setdefault(genre, []).append(film)
            if film.language:
                catalog.by_language.setdefault(film.language, []).append(film)
            if film.director and "," not in film.director:
                catalog.directors.setdefault(film.director, []).append(film)
            for actor in film.cast[:4]:
                catalog.actors.setdefault(actor, []).append(film)
            for theme in film.themes:
                theme_films.setdefault(theme, []).append(film)
        catalog.directors = {k: v for k, v in sorted(catalog.directors.items()) if len(v) >= 2}
        catalog.actors = {k: v for k, v in sorted(catalog.actors.items()) if len(v) >= 2}
        # A theme alone implies a genre when most catalog films with it share one ("time
        # travel" -> Science Fiction, "grief" -> Drama).
        for theme, with_theme in sorted(theme_films.items()):
            if len(with_theme) < 3:
                continue
            counts = Counter(g for f in with_theme for g in f.genres)
            genre, count = max(counts.items(), key=lambda item: (item[1], -GENRES.index(item[0])))
            if count / len(with_theme) >= 0.6:
                catalog.theme_genre[theme] = genre
        return catalog


# --- drafts: what a template means -----------------------------------------------------------


@dataclass
class Draft:
    """A request with its answer and what the serving enrichment must then hold."""

    template: str
    message: str
    titles: list[str] = field(default_factory=list)
    genres: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    search_text: str = ""
    history: list[tuple[str, str]] = field(default_factory=list)
    years: tuple[int | None, int | None] = (None, None)
    language: str | None = None
    language_word: str = ""  # how the request names the language ("Bollywood")
    exclude: list[str] = field(default_factory=list)


def _dedupe(items: Iterable[str], limit: int) -> list[str]:
    seen: dict[str, str] = {}
    for item in items:
        if item and item.casefold() not in seen:
            seen[item.casefold()] = item
    return list(seen.values())[:limit]


def answer_of(draft: Draft) -> dict[str, Any]:
    """The JSON the model must write: the request's own genres (the rules' reading first,
    then the template's) less any it rules out, its titles, keywords and search text."""
    user_turns = [c for r, c in draft.history if r == "user"]
    current = parse_constraints(draft.message)
    excluded = set(current.exclude_genres) | set(draft.exclude)
    for turn in user_turns:
        excluded |= set(parse_constraints(turn).exclude_genres)
    genres = [
        g
        for g in _dedupe([*current.genres, *draft.genres], len(GENRES))
        if g in GENRES and g not in excluded
    ][:MAX_GENRES]
    return complete_answer(
        {
            "reference_titles": _dedupe(draft.titles, MAX_TITLES),
            "genres": genres,
            "keywords": _dedupe(draft.keywords, MAX_KEYWORDS),
            "search_text": " ".join(draft.search_text.split()),
        }
    )


def serving_enrichment(
    answer: dict[str, Any], message: str, history: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """What /v1/enrich returns when the model answers `answer` (enrich_from, as served)."""
    result = enrich_from(dict(answer), message, tuple(history)).to_dict()
    return {name: result[name] for name in ENRICHMENT_FIELDS}


def inconsistency(draft: Draft, answer: dict[str, Any], enrichment: dict[str, Any]) -> str | None:
    """Why the served enrichment differs from what the request means, or None. Checked with
    the quality set's scorer, plus: no years, language, exclusions or titles it never stated."""
    expect: dict[str, Any] = {}
    if answer["genres"]:
        expect["genres"] = list(answer["genres"])
    if draft.exclude:
        expect["exclude_genres"] = list(dict.fromkeys(draft.exclude))
    if answer["reference_titles"]:
        expect["reference_titles"] = list(answer["reference_titles"])
    if draft.years[0] is not None:
        expect["year_min"] = draft.years[0]
    if draft.years[1] is not None:
        expect["year_max"] = draft.years[1]
    if draft.language:
        expect["language"] = draft.language
    case = QualityCase("draft", draft.message, tuple(draft.history), expect)
    report = score_enrichment([case], [enrichment])
    if report.failures:
        return report.failures[0].field
    if draft.years == (None, None) and (enrichment["year_min"] or enrichment["year_max"]):
        return "years"
    if not draft.exclude and enrichment["exclude_genres"]:
        return "exclude_genres"
    if [t.casefold() for t in enrichment["reference_titles"]] != [
        t.casefold() for t in answer["reference_titles"]
    ]:
        return "reference_titles"
    return None


# --- text helpers ----------------------------------------------------------------------------


def article(word: str) -> str:
    return "an" if word[:1].casefold() in "aeiou" else "a"


def genre_phrase(genres: Sequence[str]) -> str:
    if not genres:
        return ""
    if len(genres) == 1:
        return GENRE_NOUN[genres[0]]
    first, second = genres[0], genres[1]
    special = GENRE_PHRASES.get(frozenset((first, second)))
    return special or f"{GENRE_ADJ[second]} {GENRE_NOUN[first]}"


def theme_text(theme: str) -> str:
    if theme in PLACES:
        return f"set in {theme.title()}"
    return THEME_PHRASES.get(theme, theme)


def theme_clause(themes: Sequence[str]) -> str:
    places = [t for t in themes if t in PLACES]
    subjects = [THEME_PHRASES.get(t, t) for t in themes if t not in PLACES]
    parts = []
    if subjects:
        parts.append("about " + " and ".join(subjects[:2]))
    if places:
        parts.append(f"set in {places[0].title()}")
    return ", ".join(parts) if len(parts) > 1 and subjects else " ".join(parts)


def describe(
    rng: Random,
    genres: Sequence[str],
    moods: Sequence[str] = (),
    themes: Sequence[str] = (),
    language_adj: str = "",
    tail: str = "",
    lead: str = "",
) -> str:
    """A short search text for the kind of film: "<moods> <language> <genres> about <themes>"."""
    mood = " and ".join(moods[:2])
    noun = genre_phrase(genres)
    if not noun:
        if not themes and not language_adj and len(moods) == 1:
            return " ".join(f"{lead} {MOOD_FLAVOUR[moods[0]]} {tail}".split())
        noun = rng.choice(("film", "movie", "story"))
    head = " ".join(x for x in (lead, mood, language_adj, noun) if x)
    if themes:
        body = theme_clause(themes[:2])
    elif genres:
        body = rng.choice(GENRE_FLAVOUR[genres[0]])
    else:
        body = ""
    return " ".join(f"{head} {body} {tail}".split())


def gword(rng: Random, genre: str, plural: bool = False) -> str:
    return rng.choice(GENRE_WORDS[genre])[1 if plural else 0]


def decade_word(decade: int, rng: Random) -> str:
    if 1930 <= decade <= 1990 and rng.random() < 0.7:
        return f"{decade % 100:02d}s"
    return f"{decade}s"


def era(rng: Random, year: int) -> tuple[str, int | None, int | None]:
    """A phrase for a time the film `year` fits, and the years it states (quality set rules)."""
    decade = year // 10 * 10
    choice = rng.random()
    if choice < 0.45:
        text = rng.choice(("from the {d}", "from the {d}", "made in the {d}", "in the {d}"))
        return text.format(d=decade_word(decade, rng)), decade, decade + 9
    if choice < 0.55 and 1950 <= decade <= 1990:
        half = "late" if year % 10 >= 5 else "early"
        low = decade + (5 if half == "late" else 0)
        return f"from the {half} {decade_word(decade, rng)}", low, low + 4
    if choice < 0.63:
        return (
            rng.choice(("from {y}", "released in {y}", "that came out in {y}")).format(y=year),
            year,
            year,
        )
    if choice < 0.73:
        bound = min(LATEST_YEAR, year + rng.randint(1, 6))
        return (
            rng.choice(("before {y}", "made before {y}", "older than {y}")).format(y=bound),
            None,
            bound - 1,
        )
    if choice < 0.83:
        bound = year - rng.randint(1, 6)
        if bound >= LATEST_YEAR:
            bound = LATEST_YEAR - 1
        return (
            rng.choice(("after {y}", "newer than {y}", "made after {y}")).format(y=bound),
            bound + 1,
            None,
        )
    if choice < 0.9:
        bound = year - rng.randint(0, 5)
        return rng.choice(("since {y}", "not older than {y}")).format(y=bound), bound, None
    low, high = year - rng.randint(1, 8), min(LATEST_YEAR, year + rng.randint(1, 8))
    text = rng.choice(("between {a} and {b}", "from {a} to {b}"))
    return text.format(a=low, b=high), low, high


def pick_mood(rng: Random, film: Film, *, own_first: float = 0.6) -> str:
    if film.moods and rng.random() < own_first:
        return rng.choice(film.moods)
    fitting = [m for m in MOOD_FITS if _mood_fits(m, film.genres)]
    return rng.choice(fitting) if fitting else rng.choice(sorted(MOOD_FITS))


def request_themes(film: Film) -> list[str]:
    """Themes of `film` a person would ask for: shared with other films (so not a character's
    name), and reading well after "about"."""
    return [t for t in film.shared_themes if t not in STYLE_KEYWORDS]


def first_genres(film: Film, n: int = MAX_GENRES) -> list[str]:
    return list(film.genres[:n])


def language_adj(code: str | None, word: str | None = None) -> str:
    if not code:
        return ""
    if word:
        return word
    return LANGUAGE_WORDS.get(code, ("",))[0]


# --- templates -------------------------------------------------------------------------------


class Generator:
    """Writes drafts from the catalog with one seeded random source."""

    def __init__(self, catalog: Catalog, rng: Random) -> None:
        self.catalog = catalog
        self.rng = rng
        self.films = catalog.films
        self.with_themes = [f for f in self.films if request_themes(f)]
        self.foreign = sorted(
            code for code, films in catalog.by_language.items() if code in LANGUAGE_WORDS
        )
        self.templates: dict[str, tuple[float, Callable[[], Draft | None]]] = {
            "similar": (14, self.similar),
            "similar_twist": (9, self.similar_twist),
            "two_titles": (5, self.two_titles),
            "mood_genre": (12, self.mood_genre),
            "theme": (10, self.theme),
            "exclusion": (7, self.exclusion),
            "person": (6, self.person),
            "language": (7, self.language),
            "era": (7, self.era),
            "runtime": (4, self.runtime),
            "audience": (5, self.audience),
            "follow_up": (18, self.follow_up),
        }

    def choose(self) -> tuple[str, Callable[[], Draft | None]]:
        names = list(self.templates)
        weights = [self.templates[n][0] for n in names]
        name = self.rng.choices(names, weights)[0]
        return name, self.templates[name][1]

    def film(self, pool: Sequence[Film] | None = None) -> Film:
        return self.rng.choice(list(pool) if pool is not None else self.films)

    def genre_words(self, film: Film, pairs: float = 0.2) -> tuple[list[str], str, str]:
        """Genres of `film` a request names, and the words for them (singular, plural):
        sometimes two at once ("horror comedy"), else one."""
        rng = self.rng
        both = [pair for pair in GENRE_PAIRS if set(pair) <= set(film.genres)]
        if both and rng.random() < pairs:
            pair = rng.choice(both)
            forms = GENRE_PAIRS[pair]
            k = rng.randrange(len(forms) // 2)
            return list(pair), forms[2 * k], forms[2 * k + 1]
        genre = rng.choice([g for g in film.genres if g in GENRE_WORDS] or ["Drama"])
        singular, plural = rng.choice(GENRE_WORDS[genre])
        return [genre], singular, plural

    # -- titles ---------------------------------------------------------------------------

    def similar(self) -> Draft:
        rng, film = self.rng, self.film()
        form = rng.choice(
            (
                "something like {t}",
                "movies like {t}",
                "films similar to {t}",
                "i loved {t}, what should i watch next?",
                "more like {t} please",
                "anything in the vein of {t}?",
                "{t} vibes",
                "what should I watch if I liked {t}",
                "recommend me something like {t}",
                "just watched {t} and want more like it",
                "similar to {t}?",
                "looking for movies like {t}",
                "I really enjoyed {t}. Any recommendations?",
                "give me something with {t} energy",
                "my favourite movie is {t}, what else would i like",
                "anything similar to {t}",
                "{t} is my comfort movie, got anything like it?",
                "I want to watch something like {t} tonight",
            )
        )
        themes = list(film.themes[:2])
        moods = list(film.moods[:1])
        return Draft(
            "similar",
            form.format(t=film.title),
            titles=[film.title],
            genres=first_genres(film),
            keywords=[*themes, *moods],
            search_text=describe(rng, first_genres(film), moods, themes),
        )

    def similar_twist(self) -> Draft | None:
        rng = self.rng
        twists: list[tuple[str, Callable[[Film], bool], tuple[str, ...], str | None, str]] = [
            (
                "funny",
                lambda f: "Comedy" not in f.genres,
                ("{t} but funnier", "like {t} but way funnier", "{t} but make it a comedy",
                 "something like {t}, only funnier"),
                "Comedy",
                "funny",
            ),
            (
                "scary",
                lambda f: "Horror" not in f.genres and "Family" not in f.genres,
                ("{t} but scarier", "like {t} but actually scary", "{t} but as a horror movie"),
                "Horror",
                "scary",
            ),
            (
                "dark",
                lambda f: bool({"Comedy", "Family", "Adventure", "Fantasy", "Animation"}
                               & set(f.genres)),
                ("{t} but darker", "a darker version of {t}", "like {t} but dark"),
                None,
                "dark",
            ),
            (
                "light",
                lambda f: bool({"Drama", "Thriller", "Crime", "War"} & set(f.genres)),
                ("{t} but lighter", "like {t} but more lighthearted", "{t} but less heavy"),
                None,
                "lighthearted",
            ),
            (
                "romantic",
                lambda f: "Romance" not in f.genres,
                ("{t} but more romantic", "{t} with more romance", "like {t} but a love story"),
                "Romance",
                "romantic",
            ),
            (
                "kids",
                lambda f: not {"Family", "Horror", "War", "Crime"} & set(f.genres),
                ("{t} but for kids", "something like {t} i can watch with my kids",
                 "a version of {t} for the whole family"),
                "Family",
                "",
            ),
            (
                "animated",
                lambda f: "Animation" not in f.genres,
                ("{t} but animated", "an animated movie like {t}", "like {t} but a cartoon"),
                "Animation",
                "",
            ),
            (
                "sad",
                lambda f: True,
                ("{t} but sadder", "like {t} but more emotional", "{t} but it makes me cry"),
                "Drama",
                "sad",
            ),
            (
                "action",
                lambda f: "Action" not in f.genres,
                ("{t} but with more action", "like {t} but more action packed"),
                "Action",
                "exciting",
            ),
        ]  # fmt: skip
        _, fits, forms, genre, mood = rng.choice(twists)
        candidates = [f for f in self.films if fits(f)]
        if not candidates:
            return None
        film = self.film(candidates)
        genres = _dedupe([genre or "", *film.genres], MAX_GENRES)
        if mood in ("dark", "lighthearted"):
            genres = first_genres(film)
        moods = [mood] if mood else []
        themes = list(film.themes[:2])
        return Draft(
            "similar_twist",
            rng.choice(forms).format(t=film.title),
            titles=[film.title],
            genres=genres,
            keywords=[*themes[:2], *moods],
            search_text=describe(rng, genres, moods, themes[:2]),
        )

    def two_titles(self) -> Draft | None:
        rng = self.rng
        first = self.film()
        partners = [
            f for f in self.films if f.title != first.title and set(f.genres) & set(first.genres)
        ]
        if not partners:
            return None
        second = self.film(partners)
        shared = [g for g in first.genres if g in second.genres][:MAX_GENRES]
        form = rng.choice(
            (
                "a cross between {a} and {b}",
                "something like {a} meets {b}",
                "loved {a} and {b}, more of that",
                "{a} and {b} are my favourites, what else?",
                "if you mixed {a} with {b}",
                "films like {a} or {b}",
                "I liked {a} and {b}. Similar movies?",
                "somewhere between {a} and {b}",
            )
        )
        common = [t for t in first.themes if t in second.themes]
        themes = _dedupe([*common, *first.themes[:1], *second.themes[:1]], 2)
        moods = [m for m in first.moods if m in second.moods][:1]
        return Draft(
            "two_titles",
            form.format(a=first.title, b=second.title),
            titles=[first.title, second.title],
            genres=shared,
            keywords=[*themes, *moods],
            search_text=describe(rng, shared, moods, themes),
        )

    # -- descriptions ---------------------------------------------------------------------

    def mood_genre(self) -> Draft:
        rng, film = self.rng, self.film()
        mood = pick_mood(rng, film)
        genres, noun, nouns = self.genre_words(film)
        draft = Draft("mood_genre", "", genres=genres, keywords=[mood])
        moods = [mood]
        if rng.random() < 0.25:
            second = [m for m in MOOD_FITS if m != mood and _mood_fits(m, genres)]
            if second:
                moods.append(rng.choice(second))
        mood_text = " and ".join(moods)
        theme = ""
        themes = request_themes(film)
        if themes and rng.random() < 0.35:
            theme = rng.choice(themes)
        lang = ""
        if film.language in LANGUAGE_WORDS and film.language != "en" and rng.random() < 0.2:
            draft.language = film.language
            lang = rng.choice(LANGUAGE_WORDS[film.language])
            draft.language_word = lang
        forms = [
            "{a} {m} {lang}{n}",
            "something {m}, maybe {a_n} {lang}{n}",
            "in the mood for {a} {m} {lang}{n}",
            "{m} {lang}{ns}",
            "i want {a} {m} {lang}{n}",
            "got any {m} {lang}{ns}?",
            "looking for {a} {m} {lang}{n}",
            "what's a good {m} {lang}{n}",
            "can you recommend {a} {m} {lang}{n}",
        ]
        text = rng.choice(forms)
        if theme:
            text += " " + (f"set in {theme.title()}" if theme in PLACES else f"about {theme}")
        when = ""
        if rng.random() < 0.4:
            when, low, high = era(rng, film.year)
            draft.years = (low, high)
            text += f" {when}"
        message = text.format(
            a=article(mood_text),
            m=mood_text,
            lang=f"{lang} " if lang else "",
            n=noun,
            ns=nouns,
            a_n=article(lang or noun),
        )
        draft.message = message
        draft.keywords = [*(([theme]) if theme else []), *moods]
        draft.search_text = describe(
            rng, draft.genres, moods, [theme] if theme else [], language_adj(draft.language, lang)
        )
        return draft

    def theme(self) -> Draft:
        rng, film = self.rng, self.film(self.with_themes)
        themes = request_themes(film)
        first = rng.choice(themes)
        chosen = [first]
        others = [t for t in themes if t != first and t not in PLACES]
        if others and first not in PLACES and rng.random() < 0.3:
            chosen.append(rng.choice(others))
        implied = self.catalog.theme_genre.get(first)
        with_genre = rng.random() < 0.45
        genre = rng.choice(film.genres) if with_genre else None
        if genre is not None and genre not in GENRE_WORDS:
            genre, with_genre = None, False
        topic = " and ".join(theme_text(t) if t not in PLACES else t.title() for t in chosen)
        if first in PLACES:
            forms = (
                "films set in {p}",
                "a {g} set in {p}" if genre else "a movie set in {p}",
                "anything set in {p}?",
                "{gs} that take place in {p}" if genre else "movies that take place in {p}",
            )
            message = rng.choice(forms).format(
                p=first.title(),
                g=gword(rng, genre) if genre else "",
                gs=gword(rng, genre, plural=True) if genre else "",
            )
        else:
            forms = (
                ["{gs} about {t}", "looking for {a_g} about {t}", "{a_g} about {t} please",
                 "any good {gs} about {t}?"]
                if genre
                else ["movies about {t}", "a film about {t}", "anything about {t}?",
                      "stories about {t}", "something about {t}", "i want a movie about {t}",
                      "films that deal with {t}", "recommend a movie about {t}"]
            )  # fmt: skip
            noun = gword(rng, genre) if genre else ""
            message = rng.choice(forms).format(
                t=topic,
                gs=gword(rng, genre, plural=True) if genre else "",
                a_g=f"{article(noun)} {noun}" if genre else "",
            )
        genres = [genre] if genre else ([implied] if implied else [])
        if genre and implied and implied != genre:
            genres.append(implied)
        moods: list[str] = []
        return Draft(
            "theme",
            message,
            genres=genres,
            keywords=list(chosen),
            search_text=describe(rng, genres, moods, chosen),
        )

    def exclusion(self) -> Draft | None:
        rng, film = self.rng, self.film()
        excludable = [g for g in EXCLUDE_WORDS if g not in film.genres]
        banned = rng.choice(excludable)
        neg = rng.choice(EXCLUDE_WORDS[banned])
        style = rng.random()
        genre = rng.choice([g for g in film.genres if g in GENRE_WORDS] or [""]) or None
        draft = Draft("exclusion", "", exclude=[banned])
        themes = request_themes(film)
        if style < 0.35 and genre:
            form = rng.choice(
                ("{gs} but no {x}", "{a_g}, but no {x} please", "{gs}, nothing with {x}",
                 "{a_g} without {x}", "i want {a_g}. no {x}")
            )  # fmt: skip
            noun = gword(rng, genre)
            draft.message = form.format(
                gs=gword(rng, genre, plural=True), a_g=f"{article(noun)} {noun}", x=neg
            )
            draft.genres = [genre]
            draft.search_text = describe(rng, [genre])
        elif style < 0.6:
            mood = pick_mood(rng, film)
            form = rng.choice(
                ("no {x} please, something {m}", "something {m} but no {x}",
                 "i want something {m} tonight, just no {x}", "anything {m}? not {x} though")
            )  # fmt: skip
            draft.message = form.format(x=neg, m=mood)
            draft.keywords = [mood]
            draft.search_text = describe(rng, [], [mood])
        elif style < 0.85 and themes:
            theme = rng.choice(themes)
            phrase = theme_text(theme)
            about = phrase if theme in PLACES else f"about {phrase}"
            form = rng.choice(
                ("movies {t} but no {x}", "a film {t}, no {x} please",
                 "something {t}. anything but {x}", "films {t} that aren't {x}")
            )  # fmt: skip
            if "aren't" in form and not neg.endswith("s"):
                form = "films {t} but no {x}"
            draft.message = form.format(t=about, x=neg)
            implied = self.catalog.theme_genre.get(theme)
            draft.genres = [implied] if implied and implied != banned else []
            draft.keywords = [theme]
            draft.search_text = describe(rng, draft.genres, [], [theme])
        else:
            form = rng.choice(
                ("anything but {x}", "i'm sick of {x}, show me something else",
                 "no {x}. surprise me", "not in the mood for {x}")
            )  # fmt: skip
            draft.message = form.format(x=neg)
            draft.search_text = rng.choice(
                ("popular, well-liked film", "acclaimed crowd-pleaser", "a well-made film")
            )
        return draft

    def person(self) -> Draft | None:
        rng = self.rng
        if rng.random() < 0.6 and self.catalog.directors:
            name = rng.choice(list(self.catalog.directors))
            films = self.catalog.directors[name]
            role = "director"
        elif self.catalog.actors:
            name = rng.choice(list(self.catalog.actors))
            films = self.catalog.actors[name]
            role = "actor"
        else:
            return None
        counts = Counter(g for f in films for g in f.genres)
        top = [g for g, _ in sorted(counts.items(), key=lambda i: (-i[1], GENRES.index(i[0])))]
        genre = top[0] if rng.random() < 0.45 and top[0] in GENRE_WORDS else None
        if role == "director":
            forms = (
                ["{gs} by {p}", "{a_g} directed by {p}", "any {p} {gs}?"]
                if genre
                else ["{p} movies", "something directed by {p}", "films by {p}",
                      "what's a good {p} film", "more {p} please"]
            )  # fmt: skip
            tail = f"directed by {name}"
        else:
            forms = (
                ["{gs} with {p}", "{a_g} starring {p}", "{p} {gs}"]
                if genre
                else ["something with {p}", "movies starring {p}", "a film with {p} in it",
                      "what's {p}'s best movie"]
            )  # fmt: skip
            tail = f"starring {name}"
        noun = gword(rng, genre) if genre else ""
        message = rng.choice(forms).format(
            p=name,
            gs=gword(rng, genre, plural=True) if genre else "",
            a_g=f"{article(noun)} {noun}" if genre else "",
        )
        genres = [genre] if genre else []
        kind = genre_phrase(genres or top[:MAX_GENRES])
        return Draft("person", message, genres=genres, search_text=f"{kind} {tail}")

    def language(self) -> Draft | None:
        rng = self.rng
        code = rng.choice([c for c in self.foreign if c != "en"] + ["en"] * 1)
        films = self.catalog.by_language.get(code) or []
        if not films:
            return None
        film = self.film(films)
        word = rng.choice(LANGUAGE_WORDS[code])
        genre = rng.choice([g for g in film.genres if g in GENRE_WORDS] or [""]) or None
        themes = request_themes(film)
        draft = Draft("language", "", language=code, language_word=word)
        style = rng.random()
        if code == "en":
            forms = ["{a_g} in english please", "an english-language {g}",
                     "{gs} in english, no subtitles"] if genre else [
                     "something in english please", "a movie in english"]  # fmt: skip
            noun = gword(rng, genre) if genre else ""
            draft.message = rng.choice(forms).format(
                a_g=f"{article(noun)} {noun}",
                g=noun,
                gs=gword(rng, genre, plural=True) if genre else "",
            )
            draft.genres = [genre] if genre else []
            draft.search_text = describe(rng, draft.genres)
            return draft
        in_name = LANGUAGE_NAMES_IN.get(code)
        theme = rng.choice(themes) if themes and style < 0.35 else ""
        if genre and style < 0.75:
            noun = gword(rng, genre)
            forms = [
                "{w} {gs}",
                "{a_w} {w} {g}",
                "any good {w} {gs}?",
                "best {w} {gs}",
                "i want to watch {a_w} {w} {g}",
            ]
            if in_name:
                forms += ["{a_g} in {i}", "{gs} in {i}"]
            message = rng.choice(forms).format(
                w=word,
                a_w=article(word),
                g=noun,
                gs=gword(rng, genre, plural=True),
                a_g=f"{article(noun)} {noun}",
                i=in_name,
            )
            draft.genres = [genre]
        else:
            forms = ["{w} movies", "a {w} film", "{w} cinema", "something {w}",
                     "recommend me {a_w} {w} movie"]  # fmt: skip
            if in_name:
                forms += ["a movie in {i}", "films in {i}"]
            message = rng.choice(forms).format(w=word, a_w=article(word), i=in_name)
        if theme:
            message += f" {theme_text(theme)}" if theme in PLACES else f" about {theme_text(theme)}"
        if rng.random() < 0.25:
            when, low, high = era(rng, film.year)
            draft.years = (low, high)
            message += f" {when}"
        draft.message = message
        draft.keywords = [theme] if theme else []
        draft.search_text = describe(
            rng, draft.genres, [], [theme] if theme else [], language_adj(code, word)
        )
        return draft

    def era(self) -> Draft:
        rng, film = self.rng, self.film()
        genres, noun, nouns = self.genre_words(film)
        draft = Draft("era", "", genres=genres)
        style = rng.random()
        if style < 0.2:
            decade = film.year // 10 * 10
            word = decade_word(decade, rng)
            draft.message = rng.choice(("{d} {gs}", "best {d} {gs}", "{d} {gs}?")).format(
                d=word, gs=nouns
            )
            draft.years = (decade, decade + 9)
            draft.search_text = describe(rng, genres)
        elif style < 0.35:
            old = film.year < 1980
            word = rng.choice(("classic", "old") if old else ("recent", "new", "modern"))
            draft.message = rng.choice(("{w} {gs}", "some {w} {gs}", "any {w} {gs}?")).format(
                w=word, gs=nouns
            )
            draft.search_text = describe(rng, genres, lead="classic" if word == "classic" else "")
        else:
            when, low, high = era(rng, film.year)
            draft.years = (low, high)
            form = rng.choice(
                ("{gs} {e}", "best {gs} {e}", "a good {g} {e}", "any {gs} {e}?",
                 "show me {gs} {e}", "{a_g} {e}, something {m}")
            )  # fmt: skip
            mood = pick_mood(rng, film) if "{m}" in form else ""
            draft.message = form.format(
                gs=nouns, g=noun, e=when, a_g=f"{article(noun)} {noun}", m=mood
            )
            draft.keywords = [mood] if mood else []
            draft.search_text = describe(rng, genres, [mood] if mood else [])
        return draft

    def runtime(self) -> Draft | None:
        rng = self.rng
        short = [f for f in self.films if f.runtime and f.runtime <= 110]
        if not short:
            return None
        film = self.film(short)
        limit = rng.choice([n for n in (90, 100, 110, 120) if n >= (film.runtime or 0)])
        length = rng.choice(
            (f"under {limit} minutes", "not too long", "nothing too long", f"{limit} min max",
             "under 2 hours", "that isn't super long", "something short")
        )  # fmt: skip
        with_genre = rng.random() < 0.75
        genres, noun, nouns = self.genre_words(film) if with_genre else ([], "movie", "movies")
        mood = pick_mood(rng, film) if rng.random() < 0.4 else ""
        themes = [t for t in request_themes(film) if t not in PLACES][:1]
        themes = themes if rng.random() < 0.3 else []
        about = f" about {theme_text(themes[0])}" if themes else ""
        described = f"{mood} {noun}" if mood else noun
        form = rng.choice(
            (
                "{a_d}{about}, {l}",
                "i only have {limit} minutes, any good {ns}{about}?",
                "a short {d}{about} please",
                "{a_d}{about}. {l} please"
                if length.startswith(("not", "noth", "under"))
                else "{a_d}{about}, {l}",
                "{l}: {a_d}{about}",
            )
        )
        message = form.format(
            a_d=f"{article(described)} {described}",
            d=described,
            ns=f"{mood} {nouns}" if mood else nouns,
            about=about,
            l=length,
            limit=limit,
        )
        return Draft(
            "runtime",
            message,
            genres=genres,
            keywords=[*themes, *([mood] if mood else [])],
            search_text=describe(rng, genres, [mood] if mood else [], themes, lead="short"),
        )

    def audience(self) -> Draft | None:
        rng = self.rng
        style = rng.random()
        if style < 0.55:
            family = self.catalog.by_genre.get("Family") or []
            if not family:
                return None
            film = self.film(family)
            ages = sorted(rng.sample(range(4, 13), 2))
            form = rng.choice(
                (
                    "something for movie night with the kids",
                    "what can i watch with my kids (ages {a} and {b})",
                    "a movie for the whole family, something {m}",
                    "family movie night, we have a {a} year old",
                    "a film for my kids about {t}",
                    "something fun for the kids this weekend",
                    "need a movie my {a} and {b} year olds will both like",
                    "kids movie about {t}",
                )
            )
            themes = request_themes(film)
            theme = rng.choice(themes) if themes and "{t}" in form else ""
            if "{t}" in form and not theme:
                form = "something for movie night with the kids"
            mood = pick_mood(rng, film) if "{m}" in form else ""
            message = form.format(a=ages[0], b=ages[1], m=mood, t=theme_text(theme))
            second = [g for g in film.genres if g != "Family"][:1]
            genres = ["Family", *second]
            keywords = [*([theme] if theme else []), *([mood] if mood else [])]
            search = describe(
                rng, genres, [mood] if mood else [], [theme] if theme else [],
                tail="for children" if theme else "",
            )  # fmt: skip
            return Draft("audience", message, genres=genres, keywords=keywords, search_text=search)
        film = self.film()
        mood = pick_mood(rng, film, own_first=0.3)
        occasion = rng.choice(
            (
                "for date night",
                "for a rainy sunday",
                "to watch with my parents",
                "for a night in with friends",
                "to watch alone tonight",
                "for a long flight",
                "for a lazy afternoon",
            )
        )
        form = rng.choice(
            ("something {m} {o}", "a {m} movie {o}", "need something {m} {o}",
             "what's good {o}? something {m}")
        )  # fmt: skip
        return Draft(
            "audience",
            form.format(m=mood, o=occasion),
            keywords=[mood],
            search_text=describe(rng, [], [mood]),
        )

    # -- conversations --------------------------------------------------------------------

    def follow_up(self) -> Draft | None:
        """A request, the assistant's reply (films of the catalog that fit it), and a follow-up
        that changes it; the answer covers the whole conversation."""
        rng = self.rng
        base_maker = rng.choice(
            (self.mood_genre, self.theme, self.similar, self.language, self.era, self.mood_genre)
        )
        base = base_maker()
        if base is None or not base.message:
            return None
        base_answer = answer_of(base)
        pool = self._fitting(base)
        if len(pool) < 2:
            return None
        shown = rng.sample(pool, min(len(pool), rng.choice((2, 2, 3))))
        history = [("user", base.message), ("assistant", self._reply(shown))]
        draft = Draft(
            "follow_up",
            "",
            titles=list(base_answer["reference_titles"]),
            genres=list(base_answer["genres"]),
            keywords=list(base_answer["keywords"]),
            search_text=base_answer["search_text"],
            history=history,
            years=base.years,
            language=base.language,
            language_word=base.language_word,
            exclude=list(base.exclude),
        )
        moods = [k for k in draft.keywords if k in MOOD_WORDS]
        themes = [k for k in draft.keywords if k not in MOOD_WORDS]
        lead, tail = "", ""
        anchor = shown[0]
        kind = rng.choice(
            ("era", "funnier", "scarier", "darker", "lighter", "exclude", "language", "shorter",
             "theme", "seen", "named", "kids", "romantic", "era")
        )  # fmt: skip
        if kind == "era":
            when, low, high = era(rng, anchor.year)
            draft.message = rng.choice(
                ("anything {e}?", "something {e}", "ok but {e}", "hmm, maybe {e}",
                 "what about {e}", "any of those {e}?", "same but {e}")
            ).format(e=when)  # fmt: skip
            draft.years = (low, high)
            return draft  # same topic, same search text
        if kind == "shorter":
            draft.message = rng.choice(
                ("anything shorter?", "something under 90 minutes", "not too long please",
                 "those are long, shorter ones?")
            )  # fmt: skip
            return draft
        if kind == "exclude":
            banned = rng.choice(
                [g for g in EXCLUDE_WORDS if g not in draft.genres[:1] and g not in draft.exclude]
            )
            draft.message = rng.choice(
                ("no {x} please", "nothing with {x}", "ok but no {x}", "and no {x}")
            ).format(x=rng.choice(EXCLUDE_WORDS[banned]))
            draft.exclude = [*draft.exclude, banned]
            if banned not in draft.genres:
                return draft
            draft.genres = [g for g in draft.genres if g != banned]
        elif kind in ("funnier", "scarier", "romantic"):
            genre, mood, forms = {
                "funnier": ("Comedy", "funny", ("something funnier", "funnier please",
                            "too serious. something funny?", "can it be funnier")),
                "scarier": ("Horror", "scary", ("something scarier", "i want it actually scary",
                            "scarier ones?")),
                "romantic": ("Romance", "romantic", ("more romantic please",
                             "something more romantic", "with a love story maybe?")),
            }[kind]  # fmt: skip
            if genre in draft.genres or genre in draft.exclude:
                return None
            draft.message = rng.choice(forms)
            draft.genres = [genre, *draft.genres][:MAX_GENRES]
            moods = [mood, *moods][:1]
        elif kind in ("darker", "lighter"):
            mood = "dark" if kind == "darker" else "lighthearted"
            if mood in moods:
                return None
            draft.message = rng.choice(
                ("something darker", "darker please", "too light, something darker?")
                if kind == "darker"
                else ("something lighter", "too heavy, something lighter?", "lighter please")
            )
            moods = [mood]
        elif kind == "language":
            if draft.language:
                return None
            code = rng.choice([c for c in self.foreign if c in LANGUAGE_NAMES_IN and c != "en"])
            word = rng.choice(LANGUAGE_WORDS[code])
            draft.message = rng.choice(
                ("any in {i}?", "something {w} maybe", "anything in {i}?", "in {i} please")
            ).format(i=LANGUAGE_NAMES_IN[code], w=word)
            draft.language, draft.language_word = code, word
        elif kind in ("theme", "seen"):
            source = anchor if kind == "theme" else rng.choice(pool)
            options = [t for t in request_themes(source) if t not in PLACES and t not in themes]
            if not options:
                return None
            theme = rng.choice(options)
            forms = (
                ("maybe something about {t}", "ooh, one about {t}?", "any about {t}?")
                if kind == "theme"
                else ("seen those. something about {t}?", "already watched them, maybe about {t}",
                      "we've seen all of those. one about {t} maybe")
            )  # fmt: skip
            draft.message = rng.choice(forms).format(t=theme_text(theme))
            themes = [theme, *themes][:2]
        elif kind == "named":
            draft.message = rng.choice(
                ("more like {t}", "{t} sounds good, anything like that?",
                 "i've seen {t}, loved it. more like that")
            ).format(t=anchor.title)  # fmt: skip
            draft.titles = [*draft.titles, anchor.title]
            draft.genres = _dedupe([*draft.genres, *anchor.genres], MAX_GENRES)
            themes = list(anchor.themes[:2])
        else:  # kids
            if "Family" in draft.exclude or {"Horror", "War", "Crime"} & set(draft.genres):
                return None
            draft.message = rng.choice(
                ("something for the kids though", "it's for my kids, so family friendly please",
                 "can the whole family watch it?")
            )  # fmt: skip
            draft.genres = ["Family", *draft.genres][:MAX_GENRES]
            tail = "for the whole family"
        draft.keywords = [*themes[:2], *moods[:1]]
        draft.search_text = describe(
            rng,
            draft.genres,
            moods[:1],
            themes[:2],
            language_adj(draft.language, draft.language_word),
            tail=tail,
            lead=lead,
        )
        return draft

    def _fitting(self, base: Draft) -> list[Film]:
        """Catalog films that suit `base`: its genres, language and years, and its themes when
        enough films share one."""
        answer = answer_of(base)
        genres = set(answer["genres"])
        named = {t.casefold() for t in answer["reference_titles"]}
        themes = {k for k in answer["keywords"] if k not in MOOD_WORDS}
        low, high = base.years
        out = []
        by_theme = [f for f in self.films if themes & set(f.keywords)]
        for film in by_theme if len(by_theme) >= 3 else self.films:
            if film.title.casefold() in named:
                continue
            if genres and not genres & set(film.genres):
                continue
            if base.language and film.language != base.language:
                continue
            if (low is not None and film.year < low) or (high is not None and film.year > high):
                continue
            out.append(film)
        return out

    def _reply(self, shown: Sequence[Film]) -> str:
        rng = self.rng
        named = [f"{f.title} ({f.year})" for f in shown]
        if len(named) == 2:
            listed = f"{named[0]} or {named[1]}"
            joined = f"{named[0]} and {named[1]}"
        else:
            listed = f"{', '.join(named[:-1])} or {named[-1]}"
            joined = f"{', '.join(named[:-1])} and {named[-1]}"
        return rng.choice(
            (
                f"How about {listed}?",
                f"Sure! {joined} are worth a look.",
                f"You might like {listed}.",
                f"Try {joined}: both fit what you asked for."
                if len(named) == 2
                else f"Try {joined}.",
                f"Good picks: {joined}.",
            )
        )


# --- casual noise ----------------------------------------------------------------------------


# Constraint wording a typo must not touch: the model's answer cannot carry years, languages
# or exclusions (the rules read them), so a misspelt one would teach nothing and be lost.
_KEEP_SPANS = frozenset(("exclude_genre", "year", "language", "exclude_language", "runtime"))


def casual(text: str, rng: Random, protected: Sequence[str] = ()) -> str:
    """`text` as people type it, sometimes: lowercase, no apostrophes, a typo, filler. Titles
    in `protected` and the rules' constraint wording are never misspelt."""
    keep = {w for title in protected for w in title_words(title)}
    if rng.random() < 0.4:
        text = text.lower()
        if rng.random() < 0.35:
            text = text.replace("'", "")
    if rng.random() < 0.14:
        spans = [
            (span.start, span.end)
            for span in parse_constraints(text).spans
            if span.kind in _KEEP_SPANS
        ]
        candidates = [
            match
            for match in re.finditer(r"[A-Za-z]{4,}", text)
            if not set(title_words(match.group())) & keep
            and not any(start < match.end() and match.start() < end for start, end in spans)
        ]
        if candidates:
            match = rng.choice(candidates)
            word = match.group()
            typo = COMMON_TYPOS.get(word.casefold())
            if typo is None:
                j = rng.randrange(1, len(word) - 2)
                typo = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
            text = text[: match.start()] + typo + text[match.end() :]
    if rng.random() < 0.1:
        text = rng.choice(PREFIXES) + text
    if rng.random() < 0.14:
        text = text.rstrip("?.!") + rng.choice(SUFFIXES)
    return text


# --- held-out guard --------------------------------------------------------------------------

_FILLER = frozenset(
    """a an the some any me i im i'm to for of please pls plz movie movies film films flick
    flicks something anything good really like want wanna looking recommend can you what
    whats what's is are that it show give got just one ones tonight maybe""".split()  # noqa: SIM905
)


def normalize_text(text: str) -> str:
    """Casefolded words without accents, apostrophes or punctuation."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"['’]", "", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def content_words(text: str) -> tuple[str, ...]:
    words = []
    for word in normalize_text(text).split():
        if word in _FILLER:
            continue
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"  # comedies -> comedy
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
    return tuple(words)


class HeldOutGuard:
    """Finds requests equal or close to held-out ones: the same normalised text or content
    words, content words overlapping by 75%+, or 80%+ similar text (difflib ratio)."""

    RATIO = 0.8
    JACCARD = 0.75

    def __init__(self, texts: Iterable[str]) -> None:
        self.items = []
        for text in dict.fromkeys(t for t in texts if t.strip()):
            words = content_words(text)
            self.items.append((text, normalize_text(text), words, frozenset(words)))

    def __len__(self) -> int:
        return len(self.items)

    def match(self, text: str) -> str | None:
        norm = normalize_text(text)
        words = content_words(text)
        word_set = frozenset(words)
        matcher = SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(norm)
        for original, other, other_words, other_set in self.items:
            if norm == other or (words and words == other_words):
                return original
            if word_set and other_set and min(len(word_set), len(other_set)) >= 2:
                overlap = len(word_set & other_set) / len(word_set | other_set)
                if overlap >= self.JACCARD:
                    return original
            matcher.set_seq1(other)
            if (
                matcher.real_quick_ratio() >= self.RATIO
                and matcher.quick_ratio() >= self.RATIO
                and matcher.ratio() >= self.RATIO
            ):
                return original
        return None


def held_out_texts(path: Path) -> list[str]:
    """Every user message of a JSONL of quality cases or conversations."""
    texts = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("message"):
                texts.append(row["message"])
            for turn in [*(row.get("history") or []), *(row.get("turns") or [])]:
                if turn.get("role") == "user":
                    texts.append(turn["content"])
    return texts


# --- feedback --------------------------------------------------------------------------------


def answer_from_stored(row: dict[str, Any], message: str, history: Sequence[tuple[str, str]]):
    """The answer a rated turn teaches: its stored enrichment, else its understanding."""
    enrichment = row.get("enrichment")
    if isinstance(enrichment, dict) and str(enrichment.get("search_text") or "").strip():
        keywords = [*(enrichment.get("themes") or []), *(enrichment.get("moods") or [])]
        return complete_answer(
            {
                "reference_titles": _dedupe(
                    [str(t) for t in enrichment.get("reference_titles") or []], MAX_TITLES
                ),
                "genres": [g for g in enrichment.get("genres") or [] if g in GENRES][:MAX_GENRES],
                "keywords": _dedupe([str(k) for k in keywords], MAX_KEYWORDS),
                "search_text": " ".join(str(enrichment["search_text"]).split()),
            }
        )
    understanding = row.get("understanding")
    if isinstance(understanding, dict) and str(understanding.get("search_text") or "").strip():
        user_text = " ".join([*(c for r, c in history if r == "user"), message])
        titles = [
            str(link.get("title"))
            for link in understanding.get("linked_titles") or []
            if isinstance(link, dict)
            and link.get("title")
            and title_named(link["title"], user_text)
        ]
        constraints = understanding.get("constraints") or {}
        return complete_answer(
            {
                "reference_titles": _dedupe(titles, MAX_TITLES),
                "genres": [g for g in constraints.get("genres") or [] if g in GENRES][:MAX_GENRES],
                "keywords": [],
                "search_text": " ".join(str(understanding["search_text"]).split()),
            }
        )
    return None


def feedback_pairs(path: Path, stats: Counter) -> list[Pair]:
    """Thumbs-up turns of an export_feedback JSONL as pairs (source "feedback")."""
    pairs = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            stats["feedback rows"] += 1
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                stats["feedback skipped: invalid JSON"] += 1
                continue
            rating = row.get("rating")
            film_ratings = list((row.get("movie_ratings") or {}).values())
            if rating == -1 or (rating is None and any(r < 0 for r in film_ratings)):
                stats["feedback skipped: thumbs down"] += 1
                continue
            if rating != 1 and not (rating is None and film_ratings):
                stats["feedback skipped: unrated"] += 1
                continue
            message = str(row.get("request") or "").strip()
            history = [
                (str(t["role"]), str(t["content"]))
                for t in row.get("history") or []
                if isinstance(t, dict)
                and t.get("role") in ("user", "assistant")
                and t.get("content")
            ]
            answer = answer_from_stored(row, message, history) if message else None
            if answer is None:
                stats["feedback skipped: no enrichment or search text"] += 1
                continue
            pairs.append(
                Pair(
                    id=f"fb-{row.get('message_id', number)}",
                    message=message,
                    answer=answer,
                    history=tuple(history),
                    source="feedback",
                    enrichment=serving_enrichment(answer, message, history),
                    template="feedback",
                )
            )
    return pairs


# --- the build -------------------------------------------------------------------------------


@dataclass
class BuildReport:
    pairs: list[Pair]
    stats: Counter
    dropped_examples: list[tuple[str, str]] = field(default_factory=list)  # (ours, held-out)

    def summary(self) -> str:
        by_template = Counter(p.template or p.source for p in self.pairs)
        by_source = Counter(p.source for p in self.pairs)
        lines = [f"{len(self.pairs)} pairs"]
        lines.append("by source:   " + ", ".join(f"{k} {v}" for k, v in sorted(by_source.items())))
        lines.append("by template:")
        lines += [f"  {name:<14} {count:>5}" for name, count in sorted(by_template.items())]
        answers = [p.answer for p in self.pairs]
        if answers:
            share = lambda key: sum(1 for a in answers if a[key]) / len(answers)  # noqa: E731
            lines.append(
                f"answers: {share('reference_titles'):.0%} name titles, {share('genres'):.0%} "
                f"genres, {share('keywords'):.0%} keywords; "
                f"{sum(1 for p in self.pairs if p.history) / len(self.pairs):.0%} multi-turn"
            )
        lines.append("dropped / skipped:")
        lines += [f"  {k:<48} {v:>5}" for k, v in sorted(self.stats.items())]
        for ours, theirs in self.dropped_examples[:6]:
            lines.append(f"  e.g. {ours!r} ~ held-out {theirs!r}")
        return "\n".join(lines)


def build(options: BuildOptions) -> BuildReport:
    rng = Random(options.seed)
    catalog = Catalog.build(load_catalog(options.catalog))
    generator = Generator(catalog, rng)
    quality_guard = HeldOutGuard(held_out_texts(options.held_out))
    conversation_guard = HeldOutGuard(
        held_out_texts(options.conversations)
        if options.conversations and options.conversations.exists()
        else []
    )
    stats: Counter = Counter()
    examples: list[tuple[str, str]] = []
    seen: set[tuple[str, ...]] = set()

    def leaks(texts: Sequence[str]) -> bool:
        for text in texts:
            for guard, name in ((quality_guard, "quality set"), (conversation_guard, "chats")):
                match = guard.match(text)
                if match is not None:
                    stats[f"dropped: near a held-out request ({name})"] += 1
                    examples.append((text, match))
                    return True
        return False

    pairs: list[Pair] = []
    attempts = 0
    while len(pairs) < options.count:
        attempts += 1
        if attempts > options.count * 30:
            raise RuntimeError(f"only {len(pairs)} pairs after {attempts} attempts")
        _, template = generator.choose()
        draft = template()
        if draft is None or not draft.message:
            stats["skipped: template had no fitting film"] += 1
            continue
        protected = [*draft.titles]
        draft.message = casual(draft.message, rng, protected)
        draft.history = [
            (role, casual(content, rng, protected) if role == "user" else content)
            for role, content in draft.history
        ]
        key = tuple(normalize_text(t) for t in [*(c for _, c in draft.history), draft.message])
        if key in seen:
            stats["dropped: duplicate request"] += 1
            continue
        answer = answer_of(draft)
        if not answer["search_text"]:
            stats["dropped: no search text"] += 1
            continue
        if any(title_named(t, answer["search_text"]) for t in answer["reference_titles"]):
            stats["dropped: search text names a reference title"] += 1
            continue
        enrichment = serving_enrichment(answer, draft.message, draft.history)
        problem = inconsistency(draft, answer, enrichment)
        if problem is not None:
            stats[f"dropped: served enrichment misreads {problem}"] += 1
            continue
        if leaks([draft.message, *(c for r, c in draft.history if r == "user")]):
            continue
        seen.add(key)
        pairs.append(
            Pair(
                id=f"syn-{len(pairs) + 1:05d}",
                message=draft.message,
                answer=answer,
                history=tuple(draft.history),
                source="synthetic",
                enrichment=enrichment,
                template=draft.template,
            )
        )
    if options.feedback is not None and options.feedback.exists():
        for pair in feedback_pairs(options.feedback, stats):
            key = tuple(normalize_text(t) for t in [*(c for _, c in pair.history), pair.message])
            if key in seen:
                stats["feedback skipped: duplicate request"] += 1
                continue
            if leaks([pair.message, *(c for r, c in pair.history if r == "user")]):
                continue
            seen.add(key)
            pairs.append(pair)
    return BuildReport(pairs, stats, examples)


def parse_args(argv: Sequence[str] | None = None) -> BuildOptions:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (13)")
    parser.add_argument(
        "--count", type=int, default=DEFAULT_COUNT, help=f"synthetic pairs ({DEFAULT_COUNT})"
    )
    parser.add_argument("--out", type=Path, default=TRAIN_FILE, help="output JSONL")
    parser.add_argument(
        "--feedback",
        type=Path,
        default=FEEDBACK_FILE,
        help="export_feedback JSONL, merged when present (var/exports/feedback.jsonl)",
    )
    parser.add_argument("--catalog", type=Path, default=CATALOG_FILE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    return BuildOptions(
        seed=args.seed, count=args.count, out=args.out, feedback=args.feedback, catalog=args.catalog
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    report = build(options)
    written = write_pairs(report.pairs, options.out)
    print(report.summary())
    try:
        shown = options.out.resolve().relative_to(REPO)
    except ValueError:
        shown = options.out
    print(f"wrote {written} pairs to {shown} (seed {options.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
