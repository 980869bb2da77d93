from django.urls import path

from recommender.apis import ChatApi, ChatStreamApi, ConversationDetailApi, FeedbackApi

urlpatterns = [
    path("chat/", ChatApi.as_view(), name="chat"),
    path("chat/stream/", ChatStreamApi.as_view(), name="chat-stream"),
    path(
        "conversations/<uuid:conversation_id>/",
        ConversationDetailApi.as_view(),
        name="conversation-detail",
    ),
    path("feedback/", FeedbackApi.as_view(), name="feedback"),
]
