"""A separate, tiny Django site: an OpenID Connect provider built with django-oauth-toolkit.

Run only by idp_oidc.py, in its own process, for the single sign-on tests. Its folder,
people and key come from the environment that process is started with.
"""

import os
from pathlib import Path

FOLDER = Path(os.environ["OIDC_IDP_FOLDER"])
SECRET_KEY = "test-identity-provider-only"  # noqa: S105 (a loopback test server)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "mycareer.accounts.tests.oidc_idp.urls"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).parent],
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": FOLDER / "idp.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTHENTICATION_BACKENDS = ["mycareer.accounts.tests.oidc_idp.people.PeopleBackend"]
LOGIN_URL = "/login/"
USE_TZ = True
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": (FOLDER / "oidc.key").read_text(),
    "OAUTH2_VALIDATOR_CLASS": "mycareer.accounts.tests.oidc_idp.people.ClaimsValidator",
    "SCOPES": {"openid": "OpenID Connect", "profile": "Your name", "email": "Your email"},
    "PKCE_REQUIRED": True,
}
