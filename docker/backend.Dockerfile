# Backend image: Django + DRF under gunicorn, the built web client, no torch.
#
#   docker build -f docker/backend.Dockerfile -t marquee-backend .     (context: the repository)
#
# Needs BuildKit (the default builder since Docker 23). Base images are pinned by exact version
# tag; pinning by digest as well (python:3.11.7-slim-bookworm@sha256:...) is stronger, but the
# digests could not be looked up where this file was written (no registry access): add them
# with `docker buildx imagetools inspect <image>` when updating the tags.
# tests/deploy/test_images.py checks this file statically and runs its entrypoint outside docker.

# --- Stage 1: the web client (React + Vite) -> /frontend/dist ---------------------------------
# Node 20.20.2, the version the committed package-lock.json is built and tested with (>= 20.19).
FROM node:20.20.2-bookworm-slim AS frontend
WORKDIR /frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/index.html frontend/vite.config.ts frontend/tsconfig.json ./
COPY frontend/scripts scripts
COPY frontend/src src
# Type check, vite build, and precompressed .gz copies of the assets (served by WhiteNoise).
RUN npm run build

# --- Stage 2: the runtime ------------------------------------------------------------------
FROM python:3.11.7-slim-bookworm AS runtime

# The container's settings. DJANGO_SECRET_KEY (required) and DATABASE_URL come from the
# deployment; nothing secret is baked in.
#   MARQUEE_VAR_DIR     SQLite (when DATABASE_URL is unset), the embedded Qdrant Edge index,
#                       the Explore map: mount a named volume here (/app/var).
#   DJANGO_STATIC_ROOT  collectstatic's output, written at build time. Outside the var volume
#                       on purpose: a volume keeps its first content, so static files inside it
#                       would stay those of the first image ever started.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    MARQUEE_VAR_DIR=/app/var \
    DJANGO_STATIC_ROOT=/app/static \
    FRONTEND_DIST=/app/frontend/dist \
    BACKEND_PORT=8000

# A fixed uid, so files in shared volumes have the same owner in every container.
RUN groupadd --system --gid 10001 marquee \
 && useradd --system --uid 10001 --gid marquee --create-home --home-dir /home/marquee \
        --shell /usr/sbin/nologin marquee

WORKDIR /app
# Every backend dependency has a binary wheel: --only-binary fails the build rather than
# compiling anything (this stage has no compiler). requirements/backend.txt has no torch;
# tests/deploy/test_images.py checks that it pulls none in either.
COPY requirements/backend.txt requirements/backend.txt
RUN pip install --no-cache-dir --only-binary=:all: -r requirements/backend.txt

# movie_constraints is shared with the model service: imported from /app (PYTHONPATH).
# prepare-databases and scripts: the ingestion CLI, run with this image (`docker compose run`).
COPY movie_constraints movie_constraints
COPY data data
COPY prepare-databases prepare-databases
COPY scripts scripts
COPY backend backend
COPY docker/entrypoint-backend.sh docker/entrypoint-backend.sh
COPY --from=frontend /frontend/dist frontend/dist

# Static files (admin, API docs, the web client's hashed assets and their .gz copies) collected
# once, here. The key only lets the production settings load for this command; it is not kept
# in the image's environment, and the settings refuse to start the server without a real one.
RUN DJANGO_SECRET_KEY=build-time-collectstatic-only-not-a-secret python backend/manage.py collectstatic --noinput --verbosity 0

# Writable by the service's user; a new named volume mounted here starts with this owner.
# The code and the static files stay root-owned: read-only to the server.
RUN mkdir -p /app/var && chown -R marquee:marquee /app/var

USER 10001:10001
EXPOSE 8000

# Healthy = /api/health/ answers 200: status "ok", or "degraded" (the model service or the
# vector index is down; the backend still serves, with keyword search, and restarting it would
# not bring them back). 503 means the database is unreachable: unhealthy. The request sets
# X-Forwarded-Proto (the production settings redirect plain http to https) and the first
# DJANGO_ALLOWED_HOSTS name as Host (other names are refused).
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = (os.environ.get('DJANGO_ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; u.urlopen(u.Request('http://127.0.0.1:%s/api/health/' % os.environ.get('BACKEND_PORT', '8000'), headers={'Host': h, 'X-Forwarded-Proto': 'https'}), timeout=8)"]

ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint-backend.sh"]
CMD ["serve"]
