"""Settings for deployments (docker compose): secrets required, HTTPS assumed."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import (
    ALLOWED_HOSTS,
    DOCS_CONTENT_SECURITY_POLICY,
    SECRET_KEY,
    SPA_CONTENT_SECURITY_POLICY,
    VAR_DIR,
    env,
    env_bool,
    env_list,
)

# Refused: unset, shorter than 32 characters, the local or test settings' keys ("marquee-…"),
# Django's generated development keys ("django-insecure-…"), and keys of fewer than 5 distinct
# characters (Django's own test for a placeholder).
if (
    not SECRET_KEY
    or SECRET_KEY.startswith(("marquee-", "django-insecure-"))
    or len(SECRET_KEY) < 32
    or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a random string of at least 32 characters "
        "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(50))'`)."
    )

DEBUG = False
if "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must name the host(s) Marquee is reached by (e.g. "
        "marquee.example.com), not '*': the Host header would go unchecked."
    )
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT") or VAR_DIR / "static")  # collectstatic at build
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
if not SECURE_SSL_REDIRECT:
    # Turned off on purpose (docker compose): TLS ends at the reverse proxy, which redirects
    # plain http itself (docs.txt section 3); `check --deploy` need not remind us.
    SILENCED_SYSTEM_CHECKS = ["security.W008"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(env("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
# The browser may run only the app's own scripts, from its own origin, in no frame.
CONTENT_SECURITY_POLICY = SPA_CONTENT_SECURITY_POLICY
CONTENT_SECURITY_POLICY_RELAXED = DOCS_CONTENT_SECURITY_POLICY
