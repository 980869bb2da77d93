"""One chat turn, in order: route the intent, understand the request, retrieve, rank, and prepare
the reply (ARCHITECTURE.md, "One chat turn"). Reads only; the turn is stored by services.py.

Every dependency may fail. Without the model service the turn routes by rules and searches the
database by keywords; without the vector index it ranks the database's films by the stated
constraints and quality; a slow or failed enrichment is skipped. Each of these sets
`degraded` and adds a notice saying what happened.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Case, ExpressionWrapper, F, FloatField, Q, Value, When
from django.db.models.functions import Coalesce

from catalog.models import Movie
from catalog.selectors import (
    REBUILD_HINT,
    SIMILAR_WEIGHTS,
    movies_matching,
    similar_candidates,
)
from catalog.services.indexing import Embedder
from clients.model_service import ModelServiceError, ModelServiceUnavailable
from common.errors import ApplicationError
from movie_constraints import Constraints, language_name, normalize_genres
from recommender import resources
from recommender.people import PersonLink
from recommender.ranking import (
    PRIOR_MEAN,
    PRIOR_VOTES,
    CandidateList,
    MovieFacts,
    Ranked,
    franchise_key,
    rank,
)
from recommender.replies import (
    CHITCHAT_REPLY,
    OUT_OF_SCOPE_REPLY,
    UNKNOWN_MOVIE_REPLY,
    MovieFactSheet,
    ReplyMovie,
    fact_answer,
    recommendation_template,
    reply_messages,
)
from recommender.title_linking import TitleLink
from recommender.understanding import (
    RequestReading,
    Turn,
    content_words,
    last_shown,
    read_request,
)
from vector_index import IndexError as VectorIndexError
from vector_index import SearchFilter, VectorIndex

logger = logging.getLogger(__name__)

INTENTS = ("recommend", "similar", "movie_info", "faq", "chitchat", "out_of_scope")
RETRIEVAL_DEPTH = 60  # candidates per route before fusion
# "More like" a named film, as relevance only: the turn's ranking applies the quality prior to
# every route once, so the similar route must not bring its own as well.
SIMILAR_RELEVANCE = dataclasses.replace(SIMILAR_WEIGHTS, prior=0.0, prior_without_ratings=0.0)


class ChatClient(Embedder):
    """What a turn needs from the model service (clients.model_service.ModelServiceClient)."""

    def enrich(
        self, message: str, *, history: Sequence[dict[str, str]] = (), timeout: float | None = None
    ) -> dict[str, Any]: ...

    def chat_stream(
        self,
        messages: Sequence[dict[str, str]],
        *,
        max_tokens: int = 200,
        temperature: float = 0.3,
        timeout: float | None = None,
    ) -> Iterator[str]: ...


@dataclass(frozen=True)
class ChatFilters:
    """Filters the user set in the interface (chips); they bind harder than words."""

    genres: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    min_rating: float | None = None
    language: str = ""


@dataclass(frozen=True)
class ChatRequest:
    message: str
    turns: Sequence[Turn] = ()  # earlier turns, oldest first
    filters: ChatFilters = ChatFilters()
    limit: int = 8
    excluded_ids: frozenset[int] = frozenset()  # thumbs-down in this conversation


@dataclass(frozen=True)
class ShownMovie:
    movie: Movie
    score: float
    reason: str


@dataclass
class TurnPlan:
    """Everything decided before the reply is written."""

    intent: str
    intent_confidence: float
    movies: list[ShownMovie]
    understanding: dict[str, Any]
    enrichment: dict[str, Any] | None = None
    degraded: bool = False
    notices: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    # The reply when it does not come from the language model (facts, FAQ, templates)...
    fixed_reply: str | None = None
    fixed_reply_source: str = "template"
    # ...otherwise what the model is asked, and the template used if it fails.
    reply_request: list[dict[str, str]] | None = None
    fallback_reply: str = ""

    def reply_movies(self) -> list[ReplyMovie]:
        """The top films the reply is asked to talk about (CHAT_REPLY_MOVIES)."""
        return [reply_movie(shown) for shown in self.movies[: settings.CHAT_REPLY_MOVIES]]

    def shown_movies(self) -> list[ReplyMovie]:
        """Every film on the user's screen: the reply may name any of them."""
        return [reply_movie(shown) for shown in self.movies]


def reply_movie(shown: ShownMovie) -> ReplyMovie:
    movie = shown.movie
    return ReplyMovie(
        id=movie.tmdb_id,
        title=movie.title,
        year=movie.year,
        genres=[genre.name for genre in movie.genres.all()],
        overview=movie.overview,
        reason=shown.reason,
    )


class _Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._started = time.perf_counter()
        self._last = self._started

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(self.timings.get(name, 0.0) + (now - self._last) * 1000, 1)
        self._last = now

    def total(self) -> None:
        self.timings["total"] = round((time.perf_counter() - self._started) * 1000, 1)


# --------------------------------------------------------------------------------------------
# Intent.
# --------------------------------------------------------------------------------------------

_FACT_QUESTION_RE = re.compile(
    r"\b(who\s+(?:directed|made|stars?|starred|plays?|is\s+in|was\s+in|acts?)|when\s+(?:was|did)|"
    r"what\s+year|how\s+long|runtime|what\s+is\s+.+\s+about|what'?s\s+.+\s+about|tell\s+me\s+about|"
    r"plot\s+of|director\s+of|cast\s+of|rating\s+of|is\s+.+\s+(?:good|worth))",
    re.IGNORECASE,
)
_LIKE_RE = re.compile(
    r"\b(?:like|similar\s+to|same\s+vibe|vibes?\s+(?:as|of)|as\s+good\s+as|reminds?|in\s+the\s+"
    r"spirit\s+of|if\s+i\s+(?:liked|loved|enjoyed))\b",
    re.IGNORECASE,
)
# "how long is it?", "who directed that one?": a fact question about the film on screen.
_PRONOUN_RE = re.compile(
    r"\b(?:it|that(?:\s+one)?|this(?:\s+one)?|the\s+(?:first|last)\s+one)\b", re.I
)
_ON_SCREEN_FACT_RE = re.compile(
    r"\b(?:who\s+(?:directed|made|stars?|starred|plays?|is\s+in|was\s+in)|how\s+long|"
    r"when\s+(?:was|did)|what\s+year|runtime|what'?s\s+.{0,20}about|what\s+is\s+.{0,20}about|"
    r"what\s+language|is\s+(?:it|that|this)\s+(?:good|scary|sad|worth))",
    re.I,
)
_GREETING_RE = re.compile(
    r"^\s*(?:hi|hello|hey|yo|thanks|thank\s+you|good\s+(?:morning|evening|night)|bye|"
    r"how\s+are\s+you|who\s+are\s+you)\b",
    re.IGNORECASE,
)


def rule_intent(message: str, *, has_title: bool, constraints: Constraints) -> str:
    """The intent from cheap signals alone, for when the router cannot run."""
    if has_title and _FACT_QUESTION_RE.search(message):
        return "movie_info"
    if has_title and _LIKE_RE.search(message):
        return "similar"
    if not constraints.is_empty or has_title:
        return "recommend"
    if _GREETING_RE.match(message) and len(message.split()) <= 6:
        return "chitchat"
    return "recommend"


# --------------------------------------------------------------------------------------------
# Retrieval routes.
# --------------------------------------------------------------------------------------------


def search_filter(
    constraints: Constraints, filters: ChatFilters, exclude_ids: Sequence[int]
) -> SearchFilter:
    """The index filter: the interface's chips override the words; year ranges intersect."""
    year_min = max(
        (y for y in (constraints.year_min, filters.year_min) if y is not None), default=None
    )
    year_max = min(
        (y for y in (constraints.year_max, filters.year_max) if y is not None), default=None
    )
    rating = max(
        (r for r in (constraints.min_rating, filters.min_rating) if r is not None), default=None
    )
    language = filters.language or constraints.language or ""
    excluded_languages = tuple(c for c in constraints.exclude_languages if c != language)
    return SearchFilter(
        genres_any=filters.genres or constraints.genres,
        genres_exclude=tuple(g for g in constraints.exclude_genres if g not in filters.genres),
        year_min=year_min,
        year_max=year_max,
        languages=(language,) if language else (),
        languages_exclude=() if language else excluded_languages,
        min_vote_average=rating,
        exclude_ids=tuple(sorted(set(exclude_ids))),
    )


def _db_filtered(index_filter: SearchFilter, constraints: Constraints):
    """The index filter, plus what only the database knows (runtime)."""
    movies = movies_matching(index_filter)
    if constraints.runtime_max is not None:
        movies = movies.filter(runtime__lte=constraints.runtime_max)
    if constraints.runtime_min is not None:
        movies = movies.filter(runtime__gte=constraints.runtime_min)
    return movies


def _by_bayesian_rating(movies):
    votes = Coalesce(F("vote_count"), Value(0))
    average = Coalesce(F("vote_average"), Value(PRIOR_MEAN))
    bayes = ExpressionWrapper(
        (votes * average + Value(PRIOR_VOTES * PRIOR_MEAN)) / (votes + Value(PRIOR_VOTES)),
        output_field=FloatField(),
    )
    return movies.annotate(bayes=bayes).order_by("-bayes", "tmdb_id")


def best_rated_route(index_filter: SearchFilter, constraints: Constraints) -> CandidateList:
    """The best-rated films that fit the stated constraints (the "just give me a good 90s
    comedy" route)."""
    ids = list(
        _by_bayesian_rating(_db_filtered(index_filter, constraints)).values_list(
            "tmdb_id", flat=True
        )[:RETRIEVAL_DEPTH]
    )
    return CandidateList("best_rated", ids, weight=0.5)


def keyword_route(
    words: Sequence[str], index_filter: SearchFilter, constraints: Constraints
) -> CandidateList:
    """Films whose title, overview or keywords contain the request's words (no model needed)."""
    match = Q()
    for word in words[:8]:
        match |= Q(title__icontains=word) | Q(overview__icontains=word)
        match |= Q(keywords__icontains=word)
    movies = _db_filtered(index_filter, constraints)
    if words:
        movies = movies.filter(match)
    ids = list(_by_bayesian_rating(movies).values_list("tmdb_id", flat=True)[:RETRIEVAL_DEPTH])
    return CandidateList("keywords", ids)


def dense_route(vector: Sequence[float], index: VectorIndex, index_filter: SearchFilter):
    hits = index.search(list(vector), limit=RETRIEVAL_DEPTH, filter=index_filter)
    return CandidateList(
        "search", [hit.id for hit in hits], scores={hit.id: hit.score for hit in hits}
    )


def people_route(
    people: Sequence[PersonLink],
    films: set[int],
    index_filter: SearchFilter,
    constraints: Constraints,
) -> CandidateList:
    """The named people's films that fit the constraints, best rated first."""
    ids = list(
        _by_bayesian_rating(
            _db_filtered(index_filter, constraints).filter(tmdb_id__in=films)
        ).values_list("tmdb_id", flat=True)[:RETRIEVAL_DEPTH]
    )
    reasons: dict[int, str] = {}
    for person in people:
        for movie_id in person.directed:
            reasons.setdefault(movie_id, f"directed by {person.name}")
        for movie_id in person.acted:
            reasons.setdefault(movie_id, f"with {person.name}")
    return CandidateList("people", ids, reasons={i: reasons[i] for i in ids if i in reasons})


def similar_route(
    reference: Movie, index_filter: SearchFilter, get_index: Callable[[], VectorIndex]
) -> CandidateList:
    candidates = similar_candidates(
        tmdb_id=reference.tmdb_id,
        limit=RETRIEVAL_DEPTH,
        get_index=get_index,
        search_filter=index_filter,
        weights=SIMILAR_RELEVANCE,
    )
    return CandidateList(
        f"like:{reference.tmdb_id}",
        [c.id for c in candidates],
        reasons={c.id: c.reason for c in candidates if c.reason},
        scores={c.id: c.score for c in candidates},
    )


# --------------------------------------------------------------------------------------------
# Reasons.
# --------------------------------------------------------------------------------------------


def feature_reason(
    movie: Movie, *, wanted_genres: Sequence[str], request_words: set[str], language: str
) -> str:
    """ "comedy · time travel · 1980s": the wanted genres it has (else its own), a keyword the
    request mentions, its decade, and its language when that was asked for or is not English."""
    genres = [genre.name for genre in movie.genres.all()]
    shown = [g for g in genres if g in wanted_genres] or genres[:2]
    parts = [g.lower() for g in shown[:2]]
    for keyword in movie.keywords or []:
        if set(str(keyword).lower().split()) & request_words:
            parts.append(str(keyword).lower())
            break
    if movie.year:
        parts.append(f"{movie.year // 10 * 10}s")
    if movie.original_language and (language or movie.original_language != "en"):
        name = language_name(movie.original_language)
        if name:
            parts.append(name)
    return " · ".join(parts)


# --------------------------------------------------------------------------------------------
# The turn.
# --------------------------------------------------------------------------------------------


@dataclass
class _Understood:
    intent: str
    confidence: float
    links: list[TitleLink]
    reading: RequestReading
    references: list[Movie]
    signals: tuple[str, ...] = ()
    faq: Any = None
    people: list[PersonLink] = field(default_factory=list)
    people_bind: bool = True  # results only from the wanted people's films

    @property
    def wanted_people(self) -> list[PersonLink]:
        """People whose films the results must be (not excluded, not a likeness)."""
        return [person for person in self.people if not person.excluded and not person.style]


class ChatTurn:
    """Plans one turn against a model-service client and the vector index."""

    def __init__(self, *, client: ChatClient, get_index: Callable[[], VectorIndex]) -> None:
        self.client = client
        self.get_index = get_index

    def plan(self, request: ChatRequest) -> TurnPlan:
        clock = _Clock()
        notices: list[str] = []
        degraded = False

        linker = resources.title_linker()
        people_linker = resources.people_linker()
        links = linker.link(request.message, limit=3)
        links, people = _named(links, people_linker.link(request.message))
        excluded = [person for person in people if person.excluded]
        request = _with_shown_films(request, linker)
        clock.lap("link")

        reading = read_request(
            request.message,
            request.turns,
            # An excluded person is explained wording, but no new subject ("not Shinkai").
            title_spans=[(n.start, n.end) for n in [*links, *people] if n not in excluded],
            explained_spans=[(person.start, person.end) for person in excluded],
            names_a_title=lambda text: bool(linker.link(text, limit=1) or people_linker.link(text)),
            recent_years=settings.CHAT_RECENT_YEARS,
        )
        if len(excluded) == len(people):  # no one wanted by name: maybe by "he" or the topic
            people += _topic_people(request, reading, people_linker)
        reading.constraints = _relative_era(request, reading.constraints)
        clock.lap("parse")

        vector = None
        try:
            vector = self.client.embed([request.message], timeout=settings.CHAT_EMBED_TIMEOUT)
            vector = vector.vectors[0]
        except ModelServiceError as exc:
            degraded = True
            notices.append(f"The model service is unavailable ({exc}); answering by keywords.")
        clock.lap("embed")

        understood = self._route(request, links, reading, vector, notices)
        understood.people = people
        if any(p.style for p in people):
            # "like a Wes Anderson film": more like their best-known films.
            understood.references += self._references_of_style(people, understood.references)
        if people and not links and understood.intent not in ("faq", "similar", "recommend"):
            # "tom hanks", "what else did he direct?", "nothing with Adam Sandler": about films.
            understood.intent = "recommend"
        clock.lap("intent")
        understanding = {
            "linked_titles": [
                {
                    "id": link.tmdb_id,
                    "title": link.title,
                    "year": link.year,
                    "mention": link.mention,
                    "confidence": round(link.confidence, 3),
                }
                for link in links
            ],
            "constraints": reading.constraints.as_dict(),
            "follow_up": reading.is_follow_up,
            "topic": reading.topic_texts,
            "people": [
                {
                    "name": person.name,
                    "role": person.role,
                    "mention": person.mention,
                    "excluded": person.excluded,
                    "confidence": person.confidence,
                }
                for person in people
            ],
            "signals": list(understood.signals),
            "references": [
                {"id": movie.tmdb_id, "title": movie.title} for movie in understood.references
            ],
        }

        if understood.intent in ("chitchat", "out_of_scope", "faq", "movie_info"):
            plan = self._answer_without_search(request, understood, understanding)
            if plan is not None:
                clock.total()
                plan.timings_ms = clock.timings
                plan.degraded = degraded or plan.degraded
                plan.notices = notices + plan.notices
                return plan
            understood.intent = "recommend"  # a fact question about an unknown film, etc.

        enrichment = None
        if understood.intent in ("recommend", "similar") and self._needs_enrichment(
            understood, vector is not None
        ):
            enrichment, failure = self._enrich(request)
            if failure:
                degraded = True
                notices.append(failure)
            clock.lap("enrich")

        movies, route_degraded = self._retrieve(
            request, understood, enrichment, vector, notices, clock
        )
        if not movies and not understood.reading.constraints.is_empty:
            # Nothing fits every word of the request: keep genres, language and exclusions,
            # let go of years, runtime and rating, and say so.
            relaxed = dataclasses.replace(
                understood.reading.constraints,
                year_min=None, year_max=None, runtime_min=None, runtime_max=None, min_rating=None,
            )  # fmt: skip
            if relaxed != understood.reading.constraints:
                understood.reading.constraints = relaxed
                movies, route_degraded = self._retrieve(
                    request, understood, enrichment, vector, notices, clock
                )
                if movies:
                    notices.append(
                        "No film in the catalog matches every part of the request; these "
                        "match it without its year, length or rating limits."
                    )
        if not movies and understood.wanted_people:
            # "Tom Hanks horror" with no such film: close matches without the person.
            understood.people_bind = False
            movies, route_degraded = self._retrieve(
                request, understood, enrichment, vector, notices, clock
            )
            if movies:
                names = " and ".join(person.name for person in understood.wanted_people)
                notices.append(
                    f"No other film with {names} in the catalog fits the request; these come "
                    "closest."
                )
        degraded = degraded or route_degraded
        understanding["search_text"] = self._search_text(understood, enrichment)

        plan = TurnPlan(
            intent=understood.intent,
            intent_confidence=understood.confidence,
            movies=movies,
            understanding=understanding,
            enrichment=enrichment,
            degraded=degraded,
            notices=notices,
        )
        similar_to = understood.references[0].title if understood.references else ""
        plan.fallback_reply = recommendation_template(plan.reply_movies(), similar_to=similar_to)
        if movies:
            history = [{"role": t.role, "content": t.content} for t in request.turns]
            plan.reply_request = reply_messages(request.message, history, plan.reply_movies())
        else:
            plan.fixed_reply = plan.fallback_reply
        clock.total()
        plan.timings_ms = clock.timings
        return plan

    # -- intent -----------------------------------------------------------------------------

    def _route(
        self,
        request: ChatRequest,
        links: list[TitleLink],
        reading: RequestReading,
        vector: Any,
        notices: list[str],
    ) -> _Understood:
        topic_links: list[TitleLink] = []
        if reading.is_follow_up and not links:
            # "more recent please" after "something like Heat": still about Heat.
            linker = resources.title_linker()
            for text in reading.topic_texts[:-1]:
                topic_links += linker.link(text, limit=2)
        references = self._references(links + topic_links, reading)
        has_title = bool(links)
        if vector is None:
            intent = rule_intent(
                request.message, has_title=has_title, constraints=reading.constraints
            )
            if reading.is_follow_up and intent == "chitchat":
                intent = "recommend"
            return _Understood(intent, 0.0, links, reading, references, ("rules",))
        try:
            router = resources.intent_router(self.client)
        except ModelServiceError as exc:
            router = None
            notices.append(f"Intent routing is unavailable ({exc}); using rules.")
        if router is None:
            intent = rule_intent(
                request.message, has_title=has_title, constraints=reading.constraints
            )
            return _Understood(intent, 0.0, links, reading, references, ("rules",))
        prediction = router.classify(
            request.message,
            vector=vector,
            has_title=has_title,
            title_spans=[(link.start, link.end) for link in links],
        )
        intent = prediction.intent
        if (
            not has_title
            and last_shown(request.turns)
            and _ON_SCREEN_FACT_RE.search(request.message)
            and _PRONOUN_RE.search(request.message)
        ):
            # A question about the film on screen: answered from the database about it.
            return _Understood("movie_info", prediction.confidence, links, reading, references)
        if reading.is_follow_up and intent in ("chitchat", "out_of_scope", "faq"):
            # "more", "older ones?", "in French": a refinement of the running request.
            intent = "recommend"
        if intent == "similar" and not references:
            intent = "recommend"
        understood = _Understood(
            intent, prediction.confidence, links, reading, references, tuple(prediction.signals)
        )
        if intent == "faq":
            try:
                index = resources.faq_index(self.client)
            except ModelServiceError:
                index = None
            understood.faq = index.match(vector) if index is not None else None
        return understood

    def _references_of_style(
        self, people: list[PersonLink], references: list[Movie]
    ) -> list[Movie]:
        """The two best-known films of each person named as a likeness."""
        ids = [i for p in people if p.style for i in (p.directed or p.acted)[:2]]
        known = {movie.tmdb_id for movie in references}
        by_id = Movie.objects.prefetch_related("genres").in_bulk(ids)
        return [by_id[i] for i in dict.fromkeys(ids) if i in by_id and i not in known]

    def _references(self, links: list[TitleLink], reading: RequestReading) -> list[Movie]:
        ids = [link.tmdb_id for link in links] + reading.referenced_ids
        by_id = Movie.objects.prefetch_related("genres").in_bulk(ids)
        return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]

    # -- answers that need no search ---------------------------------------------------------

    def _answer_without_search(
        self, request: ChatRequest, understood: _Understood, understanding: dict[str, Any]
    ) -> TurnPlan | None:
        def plan(reply: str, source: str, movies: list[ShownMovie] | None = None) -> TurnPlan:
            return TurnPlan(
                intent=understood.intent,
                intent_confidence=understood.confidence,
                movies=movies or [],
                understanding=understanding,
                fixed_reply=reply,
                fixed_reply_source=source,
            )

        if understood.intent == "chitchat":
            return plan(CHITCHAT_REPLY, "template")
        if understood.intent == "out_of_scope":
            return plan(OUT_OF_SCOPE_REPLY, "template")
        if understood.intent == "faq":
            if understood.faq is None:
                return plan(CHITCHAT_REPLY, "template")
            understanding["faq"] = {
                "id": understood.faq.id,
                "score": round(understood.faq.score, 3),
            }
            return plan(understood.faq.answer, "faq")
        # movie_info: about the film named, else the one the conversation is on ("who
        # directed it?" after a film was shown).
        movie = understood.references[0] if understood.references else None
        shown = last_shown(request.turns)
        if movie is None and shown:
            movie = Movie.objects.prefetch_related("genres").filter(tmdb_id=shown[0]).first()
        if movie is None:
            return plan(UNKNOWN_MOVIE_REPLY, "template")
        sheet = MovieFactSheet(
            title=movie.title,
            year=movie.year,
            director=movie.director,
            cast=list(movie.cast or []),
            runtime=movie.runtime,
            genres=[genre.name for genre in movie.genres.all()],
            language=movie.original_language,
            vote_average=movie.vote_average,
            vote_count=movie.vote_count,
            overview=movie.overview,
        )
        shown = ShownMovie(movie, 1.0, "the film you asked about")
        return plan(fact_answer(request.message, sheet), "facts", [shown])

    # -- enrichment --------------------------------------------------------------------------

    def _needs_enrichment(self, understood: _Understood, can_embed: bool) -> bool:
        """Vague requests only: skip when rules and linked titles explain every word."""
        if not settings.CHAT_ENRICH or not can_embed:
            return False
        return bool(understood.reading.residual)

    def _enrich(self, request: ChatRequest) -> tuple[dict[str, Any] | None, str]:
        history = [
            {"role": t.role, "content": t.content[:2000]}
            for t in request.turns[-settings.CHAT_HISTORY_TURNS :]
        ]
        try:
            result = self.client.enrich(
                request.message, history=history, timeout=settings.CHAT_ENRICH_TIMEOUT
            )
        except ModelServiceUnavailable as exc:
            return None, f"Request understanding by the language model was skipped ({exc})."
        except ModelServiceError as exc:
            return None, f"Request understanding by the language model failed ({exc})."
        if result.get("fallback"):
            reason = result.get("fallback_reason") or "unavailable"
            return None, f"The language model could not interpret the request ({reason})."
        return result, ""

    # -- retrieval ---------------------------------------------------------------------------

    def _search_text(self, understood: _Understood, enrichment: dict[str, Any] | None) -> str:
        if enrichment and enrichment.get("search_text"):
            return str(enrichment["search_text"])
        return understood.reading.search_text

    def _retrieve(
        self,
        request: ChatRequest,
        understood: _Understood,
        enrichment: dict[str, Any] | None,
        message_vector: Any,
        notices: list[str],
        clock: _Clock,
    ) -> tuple[list[ShownMovie], bool]:
        reading = understood.reading
        constraints = reading.constraints
        exclude = set(request.excluded_ids) | {m.tmdb_id for m in understood.references}
        for turn in request.turns:
            exclude.update(turn.movie_ids)  # already shown in this conversation
        for person in understood.people:
            if person.excluded:
                exclude.update(person.movie_ids)  # "nothing with Adam Sandler"
        index_filter = search_filter(constraints, request.filters, sorted(exclude))
        soft_genres = list(constraints.genres)
        references = list(understood.references)
        if enrichment:
            soft_genres += normalize_genres(enrichment.get("genres") or [])
            if enrichment.get("exclude_genres"):
                excluded = tuple(normalize_genres(enrichment["exclude_genres"]))
                index_filter = dataclasses.replace(
                    index_filter,
                    genres_exclude=tuple(dict.fromkeys(index_filter.genres_exclude + excluded)),
                )
            if not references:
                linker = resources.title_linker()
                for title in (enrichment.get("reference_titles") or [])[:2]:
                    found = linker.link(str(title), limit=1)
                    if found and found[0].confidence >= 0.5:
                        references += self._references(
                            found, RequestReading(constraints, [], "", False)
                        )

        lists: list[CandidateList] = []
        people_films: set[int] | None = None
        if understood.wanted_people and understood.people_bind:
            people_films = _people_films(understood.wanted_people, request.message)
            lists.append(
                people_route(understood.wanted_people, people_films, index_filter, constraints)
            )
        degraded = False
        search_text = self._search_text(understood, enrichment)
        wants_search = not references or bool(reading.residual) or enrichment is not None
        if message_vector is not None:
            try:
                index = self.get_index()
                for reference in references[:3]:
                    try:
                        lists.append(similar_route(reference, index_filter, self.get_index))
                    except ApplicationError as exc:  # index down, or the film never embedded
                        degraded = degraded or exc.status_code >= 500
                        notices.append(f"More like {reference.title} is unavailable: {exc}")
                clock.lap("similar")
                if wants_search:
                    if search_text == request.message:
                        vector = message_vector
                    else:
                        vector = self.client.embed(
                            [search_text], timeout=settings.CHAT_EMBED_TIMEOUT
                        ).vectors[0]
                    lists.append(dense_route(vector.tolist(), index, index_filter))
                    clock.lap("search")
            except VectorIndexError as exc:
                degraded = True
                notices.append(f"The vector index is unavailable ({exc}). {REBUILD_HINT}")
            except ModelServiceError as exc:
                degraded = True
                notices.append(f"Semantic search is unavailable ({exc}).")
        if degraded or message_vector is None:
            words = content_words(constraints.remainder(search_text))
            lists.append(keyword_route(words, index_filter, constraints))
        has_structure = bool(
            index_filter.genres_any or index_filter.languages or constraints.year_min
            or constraints.year_max or index_filter.min_vote_average
        )  # fmt: skip
        if has_structure or not lists or all(not c.ids for c in lists):
            lists.append(best_rated_route(index_filter, constraints))
        clock.lap("candidates")

        candidate_ids = {movie_id for candidates in lists for movie_id in candidates.ids}
        movies = Movie.objects.prefetch_related("genres").in_bulk(candidate_ids)
        allowed = self._post_filter(movies, constraints)
        if people_films is not None:
            allowed &= people_films
        facts = {
            movie_id: MovieFacts(
                id=movie_id,
                title=movie.title,
                genres=tuple(genre.name for genre in movie.genres.all()),
                vote_average=movie.vote_average,
                vote_count=movie.vote_count,
            )
            for movie_id, movie in movies.items()
            if movie_id in allowed
        }
        wanted_franchises = {franchise_key(m.title) for m in references}
        ranked = rank(
            lists,
            facts,
            limit=request.limit,
            exclude=exclude,
            soft_genres=soft_genres,
            franchises_wanted=wanted_franchises if _asks_for_franchise(request.message) else (),
        )
        clock.lap("rank")
        language = index_filter.languages[0] if index_filter.languages else ""
        shown = [
            ShownMovie(
                movies[r.id],
                r.score,
                self._reason(r, movies, lists, references, soft_genres, search_text, language),
            )
            for r in ranked
        ]
        return shown, degraded

    def _post_filter(self, movies: dict[int, Movie], constraints: Constraints) -> set[int]:
        """Constraints the index cannot filter on (runtime)."""
        allowed = set()
        for movie_id, movie in movies.items():
            if (
                constraints.runtime_max is not None
                and (movie.runtime or 0) > constraints.runtime_max
            ):
                continue
            if (
                constraints.runtime_min is not None
                and (movie.runtime or 0) < constraints.runtime_min
            ):
                continue
            allowed.add(movie_id)
        return allowed

    def _reason(
        self,
        ranked: Ranked,
        movies: dict[int, Movie],
        lists: list[CandidateList],
        references: list[Movie],
        wanted_genres: list[str],
        search_text: str,
        language: str,
    ) -> str:
        by_name = {candidates.name: candidates for candidates in lists}
        features = feature_reason(
            movies[ranked.id],
            wanted_genres=wanted_genres,
            request_words=set(content_words(search_text)),
            language=language,
        )
        people = by_name.get("people")
        if people is not None and ranked.id in people.reasons:
            return f"{people.reasons[ranked.id]} · {features}"
        for route in ranked.routes:
            if route.startswith("like:"):
                reason = by_name[route].reasons.get(ranked.id)
                if reason:
                    return reason
                reference = next((m for m in references if f"like:{m.tmdb_id}" == route), None)
                if reference is not None:
                    return f"similar to {reference.title}"
        return features


def _with_shown_films(request: ChatRequest, linker: Any) -> ChatRequest:
    """History from a stateless client has no film ids: read them from the assistant's words,
    in the order it named them."""
    if all(t.movie_ids or t.role != "assistant" for t in request.turns):
        return request
    turns = []
    for turn in request.turns:
        if turn.role == "assistant" and not turn.movie_ids and turn.content:
            links = sorted(linker.link(turn.content, limit=8), key=lambda link: link.start)
            turn = dataclasses.replace(turn, movie_ids=tuple(link.tmdb_id for link in links))
        turns.append(turn)
    return dataclasses.replace(request, turns=tuple(turns))


def _named(
    links: list[TitleLink], people: list[PersonLink]
) -> tuple[list[TitleLink], list[PersonLink]]:
    """Titles and people without overlaps: a name that covers a title and more words wins
    ("Ray Liotta" over the film "Ray"); otherwise the title does."""
    kept: list[PersonLink] = []
    for person in people:
        inside = [link for link in links if link.start < person.end and person.start < link.end]
        if inside and not all(
            person.start <= link.start and link.end <= person.end
            and link.end - link.start < person.end - person.start
            for link in inside
        ):  # fmt: skip
            continue
        links = [link for link in links if link not in inside]
        kept.append(person)
    return links, kept


_THIRD_PERSON_RE = re.compile(r"\b(?:he|him|his|she|her|hers)\b", re.I)
_DIRECTING_RE = re.compile(r"\b(?:direct(?:ed|s|or|ing)?|directorial)\b", re.I)


def _topic_people(request: ChatRequest, reading: RequestReading, linker: Any) -> list[PersonLink]:
    """The people a message goes on about without naming them: a refinement keeps its topic's
    people ("older ones?" after "tom hanks movies"), and "he" or "her" is the person the last
    turns named ("what else did he direct?" after a reply naming the director)."""
    if _THIRD_PERSON_RE.search(request.message):
        directing = bool(_DIRECTING_RE.search(request.message))
        for turn in reversed(request.turns[-4:]):
            named = [person for person in linker.link(turn.content) if not person.excluded]
            if directing:
                named = [person for person in named if person.directed] or named
            if named:
                return named[:1]
    if reading.is_follow_up:
        # "something newer with that same vibe": the topic's people become a likeness.
        likeness = bool(_LIKE_RE.search(request.message))
        for text in reversed(reading.topic_texts[:-1]):
            named = linker.link(text)
            if named:
                if likeness:
                    return [dataclasses.replace(p, style=not p.excluded) for p in named]
                return named
    return []


_NEWER_RE = re.compile(
    r"\b(?:newer|more\s+(?:recent|modern)|less\s+old|recent\s+ones?|later\s+ones?)\b", re.I
)
_OLDER_RE = re.compile(
    r"\b(?:older|earlier\s+ones?|less\s+recent|more\s+classic|classic\s+ones?)\b", re.I
)


def _relative_era(request: ChatRequest, constraints: Constraints) -> Constraints:
    """ "something newer" / "older ones?" after films were shown: after (before) the middle
    year of those films, in place of the topic's years, unless the message states years."""
    newer, older = _NEWER_RE.search(request.message), _OLDER_RE.search(request.message)
    cue = newer or older
    if cue is None or (newer and older):
        return constraints
    # Years the message states besides the cue ("older ones, from the 70s") win; the cue itself
    # may have been read as a year bound too ("more recent").
    if any(
        span.kind == "year" and (span.end <= cue.start() or cue.end() <= span.start)
        for span in constraints.spans
    ):
        return constraints
    shown = last_shown(request.turns)[:8]
    years = sorted(
        Movie.objects.filter(tmdb_id__in=shown, year__isnull=False).values_list("year", flat=True)
    )
    if not years:
        return constraints
    middle = years[len(years) // 2]
    if newer:
        return dataclasses.replace(constraints, year_min=middle + 1, year_max=None)
    return dataclasses.replace(constraints, year_min=None, year_max=middle - 1)


def _people_films(people: Sequence[PersonLink], message: str) -> set[int]:
    """The films of every wanted person ("Tom Hanks and Meg Ryan"), or of any of them when
    they made none together; only what they directed when the message asks about directing."""
    directing = bool(_DIRECTING_RE.search(message))
    films = [
        set(person.directed) if directing and person.directed else set(person.movie_ids)
        for person in people
    ]
    together = set.intersection(*films)
    return together or set.union(*films)


_FRANCHISE_RE = re.compile(r"\b(?:movies|films|series|saga|franchise|sequels?|all\s+the)\b", re.I)


def _asks_for_franchise(message: str) -> bool:
    """ "the harry potter movies", "star wars saga": the user wants the franchise itself."""
    return bool(_FRANCHISE_RE.search(message)) and not _LIKE_RE.search(message)


__all__ = [
    "INTENTS",
    "Case",
    "ChatClient",
    "ChatFilters",
    "ChatRequest",
    "ChatTurn",
    "ShownMovie",
    "Turn",
    "TurnPlan",
    "When",
    "reply_movie",
    "rule_intent",
    "search_filter",
]
