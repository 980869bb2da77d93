"""Settings shared by every environment; what a deployment changes comes from the environment."""

from __future__ import annotations

import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BACKEND_DIR = Path(__file__).resolve().parents[2]
REPO_DIR = BACKEND_DIR.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


VAR_DIR = Path(env("MARQUEE_VAR_DIR") or REPO_DIR / "var").resolve()
DATA_DIR = REPO_DIR / "data"

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "common",
    "catalog",
    "recommender",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "common.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "common.middleware.ApiInputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Unset DATABASE_URL means the embedded default: SQLite under var/.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'marquee.sqlite3'}",
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60")),
        # A kept connection is checked before reuse: after a database restart every thread
        # reconnects instead of answering one 503 on its dead connection.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets `make data` write while the running backend reads; wait instead of "locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # SQLite creates its file but not the folder: a fresh clone has no var/ yet.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The web client's build (`make frontend`): index.html is served at / by common.views.SpaView,
# its hashed scripts and styles (frontend/dist/assets/) as static files under /static/assets/.
FRONTEND_DIST = Path(env("FRONTEND_DIST") or REPO_DIR / "frontend" / "dist")
STATICFILES_DIRS = [FRONTEND_DIST] if FRONTEND_DIST.is_dir() else []
# Vite names assets by content hash (index-BdX3k9aZ.js): cache them for good.
WHITENOISE_IMMUTABLE_FILE_TEST = r"^.*assets/.+-[A-Za-z0-9_-]{8,}\.(?:js|css|svg|woff2?)$"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "common.schema.MarqueeAutoSchema",
    "EXCEPTION_HANDLER": "common.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only (anything else is a 415), UTF-8, without control characters, lone surrogates,
    # integers beyond 64 bits or deep nesting: each a 400 naming the field (common.parsers).
    "DEFAULT_PARSER_CLASSES": ["common.parsers.StrictJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Marquee API",
    "DESCRIPTION": "Movie search and recommendations over your own catalog.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from the installed package: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.schema.add_error_responses",
    ],
}

# --- Marquee services -------------------------------------------------------------------
MODEL_SERVICE_URL = env("MODEL_SERVICE_URL", "http://127.0.0.1:8001").rstrip("/")
MODEL_SERVICE_API_KEY = env("MODEL_SERVICE_API_KEY")
MODEL_SERVICE_TIMEOUT = float(env("MODEL_SERVICE_TIMEOUT", "10"))
MODEL_SERVICE_RETRIES = int(env("MODEL_SERVICE_RETRIES", "2"))

# Unset QDRANT_URL means the embedded Qdrant Edge index under var/index/.
QDRANT_URL = env("QDRANT_URL") or None
QDRANT_API_KEY = env("QDRANT_API_KEY") or None
QDRANT_COLLECTION = env("QDRANT_COLLECTION", "movies")
INDEX_PATH = Path(env("INDEX_PATH") or VAR_DIR / "index").resolve()
# How often (seconds) the process that owns the index indexes rows written by other processes.
INDEX_SYNC_INTERVAL = float(env("INDEX_SYNC_INTERVAL", "2"))

# --- Chat ------------------------------------------------------------------------------------
# Seconds to wait for the model service's embedding of a message (one short text).
CHAT_EMBED_TIMEOUT = float(env("CHAT_EMBED_TIMEOUT", "5"))
# Enrichment of vague requests by the language model: on/off, and how long a turn waits for it
# before going on without it (the answer then says degraded: true).
CHAT_ENRICH = env_bool("CHAT_ENRICH", True)
CHAT_ENRICH_TIMEOUT = float(env("CHAT_ENRICH_TIMEOUT", "6"))
# The grounded reply: how many of the ranked films the model is shown, its length and timeout.
CHAT_REPLY_MOVIES = int(env("CHAT_REPLY_MOVIES", "3"))
CHAT_REPLY_MAX_TOKENS = int(env("CHAT_REPLY_MAX_TOKENS", "160"))
CHAT_REPLY_TEMPERATURE = float(env("CHAT_REPLY_TEMPERATURE", "0.3"))
CHAT_REPLY_TIMEOUT = float(env("CHAT_REPLY_TIMEOUT", "60"))
# Earlier user+assistant turn pairs a turn reads for context.
CHAT_HISTORY_TURNS = int(env("CHAT_HISTORY_TURNS", "6"))
# "recent" / "new releases" means released in the last this many years.
CHAT_RECENT_YEARS = int(env("CHAT_RECENT_YEARS", "3"))
# Chat turns per client (signed-in user, else IP address): "30/minute", "500/hour", or "off".
# Beyond it: 429 with Retry-After. Counted in the default cache (per process).
CHAT_RATE_LIMIT = env("CHAT_RATE_LIMIT", "30/minute")
if CHAT_RATE_LIMIT.lower() in {"", "off", "0", "none"}:
    CHAT_RATE_LIMIT = None
elif not re.fullmatch(r"[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)", CHAT_RATE_LIMIT):
    raise ImproperlyConfigured(
        f"CHAT_RATE_LIMIT={CHAT_RATE_LIMIT!r}: write a number of turns per second, minute, hour "
        "or day (e.g. 30/minute), or off."
    )
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"chat": CHAT_RATE_LIMIT}

# The cache the rate limit counts in: this process's memory by default (each process counts on
# its own); CACHE_URL=redis://host:6379/0 shares it between processes and replicas.
CACHE_URL = env("CACHE_URL")
if not CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "marquee",
            # A cache that does not answer must not hold a chat turn up for long.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    raise ImproperlyConfigured(
        f"CACHE_URL={CACHE_URL!r}: give a Redis URL (redis://host:6379/0), or leave it unset "
        "for a cache in each process's memory."
    )

TMDB_IMAGE_BASE = env("TMDB_IMAGE_BASE", "https://image.tmdb.org/t/p/w342")

# --- Request limits and browser security headers ---------------------------------------------
# The largest body the API reads (chat turns, feedback, staff catalog writes): a chat turn is
# at most a 2,000-character message plus the history turns a stateless client sends, far below
# it. Larger bodies get a 413 in the API's error shape before anything reads them
# (common.middleware.ApiInputGuardMiddleware); forms outside /api/ (the admin) keep Django's
# DATA_UPLOAD_MAX_MEMORY_SIZE, whose overflow is a 413 too.
API_MAX_BODY_BYTES = 64 * 1024

# Django's own headers, spelled out: no framing, no MIME sniffing, no Referer to other sites
# (poster requests to image.tmdb.org carry none), a browsing-context group of our own.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"


def _origin(url: str) -> str:
    match = re.match(r"^(https?://[^/?#]+)", url)
    return match.group(1) if match else ""


# Content-Security-Policy (common.middleware.SecurityHeadersMiddleware). The web client is built
# by Vite into files under /static/: no inline script or style, no eval; React sets style
# properties through the CSSOM, which CSP does not govern. Posters come from TMDB_IMAGE_BASE's
# origin; the favicon is a data: URL. Checked in headless Chromium by
# tests/reliability/test_production_settings.py: no violation on the chat page (posters and
# their placeholders), Explore, the API docs and the admin.
_CSP_COMMON = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SPA_CONTENT_SECURITY_POLICY = (
    f"{_CSP_COMMON}; style-src 'self'; img-src 'self' data: {_origin(TMDB_IMAGE_BASE)}".rstrip()
)
# The API docs (Swagger UI: an inline <style> block, style attributes) and the admin.
DOCS_CONTENT_SECURITY_POLICY = (
    f"{_CSP_COMMON}; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
)
# Sent by the production settings; empty here, so `make run` and the browser tests, which
# inject their accessibility checker as an inline script, run without one.
CONTENT_SECURITY_POLICY = ""
CONTENT_SECURITY_POLICY_RELAXED = ""
CONTENT_SECURITY_POLICY_RELAXED_PATHS = ["/api/docs/", "/admin/"]
# Browser features the app never uses, off for it and anything it might embed.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=(), "
    "browsing-topics=()"
)
# No CORS: the web client is served by the backend itself (same origin), so no response
# carries Access-Control-Allow-Origin and browsers keep other sites from reading the API.

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING"}},
}
