"""Fusing candidate lists into one ranking: reciprocal rank fusion, a quality prior, diversity.

Each retrieval route (dense search on the request, "more like" a named film, films that fit the
stated constraints best) returns an ordered list. Reciprocal rank fusion adds w / (k + rank)
over the lists a film appears in, so agreement between routes counts more than one route's raw
score (cosine scores and rating-based scores are not comparable). A Bayesian-average rating
then scales the result, so among equally relevant films the well-liked, widely seen ones lead;
finally no franchise takes more than one place in the top of the list unless the user asked
for that franchise.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from movie_constraints.titles import title_words

RRF_K = 60
# The Bayesian average pulls a film's rating towards PRIOR_MEAN as if it had PRIOR_VOTES more
# votes at that mean: 9.0 from 20 votes ranks below 8.0 from 20,000.
PRIOR_MEAN = 6.5
PRIOR_VOTES = 500
# How much the quality prior can move a film: its fused relevance is scaled into
# [1 - QUALITY_WEIGHT, 1].
QUALITY_WEIGHT = 0.35
GENRE_BOOST = 0.15  # per soft-wanted genre (from enrichment) the film has, at most two


@dataclass
class CandidateList:
    """One retrieval route's answer, best first, with a reason per film when it has one."""

    name: str
    ids: list[int]
    weight: float = 1.0
    reasons: dict[int, str] = field(default_factory=dict)
    # The route's own scores (higher is better), when it has comparable ones (cosine).
    scores: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class MovieFacts:
    """What ranking needs to know about a film."""

    id: int
    title: str
    genres: tuple[str, ...]
    vote_average: float | None
    vote_count: int | None


@dataclass(frozen=True)
class Ranked:
    id: int
    score: float  # 0..1, the best film of the list is 1
    routes: tuple[str, ...]  # the candidate lists it came from, best contribution first


def bayesian_rating(vote_average: float | None, vote_count: int | None) -> float:
    votes = max(0, vote_count or 0)
    if vote_average is None or votes == 0:
        return PRIOR_MEAN
    return (votes * vote_average + PRIOR_VOTES * PRIOR_MEAN) / (votes + PRIOR_VOTES)


def quality(facts: MovieFacts) -> float:
    """0..1: mostly the Bayesian rating (5.0 → 0, 8.5 → 1), partly how widely seen it is."""
    rating = min(1.0, max(0.0, (bayesian_rating(facts.vote_average, facts.vote_count) - 5) / 3.5))
    seen = min(1.0, math.log1p(max(0, facts.vote_count or 0)) / math.log1p(20_000))
    return 0.75 * rating + 0.25 * seen


def fuse(lists: Sequence[CandidateList], *, k: int = RRF_K) -> dict[int, dict[str, float]]:
    """Per film, its RRF contribution from each list it appears in.

    When a list carries scores, each contribution is also scaled by (score / best score)^2:
    ranks alone say the 2nd film is almost as good as the 1st even when the 1st is the only
    real match (a rare name, a new film), and then the quality prior would decide.
    """
    contributions: dict[int, dict[str, float]] = {}
    for candidates in lists:
        best = max(candidates.scores.values(), default=0.0)
        for rank, movie_id in enumerate(candidates.ids):
            weight = candidates.weight
            if best > 0 and movie_id in candidates.scores:
                weight *= max(0.0, candidates.scores[movie_id] / best) ** 2
            share = contributions.setdefault(movie_id, {})
            share[candidates.name] = share.get(candidates.name, 0.0) + weight / (k + rank + 1)
    return contributions


_SEQUEL_TAIL_RE = re.compile(
    r"\s+(?:part\s+)?(?:\d+|ii|iii|iv|v|vi|vii|viii|ix|x|two|three|four)$", re.IGNORECASE
)
_ARTICLES = frozenset({"the", "a", "an", "and", "of", "le", "la", "les", "el", "los", "der", "die"})


def franchise_key(title: str) -> str:
    """A key shared by a film and its sequels: "Toy Story 3" and "Toy Story" give "toy story";
    "Harry Potter and the Chamber of Secrets" gives "harry potter"."""
    head = re.split(r"\s*[:–—]\s*|\s+-\s+", title, maxsplit=1)[0]
    head = _SEQUEL_TAIL_RE.sub("", head.strip())
    words = [w for w in title_words(head) if w not in _ARTICLES]
    return " ".join(words[:2]) if words else title.casefold()


def rank(
    lists: Sequence[CandidateList],
    facts: Mapping[int, MovieFacts],
    *,
    limit: int,
    exclude: Iterable[int] = (),
    soft_genres: Iterable[str] = (),
    franchises_wanted: Iterable[str] = (),
    max_per_franchise: int = 1,
) -> list[Ranked]:
    """The best `limit` films of the fused lists, quality-weighted and diversified.

    Films missing from `facts` (not in the catalog) and excluded films never appear.
    """
    excluded = set(exclude)
    wanted_genres = set(soft_genres)
    scored: list[tuple[float, int, tuple[str, ...]]] = []
    for movie_id, shares in fuse(lists).items():
        film = facts.get(movie_id)
        if film is None or movie_id in excluded:
            continue
        relevance = sum(shares.values())
        boost = 1.0 + GENRE_BOOST * min(2, len(wanted_genres.intersection(film.genres)))
        score = relevance * boost * (1.0 - QUALITY_WEIGHT + QUALITY_WEIGHT * quality(film))
        routes = tuple(name for name, _ in sorted(shares.items(), key=lambda kv: -kv[1]))
        scored.append((score, movie_id, routes))
    scored.sort(key=lambda item: (-item[0], item[1]))
    ordered = _diversify(scored, facts, set(franchises_wanted), max_per_franchise)[:limit]
    top = ordered[0][0] if ordered else 1.0
    return [Ranked(movie_id, round(score / top, 4), routes) for score, movie_id, routes in ordered]


def _diversify(
    scored: list[tuple[float, int, tuple[str, ...]]],
    facts: Mapping[int, MovieFacts],
    wanted: set[str],
    cap: int,
) -> list[tuple[float, int, tuple[str, ...]]]:
    """Keep the order but move a franchise's films past the cap to the end of the list."""
    seen: Counter[str] = Counter()
    head, tail = [], []
    for item in scored:
        key = franchise_key(facts[item[1]].title)
        seen[key] += 1
        (head if key in wanted or seen[key] <= cap else tail).append(item)
    return head + tail
