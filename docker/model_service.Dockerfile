# Model service image (embeddings). Hardened in the containerised-deployment issue.
FROM python:3.11.7-slim-bookworm
WORKDIR /app
COPY requirements/model-service.txt requirements/model-service.txt
RUN pip install --no-cache-dir "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir -r requirements/model-service.txt
COPY model_service model_service
RUN useradd --create-home marquee
USER marquee
ENV HF_HUB_OFFLINE=1 MODEL_SERVICE_HOST=0.0.0.0
EXPOSE 8001
CMD ["python", "-m", "model_service"]
