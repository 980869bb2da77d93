"""Django admin for conversations and feedback (read-mostly: they record what happened)."""

from __future__ import annotations

from django.contrib import admin

from recommender.models import Conversation, Feedback, Message, Recommendation


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["role", "content", "intent", "reply_source", "degraded", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["title", "created_at", "updated_at"]
    search_fields = ["title", "=id"]
    readonly_fields = ["id", "created_at", "updated_at"]
    inlines = [MessageInline]


class RecommendationInline(admin.TabularInline):
    model = Recommendation
    fields = ["rank", "tmdb_id", "title", "score", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["conversation", "role", "intent", "reply_source", "degraded", "created_at"]
    list_filter = ["role", "intent", "reply_source", "degraded"]
    search_fields = ["content"]
    readonly_fields = [f.name for f in Message._meta.fields]
    inlines = [RecommendationInline]


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["message", "tmdb_id", "rating", "comment", "created_at"]
    list_filter = ["rating"]
    raw_id_fields = ["message"]
