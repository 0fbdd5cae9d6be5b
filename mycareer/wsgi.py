"""WSGI entry point (gunicorn mycareer.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mycareer.settings")

application = get_wsgi_application()
