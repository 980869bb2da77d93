# Model service image (embeddings, llama.cpp language model). Hardened (multi-stage, pinned
# digests, healthcheck) in the containerised-deployment issue.
FROM python:3.11.7-slim-bookworm
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*
COPY requirements/model-service.txt requirements/model-service.txt
# GGML_NATIVE=OFF: a llama.cpp build that runs on CPUs other than the build machine's.
RUN pip install --no-cache-dir "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
 && CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install --no-cache-dir -r requirements/model-service.txt
COPY movie_constraints movie_constraints
COPY model_service model_service
RUN useradd --create-home marquee
USER marquee
ENV HF_HUB_OFFLINE=1 MODEL_SERVICE_HOST=0.0.0.0 PYTHONPATH=/app
EXPOSE 8001
CMD ["python", "-m", "model_service"]
