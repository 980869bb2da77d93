"""Pydantic request and response models of the model service's HTTP API (OpenAI-compatible)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from model_service.errors import ModelServiceError


def _json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


class EmbeddingRequest(BaseModel):
    """POST /v1/embeddings body, as in OpenAI's API (token-array inputs are not supported)."""

    input: str | list[str] = Field(
        description="One text or a list of texts to embed.",
        examples=["a scary movie about ghosts", ["space opera", "heist comedy"]],
    )
    model: str | None = Field(
        default=None, description="Model id or alias; omit to use the loaded embedding model."
    )
    encoding_format: Literal["float", "base64"] = Field(
        default="float",
        description='"float": lists of numbers; "base64": little-endian float32 bytes, base64.',
    )
    dimensions: int | None = Field(
        default=None, description="Must equal the model's dimensions if given (no truncation)."
    )
    user: str | None = Field(default=None, description="Accepted for compatibility; ignored.")

    @field_validator("input", mode="before")
    @classmethod
    def _input_must_be_text(cls, value: Any) -> Any:
        # One precise message instead of pydantic's per-union-member errors; the exact element
        # goes into the context so the error handler can name it as `param`.
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            for index, item in enumerate(value):
                if not isinstance(item, str):
                    hint = (
                        " Token arrays are not supported: send the text itself."
                        if isinstance(item, int | list) and not isinstance(item, bool)
                        else ""
                    )
                    raise PydanticCustomError(
                        "invalid_type",
                        "input[{index}] must be a string, got {got}.{hint}",
                        {
                            "index": index,
                            "got": _json_type_name(item),
                            "hint": hint,
                            "param": f"input[{index}]",
                            "code": "invalid_type",
                        },
                    )
            return value
        raise PydanticCustomError(
            "invalid_type",
            "input must be a string or a list of strings, got {got}.",
            {"got": _json_type_name(value), "param": "input", "code": "invalid_type"},
        )

    def texts(self, *, max_inputs: int, max_input_chars: int) -> list[str]:
        """The inputs as a list, after the checks that depend on the service's limits."""
        if isinstance(self.input, str):
            texts, names = [self.input], ["input"]
        else:
            texts = self.input
            if not texts:
                raise ModelServiceError(
                    400, "empty_input", "input is an empty list; send at least one text.", "input"
                )
            if len(texts) > max_inputs:
                raise ModelServiceError(
                    400,
                    "too_many_inputs",
                    f"input has {len(texts)} texts; at most {max_inputs} are accepted per "
                    "request. Split it into several requests.",
                    "input",
                )
            names = [f"input[{i}]" for i in range(len(texts))]
        for name, text in zip(names, texts, strict=True):
            if not text.strip():
                raise ModelServiceError(
                    400,
                    "empty_input",
                    f"{name} is empty or only whitespace; every text must have content.",
                    name,
                )
            if len(text) > max_input_chars:
                raise ModelServiceError(
                    400,
                    "input_too_long",
                    f"{name} has {len(text)} characters; at most {max_input_chars} are "
                    "accepted. Shorten it (the model reads only its first few hundred tokens).",
                    name,
                )
        return texts


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


class ModelCard(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    object: Literal["model"] = "model"
    owned_by: str = "marquee"
    created: int = 0


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"


class ModelStatus(BaseModel):
    kind: str
    name: str
    status: Literal["loading", "ready", "failed"]
    error: str | None = None


class ReadinessResponse(BaseModel):
    status: Literal["ready", "not_ready"]
    models: dict[str, ModelStatus]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail
