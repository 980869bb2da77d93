#!/bin/sh
# Entrypoint of the backend image (docker/backend.Dockerfile).
#
#   serve (the default CMD)  wait for the database, apply migrations, then exec gunicorn
#   anything else            exec'd as is, e.g. `docker compose run backend python
#                            prepare-databases/prepare.py ingest --source demo` (prepare.py
#                            migrates by itself)
#
# Environment (all optional except what the production settings require, DJANGO_SECRET_KEY):
#   BACKEND_PORT           port gunicorn listens on, on all interfaces (8000)
#   BACKEND_WORKERS        gunicorn worker processes. The embedded Qdrant Edge index (QDRANT_URL
#                          unset) lives in files that exactly one process may own, so it allows
#                          only 1 (anything else is refused below). With a Qdrant server
#                          (QDRANT_URL) any number works; default: the CPUs, at most 4.
#   BACKEND_THREADS        request threads per worker (8): concurrency within one process
#   BACKEND_TIMEOUT        seconds a request may take before its worker is restarted (120)
#   DATABASE_WAIT_SECONDS  how long to wait for the database before giving up (60)
#   FORWARDED_ALLOW_IPS    read by gunicorn itself: proxies trusted for X-Forwarded-* headers
#
# `exec` replaces this shell, so gunicorn is PID 1 and receives docker's SIGTERM directly: it
# stops accepting connections, lets requests finish for up to 8 s (under docker's default 10 s
# stop timeout) and exits 0.
set -eu

APP_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
cd "$APP_DIR"

say() {
    printf 'entrypoint-backend: %s\n' "$*" >&2
}

if [ "${1:-serve}" != serve ]; then
    exec "$@"
fi

if [ -n "${QDRANT_URL:-}" ]; then
    cpus=$(nproc 2>/dev/null || echo 2)
    [ "$cpus" -le 4 ] || cpus=4
    workers=${BACKEND_WORKERS:-$cpus}
else
    workers=${BACKEND_WORKERS:-1}
fi
case "$workers" in
    '' | *[!0-9]* | 0*)
        say "BACKEND_WORKERS must be a positive whole number, got '$workers'."
        exit 2
        ;;
esac
if [ -z "${QDRANT_URL:-}" ] && [ "$workers" -ne 1 ]; then
    say "BACKEND_WORKERS=$workers, but the embedded vector index (QDRANT_URL unset) can be" \
        "owned by one process only: the other workers could not search. Unset BACKEND_WORKERS" \
        "(1 worker; BACKEND_THREADS sets its concurrency), or point QDRANT_URL at a Qdrant" \
        "server to run several workers."
    exit 2
fi

# Wait for the database (bounded), then `migrate --noinput`, in one Python process (Django starts
# once). On PostgreSQL the migration holds an advisory lock, so replicas starting together take
# turns instead of racing to create the same tables.
python - <<'PY'
import os
import sys
import time

sys.path.insert(0, "backend")

import django
from django.core.exceptions import ImproperlyConfigured


def say(message):
    print(f"entrypoint-backend: {message}", file=sys.stderr, flush=True)


try:
    django.setup()
except ImproperlyConfigured as exc:
    say(f"configuration error: {exc}")
    sys.exit(2)

from django.core.management import call_command
from django.db import OperationalError, connection

db = connection.settings_dict
postgres = db["ENGINE"].endswith("postgresql")
if postgres:
    # One attempt never hangs on an address that drops packets.
    db.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    where = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
else:
    where = str(db["NAME"])
limit = float(os.environ.get("DATABASE_WAIT_SECONDS") or 60)
deadline = time.monotonic() + limit
attempt = 0
while True:
    attempt += 1
    try:
        connection.ensure_connection()
        break
    except OperationalError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            say(
                f"giving up: the database at {where} is unreachable ({reason}); tried "
                f"{attempt} times in {limit:g} s. Check DATABASE_URL and that the database "
                "server is running (DATABASE_WAIT_SECONDS sets how long to wait)."
            )
            sys.exit(1)
        if attempt == 1:
            say(f"waiting up to {limit:g} s for the database at {where} ({reason})")
        time.sleep(min(2.0, remaining))
if attempt > 1:
    say(f"the database at {where} answered after {attempt} attempts")

if postgres:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtext('marquee-migrate'))")
try:
    call_command("migrate", interactive=False)
finally:
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext('marquee-migrate'))")
PY

say "starting gunicorn on 0.0.0.0:${BACKEND_PORT:-8000} with $workers worker(s)" \
    "x ${BACKEND_THREADS:-8} threads"
exec python -m gunicorn config.wsgi:application \
    --chdir "$APP_DIR/backend" \
    --bind "0.0.0.0:${BACKEND_PORT:-8000}" \
    --workers "$workers" \
    --worker-class gthread \
    --threads "${BACKEND_THREADS:-8}" \
    --timeout "${BACKEND_TIMEOUT:-120}" \
    --graceful-timeout 8 \
    --worker-tmp-dir /dev/shm \
    --no-control-socket \
    --access-logfile -
