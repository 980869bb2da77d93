"""Understanding a chat turn without the language model: which request it continues, what it
constrains, which catalog films it names, and whether it is vague enough to need enrichment.

A conversation is read as topics: a request ("a French comedy") followed by refinements ("from
the 90s", "funnier", "no romance please"). A refinement keeps the topic's constraints and adds
or overrides its own; a message that names a new subject starts a new topic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from movie_constraints import Constraints, parse_constraints

# Words that carry no search meaning in a movie request once constraints are taken out.
_FILLER_TEXT = """
a an the some any of for to me i im i'm we us you it its it's this that these those please
pls movie movies film films flick flicks one ones something anything stuff watch watching
see show give find get recommend recommendation recommendations suggest suggestion
suggestions want wanna need like would could can do does have has with and or but also too
just really very good great nice best top cool new old what whats what's how about any
more another else other others tonight today now again same kind sort type please thanks
thank is are be was were my our your there here in on at from by
"""
_FILLER_WORDS = frozenset(_FILLER_TEXT.split())

# A message opening like this continues the previous request rather than starting a new one.
_FOLLOW_UP_RE = re.compile(
    r"^\s*(?:and|but|also|plus|or|maybe|ok(?:ay)?|hmm+|actually|instead|now|then|what\s+about|"
    r"how\s+about|anything|something|any|more|another|other|less|not|no|without|only|just|"
    r"make\s+it|same\s+but|similar\s+but|older|newer|shorter|longer|funnier|scarier|darker|"
    r"lighter|sadder|happier|(?:in|from|with|after|before|under|over)\b)",
    re.IGNORECASE,
)
_ORDINALS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2,
    "fourth": 3, "4th": 3, "fifth": 4, "5th": 4, "last": -1,
}  # fmt: skip
_ORDINAL_RE = re.compile(
    r"\b(?:the\s+)?(" + "|".join(_ORDINALS) + r")\s+(?:one|movie|film|pick|suggestion)\b",
    re.IGNORECASE,
)
_THAT_ONE_RE = re.compile(
    r"\b(?:like|similar\s+to)\s+(?:that|this|it)(?:\s+one)?\b|\bmore\s+like\s+(?:that|this|it)\b",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class Turn:
    role: str  # "user" | "assistant"
    content: str
    movie_ids: tuple[int, ...] = ()  # films shown with an assistant turn, in rank order


@dataclass
class RequestReading:
    """What the rules make of the current message in its conversation."""

    constraints: Constraints
    topic_texts: list[str]  # the user turns of the current topic, oldest first
    residual: str  # the wording constraints and titles do not explain
    is_follow_up: bool
    referenced_ids: list[int] = field(default_factory=list)  # "more like the second one"

    @property
    def search_text(self) -> str:
        return ". ".join(self.topic_texts)


def content_words(text: str) -> list[str]:
    return [w for w in _WORD_RE.findall(text.lower()) if w not in _FILLER_WORDS and len(w) > 1]


def is_follow_up(message: str, *, has_title: bool, previous_user_turns: int) -> bool:
    """Whether a message refines the previous request rather than starting a new one."""
    if previous_user_turns == 0 or has_title:
        return False
    if _FOLLOW_UP_RE.match(message) or _ORDINAL_RE.search(message):
        return True
    return len(content_words(message)) <= 2 and len(message.split()) <= 6


def merge_constraints(earlier: Constraints, later: Constraints) -> Constraints:
    """`later` refines `earlier`: stated bounds override, genres and excluded languages
    accumulate, and a genre or language wanted now is no longer excluded (and the other way
    round)."""
    genres = tuple(g for g in earlier.genres if g not in later.exclude_genres)
    genres += tuple(g for g in later.genres if g not in genres)
    excluded = tuple(g for g in earlier.exclude_genres if g not in later.genres)
    excluded += tuple(g for g in later.exclude_genres if g not in excluded)
    years_stated = later.year_min is not None or later.year_max is not None
    wanted = later.language
    excluded_languages = tuple(c for c in earlier.exclude_languages if c != wanted)
    excluded_languages += tuple(c for c in later.exclude_languages if c not in excluded_languages)

    def pick(name: str):
        value = getattr(later, name)
        return value if value is not None else getattr(earlier, name)

    return replace(
        later,
        genres=genres,
        exclude_genres=excluded,
        year_min=later.year_min if years_stated else earlier.year_min,
        year_max=later.year_max if years_stated else earlier.year_max,
        # "not in Spanish" after "a Spanish thriller": the exclusion replaces the wish.
        language=None if earlier.language in later.exclude_languages else pick("language"),
        exclude_languages=excluded_languages,
        runtime_max=pick("runtime_max"),
        runtime_min=pick("runtime_min"),
        min_rating=pick("min_rating"),
        spans=later.spans,
    )


def last_shown(turns: Sequence[Turn]) -> tuple[int, ...]:
    """The films of the latest assistant turn that showed any, in rank order (or none)."""
    return next((t.movie_ids for t in reversed(turns) if t.role == "assistant" and t.movie_ids), ())


def referenced_movie(message: str, turns: Sequence[Turn]) -> int | None:
    """The film a message points at among the last recommendations ("the second one")."""
    shown = last_shown(turns)
    if not shown:
        return None
    match = _ORDINAL_RE.search(message)
    if match:
        position = _ORDINALS[match.group(1).lower()]
        if -len(shown) <= position < len(shown):
            return shown[position]
        return None
    if _THAT_ONE_RE.search(message):
        return shown[0]
    return None


def read_request(
    message: str,
    turns: Sequence[Turn],
    *,
    title_spans: Sequence[tuple[int, int]] = (),
    explained_spans: Sequence[tuple[int, int]] = (),
    names_a_title: Callable[[str], bool] = lambda text: False,
    recent_years: int = 3,
    today: date | None = None,
) -> RequestReading:
    """Read `message` in the light of the earlier `turns` (oldest first).

    `title_spans` are named subjects (films, people): explained wording that starts a new topic;
    `explained_spans` are explained wording that does not ("not Shinkai")."""
    year = (today or date.today()).year
    constraints = parse_constraints(message, today_year=year, recent_years=recent_years)
    residual_text = _without_spans(message, [*title_spans, *explained_spans])
    residual = " ".join(content_words(constraints.remainder(residual_text)))
    user_turns = [t.content for t in turns if t.role == "user"]
    follow_up = is_follow_up(
        message, has_title=bool(title_spans), previous_user_turns=len(user_turns)
    )
    topic = [message]
    if follow_up:
        # Walk back through the topic: the refinements before this one, then the request
        # they refine.
        for position in range(len(user_turns) - 1, -1, -1):
            text = user_turns[position]
            topic.insert(0, text)
            earlier = parse_constraints(text, today_year=year, recent_years=recent_years)
            constraints = merge_constraints(earlier, constraints)
            starts_topic = not is_follow_up(
                text, has_title=names_a_title(text), previous_user_turns=position
            )
            if starts_topic or len(topic) >= 4:
                break
    referenced = referenced_movie(message, turns) if turns else None
    return RequestReading(
        constraints=constraints,
        topic_texts=topic,
        residual=residual,
        is_follow_up=follow_up,
        referenced_ids=[referenced] if referenced else [],
    )


def _without_spans(text: str, spans: Sequence[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        for i in range(max(0, start), min(len(chars), end)):
            chars[i] = " "
    return "".join(chars)
