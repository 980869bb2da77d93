"""Conversations as stored: messages with their intent and timings, recommended movies, feedback."""

from __future__ import annotations

import uuid

from django.db import models

from catalog.models import Movie


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=120, blank=True, help_text="the first request, shortened")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title or str(self.id)


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=12, choices=Role.choices)
    content = models.TextField()
    # Assistant turns: how the answer was made.
    intent = models.CharField(max_length=20, blank=True)
    intent_confidence = models.FloatField(null=True, blank=True)
    understanding = models.JSONField(
        default=dict, blank=True, help_text="linked titles, constraints, filters, search text"
    )
    enrichment = models.JSONField(null=True, blank=True)
    reply_source = models.CharField(
        max_length=20, blank=True, help_text="model, template, faq, facts, none"
    )
    degraded = models.BooleanField(default=False)
    timings_ms = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"])]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:60]}"


class Recommendation(models.Model):
    """A movie shown with an assistant message, at its rank."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="recommendations")
    # Kept when the film later leaves the catalog, so exports and history stay readable.
    movie = models.ForeignKey(
        Movie, on_delete=models.SET_NULL, null=True, related_name="recommendations"
    )
    tmdb_id = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["message", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["message", "rank"], name="unique_rank_per_message")
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.title}"


class Feedback(models.Model):
    """Thumbs up (1) or down (-1) on a reply as a whole (no movie) or on one movie of it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="feedback")
    tmdb_id = models.PositiveIntegerField(null=True, blank=True)
    rating = models.SmallIntegerField(choices=[(1, "up"), (-1, "down")])
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One rating per reply and per movie of a reply; rating again changes it.
            models.UniqueConstraint(
                fields=["message", "tmdb_id"],
                condition=models.Q(tmdb_id__isnull=False),
                name="unique_feedback_per_message_movie",
            ),
            models.UniqueConstraint(
                fields=["message"],
                condition=models.Q(tmdb_id__isnull=True),
                name="unique_feedback_per_reply",
            ),
        ]

    def __str__(self) -> str:
        target = f"movie {self.tmdb_id}" if self.tmdb_id else "reply"
        return f"{'+' if self.rating > 0 else '-'}1 on {target} of message {self.message_id}"
