# Backend image (Django + gunicorn, no torch). Hardened in the containerised-deployment issue.
FROM python:3.11.7-slim-bookworm
WORKDIR /app
# movie_constraints (shared with the model service) is imported from /app.
ENV PYTHONPATH=/app
COPY requirements/backend.txt requirements/backend.txt
RUN pip install --no-cache-dir -r requirements/backend.txt
COPY movie_constraints movie_constraints
COPY backend backend
COPY data data
COPY prepare-databases prepare-databases
COPY scripts scripts
RUN useradd --create-home marquee && mkdir -p var && chown marquee var
USER marquee
EXPOSE 8000
CMD ["sh", "-c", "python backend/manage.py migrate --noinput && python -m gunicorn config.wsgi:application --chdir backend --bind 0.0.0.0:8000 --workers 1 --worker-class gthread --threads 8"]
