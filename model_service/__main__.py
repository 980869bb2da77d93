"""`python -m model_service`: serve the app with uvicorn on MODEL_SERVICE_HOST:PORT."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType

import uvicorn

from model_service.app import create_app
from model_service.config import Settings, SettingsError
from model_service.middleware import RequestIdLogFilter

# How long an idle keep-alive connection stays open: longer than clients keep idle connections
# in their pools (httpx: 5 s), so that a client never sends a request on a connection the
# service is closing at that moment. uvicorn's default is also 5 s; bench_embeddings.py's
# connections, idle while it waited for a quiet CPU, failed now and then with it.
KEEP_ALIVE_S = 75


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"model_service: configuration error: {exc}", file=sys.stderr)
        return 2
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdLogFilter())
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s",
        handlers=[handler],
    )
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it under the handler that was
    # installed before it started: make that a clean exit (0) rather than death by signal.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    # One worker: the model lives in this process and the micro-batcher needs all requests on
    # one event loop to coalesce them. uvicorn handles SIGTERM/SIGINT with a graceful shutdown.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        workers=1,
        access_log=False,  # RequestLogMiddleware logs each request with its id and latency
        timeout_keep_alive=KEEP_ALIVE_S,
        log_level=settings.log_level.lower(),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
