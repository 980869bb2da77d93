"""Settings for `make run` on a developer's or user's own machine."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env, env_bool

SECRET_KEY = env("DJANGO_SECRET_KEY") or "marquee-local-development-key-not-for-production"
DEBUG = env_bool("DJANGO_DEBUG", False)

# Serve static files (admin, API docs) straight from the installed apps: no collectstatic step.
WHITENOISE_USE_FINDERS = True
