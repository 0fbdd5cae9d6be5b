"""MyCareer settings: every value comes from the environment, with safe first-run defaults.

Production sets at least DEBUG=0, SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL.
"""

import datetime
import importlib.util
import os
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from mycareer.accounts.sso_settings import form_action_origins, socialaccount_providers

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MYCAREER_VAR_DIR", BASE_DIR / "var"))


_YES = {"1", "true", "yes", "on"}
_NO = {"0", "false", "no", "off"}


def _refuse(name: str, wanted: str) -> NoReturn:
    """A setting that cannot be read stops the start with a last line that names it and
    what it takes, and is never read as something else (a mistyped "ture" is not "off")."""
    raise ImproperlyConfigured(f"{name} must be {wanted}, not {os.environ[name]!r}.")


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in _YES | _NO:
        return value in _YES
    _refuse(name, "one of 1, true, yes, on or 0, false, no, off")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    """A whole number of zero or more (every number setting counts or measures time)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        _refuse(name, "a whole number of 0 or more")
    return int(value)


def env_number(name: str, default: float) -> float:
    """A number of zero or more, fractions allowed ("0.5")."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number < float("inf"):
        _refuse(name, "a number of 0 or more")
    return number


DEBUG = env_bool("DEBUG", True)

_DEV_SECRET = "insecure-development-key-only-for-the-first-local-run-never-deploy-this"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _DEV_SECRET

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # MyCareer's apps come before allauth so their templates override allauth's.
    "mycareer.core",
    "mycareer.audit",
    "mycareer.accounts",
    "mycareer.people",
    "mycareer.organisations",
    "mycareer.mailing",
    "mycareer.usergroup",
    "mycareer.vacancies",
    "mycareer.events",
    "mycareer.bookings",
    "mycareer.operations",
    # The JSON API sits above every other app; nothing imports it.
    "mycareer.api",
    "mycareer.insights",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.saml",
    "allauth.socialaccount.providers.openid_connect",
    "rules.apps.AutodiscoverRulesConfig",
    "django_tasks",
    "django_tasks_db",
    "taggit",
    "axes",
    # Only for the Swagger UI files it ships (static/ninja/), served as our own static
    # files for the interactive API documentation: no CDN.
    "ninja",
]

# The backwards-compatible migrations check (`manage.py lintmigrations`, part of
# `make test`), a development tool: present with the dev dependencies only.
if importlib.util.find_spec("django_migration_linter") is not None:
    INSTALLED_APPS.append("django_migration_linter")

# "NHS" and "nhs" are one tag.
TAGGIT_CASE_INSENSITIVE = True

MIDDLEWARE = [
    # First: the load balancer's probe, answered without host checks, redirects or login.
    "mycareer.operations.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before the common middleware, which gives a 304 a length of 0: this takes it away.
    "mycareer.core.middleware.NotModifiedHasNoLengthMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # An address opened the wrong way (a button's, as a link): a page, not a blank 405.
    "mycareer.core.middleware.MethodNotAllowedPageMiddleware",
    "mycareer.accounts.middleware.TermsAcceptanceMiddleware",
    # The university's identity provider down: a page that says so, not a 500.
    "mycareer.accounts.middleware.SsoUnreachableMiddleware",
    # A write that meets a busy SQLite database gets its text back, not a 500.
    "mycareer.core.middleware.DatabaseBusyMiddleware",
    # Last, as its documentation asks: it turns lockouts into the "locked" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mycareer.urls"
WSGI_APPLICATION = "mycareer.wsgi.application"

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
                "mycareer.core.context_processors.navigation",
            ],
            # `{% url %}` finds a route without arguments once (core/templatetags/routes.py).
            "builtins": ["mycareer.core.templatetags.routes"],
        },
    },
    {
        # Plain-text emails: the same templates, without HTML escaping ("Calder & Wharfe",
        # not "Calder &amp; Wharfe"). Used through mycareer.core.mail.render_text.
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False, "builtins": ["mycareer.core.templatetags.routes"]},
    },
]

# Form widgets from Django's own Jinja2 templates: the same HTML at twice the speed of
# its template language (the organisations search form, 6.2 ms to 3.4 ms). Fields with
# their labels and the choice widgets come from core/jinja2 (core.forms.FormRenderer).
# Pages stay Django templates; see docs/decisions.md.
FORM_RENDERER = "mycareer.core.forms.FormRenderer"

# Database: SQLite in var/ unless DATABASE_URL names another (PostgreSQL in production).
VAR_DIR.mkdir(parents=True, exist_ok=True)
_SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on
    # busy_timeout instead of failing with "database is locked" on upgrade.
    "transaction_mode": "IMMEDIATE",
    # cache_size: each connection keeps this much of the file in memory (64 MB by
    # default, against SQLite's 2 MB), so a search reads its rows and indexes from
    # memory, not again from the operating system: tag and name 42 to 30 ms of
    # database time at 100,000 organisations. See docs/decisions.md.
    # secure_delete: what a deletion or an erasure frees in the file is overwritten with
    # zeros, not left there until reused (operations/wiping.py).
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA busy_timeout=20000; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON; "
        f"PRAGMA cache_size=-{env_int('SQLITE_CACHE_MB', 64) * 1024};"
    ),
}
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=env_int("CONN_MAX_AGE", 60)
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "mycareer.sqlite3"),
            # Kept between requests, like PostgreSQL's: a new connection per request
            # read the schema again and started with an empty cache (the hello-world
            # page, 4.9 to 2.1 ms).
            "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 60),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(_SQLITE_OPTIONS)
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / "test.sqlite3")
elif os.environ.get("PG_RANDOM_PAGE_COST", "1.1").strip():
    # PostgreSQL: reading a page out of order costs about what reading the next one does
    # when the data is in memory or on SSD (the default, 4, is for spinning disks). At 4
    # the planner counted a broad text search by reading the whole table (78 ms) rather
    # than the pages its trigram index names (24 ms). Empty: the server's own setting.
    # See docs/decisions.md.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _random_page_cost = env_number("PG_RANDOM_PAGE_COST", 1.1)
    _options["options"] = f"-c random_page_cost={_random_page_cost} " + _options.get("options", "")


def _check_redis_url(name: str, url: str, *, package: str, empty_means: str) -> None:
    """A Redis address, with the package that speaks to it installed (the redis extra)."""
    if urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(
            f"{name} must be a Redis address (redis://, rediss:// or unix://), or empty "
            f"for {empty_means}."
        )
    if importlib.util.find_spec(package) is None:
        raise ImproperlyConfigured(
            f"{name} names Redis but the {package} package is missing: install MyCareer "
            "with its redis extra (uv sync --extra redis)."
        )


def caches_from_url(url: str) -> dict:
    """CACHES for CACHE_URL: the database cache when empty, Redis for a redis:// address.

    The cache holds rate limits and cached feeds, so every web process must see the same
    one: never a per-process (local memory) cache. The database cache's table is made by
    `migrate` (mycareer.core.apps).
    """
    if not url:
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": "mycareer_cache",
            }
        }
    _check_redis_url("CACHE_URL", url, package="redis", empty_means="the database cache")
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "mycareer",
        }
    }


CACHES = caches_from_url(os.environ.get("CACHE_URL", "").strip())

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out account is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    # After rules, before the model backends: "mycareer.*" permissions are rules' alone.
    "mycareer.accounts.backends.OwnPermissionsEndHere",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Accounts (allauth): email is the login; people verify their address.
ACCOUNT_ADAPTER = "mycareer.accounts.adapters.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "mycareer.accounts.forms.LoginForm",
    # Staff and students who sign in through the university may not make a password.
    "set_password": "mycareer.accounts.forms.SetPasswordForm",
    "change_password": "mycareer.accounts.forms.ChangePasswordForm",
    "reset_password_from_key": "mycareer.accounts.forms.ResetPasswordKeyForm",
}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[MyCareer] "
LOGIN_REDIRECT_URL = "/"

# Sign-in throttling (see mycareer/accounts/signin.py and docs/decisions.md): axes records
# each failure; MyCareer's handler makes attempts wait, growing with the failures of the
# account and of the client's address, never locking anyone out for long.
AXES_HANDLER = "mycareer.accounts.signin.ProgressiveThrottle"
AXES_LOCK_OUT_AT_FAILURE = False  # the handler decides, not axes' fixed limit
AXES_LOCKOUT_PARAMETERS = ["username"]  # a successful login clears its account's count
AXES_COOLOFF_TIME = datetime.timedelta(hours=1)  # failures are forgotten after this
AXES_USE_ATTEMPT_EXPIRATION = False
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # waiting attempts do not count
AXES_USERNAME_FORM_FIELD = "email"  # what allauth passes to authenticate()
AXES_USERNAME_CALLABLE = "mycareer.accounts.signin.normalise_username"
AXES_CLIENT_IP_CALLABLE = "mycareer.core.clientip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "mycareer.accounts.signin.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # when and from where, for administrators
AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT = 200
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Never kept as typed in a failed attempt's record (axes hides only "password" itself):
# a current password, a new one beside it, a second-step or recovery code.
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "ip_address",
    "oldpassword",
    "password1",
    "password2",
    "code",
]
# allauth's own limits stay on (per client address, now the real one): "login" caps
# attempts per address per minute; they refuse with MyCareer's page (`handler429`). Its
# per-account limits are wide: the throttle above is the one policy for failed passwords
# and codes, and counts a wrong current password on the change-password form too. The
# library's limits, wide enough never to cut the throttle's waits short (its fifth wrong
# try waits), stop tries sent all at once (a password or code per account, "key"; a
# change of password per person), which all pass the throttle's check before any is
# counted: at most ten a minute, not one per server worker.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/key", "change_password": "10/m/user"}
LOGIN_URL = "/accounts/login/"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# A wrong code waits as a wrong password does (accounts/signin.py).
MFA_FORMS = {
    "authenticate": "mycareer.accounts.forms.SecondFactorForm",
    "reauthenticate": "mycareer.accounts.forms.SecondFactorAgainForm",
}

# Single sign-on for staff and students (docs/deployment.md, "Single sign-on"): the
# university's SAML IdP (SAML_IDP_METADATA_URL or _FILE) and/or an OpenID Connect
# provider (OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET). MyCareer's adapter finds or
# makes the person (mycareer/accounts/sso.py); allauth's own sign-up form is never shown.
MYCAREER_SSO_ENV = {
    name: value for name, value in os.environ.items() if name.startswith(("SAML_", "OIDC_", "SSO_"))
}
SOCIALACCOUNT_PROVIDERS = socialaccount_providers(MYCAREER_SSO_ENV, site_url=SITE_URL)
SOCIALACCOUNT_ADAPTER = "mycareer.accounts.adapters.UniversitySignInAdapter"
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_LOGIN_ON_GET = False  # the login page posts to the provider (CSRF-checked)
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"  # the university vouches for its addresses
SOCIALACCOUNT_STORE_TOKENS = False

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Behind nginx: an internal location aliased to MEDIA_ROOT; MyCareer checks who may
# read an upload and nginx sends it (see docs/security.md). Empty: MyCareer sends it.
MEDIA_X_ACCEL_REDIRECT = os.environ.get("MEDIA_X_ACCEL_REDIRECT", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Email: EMAIL_URL (smtp://user:pass@host:port?tls=1) or EMAIL_HOST/EMAIL_PORT; without
# either, messages are printed by the console backend so a first run sends nothing out.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "MyCareer <mycareer@demo.ac.uk>")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
if os.environ.get("EMAIL_URL"):
    _email = urlsplit(os.environ["EMAIL_URL"])
    _email_options = parse_qs(_email.query)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.hostname or "localhost"
    EMAIL_PORT = _email.port or 25
    EMAIL_HOST_USER = unquote(_email.username or "")
    EMAIL_HOST_PASSWORD = unquote(_email.password or "")
    EMAIL_USE_TLS = _email_options.get("tls", ["0"])[0] in {"1", "true"}
    EMAIL_USE_SSL = _email.scheme == "smtps"
elif os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
else:
    EMAIL_BACKEND = os.environ.get(
        "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
    )


def rq_queues_from_url(url: str) -> dict:
    """RQ's queue for TASKS_URL: a task may run an hour (a whole university's import)."""
    return {"default": {"URL": url, "DEFAULT_TIMEOUT": 3600}}


# Background tasks: in the same database, worked by `manage.py db_worker`; or, when
# TASKS_URL names a Redis, in Redis through RQ, worked by `manage.py rqworker
# --with-scheduler` (django-tasks-rq; install with the `redis` extra).
TASKS_URL = os.environ.get("TASKS_URL", "").strip()
if TASKS_URL:
    _check_redis_url(
        "TASKS_URL", TASKS_URL, package="django_tasks_rq", empty_means="tasks in the database"
    )
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = rq_queues_from_url(TASKS_URL)
TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "TASKS_BACKEND",
            "django_tasks_rq.RQBackend" if TASKS_URL else "django_tasks_db.DatabaseBackend",
        ),
        "QUEUES": ["default"],
    }
}

# Security. Off-DEBUG defaults are the production ones; each can be overridden.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preloading HSTS binds the university's whole domain, a decision for its IT service,
# not for one application; so it is off unless asked for, and the check is silenced.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# axes' own lock-out keys are per account only: the per-address part of the throttle is
# MyCareer's (mycareer/accounts/signin.py), with a limit a shared address cannot reach
# by ordinary typing.
SILENCED_SYSTEM_CHECKS += ["axes.W006"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# A refused form says why in the site's own layout (Django's page has inline styles).
CSRF_FAILURE_VIEW = "mycareer.core.views.csrf_failure"
# Behind a reverse proxy: HTTPS is seen by the proxy, and the client's address comes
# from X-Forwarded-For, read right to left past these trusted proxies (addresses or
# networks). See mycareer/core/clientip.py and docs/security.md.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "127.0.0.1,::1")
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        # The sign-in buttons lead on to the university's IdP (see SSO above).
        "form-action": ["'self'", *form_action_origins(MYCAREER_SSO_ENV, SOCIALACCOUNT_PROVIDERS)],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Logging: one structured line per background job, refusal and email (mycareer.core.logs),
# as key=value text or, with LOG_FORMAT=json, one JSON object per line. LOG_LEVEL is
# MyCareer's own level; other libraries say only what is WARNING or worse.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "keyvalue").strip().lower() or "keyvalue"
if LOG_FORMAT not in {"keyvalue", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be keyvalue or json, not {LOG_FORMAT!r}.")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "keyvalue": {"()": "mycareer.core.logs.KeyValueFormatter"},
        "json": {"()": "mycareer.core.logs.JsonFormatter"},
    },
    "filters": {
        # A refusal is logged once, as MyCareer's own line (core.views), not as a traceback.
        "drop_forbidden_tracebacks": {"()": "mycareer.core.logs.DropForbiddenTracebacks"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "mycareer": {"level": LOG_LEVEL},
        "django.request": {"filters": ["drop_forbidden_tracebacks"]},
        # The task library's own lines repeat MyCareer's task.started/task.finished lines;
        # its failures (with their traceback) still show. The worker (db_worker) sets
        # these two from its -v option, so there its short lines appear too.
        "django_tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
    },
}

# MyCareer's own settings.
MYCAREER: dict[str, Any] = {
    # Operator training stays valid this many days after completion.
    "TRAINING_VALID_DAYS": env_int("TRAINING_VALID_DAYS", 365),
    # Reminders go out when training expires within this many days.
    "TRAINING_REMINDER_DAYS": env_int("TRAINING_REMINDER_DAYS", 30),
    # People the student record feed stops sending become inactive after this many days
    # (a day's missing or partial file must not lock anyone out).
    "PEOPLE_LEAVER_GRACE_DAYS": env_int("PEOPLE_LEAVER_GRACE_DAYS", 30),
    # The key of the hashes that remember erased people's identifiers, so the student
    # record feed and single sign-on do not make them again (accounts/erased.py). Set it
    # once and keep it: with another key those people would be made again. Empty: the
    # SECRET_KEY (and its fallbacks) are used.
    "ERASED_IDENTIFIER_KEY": os.environ.get("ERASED_IDENTIFIER_KEY", ""),
    # A student's bookings are removed this many years after their expected graduation.
    "BOOKINGS_KEPT_YEARS_AFTER_GRADUATION": env_int("BOOKINGS_KEPT_YEARS_AFTER_GRADUATION", 6),
    # No employer contact gets more than this many bulk emails in this many days (0: none,
    # every contact is left out as emailed too often).
    "BULK_EMAIL_LIMIT": env_int("BULK_EMAIL_LIMIT", 2),
    "BULK_EMAIL_LIMIT_DAYS": env_int("BULK_EMAIL_LIMIT_DAYS", 14),
    # Messages per second the outbox sends (0 = as fast as the mail server takes them).
    "BULK_EMAIL_RATE": env_number("BULK_EMAIL_RATE", 20),
    # A worker's claim on outbox messages lasts this long without renewal; it must be
    # longer than one message can take (connecting and sending, each up to EMAIL_TIMEOUT).
    "OUTBOX_LEASE_SECONDS": env_int("OUTBOX_LEASE_SECONDS", 2 * EMAIL_TIMEOUT + 30),
    # A message the mail server deferred waits this long, doubling on each attempt.
    "OUTBOX_RETRY_SECONDS": env_int("OUTBOX_RETRY_SECONDS", 60),
    # A second designated sender approves each campaign before it goes.
    "BULK_EMAIL_NEEDS_APPROVAL": env_bool("BULK_EMAIL_NEEDS_APPROVAL", False),
    "UNSUBSCRIBE_MAILBOX": os.environ.get("UNSUBSCRIBE_MAILBOX", "unsubscribe@demo.ac.uk"),
    # Who answers for personal data: named in every subject access letter.
    "DATA_PROTECTION": {
        "CONTROLLER": os.environ.get("DATA_CONTROLLER", "Demo University"),
        "ADDRESS": os.environ.get("DATA_CONTROLLER_ADDRESS", "1 University Road, Demotown DM1 1AA"),
        "DPO_EMAIL": os.environ.get("DATA_PROTECTION_OFFICER_EMAIL", "dpo@demo.ac.uk"),
        "ICO_REGISTRATION": os.environ.get("ICO_REGISTRATION_NUMBER", ""),
    },
    # Signing in: wrong passwords that cost nothing, per account and per client address;
    # then each attempt waits, from the first delay doubling up to the longest (for an
    # address, a shorter longest: people sharing one must never be shut out).
    "SIGNIN_ACCOUNT_FREE_FAILURES": env_int("SIGNIN_ACCOUNT_FREE_FAILURES", 5),
    "SIGNIN_ADDRESS_FREE_FAILURES": env_int("SIGNIN_ADDRESS_FREE_FAILURES", 30),
    "SIGNIN_FIRST_DELAY_SECONDS": env_int("SIGNIN_FIRST_DELAY_SECONDS", 60),
    "SIGNIN_MAX_DELAY_SECONDS": env_int("SIGNIN_MAX_DELAY_SECONDS", 15 * 60),
    "SIGNIN_ADDRESS_MAX_DELAY_SECONDS": env_int("SIGNIN_ADDRESS_MAX_DELAY_SECONDS", 60),
    # Email tasks the mail server refused: tries in all, and the wait after the first
    # (four times longer after each further one: 1, 4, 16 and 64 minutes by default).
    "EMAIL_RETRY_ATTEMPTS": env_int("EMAIL_RETRY_ATTEMPTS", 5),
    "EMAIL_RETRY_FIRST_SECONDS": env_int("EMAIL_RETRY_FIRST_SECONDS", 60),
    # Door staff can check people in from this many minutes before an event starts.
    "CHECK_IN_OPENS_MINUTES": env_int("CHECK_IN_OPENS_MINUTES", 120),
    # Employer registrations: attempts per email address, and per network (an IPv4 /24
    # or IPv6 /64), each per hour, counted in the shared cache.
    "REGISTRATIONS_PER_EMAIL_PER_HOUR": env_int("REGISTRATIONS_PER_EMAIL_PER_HOUR", 3),
    "REGISTRATIONS_PER_NETWORK_PER_HOUR": env_int("REGISTRATIONS_PER_NETWORK_PER_HOUR", 10),
    # Backups (mycareer/operations/backups.py): where `manage.py backup` and the daily job
    # write, how many dated copies are kept, and the hour (local time) of the daily one.
    # On several machines, either BACKUP_DIR is shared or BACKUP_DAILY=0 and one machine
    # runs `manage.py backup` from a timer (docs/deployment.md).
    "BACKUP_DIR": os.environ.get("BACKUP_DIR", str(VAR_DIR / "backups")),
    "BACKUP_KEEP": env_int("BACKUP_KEEP", 14),
    "BACKUP_DAILY": env_bool("BACKUP_DAILY", True),
    "BACKUP_HOUR": env_int("BACKUP_HOUR", 2),
    # A task "running" longer than this lost its worker (killed, machine down): the
    # stalled-tasks job marks it failed. Above the longest task (an hour at most).
    "TASK_RUNNING_LIMIT_MINUTES": env_int("TASK_RUNNING_LIMIT_MINUTES", 120),
    # Calls one API token may make per minute, counted in the shared cache (every process).
    "API_CALLS_PER_MINUTE": env_int("API_CALLS_PER_MINUTE", 120),
    # How long the audit trail keeps the record of each API call (what a call changed is
    # recorded by its service and kept like every other change).
    "API_CALLS_KEPT_DAYS": env_int("API_CALLS_KEPT_DAYS", 90),
    # Lists count their matches exactly up to this many; above it they say "more than"
    # and offer "count exactly", whose figure the shared cache keeps for so many seconds.
    "EXACT_COUNT_LIMIT": env_int("EXACT_COUNT_LIMIT", 10_000),
    "EXACT_COUNT_SECONDS": env_int("EXACT_COUNT_SECONDS", 5 * 60),
    # PostgreSQL: the queries run on every page (a person's standing) are prepared on the
    # server once per connection (core/prepared.py). Off behind a pooler that hands one
    # connection's prepared statements to another (PgBouncer in transaction mode).
    "PG_PREPARED_STATEMENTS": env_bool("PG_PREPARED_STATEMENTS", True),
    # Opportunities for relationship development (mycareer/insights); the pages say
    # which of these are in force.
    "INSIGHTS": {
        # Lapsed: engaged at least this many times in the months before the quiet ones.
        "LAPSED_MIN_ENGAGEMENTS": env_int("INSIGHTS_LAPSED_MIN_ENGAGEMENTS", 3),
        "LAPSED_QUIET_MONTHS": env_int("INSIGHTS_LAPSED_QUIET_MONTHS", 6),
        "LAPSED_BEFORE_MONTHS": env_int("INSIGHTS_LAPSED_BEFORE_MONTHS", 12),
        # One faculty only, half-engaged and top attendance look this far back.
        "LOOKBACK_MONTHS": env_int("INSIGHTS_LOOKBACK_MONTHS", 12),
        # One faculty only: another faculty fits an organisation's sector (or tag) when
        # it engaged at least this many other organisations of that sector (or tag).
        "ONE_FACULTY_FIT_MIN": env_int("INSIGHTS_ONE_FACULTY_FIT_MIN", 3),
        # A key account with no note by its owner for this many days is going quiet.
        "KEY_ACCOUNT_QUIET_DAYS": env_int("INSIGHTS_KEY_ACCOUNT_QUIET_DAYS", 90),
        # A liaison request unanswered this long goes to its owner, and later to admins.
        "LIAISON_UNANSWERED_DAYS": env_int("INSIGHTS_LIAISON_UNANSWERED_DAYS", 7),
        "LIAISON_ESCALATE_DAYS": env_int("INSIGHTS_LIAISON_ESCALATE_DAYS", 14),
        # Employers whose events drew the most attendance: this many, as key-account ideas.
        "TOP_ATTENDANCE": env_int("INSIGHTS_TOP_ATTENDANCE", 5),
        # Over-contacted: this many units' notes within this many days.
        "CONTACTED_UNITS": env_int("INSIGHTS_CONTACTED_UNITS", 3),
        "CONTACTED_DAYS": env_int("INSIGHTS_CONTACTED_DAYS", 30),
        # A dismissed opportunity stays hidden this many days.
        "DISMISS_DAYS": env_int("INSIGHTS_DISMISS_DAYS", 90),
        # The weekly digest goes on this day (0 Monday … 6 Sunday).
        "DIGEST_WEEKDAY": env_int("INSIGHTS_DIGEST_WEEKDAY", 0),
    },
}
