"""Liveness (/healthz) and readiness (/readyz) probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from model_service.errors import error_body
from model_service.registry import model_slots
from model_service.schemas import HealthResponse, ReadinessResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthResponse)
async def healthz() -> HealthResponse:
    """The process is up and serving HTTP (models may still be loading)."""
    return HealthResponse()


@router.get(
    "/readyz",
    response_model=ReadinessResponse,
    responses={503: {"description": "A model is loading or failed to load; see error.message"}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 once every model is loaded; 503 with the reason while loading or after a failure."""
    slots = model_slots(request)
    models = {kind: slot.describe() for kind, slot in slots.items()}
    if slots and all(slot.status == "ready" for slot in slots.values()):
        return JSONResponse({"status": "ready", "models": models})
    problems = [
        f"{kind} model {slot.name!r} "
        + (f"failed to load: {slot.error}" if slot.status == "failed" else "is loading")
        for kind, slot in slots.items()
        if slot.status != "ready"
    ] or ["the service is starting"]
    failed = any(slot.status == "failed" for slot in slots.values())
    body = error_body(
        "Not ready: " + "; ".join(problems),
        type="service_unavailable",
        code="model_load_failed" if failed else "model_not_ready",
    )
    return JSONResponse({"status": "not_ready", "models": models, **body}, status_code=503)
