"""Process-wide clients built from settings on first use (never at import time)."""

from __future__ import annotations

import threading

from django.conf import settings

from clients.model_service import ModelServiceClient
from vector_index.base import VECTOR_SIZE

_lock = threading.Lock()
_model_service: ModelServiceClient | None = None


def get_model_service_client() -> ModelServiceClient:
    global _model_service
    with _lock:
        if _model_service is None:
            _model_service = ModelServiceClient(
                settings.MODEL_SERVICE_URL,
                api_key=settings.MODEL_SERVICE_API_KEY,
                timeout=settings.MODEL_SERVICE_TIMEOUT,
                retries=settings.MODEL_SERVICE_RETRIES,
                dimensions=VECTOR_SIZE,
            )
        return _model_service
