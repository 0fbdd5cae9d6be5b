"""Test set-up shared by every app: a small cast of personas made with factories, the
demo story for the tests that need it, a real SMTP server, the task worker, and a
database of its own for each run and each xdist worker."""

import os
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest

# Browser tests drive a live server from the test thread, which also uses the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis profiles, and an id for this run (shared by its xdist workers).

    `ci` (the default, used by `make test` and .ci/run) draws the same examples every
    run; `dev` (HYPOTHESIS_PROFILE=dev) draws new ones each run and remembers failures
    in .hypothesis/, for exploring.
    """
    from hypothesis import settings as hypothesis

    hypothesis.register_profile("ci", derandomize=True, database=None, deadline=None)
    hypothesis.register_profile("dev", deadline=None, print_blob=True)
    hypothesis.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    if not hasattr(config, "workerinput"):
        config.stash[_RUN_ID] = uuid.uuid4().hex[:10]


_RUN_ID = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The several-machines test needs PostgreSQL: on SQLite it is left out (deselected,
    and counted as such), so `make test` stays quick and `make test-postgres` runs it."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    left_out = [item for item in items if item.get_closest_marker("several_machines")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


def _run_id(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return workerinput["testrunuid"][:10] if workerinput else config.stash[_RUN_ID]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request) -> None:
    """Each run, and each worker of a run, has a test database of its own.

    Two runs in one checkout (or `make test` beside an editor's test run) never share
    a file; a run's databases are removed at its end (`make clean` removes any left by
    a run that was killed).
    """
    from django.conf import settings

    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    run = _run_id(request.config)
    for db in settings.DATABASES.values():
        test = db.setdefault("TEST", {})
        if db["ENGINE"].endswith("sqlite3"):
            test["NAME"] = str(Path(settings.VAR_DIR) / f"test-{run}-{worker}.sqlite3")
        else:
            test["NAME"] = f"test_{db['NAME']}_{run}_{worker}"


@pytest.fixture(autouse=True, scope="session")
def _private_media(tmp_path_factory):
    """Uploads made by tests go to this run's own folder, never the checkout's var/media."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


def _runs_in_a_transaction_of_its_own(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker and (
        marker.kwargs.get("transaction")
        or marker.kwargs.get("reset_sequences")
        or (marker.args and marker.args[0])
    ):
        return True
    names = getattr(item, "fixturenames", ())
    return "transactional_db" in names or "live_server" in names


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """A test that commits ends by emptying the database: put the small cast back.

    So every test starts on the same database, whatever ran before it on this worker.
    """
    result = yield
    if _runs_in_a_transaction_of_its_own(item):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            _restore_small_cast()
    return result


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


def _uses_the_database(item: pytest.Item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    return bool(
        item.get_closest_marker("django_db")
        or names & {"db", "transactional_db", "django_db_reset_sequences", "live_server"}
    )


@pytest.fixture(autouse=True)
def _fresh_cache(request, django_db_blocker):
    """Rate limits and cached pages live in the cache (a database table): each test that
    uses the database starts without them."""
    if not _uses_the_database(request.node):
        yield
        return
    from django.core.cache import cache

    with django_db_blocker.unblock():
        cache.clear()
    yield
    with django_db_blocker.unblock():
        cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        # Hashes made outside a test (with the default hasher) still check.
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


_SNAPSHOTS: dict = {}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The small cast, committed once per worker; each test rolls back to it.

    The demo story is loaded once per worker too, copied aside (a snapshot), and the
    database put back to the small cast: `demo` copies the story back in a blink.
    """
    from mycareer.accounts.tests.factories import small_cast
    from mycareer.core.registry import seed_steps
    from mycareer.core.tests.snapshot import RECOUNT_AFTER_RESTORE, Snapshot, freeze
    from mycareer.organisations.kept_counts import COUNTS, recount

    RECOUNT_AFTER_RESTORE[COUNTS] = recount
    with django_db_blocker.unblock():
        small_cast()
        _SNAPSHOTS["small"] = Snapshot("small_cast").take()
        story: dict = {}
        for step in seed_steps():
            step.run(story)
        _SNAPSHOTS["demo"] = Snapshot("demo_story").take()
        _SNAPSHOTS["demo cast"] = freeze(story)
        _SNAPSHOTS["small"].restore()
    yield
    with django_db_blocker.unblock():
        _SNAPSHOTS.pop("small").drop()
        _SNAPSHOTS.pop("demo").drop()


def _restore_small_cast() -> None:
    if "small" in _SNAPSHOTS:
        _SNAPSHOTS["small"].restore()


@pytest.fixture
def cast(request, db):
    """The demo university's units, programmes and people, as a dict of named objects.

    Made with factories (mycareer/accounts/tests/factories.py): no organisations,
    events or emails. Tests make what else they need; in a test that uses `demo`, this
    is the whole story's cast.
    """
    from mycareer.accounts.tests.factories import load_small_cast

    if "demo" in request.fixturenames:
        return request.getfixturevalue("demo")
    return load_small_cast()


@pytest.fixture
def demo(db):
    """The whole demo story (organisations, events, bookings, emails…) and its cast.

    For the browser journeys and the tests about the demo data itself.
    """
    from mycareer.core.tests.snapshot import thaw

    _SNAPSHOTS["demo"].restore()
    return thaw(_SNAPSHOTS["demo cast"])


@pytest.fixture
def persona(cast):
    """Look up a demo person by the first part of their email: persona('operator')."""
    from mycareer.accounts.models import User

    def get(name: str) -> User:
        if "@" in name:
            return User.objects.get(email=name)
        return User.objects.get(email__startswith=f"{name}@")

    return get


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Inbox:
    """Stores every message the SMTP server accepts."""

    def __init__(self):
        self.envelopes = []
        self.lock = threading.Lock()
        # address -> SMTP reply, e.g. "550 5.1.1 No such mailbox", to test bounces.
        self.refuse: dict[str, str] = {}
        # SMTP conversations opened (EHLO), to see that a refusal keeps the connection.
        self.sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        import email
        from email import policy

        with self.lock:
            return [
                email.message_from_bytes(e.original_content or e.content, policy=policy.default)
                for e in self.envelopes
            ]

    def wait_for(self, count: int, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.envelopes) >= count:
                break
            time.sleep(0.05)
        return self.messages()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback; Django sends to it through the SMTP backend."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def run_worker():
    """Process every queued task with the real database worker, then return.

    The worker closes connections between tasks, so tests that use it need
    `@pytest.mark.django_db(transaction=True)`.
    """
    from django.core.management import call_command

    def run():
        call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    return run


@pytest.fixture
def saml_idp(tmp_path):
    """A real SAML identity provider (pysaml2) on loopback: mycareer/accounts/tests/idp_saml.py.

    The test says who signs in (`saml_idp.person`) and points the site at it with
    `use_identity_provider(settings, saml_idp.settings_env())`.
    """
    from mycareer.accounts.tests.idp_saml import SamlIdP

    idp = SamlIdP(tmp_path)
    try:
        yield idp
    finally:
        idp.stop()
