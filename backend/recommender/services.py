"""Writes of the recommender: a chat turn (conversation, both messages, recommendations) in one
transaction, and feedback on a reply or on one of its films."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction

from catalog.models import Movie
from common.errors import ApplicationError
from recommender.models import Conversation, Feedback, Message, Recommendation
from recommender.pipeline import TurnPlan


@dataclass(frozen=True)
class SavedTurn:
    conversation_id: uuid.UUID
    user_message_id: int
    message_id: int  # the assistant's message: what feedback refers to


@transaction.atomic
def chat_turn_save(
    *,
    conversation_id: uuid.UUID | None,
    message: str,
    plan: TurnPlan,
    reply: str,
    reply_source: str,
    degraded: bool,
) -> SavedTurn:
    """Store one turn: the conversation (created if new), the user's message, the assistant's
    message with how it was made, and the films shown with their ranks — all or nothing."""
    if conversation_id is None:
        conversation = Conversation.objects.create(title=_title(message))
    else:
        conversation, _ = Conversation.objects.get_or_create(
            id=conversation_id, defaults={"title": _title(message)}
        )
        conversation.save(update_fields=["updated_at"])
    user = Message.objects.create(
        conversation=conversation, role=Message.Role.USER, content=message
    )
    assistant = Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content=reply,
        intent=plan.intent,
        intent_confidence=plan.intent_confidence,
        understanding={**plan.understanding, "notices": plan.notices},
        enrichment=plan.enrichment,
        reply_source=reply_source,
        degraded=degraded,
        timings_ms=plan.timings_ms,
    )
    existing = set(
        Movie.objects.filter(tmdb_id__in=[s.movie.tmdb_id for s in plan.movies]).values_list(
            "tmdb_id", flat=True
        )
    )
    Recommendation.objects.bulk_create(
        Recommendation(
            message=assistant,
            movie_id=shown.movie.tmdb_id if shown.movie.tmdb_id in existing else None,
            tmdb_id=shown.movie.tmdb_id,
            title=shown.movie.title[:300],
            rank=rank,
            score=shown.score,
            reason=shown.reason[:300],
        )
        for rank, shown in enumerate(plan.movies, start=1)
    )
    return SavedTurn(conversation.id, user.id, assistant.id)


def _title(message: str) -> str:
    text = " ".join(message.split())
    return text if len(text) <= 120 else text[:119].rsplit(" ", 1)[0] + "…"


@transaction.atomic
def feedback_record(
    *, message_id: int, rating: int, tmdb_id: int | None = None, comment: str = ""
) -> tuple[Feedback, bool]:
    """Thumbs up/down on a reply (no film) or on one of the films it showed; rating again
    replaces the earlier rating. Returns (feedback, created)."""
    message = (
        Message.objects.select_for_update()
        .filter(id=message_id, role=Message.Role.ASSISTANT)
        .first()
    )
    if message is None:
        raise ApplicationError(
            f"No assistant message {message_id}; use the message_id a chat answer returned.",
            code="not_found",
            status_code=404,
        )
    if tmdb_id is not None and not message.recommendations.filter(tmdb_id=tmdb_id).exists():
        raise ApplicationError(
            f"Movie {tmdb_id} was not recommended in message {message_id}.",
            code="invalid_request",
            status_code=400,
            details={"fields": {"movie_id": ["not among this message's movies"]}},
        )
    return Feedback.objects.update_or_create(
        message=message, tmdb_id=tmdb_id, defaults={"rating": rating, "comment": comment}
    )
