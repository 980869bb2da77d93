"""GET /metrics in Prometheus' text format."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Request counts and latencies per endpoint, generation queue depth, tokens and tokens/s."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
