"""WSGI entry point of the backend (gunicorn); starts the index sync when this process serves."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

application = get_wsgi_application()

from catalog.index_sync import start_background_index_sync  # noqa: E402

start_background_index_sync()
