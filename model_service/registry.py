"""The models the service serves and where each one is in its life: loading, ready or failed."""

from __future__ import annotations

import time
from typing import Generic, Literal, TypeVar

from fastapi import Request
from starlette.applications import Starlette

from model_service.errors import ModelServiceError

T = TypeVar("T")

SlotStatus = Literal["loading", "ready", "failed"]


class ModelSlot(Generic[T]):
    """Holds one kind of model (e.g. "embeddings") once it is loaded, or why it is not."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name  # what was configured; replaced by the model's id once loaded
        self.status: SlotStatus = "loading"
        self.error: str | None = None
        self.ready_at: int | None = None
        self._value: T | None = None

    @property
    def value(self) -> T | None:
        return self._value

    def set_ready(self, value: T, *, name: str | None = None) -> None:
        self._value = value
        self.name = name or self.name
        self.status = "ready"
        self.error = None
        self.ready_at = int(time.time())

    def set_failed(self, error: str) -> None:
        self._value = None
        self.status = "failed"
        self.error = error

    def get(self) -> T:
        """The loaded value, or a 503 that says whether the model is loading or failed."""
        if self.status == "ready" and self._value is not None:
            return self._value
        if self.status == "failed":
            raise ModelServiceError(
                503,
                "model_load_failed",
                f"The {self.kind} model {self.name!r} failed to load: {self.error} "
                "Fix the configuration and restart the model service.",
            )
        raise ModelServiceError(
            503,
            "model_not_ready",
            f"The {self.kind} model {self.name!r} is still loading; retry in a few seconds "
            "(GET /readyz answers 200 once it is ready).",
        )

    def describe(self) -> dict[str, str | None]:
        return {"name": self.name, "status": self.status, "error": self.error}


def model_slots(request: Request) -> dict[str, ModelSlot]:
    """All slots of the app serving `request`; empty until the lifespan has started."""
    return app_model_slots(request.app)


def app_model_slots(app: Starlette) -> dict[str, ModelSlot]:
    return getattr(app.state, "models", {})


def model_slot(request: Request, kind: str) -> ModelSlot:
    return app_model_slot(request.app, kind)


def app_model_slot(app: Starlette, kind: str) -> ModelSlot:
    """The slot of `kind` in `app`, or a 503 while the service is still starting."""
    slot = app_model_slots(app).get(kind)
    if slot is None:
        raise ModelServiceError(
            503, "model_not_ready", f"The service is starting; no {kind} model is registered yet."
        )
    return slot
