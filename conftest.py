"""Test set-up shared by every app: personas, a real SMTP server, the task worker."""

import os
import socket
import threading
import time

import pytest

# Browser tests drive a live server from the test thread, which also uses the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that commit (and so end by emptying the database) run after all the others.

    pytest-django orders them so, but pytest then groups tests that share a
    session-wide parameter (the browser of the browser tests) and can move some
    forward. Each test after them would then find the demo story gone and load it
    again: minutes on every run. This puts the order back, keeping it otherwise.
    """
    items.sort(key=_runs_in_a_transaction_of_its_own)


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
        # The demo story is loaded once per run with the real hasher.
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


def _seed(cast: dict) -> dict:
    from mycareer.core.registry import seed_steps

    for step in seed_steps():
        step.run(cast)
    return cast


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the demo story once; each test runs in a transaction rolled back after it."""
    with django_db_blocker.unblock():
        _seed({})


@pytest.fixture
def cast(db):
    """The demo university (people, units, organisations…) as a dict of named objects.

    Tests that flush the database (transactional ones) get it loaded again.
    """
    return _seed({})


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
