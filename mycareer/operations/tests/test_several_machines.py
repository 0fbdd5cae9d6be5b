"""Several machines as one: three web servers, two task workers and two schedulers on
one PostgreSQL database, driven over HTTP from many clients spread across the servers.

Each gunicorn (two worker processes each) stands in for a machine behind a load
balancer; nothing is shared between them but the database (sessions, the cache, the
task queue, the sign-in throttle). What must hold:

- 200 students booking a 50-place event at once, spread over the three: exactly 50
  confirmed, 150 waiting, nobody twice, no server error;
- a session made on one server is valid on the others;
- two campaigns to 2,000 contacts, sent by the two workers: each message exactly once,
  the frequency limit held (a third campaign finds nobody left to email);
- each daily job queued and run once, though two schedulers check every second;
- the sign-in throttle counts failures made on any server; the calendar feed cached
  by one server is what the others serve.

- an employer registration rate limit (counted in the shared cache) reached through
  the three servers in turn.

The same runs a second time with Redis (a real `redis-server` on loopback, which
`make redis-server` installs) as the cache (CACHE_URL) and as the task queue (TASKS_URL:
RQ workers through django-tasks-rq, instead of the database's queue).

Slow (a few minutes each) and about PostgreSQL: `make test-postgres` and CI run it; the
SQLite suite deselects it (see `several_machines` in /conftest.py).
"""

import functools
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bench.bookings import logged_in_session
from bench.http import Session
from bench.measure import released_together
from conftest import _free_port
from mycareer.bookings.models import Booking, WaitlistEntry
from mycareer.bookings.tests.factories import make_event, make_students
from mycareer.core.models import ScheduledRun
from mycareer.core.registry import daily_jobs
from mycareer.mailing import services as mailing
from mycareer.mailing.models import Campaign, OutboxMessage
from mycareer.mailing.tests.test_outbox_faults import FaultySMTP, _database_url, _organisation
from mycareer.settings import caches_from_url, rq_queues_from_url

pytestmark = [pytest.mark.several_machines, pytest.mark.django_db(transaction=True)]

WEB_SERVERS = 3
CONTACTS = 2_000
STUDENTS, PLACES = 200, 50
REGISTRATIONS_PER_EMAIL = 2
RQ_WORKER = (
    "rqworker",
    "default",
    "--with-scheduler",
    "--job-class",
    "django_tasks_rq.backend.Job",
)


class Machines:
    """The processes of a small cluster, all on loopback, logging to one folder."""

    def __init__(self, root: Path, smtp_port: int):
        self.root = root
        self.smtp_port = smtp_port
        self.redis_url = ""
        self.processes: list[subprocess.Popen] = []
        self.web_ports: list[int] = []

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "DEBUG": "1",
            # The one setting besides the database every machine must share (sessions
            # are signed with it): this process's own, which made the sessions.
            "SECRET_KEY": settings.SECRET_KEY,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.smtp_port),
            "BULK_EMAIL_RATE": "0",
            "BACKUP_DIR": str(self.root / "backups"),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "REGISTRATIONS_PER_EMAIL_PER_HOUR": str(REGISTRATIONS_PER_EMAIL),
            "CACHE_URL": self.redis_url,
            "TASKS_URL": self.redis_url,
        }
        env.pop("EMAIL_URL", None)
        return env

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = (self.root / f"{name}.log").open("a")
        process = subprocess.Popen(  # noqa: S603 (our own programs)
            [sys.executable, *args],
            cwd=settings.BASE_DIR,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def start_web(self, number: int) -> None:
        port = _free_port()
        self.start(
            f"web{number}",
            "-m", "gunicorn", "mycareer.wsgi:application",
            "--workers", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "120",
        )  # fmt: skip
        self.web_ports.append(port)

    def wait_until_answering(self) -> None:
        deadline = time.monotonic() + 300
        for port in self.web_ports:
            while True:
                assert time.monotonic() < deadline, f"a web server did not start: {self.root}"
                assert all(p.poll() is None for p in self.processes), f"see {self.root}"
                try:
                    if Session(self.url(port)).get("/healthz").status == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.3)

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"

    def urls(self) -> list[str]:
        return [self.url(port) for port in self.web_ports]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def redis_url(tmp_path):
    """A real redis-server on loopback, and this process's cache and tasks on it."""
    import redis

    program = shutil.which("redis-server")
    assert program, "redis-server is missing: `make redis-server` installs it"
    port = _free_port()
    log = (tmp_path / "redis.log").open("a")
    server = subprocess.Popen(  # noqa: S603 (Debian's redis-server)
        [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 30
    while True:
        assert server.poll() is None, f"redis-server stopped; see {tmp_path / 'redis.log'}"
        assert time.monotonic() < deadline, "redis-server did not answer"
        try:
            if client.ping():
                break
        except redis.ConnectionError:
            time.sleep(0.1)
    on_redis = override_settings(
        CACHES=caches_from_url(url),
        RQ_QUEUES=rq_queues_from_url(url),
        TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
    )
    try:
        # Back on the database's cache before Redis stops: the cache is emptied after
        # each test.
        with on_redis:
            yield url
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def machines(tmp_path):
    from aiosmtpd.controller import Controller

    smtp = FaultySMTP()
    port = _free_port()
    controller = Controller(smtp, hostname="127.0.0.1", port=port)
    controller.start()
    cluster = Machines(tmp_path, port)
    cluster.smtp = smtp  # type: ignore[attr-defined]
    try:
        yield cluster
    finally:
        cluster.stop()
        controller.stop()


def wrong_password(base_url: str, email: str) -> int:
    """Try to log in with a wrong password on one server; its HTTP status."""
    return Session(base_url).login_attempt(settings.LOGIN_URL, email, "not-the-password").status


def register(base_url: str) -> int:
    """Register the same employer on one server; its HTTP status."""
    session = Session(base_url)
    path = reverse("employer:register")
    assert session.get(path).status == 200  # the CSRF cookie
    fields = {
        "csrfmiddlewaretoken": session.cookies.get(settings.CSRF_COOKIE_NAME, ""),
        "organisation_choice": "new",
        "organisation_name": "Shared Limits Ltd",
        "full_name": "Pat Doe",
        "email": "pat.doe@shared-limits.example.com",
        "password1": "a-long-pass-phrase-42",
        "password2": "a-long-pass-phrase-42",
    }
    return session.post_form(path, fields).status


def _rq_jobs() -> list:
    """Every job the RQ queue holds or has run (its results are kept a day)."""
    import django_rq
    from rq.job import Job
    from rq.registry import (
        FailedJobRegistry,
        FinishedJobRegistry,
        ScheduledJobRegistry,
        StartedJobRegistry,
    )

    queue = django_rq.get_queue("default")
    ids = set(queue.job_ids)
    for registry in (FinishedJobRegistry, StartedJobRegistry, FailedJobRegistry):
        ids |= set(registry(queue=queue).get_job_ids())
    ids |= set(ScheduledJobRegistry(queue=queue).get_job_ids())
    return [job for job in Job.fetch_many(sorted(ids), connection=queue.connection) if job]


def test_three_web_servers_two_workers_and_two_schedulers_act_as_one(
    machines, cast, persona, capsys
):
    act_as_one(machines, cast, persona, capsys)


def test_the_same_with_redis_as_the_cache_and_the_task_queue(
    redis_url, machines, cast, persona, capsys
):
    machines.redis_url = redis_url
    act_as_one(machines, cast, persona, capsys)


def act_as_one(machines, cast, persona, capsys) -> None:
    on_redis = bool(machines.redis_url)
    assert connection.vendor == "postgresql"
    started = time.monotonic()
    operator, mailer = persona("operator"), persona("mailer")
    event = make_event(organiser=operator, capacity=PLACES)
    students = make_students(STUDENTS)
    _organisation(persona, "Wide Reach Group", "Several machines", CONTACTS)
    # One the campaigns leave out: a search that leaves out no organisation is refused.
    _organisation(persona, "Elsewhere Ltd", "Not emailed", 0)

    if on_redis:
        # With TASKS_URL the site has django_rq's migrations too (they make no tables):
        # /healthz says "pending" until they are recorded, as after an upgrade.
        subprocess.run(  # noqa: S603 (our own manage.py)
            [sys.executable, "manage.py", "migrate", "django_rq", "--noinput"],
            cwd=settings.BASE_DIR,
            env=machines.env(),
            check=True,
            capture_output=True,
        )
    for number in range(WEB_SERVERS):
        machines.start_web(number)
    for number in range(2):
        if on_redis:
            machines.start(f"worker{number}", "manage.py", *RQ_WORKER)
        else:
            machines.start(f"worker{number}", "manage.py", "db_worker", "--no-reload",
                           "--no-startup-delay", "--interval", "0.2")  # fmt: skip
        machines.start(f"scheduler{number}", "manage.py", "run_scheduler", "--interval", "1")
    machines.wait_until_answering()
    urls = machines.urls()

    # A session made on one server is valid on every other.
    roaming = logged_in_session(urls[0], persona("student"))
    for url in urls:
        roaming.base_url = url
        roaming.port = int(url.rsplit(":", 1)[1])
        roaming._drop_connection()
        page = roaming.get(reverse("bookings:my_events"))
        assert page.status == 200, f"{url} did not know the session: {page.headers}"

    # 200 students book 50 places at once, each through one of the three servers.
    path = reverse("bookings:book", args=[event.pk])
    sessions = []
    for n, student in enumerate(students):
        session = logged_in_session(urls[n % WEB_SERVERS], student)
        assert session.get(event.get_absolute_url()).status == 200  # the CSRF cookie
        sessions.append(session)
    statuses: list[int] = []
    lock = threading.Lock()

    def book(session):
        token = session.cookies.get(settings.CSRF_COOKIE_NAME, "")
        status = session.post_form(path, {"csrfmiddlewaretoken": token}).status
        with lock:
            statuses.append(status)

    booking_seconds = released_together([functools.partial(book, s) for s in sessions])
    assert Counter(statuses) == {302: STUDENTS}
    assert Booking.objects.filter(event=event, status="confirmed").count() == PLACES
    assert WaitlistEntry.objects.filter(event=event, status="waiting").count() == STUDENTS - PLACES
    assert Booking.objects.filter(event=event).values("student").distinct().count() == PLACES

    # Each daily job due by now was queued once and run once, by two schedulers. (Read
    # before the campaigns: RQ forgets a finished task after 500 seconds.)
    today = timezone.localdate()
    hour = timezone.localtime().hour
    due = sorted(job.name for job in daily_jobs() if hour >= job.hour)
    runs = Counter(
        ScheduledRun.objects.filter(day=today)
        .exclude(job__contains="@")
        .values_list("job", flat=True)
    )
    assert runs == Counter(due)
    if on_redis:
        ran = Counter(job.func_name for job in _rq_jobs())
    else:
        ran = Counter(DBTaskResult.objects.values_list("task_path", flat=True))
    for job in daily_jobs():
        if job.name in due:
            times = ran[job.task.module_path]
            assert times == 1, f"{job.name} ran {times} times"

    # Two campaigns to the same 2,000 contacts, sent by the two workers.
    campaigns = []
    for subject in ("Spring fair", "Summer fair"):
        campaign = mailing.campaign_create(
            sender=mailer,
            unit=cast["units"]["lubs"],
            purpose="events",
            subject=subject,
            body="Dear {{ first_name }},\n\nHello from the careers service.",
            recipient_filters={"tags_all": ["Several machines"]},
        )
        confirmed = len(mailing.campaign_recipients(campaign).included)
        assert confirmed == CONTACTS
        campaigns.append(mailing.campaign_send(campaign=campaign, by=mailer, confirmed=confirmed))
    sending_started = time.monotonic()
    deadline = sending_started + 300
    while Campaign.objects.filter(
        pk__in=[c.pk for c in campaigns],
        status__in=[Campaign.Status.QUEUED, Campaign.Status.SENDING],
    ).exists():
        assert time.monotonic() < deadline, f"the campaigns did not finish; see {machines.root}"
        time.sleep(0.5)
    sending_seconds = time.monotonic() - sending_started
    delivered = machines.smtp.delivered
    assert (
        OutboxMessage.objects.filter(campaign__in=campaigns, status="sent").count() == 2 * CONTACTS
    )
    assert len(delivered) == CONTACTS
    assert set(delivered.values()) == {2}  # each message exactly once: two campaigns each
    if on_redis:
        assert not DBTaskResult.objects.exists()  # every task went through Redis
        workers_used = {
            result.worker_name
            for job in _rq_jobs()
            if job.func_name.startswith("mycareer.mailing")
            for result in job.results()
        }
    else:
        workers_used = {
            worker
            for ids in DBTaskResult.objects.filter(
                task_path__startswith="mycareer.mailing"
            ).values_list("worker_ids", flat=True)
            for worker in ids
        }
    # The frequency limit (two in the period) holds: a third campaign finds nobody.
    third = mailing.campaign_create(
        sender=mailer,
        unit=cast["units"]["lubs"],
        purpose="events",
        subject="Autumn fair",
        body="Dear {{ first_name }},\n\nAgain.",
        recipient_filters={"tags_all": ["Several machines"]},
    )
    assert mailing.campaign_recipients(third).included == []

    # The sign-in throttle counts failures made on any server.
    email = persona("viewer").email
    free = settings.MYCAREER["SIGNIN_ACCOUNT_FREE_FAILURES"]
    # Failures made on the three servers in turn add up: the one that reaches the free
    # number is already told to wait, and so is every later attempt, on any server.
    statuses = [wrong_password(urls[n % WEB_SERVERS], email) for n in range(free)]
    assert statuses == [200] * (free - 1) + [429]
    assert {wrong_password(url, email) for url in urls} == {429}

    # A rate limit counted in the cache: registrations of one email, on each server in
    # turn, add up; the one over the limit is refused whichever server it reaches.
    statuses = [register(urls[n % WEB_SERVERS]) for n in range(REGISTRATIONS_PER_EMAIL + 1)]
    assert all(status != 429 for status in statuses[:-1]), statuses
    assert statuses[-1] == 429
    assert {register(url) for url in urls} == {429}

    # The calendar feed one server cached is what the others serve.
    student = persona("student")
    feed = f"{reverse('events:feed')}?token={student.feed_token}"
    first = Session(urls[0]).get(feed)
    assert first.status == 200 and b"BEGIN:VCALENDAR" in first.body
    keys = [key.split(":", 2)[2] for key in _cache_keys("events:feed:", machines.redis_url)]
    assert len(keys) == 1
    cache.set(keys[0], b"BEGIN:VCALENDAR\r\nX-SHARED-CACHE:yes\r\nEND:VCALENDAR\r\n", timeout=300)
    for url in urls[1:]:
        assert b"X-SHARED-CACHE:yes" in Session(url).get(feed).body

    with capsys.disabled():
        print(
            f"\nseveral machines{' with Redis' if on_redis else ''}: {WEB_SERVERS} web "
            f"servers, 2 workers, 2 schedulers on PostgreSQL; 200 bookings in "
            f"{booking_seconds:.1f} s; {2 * CONTACTS} messages "
            f"in {sending_seconds:.1f} s by {len(workers_used)} workers; whole test "
            f"{time.monotonic() - started:.0f} s"
        )


def _cache_keys(part: str, redis_url: str) -> list[str]:
    """The shared cache's keys that contain `part`, as stored (with prefix and version)."""
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        try:
            return [key.decode() for key in client.scan_iter(match=f"*{part}*")]
        finally:
            client.close()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT cache_key FROM mycareer_cache WHERE cache_key LIKE %s", [f"%{part}%"]
        )
        return [row[0] for row in cursor.fetchall()]
