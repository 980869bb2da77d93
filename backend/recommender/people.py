"""People linking: the directors and actors of the catalog a chat message names ("something by
Christopher Nolan", "a Miyazaki film", "tom hanks comedies", "nothing with Adam Sandler").

Names come from the catalog's `director` and `cast` fields, folded like titles (case, accents,
apostrophes: `movie_constraints.titles.title_words`). A message is matched in three ways:

- the full name ("christopher nolan", "Bong Joon-ho", "guillermo del toro"): confidence 1.0,
  0.9 with a shortened first name ("chris nolan");
- the surname alone ("nolan films", "del toro's", "a Kubrick film"), only for people with at
  least MIN_FILMS_FOR_SURNAME films in the catalog, so that one actor's single credit does not
  turn every "potter" into a person, and only with evidence that it is a name ("convert 5
  miles" is not Vera Miles): confidence = min(1, rarity + evidence) × share, where rarity is
  the title linker's word weight (0.9 for a word ordinary requests do not use, 0.2 for a common
  word like "stone" or "strong", which must then be Capitalised), less 0.3 if the word is also
  a title word (it may be part of a film's name); evidence is +0.3 for a cue beside it ("by",
  "with", "starring", "directed by", "films", "movies", "brothers", a possessive, a negated
  list, or nothing else but function words: "nolan?") and +0.3 for a capital in an otherwise
  lower-case message; share is the person's part of the films of everyone with that
  surname (Wes Anderson against Paul Thomas Anderson; co-credited people like the Coens share
  their films), more than half or no link;
- a one-edit typo of a surname of at least six letters ("scorcese", "tarantio") counts as the
  surname at 0.85 of its confidence, when a cue or a capital backs it.

Links below DEFAULT_MIN_CONFIDENCE are dropped. A name after a likeness cue ("like a Wes
Anderson film", "in the style of Kubrick") is marked `style`: the caller looks for films like
theirs rather than only theirs. A name right after a negation ("not by",
"no", "without", "nothing with", "except"), or later in a list it negates ("not Ghibli or
Shinkai"), is an exclusion.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from movie_constraints.titles import title_words
from recommender.catalog_cache import CatalogDerived
from recommender.title_linking import MessageWord, message_words, word_weight

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "PeopleLinker",
    "PersonLink",
    "catalog_people_linker",
    "clear_catalog_people_linker",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DEFAULT_MIN_CONFIDENCE = 0.5
MIN_FILMS_FOR_SURNAME = 2
MAX_NAME_WORDS = 5

_PARTICLES = _words("de del della der di da dos du van von le la st mc ben bin al el")
_CUES_BEFORE = _words("by with starring featuring from director directed actor actress")
_CUES_AFTER = _words("film films movie movies flick flicks picture pictures classic brothers bros")
_NEGATIONS = _words("no not without except nothing none besides")
_NEGATION_LINKS = _words("by with from starring featuring directed movies films")
_COORDINATORS = _words("and or nor")
_LIKENESS_FILLER = _words("a an the some something anything movie movies film films one ones")
_LIKENESS_NOUNS = _words("style vein spirit vibe vibes mould mold reminiscent school kind sort")
_WISHING = _words("id would wed i we youd")
_LIKENESS_AFTER = _words("type style esque ish like vibe vibes inspired")

_QUALITY_TYPO = 0.85
_QUALITY_SHORT_FIRST_NAME = 0.9
_EVIDENCE_CUE = 0.3
_EVIDENCE_CAPITAL = 0.3
_TITLE_WORD_PENALTY = 0.3
_MIN_SHARE = 0.5
_RARE_ENOUGH = 0.4


@dataclass(frozen=True)
class PersonLink:
    name: str
    directed: tuple[int, ...]  # catalog films, best known first
    acted: tuple[int, ...]
    mention: str
    start: int
    end: int
    confidence: float
    excluded: bool = False  # "nothing with Adam Sandler"
    style: bool = False  # "something like a Wes Anderson film": a likeness, not a filter

    @property
    def movie_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(self.directed + self.acted))

    @property
    def role(self) -> str:
        if self.directed and self.acted:
            return "director and actor"
        return "director" if self.directed else "actor"


@dataclass
class _Person:
    name: str
    words: tuple[str, ...]
    surname: tuple[str, ...]
    directed: list[int]
    acted: list[int]

    @property
    def films(self) -> int:
        return len(set(self.directed) | set(self.acted))


@dataclass(frozen=True)
class Credits:
    """One film's people, as the catalog stores them; `fame` orders a person's films."""

    tmdb_id: int
    director: str
    cast: Sequence[str]
    fame: float = 0.0


class PeopleLinker:
    """Finds catalog people in free text. Build once (from_credits / from_catalog), link often."""

    def __init__(self, credits: Iterable[Credits], title_vocabulary: Iterable[str] = ()) -> None:
        people: dict[tuple[str, ...], _Person] = {}
        fame: dict[int, float] = {}
        for film in credits:
            fame[film.tmdb_id] = film.fame
            names = [(name, True) for name in _split_names(film.director)]
            names += [(name, False) for name in film.cast if isinstance(name, str)]
            for name, directed in names:
                words = tuple(title_words(name))
                if not words or len(words) > MAX_NAME_WORDS:
                    continue
                person = people.setdefault(
                    words, _Person(name.strip(), words, _surname(name, words), [], [])
                )
                (person.directed if directed else person.acted).append(film.tmdb_id)
        self._people = list(people.values())
        for person in self._people:
            person.directed = sorted(set(person.directed), key=lambda i: -fame.get(i, 0.0))
            person.acted = sorted(
                set(person.acted) - set(person.directed), key=lambda i: -fame.get(i, 0.0)
            )
        self._full = {person.words: index for index, person in enumerate(self._people)}
        surnames: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for index, person in enumerate(self._people):
            if person.films < MIN_FILMS_FOR_SURNAME or len("".join(person.surname)) < 3:
                continue
            surnames[person.surname].append(index)
        self._surnames = dict(surnames)
        self._long_surnames = sorted(
            {s[0] for s in self._surnames if len(s) == 1 and len(s[0]) >= 6}
        )
        self._title_words = frozenset(title_vocabulary)
        self._max_words = max((len(p.words) for p in self._people), default=1)

    @classmethod
    def from_catalog(cls) -> PeopleLinker:
        from catalog.models import Movie

        rows = (
            Movie.objects.order_by()
            .values_list("tmdb_id", "director", "cast", "vote_count", "title")
            .iterator(chunk_size=5000)
        )
        credits, vocabulary = [], set()
        for tmdb_id, director, cast, votes, title in rows:
            vocabulary.update(title_words(title or ""))
            if director or cast:
                cast = cast if isinstance(cast, list) else []
                credits.append(Credits(tmdb_id, director or "", cast, float(votes or 0)))
        return cls(credits, vocabulary)

    def __len__(self) -> int:
        return len(self._people)

    def link(self, text: str, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> list[PersonLink]:
        """The people `text` names, in the order it names them, one link per person."""
        if not self._people or not text.strip():
            return []
        words = message_words(text)
        norms = [_without_possessive(w) for w in words]
        found: list[tuple[int, int, int, float]] = []  # (first, last, person, confidence)
        position = 0
        while position < len(words):
            match = self._match_at(words, norms, position)
            if match is not None and match[3] >= min_confidence:
                found.append(match)
                position = match[1] + 1
            else:
                position += 1
        links: list[PersonLink] = []
        seen: set[int] = set()
        for first, last, index, confidence in found:
            if index in seen:
                continue
            seen.add(index)
            person = self._people[index]
            start, end = words[first].start, words[last].end
            links.append(
                PersonLink(
                    name=person.name,
                    directed=tuple(person.directed),
                    acted=tuple(person.acted),
                    mention=text[start:end],
                    start=start,
                    end=end,
                    confidence=round(confidence, 3),
                    excluded=_negated(norms, first),
                    style=_likeness(norms, first, last),
                )
            )
        return links

    # --- Matching ----------------------------------------------------------------------------

    def _match_at(
        self, words: list[MessageWord], norms: list[str], first: int
    ) -> tuple[int, int, int, float] | None:
        # The full name, longest first; a one-word name ("Zendaya") is judged as a surname.
        for size in range(min(self._max_words, len(words) - first), 1, -1):
            index = self._full.get(tuple(norms[first : first + size]))
            if index is not None:
                return first, first + size - 1, index, 1.0
        # "chris nolan": a shortened first name before a known surname.
        if first + 1 < len(words) and len(norms[first]) >= 3:
            for index in self._surnames.get((norms[first + 1],), ()):
                person = self._people[index]
                given = person.words[0]
                if (
                    len(person.words) == 2
                    and given != norms[first]
                    and given.startswith(norms[first])
                ):
                    return first, first + 1, index, _QUALITY_SHORT_FIRST_NAME
        # The surname alone (two words with a particle: "del toro").
        for size in (2, 1):
            key = tuple(norms[first : first + size])
            if len(key) < size:
                continue
            quality = 1.0
            candidates = self._surnames.get(key)
            if candidates is None and size == 1:
                corrected = self._correction(key[0])
                if corrected:
                    candidates, quality = self._surnames[(corrected,)], _QUALITY_TYPO
                    key = (corrected,)
            if not candidates:
                continue
            last = first + size - 1
            judged = self._surname_confidence(words, norms, first, last, key, candidates)
            # A surname alone needs something saying it is a name ("convert 5 miles" is not
            # Vera Miles); a corrected word needs a cue or a capital right on it ("no poster"
            # is not Jodie Foster).
            if judged is not None and judged[2] > 0 and (quality == 1.0 or judged[3]):
                return first, last, judged[0], judged[1] * quality
        return None

    def _surname_confidence(
        self,
        words: list[MessageWord],
        norms: list[str],
        first: int,
        last: int,
        key: tuple[str, ...],
        candidates: list[int],
    ) -> tuple[int, float, float, bool] | None:
        """(person, confidence, evidence, whether a cue or a capital is right on it) for a
        surname, or None when it names no one person."""
        people = [self._people[i] for i in candidates]
        best = max(range(len(people)), key=lambda i: people[i].films)
        # Co-credited people ("Joel Coen, Ethan Coen") share their films, not the surname.
        union = set().union(*(set(p.directed) | set(p.acted) for p in people))
        share = people[best].films / len(union)
        if share <= _MIN_SHARE:
            return None
        rarity = 1 - _product(1 - word_weight(word) for word in key)
        common = rarity < _RARE_ENOUGH  # "strong", "stone", "ford": a capital must say "name"
        if any(word in self._title_words for word in key):
            rarity -= _TITLE_WORD_PENALTY
        evidence = 0.0
        before = norms[first - 1] if first > 0 else ""
        after = norms[last + 1] if last + 1 < len(norms) else ""
        possessive = words[last].raw.lower().endswith(("'s", "’s"))
        rest = norms[:first] + norms[last + 1 :]
        # "nolan?", "what about nolan", "scorsese gangster movies": nothing else said.
        alone = len(rest) <= 4 and all(word_weight(word) <= 0.05 for word in rest)
        negated = _negated(norms, first)  # "not Ghibli or Shinkai": a list of names
        cue = before in _CUES_BEFORE or after in _CUES_AFTER or possessive
        if cue or alone or negated:
            evidence += _EVIDENCE_CUE
        span = words[first : last + 1]
        capitalised = all(w.raw[:1].isupper() for w in span)
        capital = capitalised and not span[0].initial and not _title_cased(words, first, last)
        if capital:
            evidence += _EVIDENCE_CAPITAL
        elif common:
            return None
        confidence = round(max(0.0, min(1.0, rarity + evidence)) * share, 6)
        return candidates[best], confidence, evidence, cue or capital

    def _correction(self, word: str) -> str | None:
        """A surname one edit away from an unknown word of six letters or more."""
        if len(word) < 6 or word_weight(word) < 0.9 or not self._long_surnames:
            return None
        hits = process.extract(
            word, self._long_surnames, scorer=OSA.distance, score_cutoff=1, limit=2
        )
        if len(hits) != 1:
            return None  # unknown, or two surnames equally close
        return hits[0][0]


def _without_possessive(word: MessageWord) -> str:
    """ "Nolan's" is folded to "nolans"; the name is "nolan"."""
    if word.raw.lower().endswith(("'s", "’s")) and word.norm.endswith("s"):
        return word.norm[:-1]
    return word.norm


def _title_cased(words: list[MessageWord], first: int, last: int) -> bool:
    """Whether other non-initial ordinary words are capitalised too (a Title Cased message,
    where a capital says nothing); rare words are left out, as they may be names too."""
    others = [w for i, w in enumerate(words) if not (first <= i <= last) and not w.initial]
    cased = [
        w for w in others if w.raw[:1].isalpha() and len(w.raw) > 1 and word_weight(w.norm) < 0.9
    ]
    capitals = [w for w in cased if w.raw[:1].isupper()]
    return bool(cased) and len(capitals) / len(cased) > 0.4


def _surname(name: str, words: tuple[str, ...]) -> tuple[str, ...]:
    """ "Christopher Nolan" → nolan, "Guillermo del Toro" → del toro; a hyphenated given name
    comes after the family name ("Bong Joon-ho" → bong, "Tony Leung Chiu-wai" → leung)."""
    tokens = name.split()
    if len(tokens) >= 2 and "-" in tokens[-1]:
        return tuple(title_words(tokens[-2]))
    if len(words) >= 3 and words[-2] in _PARTICLES:
        return words[-2:]
    return words[-1:]


def _split_names(director: str) -> list[str]:
    """ "Joel Coen, Ethan Coen" / "Lilly Wachowski & Lana Wachowski" → each name."""
    if not director:
        return []
    parts = [p.strip() for chunk in director.split(",") for p in chunk.split(" & ")]
    return [p for p in parts if p]


def _negated(norms: list[str], first: int) -> bool:
    """ "not by X", "without X", "nothing directed by X", "no X", and the later names of a
    negated list ("not Ghibli or Shinkai", "no Sandler, Carrey or Stiller"): walking back over
    linking words, "and"/"or"/"nor" and rare words (names) until a negation or anything else."""
    for before in range(first - 1, max(-1, first - 7), -1):
        word = norms[before]
        if word in _NEGATIONS:
            return True
        if not (word in _NEGATION_LINKS or word in _COORDINATORS or word_weight(word) >= 0.9):
            return False
    return False


def _likeness(norms: list[str], first: int, last: int) -> bool:
    """ "like a Wes Anderson film", "similar to Nolan's", "in the style of Kubrick", "the vibe
    of", "reminiscent of", "a la Tarantino", "Jim Carrey type humour", "Lynch-esque" — but not
    "I'd like a Tom Hanks movie"."""
    if last + 1 < len(norms) and norms[last + 1] in _LIKENESS_AFTER:
        return True
    before = first - 1
    while before >= 0 and first - before <= 4 and norms[before] in _LIKENESS_FILLER:
        before -= 1
    if before < 0:
        return False
    word, previous = norms[before], norms[before - 1] if before > 0 else ""
    if word == "like":
        return previous not in _WISHING
    if word == "to":
        return previous in {"similar", "close", "comparable"}
    if word == "of":
        return previous in _LIKENESS_NOUNS
    return word == "la" and previous in {"a", "à"}


def _product(values: Iterable[float]) -> float:
    out = 1.0
    for value in values:
        out *= value
    return out


# --- The process-wide linker over the catalog --------------------------------------------------

_catalog_linker: CatalogDerived[PeopleLinker] = CatalogDerived(PeopleLinker.from_catalog)


def catalog_people_linker() -> PeopleLinker:
    """The linker over the catalog, rebuilt when the catalog changes (catalog_cache)."""
    return _catalog_linker.get()


def clear_catalog_people_linker() -> None:
    _catalog_linker.clear()
