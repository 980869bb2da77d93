"""Reads of the recommender: conversations as turns, their disliked films, feedback export."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from django.db.models import Prefetch

from common.errors import ApplicationError
from recommender.models import Conversation, Feedback, Message, Recommendation
from recommender.understanding import Turn


def conversation_get(*, conversation_id: uuid.UUID) -> Conversation:
    """The conversation with its messages and their films, oldest first."""
    conversation = (
        Conversation.objects.filter(id=conversation_id)
        .prefetch_related(
            Prefetch(
                "messages",
                queryset=Message.objects.order_by("created_at", "id").prefetch_related(
                    Prefetch(
                        "recommendations",
                        queryset=Recommendation.objects.select_related("movie").prefetch_related(
                            "movie__genres"
                        ),
                    ),
                    "feedback",
                ),
            )
        )
        .first()
    )
    if conversation is None:
        raise ApplicationError(
            f"No conversation {conversation_id}; omit conversation_id to start a new one.",
            code="not_found",
            status_code=404,
        )
    return conversation


def conversation_turns(*, conversation_id: uuid.UUID, limit: int) -> list[Turn]:
    """The last `limit` messages as turns (assistant turns carry the films they showed)."""
    messages = list(
        Message.objects.filter(conversation_id=conversation_id)
        .order_by("-created_at", "-id")
        .prefetch_related("recommendations")[:limit]
    )
    return [
        Turn(
            role=m.role,
            content=m.content,
            movie_ids=tuple(r.tmdb_id for r in m.recommendations.all()),
        )
        for m in reversed(messages)
    ]


def conversation_disliked_ids(*, conversation_id: uuid.UUID) -> frozenset[int]:
    return frozenset(
        Feedback.objects.filter(
            message__conversation_id=conversation_id, rating=-1, tmdb_id__isnull=False
        ).values_list("tmdb_id", flat=True)
    )


def conversation_exists(*, conversation_id: uuid.UUID) -> bool:
    return Conversation.objects.filter(id=conversation_id).exists()


def feedback_export_rows() -> Iterator[dict[str, Any]]:
    """Rated assistant turns as fine-tuning rows: the request, its context, how it was read,
    the reply, the films and the ratings (reply-level and per film)."""
    rated = (
        Message.objects.filter(role=Message.Role.ASSISTANT, feedback__isnull=False)
        .distinct()
        .order_by("created_at", "id")
        .prefetch_related("feedback", "recommendations")
    )
    for message in rated.iterator(chunk_size=200):
        earlier = list(
            Message.objects.filter(
                conversation_id=message.conversation_id, created_at__lte=message.created_at
            )
            .exclude(id=message.id)
            .order_by("created_at", "id")
        )
        request = next((m for m in reversed(earlier) if m.role == Message.Role.USER), None)
        if request is None:
            continue
        feedback = list(message.feedback.all())
        reply_rating = next((f.rating for f in feedback if f.tmdb_id is None), None)
        yield {
            "conversation_id": str(message.conversation_id),
            "message_id": message.id,
            "request": request.content,
            "history": [
                {"role": m.role, "content": m.content} for m in earlier if m.id != request.id
            ][-6:],
            "intent": message.intent,
            "understanding": message.understanding,
            "enrichment": message.enrichment,
            "reply": message.content,
            "reply_source": message.reply_source,
            "movies": [
                {"id": r.tmdb_id, "title": r.title, "rank": r.rank, "reason": r.reason}
                for r in message.recommendations.all()
            ],
            "rating": reply_rating,
            "movie_ratings": {str(f.tmdb_id): f.rating for f in feedback if f.tmdb_id},
            "comments": [f.comment for f in feedback if f.comment],
            "created_at": message.created_at.isoformat(),
        }
