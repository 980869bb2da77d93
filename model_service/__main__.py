"""`python -m model_service`: serve the app with uvicorn on MODEL_SERVICE_HOST:PORT."""

from __future__ import annotations

import logging
import sys

import uvicorn

from model_service.app import create_app
from model_service.config import Settings, SettingsError


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"model_service: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One worker: the model lives in this process and the micro-batcher needs all requests on
    # one event loop to coalesce them. uvicorn handles SIGTERM/SIGINT with a graceful shutdown.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        workers=1,
        access_log=False,  # RequestLogMiddleware logs each request with its id and latency
        log_level=settings.log_level.lower(),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
