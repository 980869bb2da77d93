"""Pydantic models of POST /v1/chat/completions (OpenAI's shape) and POST /v1/enrich."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

MAX_STOP_SEQUENCES = 4
MAX_ENRICH_MESSAGE_CHARS = 2000
MAX_ENRICH_HISTORY = 50


class ContentPart(BaseModel):
    type: Literal["text"] = Field(description="Only text parts are supported.")
    text: str


class ChatMessageIn(BaseModel):
    role: str = Field(description='"system", "developer" (same as system), "user" or "assistant".')
    content: str | list[ContentPart] | None = None
    name: str | None = None

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str) -> str:
        if value not in ("system", "developer", "user", "assistant"):
            hint = (
                " Tool and function calls are not supported."
                if value in ("tool", "function")
                else ""
            )
            raise PydanticCustomError(
                "invalid_role",
                "role must be one of system, developer, user, assistant; got {got!r}.{hint}",
                {"got": value, "hint": hint, "code": "invalid_role"},
            )
        return value

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class JsonSchemaFormat(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str = "output"
    description: str | None = None
    schema_: dict[str, Any] = Field(alias="schema", description="A JSON Schema object.")
    strict: bool | None = None


class ResponseFormat(BaseModel):
    type: Literal["text", "json_object", "json_schema"] = "text"
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """POST /v1/chat/completions body, as in OpenAI's API (text only, n = 1, no tools)."""

    model: str | None = Field(default=None, description="Model id; omit for the loaded model.")
    messages: list[ChatMessageIn] = Field(description="The conversation, oldest first.")
    max_tokens: int | None = Field(default=None, ge=1, description="Most tokens to generate.")
    max_completion_tokens: int | None = Field(
        default=None, ge=1, description="Alias of max_tokens."
    )
    temperature: float = Field(default=0.7, ge=0.0, le=2.0, description="0 = greedy.")
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    stop: str | list[str] | None = Field(default=None, description="Up to 4 stop sequences.")
    stream: bool = False
    stream_options: StreamOptions | None = None
    response_format: ResponseFormat | None = None
    seed: int | None = None
    n: int = Field(default=1, ge=1, le=1, description="Only one choice is generated.")
    presence_penalty: float = Field(default=0.0, ge=-2.0, le=2.0, description="Ignored.")
    frequency_penalty: float = Field(default=0.0, ge=-2.0, le=2.0, description="Ignored.")
    user: str | None = Field(default=None, description="Accepted for compatibility; ignored.")

    @field_validator("stop")
    @classmethod
    def _stop_sequences(cls, value: str | list[str] | None) -> str | list[str] | None:
        stops = [value] if isinstance(value, str) else value or []
        if len(stops) > MAX_STOP_SEQUENCES:
            raise PydanticCustomError(
                "too_many_stops",
                "stop has {count} sequences; at most 4 are accepted.",
                {"count": len(stops), "code": "invalid_value"},
            )
        if any(not stop for stop in stops):
            raise PydanticCustomError(
                "empty_stop", "stop sequences must not be empty.", {"code": "invalid_value"}
            )
        return value

    def stop_sequences(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)


class HistoryTurn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_ENRICH_MESSAGE_CHARS * 4)


class EnrichRequest(BaseModel):
    """POST /v1/enrich body."""

    message: str = Field(
        max_length=MAX_ENRICH_MESSAGE_CHARS,
        description="The user's latest request.",
        examples=["something like Inception but funnier"],
    )
    history: list[HistoryTurn] = Field(
        default_factory=list,
        max_length=MAX_ENRICH_HISTORY,
        description="Earlier turns, oldest first; the last few are read.",
    )


class EnrichResponse(BaseModel):
    genres: list[str] = Field(description="Wanted genres, in the catalog's vocabulary.")
    exclude_genres: list[str]
    themes: list[str]
    moods: list[str]
    reference_titles: list[str] = Field(description="Movies the user named as examples.")
    year_min: int | None
    year_max: int | None
    language: str | None = Field(description="ISO 639-1 code of the original language.")
    search_text: str = Field(description="A short description of the wanted film, to embed.")
    fallback: bool = Field(description="True when the model's answer was not used.")
    fallback_reason: str | None = None
    cached: bool = False
    model: str
    latency_ms: float
    usage: dict[str, float] = Field(
        default_factory=dict,
        description="Tokens of the model call and its prompt_ms / generation_ms, when one ran.",
    )
