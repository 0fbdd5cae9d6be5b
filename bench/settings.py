"""Settings for the bench server and harness: the site's own, with the bench URLconf.

Used only by `python -m bench` (DJANGO_SETTINGS_MODULE=bench.settings). The site's
URLconf never gains the unauthenticated hello-world route: only this one has it.
"""

from mycareer.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
