"""Settings for the test suite: fast hashing, no background index sync."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

SECRET_KEY = "marquee-test-key"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
INDEX_SYNC_INTERVAL = 0
MODEL_SERVICE_RETRIES = int(env("MODEL_SERVICE_RETRIES", "0"))
MODEL_SERVICE_TIMEOUT = float(env("MODEL_SERVICE_TIMEOUT", "5"))
WHITENOISE_USE_FINDERS = True
# Tests send many turns from one address; test_rate_limit turns the limit on where it checks it.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"chat": None}  # noqa: F405
