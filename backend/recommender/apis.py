"""HTTP API of the chat: a turn as JSON or as server-sent events, conversations, feedback."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from catalog.fields import genres_from_labels, language_from_label
from catalog.vector_store import get_catalog_index
from clients.factories import get_model_service_client
from clients.model_service import ModelServiceUnavailable
from common.errors import ServiceUnavailable
from recommender.models import Message
from recommender.pipeline import ChatFilters, ChatRequest, ChatTurn, ShownMovie, TurnPlan
from recommender.reply_stream import GroundedReply
from recommender.selectors import (
    conversation_disliked_ids,
    conversation_exists,
    conversation_get,
    conversation_turns,
)
from recommender.services import chat_turn_save, feedback_record
from recommender.understanding import Turn

logger = logging.getLogger(__name__)


class FiltersSerializer(serializers.Serializer):
    genres = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list, max_length=19
    )
    year_min = serializers.IntegerField(
        required=False, allow_null=True, min_value=1870, max_value=2100
    )
    year_max = serializers.IntegerField(
        required=False, allow_null=True, min_value=1870, max_value=2100
    )
    min_rating = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=10)
    language = serializers.CharField(required=False, default="", allow_blank=True, max_length=40)

    def validate_genres(self, value: list[str]) -> tuple[str, ...]:
        return genres_from_labels(value)

    def validate_language(self, value: str) -> str:
        return language_from_label(value)

    def validate(self, attrs: dict) -> dict:
        low, high = attrs.get("year_min"), attrs.get("year_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"year_min": "year_min is after year_max."})
        return attrs


class HistoryTurnSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["user", "assistant"])
    content = serializers.CharField(max_length=8000, allow_blank=True, trim_whitespace=False)


class ChatInputSerializer(serializers.Serializer):
    message = serializers.CharField(
        max_length=2000, help_text="The user's message (1-2000 characters)."
    )
    conversation_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Continue this conversation; omit to start one."
    )
    history = serializers.ListField(
        child=HistoryTurnSerializer(),
        required=False,
        allow_null=True,
        max_length=200,
        help_text="Earlier turns, oldest first, from a stateless client; used instead of the "
        "stored ones.",
    )
    filters = FiltersSerializer(required=False, allow_null=True)
    limit = serializers.IntegerField(required=False, default=8, min_value=1, max_value=50)
    reply = serializers.BooleanField(
        required=False, default=True, help_text="false: movies only, no generated text."
    )

    def validate_message(self, value: str) -> str:
        if "\x00" in value:
            raise serializers.ValidationError("The message contains a NUL character.")
        return value.strip()


class ChatMovieSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="TMDB id")
    title = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)
    genres = serializers.ListField(child=serializers.CharField())
    overview = serializers.CharField()
    poster_url = serializers.CharField(allow_null=True)
    vote_average = serializers.FloatField(allow_null=True)
    vote_count = serializers.IntegerField(allow_null=True)
    runtime = serializers.IntegerField(allow_null=True)
    original_language = serializers.CharField()
    score = serializers.FloatField()
    reason = serializers.CharField()


class ChatOutputSerializer(serializers.Serializer):
    conversation_id = serializers.UUIDField()
    message_id = serializers.IntegerField()
    intent = serializers.CharField()
    reply = serializers.CharField(allow_blank=True)
    reply_source = serializers.CharField()
    movies = ChatMovieSerializer(many=True)
    enrichment = serializers.DictField(allow_null=True)
    degraded = serializers.BooleanField()
    notices = serializers.ListField(child=serializers.CharField())
    timings_ms = serializers.DictField(child=serializers.FloatField())


def movie_card(shown: ShownMovie) -> dict[str, Any]:
    movie = shown.movie
    return {
        "id": movie.tmdb_id,
        "title": movie.title,
        "year": movie.year,
        "genres": [genre.name for genre in movie.genres.all()],
        "overview": movie.overview,
        "poster_url": f"{settings.TMDB_IMAGE_BASE}{movie.poster_path}"
        if movie.poster_path
        else None,
        "vote_average": movie.vote_average,
        "vote_count": movie.vote_count,
        "runtime": movie.runtime,
        "original_language": movie.original_language,
        "score": shown.score,
        "reason": shown.reason,
    }


class _TurnClient:
    """The model service as one turn uses it. Once a call of this turn finds the service
    unreachable, or its embedding of one short text times out (the service is hung), later
    calls of the same turn fail at once instead of each waiting out its own timeout: a hung
    model service costs a turn one CHAT_EMBED_TIMEOUT, not that plus CHAT_ENRICH_TIMEOUT plus
    CHAT_REPLY_TIMEOUT. An enrichment that only took too long (a busy language model) trips
    nothing: the reply may still come. The next turn tries the service again, so it recovers
    on its own."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.unavailable: ModelServiceUnavailable | None = None

    def _check(self) -> None:
        if self.unavailable is not None:
            raise ModelServiceUnavailable(
                f"not asked again during this turn (it failed already: {self.unavailable})"
            )

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        self._check()
        try:
            return getattr(self._client, method)(*args, **kwargs)
        except ModelServiceUnavailable as exc:
            if method != "enrich" or not isinstance(exc.__cause__, httpx.TimeoutException):
                self.unavailable = exc
            raise

    def embed(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("embed", *args, **kwargs)

    def embedding_model(self) -> str:
        return self._call("embedding_model")

    def enrich(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self._call("enrich", *args, **kwargs)

    def ready(self) -> dict[str, Any]:
        return self._call("ready")

    def chat_stream(self, *args: Any, **kwargs: Any) -> Iterator[str]:
        # A generator: the reply's caller handles failures while iterating, not at the call.
        self._check()
        try:
            yield from self._client.chat_stream(*args, **kwargs)
        except ModelServiceUnavailable as exc:
            self.unavailable = exc
            raise


class _Turn:
    """The parts of a turn shared by the JSON and the streaming endpoints."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.message: str = data["message"]
        self.conversation_id: uuid.UUID | None = data.get("conversation_id")
        if not self.message:
            raise serializers.ValidationError({"message": ["The message is empty."]})
        filters = data.get("filters") or {}
        stored = self.conversation_id is not None and conversation_exists(
            conversation_id=self.conversation_id
        )
        if data.get("history") is not None:
            turns = [Turn(role=t["role"], content=t["content"]) for t in data["history"]]
        elif stored:
            turns = conversation_turns(
                conversation_id=self.conversation_id, limit=2 * settings.CHAT_HISTORY_TURNS
            )
        else:
            turns = []
        disliked = (
            conversation_disliked_ids(conversation_id=self.conversation_id)
            if stored
            else frozenset()
        )
        self.request = ChatRequest(
            message=self.message,
            turns=turns[-2 * settings.CHAT_HISTORY_TURNS :],
            filters=ChatFilters(
                genres=filters.get("genres") or (),
                year_min=filters.get("year_min"),
                year_max=filters.get("year_max"),
                min_rating=filters.get("min_rating"),
                language=filters.get("language") or "",
            ),
            limit=data["limit"],
            excluded_ids=disliked,
        )
        self.client = _TurnClient(get_model_service_client())
        self.plan: TurnPlan | None = None

    def run_plan(self) -> TurnPlan:
        self.plan = ChatTurn(client=self.client, get_index=get_catalog_index).plan(self.request)
        return self.plan

    def save(self, reply: GroundedReply) -> Any:
        assert self.plan is not None
        outcome = reply.outcome
        if outcome.notice:
            self.plan.notices.append(outcome.notice)
        return chat_turn_save(
            conversation_id=self.conversation_id,
            message=self.message,
            plan=self.plan,
            reply=outcome.text,
            reply_source=outcome.source,
            degraded=self.plan.degraded or outcome.degraded,
        )

    def body(self, saved: Any, reply: GroundedReply) -> dict[str, Any]:
        assert self.plan is not None
        return {
            "conversation_id": str(saved.conversation_id),
            "message_id": saved.message_id,
            "intent": self.plan.intent,
            "reply": reply.outcome.text,
            "reply_source": reply.outcome.source,
            "movies": [movie_card(shown) for shown in self.plan.movies],
            "enrichment": self.plan.enrichment,
            "degraded": self.plan.degraded or reply.outcome.degraded,
            "notices": self.plan.notices,
            "timings_ms": self.plan.timings_ms,
        }


def _database_unavailable(exc: DatabaseError) -> ServiceUnavailable:
    logger.error("database error during a chat turn: %s", exc)
    return ServiceUnavailable(
        "The database is unavailable, so the conversation cannot be stored; nothing was saved. "
        "Check DATABASE_URL and that the database server is running, then retry.",
        code="database_unavailable",
    )


def _database_unreadable(exc: DatabaseError) -> ServiceUnavailable:
    logger.error("database error reading a conversation: %s", exc)
    return ServiceUnavailable(
        "The database is unavailable, so the conversation cannot be read. Check DATABASE_URL "
        "and that the database server is running, then retry.",
        code="database_unavailable",
    )


class ChatRateThrottle(ScopedRateThrottle):
    """CHAT_RATE_LIMIT per client, counted in the default cache. When that cache (Redis) does
    not answer, turns are let through and the failure logged: the limit protects the service,
    and refusing every chat because the counter is unreachable would protect nothing."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # the cache backend's own errors (redis.ConnectionError, …)
            logger.warning("rate limit not applied: the cache is unavailable (%s)", exc)
            return True


class _ChatThrottled(APIView):
    """Chat turns are limited per client (CHAT_RATE_LIMIT): 429 with Retry-After beyond it."""

    throttle_classes = [ChatRateThrottle]
    throttle_scope = "chat"


class ChatApi(_ChatThrottled):
    @extend_schema(
        request=ChatInputSerializer,
        responses={
            200: ChatOutputSerializer,
            400: OpenApiResponse(description="Invalid input; error.details.fields names it."),
            429: OpenApiResponse(description="Too many turns (CHAT_RATE_LIMIT); see Retry-After."),
            503: OpenApiResponse(description="The database is unavailable."),
        },
        summary="One chat turn: intent, movies and a grounded reply",
    )
    def post(self, request: Request) -> Response:
        params = ChatInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        started = time.perf_counter()
        try:
            turn = _Turn(params.validated_data)
            plan = turn.run_plan()
            reply = GroundedReply(plan, turn.client, want_model=params.validated_data["reply"])
            for _ in reply:
                pass
            plan.timings_ms["reply"] = round(
                (time.perf_counter() - started) * 1000 - plan.timings_ms.get("total", 0.0), 1
            )
            saved = turn.save(reply)
        except DatabaseError as exc:
            raise _database_unavailable(exc) from exc
        return Response(turn.body(saved, reply), status=status.HTTP_200_OK)


def _sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


class ChatStreamApi(_ChatThrottled):
    @extend_schema(
        request=ChatInputSerializer,
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                description="Server-sent events: `meta` {conversation_id, intent, movies, "
                "degraded, notices} as soon as the movies are ranked; `token` {text} for each "
                "piece of the reply; `done` {message_id, reply, reply_source, replaced, degraded, "
                "timings_ms} (`reply` is the final text: when the model strayed from the films "
                "shown, it replaces what was streamed); `error` {code, message} on failure."
            ),
            400: OpenApiResponse(description="Invalid input (a JSON error, before any event)."),
            429: OpenApiResponse(description="Too many turns (CHAT_RATE_LIMIT); see Retry-After."),
            503: OpenApiResponse(description="The database is unavailable (before any event)."),
        },
        summary="One chat turn as a stream of server-sent events",
    )
    def post(self, request: Request) -> StreamingHttpResponse:
        params = ChatInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            # Connect now: with the database down the client gets a 503, not a stream whose
            # only event is an error.
            connection.ensure_connection()
            turn = _Turn(params.validated_data)
        except DatabaseError as exc:
            raise _database_unavailable(exc) from exc
        want_reply = params.validated_data["reply"]
        response = StreamingHttpResponse(
            self._events(turn, want_reply), content_type="text/event-stream; charset=utf-8"
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx: pass events through as they come
        return response

    def _events(self, turn: _Turn, want_reply: bool) -> Iterator[bytes]:
        started = time.perf_counter()
        reply: GroundedReply | None = None
        try:
            plan = turn.run_plan()
            conversation_id = str(turn.conversation_id or uuid.uuid4())
            turn.conversation_id = uuid.UUID(conversation_id)
            yield _sse(
                "meta",
                {
                    "conversation_id": conversation_id,
                    "intent": plan.intent,
                    "movies": [movie_card(shown) for shown in plan.movies],
                    "enrichment": plan.enrichment,
                    "degraded": plan.degraded,
                    "notices": plan.notices,
                },
            )
            reply = GroundedReply(plan, turn.client, want_model=want_reply)
            for delta in reply:
                yield _sse("token", {"text": delta})
            plan.timings_ms["reply"] = round(
                (time.perf_counter() - started) * 1000 - plan.timings_ms.get("total", 0.0), 1
            )
            saved = turn.save(reply)
            yield _sse(
                "done",
                {
                    "conversation_id": conversation_id,
                    "message_id": saved.message_id,
                    "reply": reply.outcome.text,
                    "reply_source": reply.outcome.source,
                    "replaced": reply.outcome.replaced,
                    "degraded": plan.degraded or reply.outcome.degraded,
                    "notices": plan.notices,
                    "timings_ms": plan.timings_ms,
                },
            )
        except DatabaseError as exc:
            error = _database_unavailable(exc)
            yield _sse("error", {"code": error.code, "message": error.message})
        except Exception:
            logger.exception("chat stream failed")
            yield _sse(
                "error",
                {
                    "code": "internal_error",
                    "message": "Something went wrong on our side; it has been logged. Retry.",
                },
            )


class ConversationDetailApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        title = serializers.CharField()
        created_at = serializers.DateTimeField()
        updated_at = serializers.DateTimeField()
        messages = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        responses={
            200: OutputSerializer,
            503: OpenApiResponse(description="The database is unavailable."),
        },
        summary="A conversation with its messages",
    )
    def get(self, request: Request, conversation_id: uuid.UUID) -> Response:
        try:
            return self._get(conversation_id)
        except DatabaseError as exc:
            raise _database_unreadable(exc) from exc

    def _get(self, conversation_id: uuid.UUID) -> Response:
        conversation = conversation_get(conversation_id=conversation_id)
        messages = []
        for message in conversation.messages.all():
            item: dict[str, Any] = {
                "id": message.id,
                "role": message.role,
                "content": message.content,
                "created_at": message.created_at,
            }
            if message.role == Message.Role.ASSISTANT:
                item.update(
                    intent=message.intent,
                    reply_source=message.reply_source,
                    degraded=message.degraded,
                    movies=[_stored_card(r) for r in message.recommendations.all()],
                    feedback=[
                        {"movie_id": f.tmdb_id, "rating": f.rating} for f in message.feedback.all()
                    ],
                )
            messages.append(item)
        data = {
            "id": conversation.id,
            "title": conversation.title,
            "created_at": conversation.created_at,
            "updated_at": conversation.updated_at,
            "messages": messages,
        }
        return Response(self.OutputSerializer(data).data)


def _stored_card(recommendation: Any) -> dict[str, Any]:
    movie = recommendation.movie
    if movie is None:  # left the catalog since
        return {
            "id": recommendation.tmdb_id,
            "title": recommendation.title,
            "score": recommendation.score,
            "reason": recommendation.reason,
            "removed": True,
        }
    return movie_card(ShownMovie(movie, recommendation.score, recommendation.reason))


class FeedbackApi(APIView):
    class InputSerializer(serializers.Serializer):
        message_id = serializers.IntegerField(min_value=1)
        movie_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
        rating = serializers.ChoiceField(choices=[-1, 1])
        comment = serializers.CharField(
            required=False, default="", allow_blank=True, max_length=2000
        )

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        message_id = serializers.IntegerField()
        movie_id = serializers.IntegerField(source="tmdb_id", allow_null=True)
        rating = serializers.IntegerField()
        comment = serializers.CharField()

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OutputSerializer,
            503: OpenApiResponse(description="The database is unavailable; nothing was saved."),
        },
        summary="Thumbs up or down on a reply or on one of its movies",
    )
    def post(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        try:
            feedback, created = feedback_record(
                message_id=data["message_id"],
                tmdb_id=data.get("movie_id"),
                rating=data["rating"],
                comment=data["comment"],
            )
        except DatabaseError as exc:
            raise _database_unavailable(exc) from exc
        return Response(
            self.OutputSerializer(feedback).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
