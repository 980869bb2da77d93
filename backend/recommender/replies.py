"""The assistant's words: the grounded prompt for the language model, the check that its reply
names only the films it was given, and the templated replies used when it cannot be trusted
(or is unavailable), for facts, FAQ answers, small talk and out-of-scope requests."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from movie_constraints import language_name
from movie_constraints.titles import title_words

REPLY_SYSTEM_PROMPT = (
    "You are Marquee, a friendly movie recommendation assistant. Reply to the user's request "
    "in 2 to 4 short sentences of natural prose, like a friend who knows films: recommend the "
    "best one or two films from the list you are given and say in a few words why each fits "
    "the request. Write each title exactly as in the list, followed by its year in brackets. "
    "Never mention any other film, actor or director. No lists, no bullet points, no questions."
)

# One worked example, so a small model answers in prose instead of copying the list. Its films
# are made up: one that leaks into a real reply is caught by the grounding check.
_EXAMPLE_REQUEST = (
    "Request: something funny and light from the 80s\n\n"
    "Films:\n"
    "- Starlight Diner (1984) | Comedy | A waitress and a short-order cook trade insults and "
    "schemes to save their roadside diner.\n"
    "- The Long Weekend Caper (1987) | Comedy, Crime | Three hopeless friends plan a bank job "
    "and get everything wrong."
)
_EXAMPLE_REPLY = (
    "Starlight Diner (1984) is just the thing: a warm, quick-witted comedy about two sparring "
    "co-workers saving their diner. If you'd like something sillier, The Long Weekend Caper "
    "(1987) turns a hopeless heist into pure slapstick."
)


@dataclass(frozen=True)
class ReplyMovie:
    """A recommended film as the reply sees it."""

    id: int
    title: str
    year: int | None
    genres: Sequence[str]
    overview: str
    reason: str

    @property
    def label(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title


def _one_line(text: str) -> str:
    return " ".join(text.split())


def reply_messages(
    message: str, history: Sequence[dict[str, str]], movies: Sequence[ReplyMovie]
) -> list[dict[str, str]]:
    """The chat-completion messages asking for a grounded reply about `movies`."""
    lines = []
    for movie in movies:
        parts = [movie.label, ", ".join(movie.genres[:3])]
        # The person a film was picked for, so the reply may say "directed by ...".
        person = _PERSON_REASON_RE.match(movie.reason)
        if person:
            parts.append(person.group(0))
        parts.append(_first_sentence(movie.overview))
        lines.append("- " + " | ".join(part for part in parts if part))
    # User text stays on its own line: line breaks in it could otherwise write a "Films:"
    # block or an "Assistant:" turn of their own into the prompt.
    context = [
        f"{turn['role'].capitalize()}: {_one_line(turn['content'])[:300]}"
        for turn in history[-4:]
        if turn.get("content")
    ]
    prompt = ""
    if context:
        prompt += "Conversation so far:\n" + "\n".join(context) + "\n\n"
    prompt += f"Request: {_one_line(message)}\n\nFilms:\n" + "\n".join(lines)
    return [
        {"role": "system", "content": REPLY_SYSTEM_PROMPT},
        {"role": "user", "content": _EXAMPLE_REQUEST},
        {"role": "assistant", "content": _EXAMPLE_REPLY},
        {"role": "user", "content": prompt},
    ]


_PERSON_REASON_RE = re.compile(r"(?:directed by|with) [^·]+?(?=\s*·|$)")


def _first_sentence(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.{20,}?[.!?])(\s|$)", text)
    sentence = match.group(1) if match else text
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + "…"


# --------------------------------------------------------------------------------------------
# Grounding: every film the reply names must be one of the films shown.
# --------------------------------------------------------------------------------------------

_EMPHASIS_RE = re.compile(
    r"\*\*([^*\n]{2,80})\*\*|\*([^*\n]{2,80})\*|\"([^\"\n]{2,80})\"|“([^”\n]{2,80})”"
)
_TITLE_YEAR_RE = re.compile(r"((?:[A-Z0-9][\w'’:&!?.,-]*\s?){1,8})\s*\(((?:19|20)\d\d)\)")


def _same_title(mention: str, titles: Iterable[str]) -> bool:
    words = title_words(mention)
    if not words:
        return True
    for title in titles:
        expected = title_words(title)
        if words == expected:
            return True
        # "The Godfather Part II" may be shortened to "The Godfather Part II" or "Godfather II".
        if len(words) >= 2 and (_contains(expected, words) or _contains(words, expected)):
            return True
    return False


def _contains(longer: list[str], shorter: list[str]) -> bool:
    n = len(shorter)
    return any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def grounding_violations(
    reply: str,
    movies: Sequence[ReplyMovie],
    *,
    link_titles: Callable[[str], Iterable[tuple[int, str]]] | None = None,
) -> list[str]:
    """Names in `reply` that are not among `movies`.

    Two nets: `link_titles(reply)` (catalog films the reply names, as (id, mention)) catches a
    catalog film that was not shown; emphasised or year-tagged names ("*Heat*", "Heat (1995)")
    that match no shown title catch films from outside the catalog.
    """
    allowed_ids = {movie.id for movie in movies}
    titles = [movie.title for movie in movies]
    problems: list[str] = []
    if link_titles is not None:
        for movie_id, mention in link_titles(reply):
            if movie_id not in allowed_ids and not _same_title(mention, titles):
                problems.append(mention)
    for match in _EMPHASIS_RE.finditer(reply):
        mention = next(group for group in match.groups() if group)
        if not _same_title(mention, titles):
            problems.append(mention)
    for match in _TITLE_YEAR_RE.finditer(reply):
        mention = match.group(1).strip()
        year = int(match.group(2))
        shortened = (" ".join(mention.split()[i:]) for i in range(1, len(mention.split())))
        if (
            not _same_title(mention, titles)
            and not any(_same_title(tail, titles) for tail in shortened)
            and not _tail_of_shown_title(mention, year, movies)
        ):
            problems.append(mention)
    return list(dict.fromkeys(problems))


def _tail_of_shown_title(mention: str, year: int, movies: Sequence[ReplyMovie]) -> bool:
    """The capitalised run before a year stops at a lower-case word, so "Harry Potter and the
    Prisoner of Azkaban (2004)" is read as "Azkaban (2004)": a shown film of that year whose
    title ends with those words is the film named."""
    words = title_words(mention)
    return bool(words) and any(
        movie.year == year and title_words(movie.title)[-len(words) :] == words for movie in movies
    )


# --------------------------------------------------------------------------------------------
# Templated replies.
# --------------------------------------------------------------------------------------------


def _join(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def recommendation_template(movies: Sequence[ReplyMovie], *, similar_to: str = "") -> str:
    if not movies:
        return (
            "I couldn't find films in the catalog that match all of that. Try removing a "
            "filter or describing it differently."
        )
    lead = f"If you liked {similar_to}, try" if similar_to else "Here are some picks:"
    names = [movie.label for movie in movies[:3]]
    text = f"{lead} {_join(names)}."
    first = movies[0]
    if first.reason:
        text += f" {first.title}: {first.reason}."
    return text


@dataclass(frozen=True)
class MovieFactSheet:
    title: str
    year: int | None
    director: str
    cast: Sequence[str]
    runtime: int | None
    genres: Sequence[str]
    language: str
    vote_average: float | None
    vote_count: int | None
    overview: str


_FACT_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(direct|director|directed|made|filmmaker)", re.I), "director"),
    (re.compile(r"\b(star|starring|cast|actor|actress|who\s+(?:is|was|plays?))", re.I), "cast"),
    (re.compile(r"\b(how\s+long|runtime|length|minutes|hours)\b", re.I), "runtime"),
    (re.compile(r"\b(when|what\s+year|release|released|come\s+out|came\s+out)\b", re.I), "year"),
    (re.compile(r"\b(rating|rated|score|good|worth)\b", re.I), "rating"),
    (re.compile(r"\b(genre|kind\s+of)\b", re.I), "genres"),
    (re.compile(r"\b(language)\b", re.I), "language"),
]


def fact_answer(question: str, movie: MovieFactSheet) -> str:
    """Answer a question about one film from the database's facts only."""
    label = f"{movie.title} ({movie.year})" if movie.year else movie.title
    asked = [field for pattern, field in _FACT_PATTERNS if pattern.search(question)]
    sentences = []
    for field in asked or ["overview"]:
        if field == "director":
            sentences.append(
                f"{label} was directed by {movie.director}."
                if movie.director
                else f"The catalog does not say who directed {label}."
            )
        elif field == "cast":
            sentences.append(
                f"{label} stars {_join(list(movie.cast[:4]))}."
                if movie.cast
                else f"The catalog has no cast list for {label}."
            )
        elif field == "runtime":
            sentences.append(
                f"{label} runs {movie.runtime} minutes "
                f"({movie.runtime // 60} h {movie.runtime % 60:02d})."
                if movie.runtime
                else f"The catalog does not have the runtime of {label}."
            )
        elif field == "year":
            sentences.append(
                f"{movie.title} came out in {movie.year}."
                if movie.year
                else f"The catalog does not have the release year of {movie.title}."
            )
        elif field == "rating":
            sentences.append(
                f"{label} is rated {movie.vote_average:.1f}/10 from {movie.vote_count:,} votes."
                if movie.vote_average is not None and movie.vote_count
                else f"The catalog has no rating for {label}."
            )
        elif field == "genres":
            sentences.append(
                f"{label} is {', '.join(movie.genres).lower()}."
                if movie.genres
                else f"The catalog has no genres for {label}."
            )
        elif field == "language":
            name = language_name(movie.language) if movie.language else ""
            sentences.append(
                f"{label} is in {name}."
                if name
                else f"The catalog does not say the original language of {label}."
            )
        else:
            sentences.append(
                f"{label}: {movie.overview}"
                if movie.overview
                else f"The catalog has no description of {label} yet."
            )
    return " ".join(dict.fromkeys(sentences))


CHITCHAT_REPLY = (
    "Hi! I'm Marquee. Tell me what you're in the mood for — a genre, a decade, a language, or "
    'a film you loved ("something like Inception but funnier") — and I\'ll suggest films from '
    "your catalog."
)
OUT_OF_SCOPE_REPLY = (
    "I can only help with movies from this catalog: recommendations, films similar to one you "
    "liked, and facts such as who directed a film. What would you like to watch?"
)
UNKNOWN_MOVIE_REPLY = (
    "I couldn't find that film in the catalog. Check the spelling, or ask me for something "
    "similar in spirit."
)
