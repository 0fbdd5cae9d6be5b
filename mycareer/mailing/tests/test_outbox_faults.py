"""The outbox under faults: real worker processes, a real SMTP server on loopback that
misbehaves, and the watchdog doing its rounds (as the scheduler runs it every minute).

Each scenario prints one line: sent / duplicated / missed / over the frequency limit.
The outcome must be nobody missed, nobody twice (except at most one message per worker
killed mid-send), nobody over the limit. docs/reliability.md holds the figures.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from conftest import _free_port, _Inbox
from mycareer.mailing import services
from mycareer.mailing.jobs import campaign_watchdog
from mycareer.mailing.models import Campaign, OutboxMessage
from mycareer.organisations.models import Contact, Organisation

pytestmark = pytest.mark.django_db(transaction=True)

# Short, so a killed worker's messages come back quickly; long enough that a worker merely
# starved of CPU on a loaded machine renews its lease before the watchdog's round finds it
# lapsed (at 3 s and at 6 s, a machine running two test suites at once made the watchdog
# restart a chain that was alive).
LEASE_SECONDS = 10
WORKER_ENV = {
    "BULK_EMAIL_RATE": "0",
    "EMAIL_TIMEOUT": "1",
    "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
    "OUTBOX_RETRY_SECONDS": "1",
    "DEBUG": "1",
}


class FaultySMTP(_Inbox):
    """An SMTP server that refuses, defers or stalls as told, and counts deliveries."""

    def __init__(self, *, refuse=(), defer_once=(), stalls=0, stall_seconds=3.0):
        super().__init__()
        self.refuse, self.defer_once = set(refuse), set(defer_once)
        self.deferred: set[str] = set()
        self.stalls, self.stall_seconds = stalls, stall_seconds
        self.delivered: Counter = Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        if address in self.defer_once and address not in self.deferred:
            self.deferred.add(address)
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if b"X-MyCareer-Campaign:" not in envelope.content:
            return "250 Accepted"  # the demo story's own notifications, not counted
        if self.stalls > 0:
            # Longer than the client waits: it gives up; the message was never accepted.
            self.stalls -= 1
            await asyncio.sleep(self.stall_seconds)
            return "451 4.4.2 Timed out"
        with self.lock:
            for address in envelope.rcpt_tos:
                self.delivered[address] += 1
        return "250 Message accepted for delivery"


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Harness:
    def __init__(self, smtp: FaultySMTP, port: int, log: Path):
        self.smtp, self.port, self.log = smtp, port, log
        self.workers: list[subprocess.Popen] = []

    def drain(self) -> None:
        """Send what the demo story queued (notifications) first; then count afresh."""
        subprocess.run(  # noqa: S603 (our own manage.py)
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--batch",
                "--no-startup-delay",
                "--no-reload",
            ],
            cwd=django_settings.BASE_DIR,
            env=self.env(),
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            check=True,
        )
        self.smtp.sessions = 0

    def env(self) -> dict:
        env = {
            **os.environ,
            **WORKER_ENV,
            "DATABASE_URL": _database_url(),
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.port),
        }
        env.pop("EMAIL_URL", None)
        return env

    def start_worker(self) -> subprocess.Popen:
        worker = subprocess.Popen(  # noqa: S603 (our own manage.py)
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.2",
            ],
            cwd=django_settings.BASE_DIR,
            env=self.env(),
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        self.workers.append(worker)
        return worker

    def kill(self, worker: subprocess.Popen) -> None:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        self.workers.remove(worker)

    def stop(self) -> None:
        for worker in list(self.workers):
            self.kill(worker)


@pytest.fixture
def harness(tmp_path, settings):
    from aiosmtpd.controller import Controller

    settings.MYCAREER = {
        **settings.MYCAREER,
        "BULK_EMAIL_RATE": 0,
        "OUTBOX_LEASE_SECONDS": LEASE_SECONDS,
        "OUTBOX_RETRY_SECONDS": 1,
    }
    made = []

    def make(**faults) -> Harness:
        smtp = FaultySMTP(**faults)
        port = _free_port()
        controller = Controller(smtp, hostname="127.0.0.1", port=port)
        controller.start()
        run = Harness(smtp, port, tmp_path / "workers.log")
        made.append((run, controller))
        run.drain()
        return run

    yield make
    for run, controller in made:
        run.stop()
        controller.stop()


@pytest.fixture(autouse=True)
def elsewhere(persona) -> Organisation:
    """An organisation no search here selects: a search that left out no organisation
    would be every employer contact, which a bulk mailer cannot choose."""
    from mycareer.organisations import services as org_services

    return org_services.organisation_create(
        by=persona("operator"), name="Elsewhere Ltd", confirm_duplicates=True
    )


def _organisation(persona, name: str, tag: str, count: int) -> Organisation:
    from mycareer.organisations import services as org_services

    organisation = org_services.organisation_create(
        by=persona("operator"), name=name, tags=[tag], confirm_duplicates=True
    )
    slug = name.split()[0].lower()
    Contact.objects.bulk_create(
        [
            Contact(organisation=organisation, full_name=f"Person {n}", email=f"p{n}@{slug}.test")
            for n in range(count)
        ]
    )
    return organisation


def _queue(persona, cast, subject: str, filters: dict) -> Campaign:
    mailer = persona("mailer")
    campaign = services.campaign_create(
        sender=mailer,
        unit=cast["units"]["lubs"],
        purpose="events",
        subject=subject,
        body="Dear {{ first_name }},\n\nHello from the careers service.",
        recipient_filters=filters,
    )
    confirmed = len(services.campaign_recipients(campaign).included)
    return services.campaign_send(campaign=campaign, by=mailer, confirmed=confirmed)


def _finished(campaigns) -> bool:
    open_statuses = [Campaign.Status.QUEUED, Campaign.Status.SENDING]
    return not Campaign.objects.filter(pk__in=[c.pk for c in campaigns], status__in=open_statuses)


def _run_until_done(run: Harness, campaigns, *, kills_at=(), timeout=150.0) -> tuple[int, int]:
    """Let the workers send, with the watchdog's rounds; SIGKILL one at each progress mark.

    Returns the workers killed and the chains the watchdog restarted.
    """
    marks = list(kills_at)
    kills = restarts = 0
    deadline = time.monotonic() + timeout
    last_round = 0.0
    while not _finished(campaigns) and time.monotonic() < deadline:
        sent = OutboxMessage.objects.filter(campaign__in=campaigns, status="sent").count()
        if marks and sent >= marks[0]:
            marks.pop(0)
            run.kill(run.workers[0])
            kills += 1
            run.start_worker()
        if time.monotonic() - last_round > 1.0:
            restarts += len(campaign_watchdog.call())
            last_round = time.monotonic()
        time.sleep(0.05)
    assert _finished(campaigns), f"not finished in {timeout} s; see {run.log}"
    assert not marks, "every kill must land mid-campaign"
    return kills, restarts


def _report(scenario: str, run: Harness, campaigns, *, limit: int | None = None) -> dict:
    rows = OutboxMessage.objects.filter(campaign__in=campaigns)
    should_arrive = Counter(rows.exclude(email__in=run.smtp.refuse).values_list("email", flat=True))
    delivered = run.smtp.delivered
    figures = {
        "queued": rows.count(),
        "sent": rows.filter(status="sent").count(),
        "refused": rows.filter(status="failed").count(),
        "delivered": sum(delivered.values()),
        "duplicated": sum(max(0, delivered[a] - n) for a, n in should_arrive.items()),
        "missed": sum(max(0, n - delivered[a]) for a, n in should_arrive.items()),
        "unexpected": sum(n for a, n in delivered.items() if a not in should_arrive),
        "over_limit": sum(1 for n in delivered.values() if limit is not None and n > limit),
        "smtp_sessions": run.smtp.sessions,
    }
    print(
        f"\noutbox faults scenario={scenario} engine={connection.vendor} "
        + " ".join(f"{k}={v}" for k, v in figures.items())
    )
    return figures


def test_workers_killed_mid_send_lose_nobody_and_double_at_most_one_each(persona, cast, harness):
    _organisation(persona, "Killjoy Holdings", "Fault test", 600)
    run = harness()
    campaign = _queue(persona, cast, "Kill test", {"tags_all": ["Fault test"]})
    run.start_worker()
    kills, restarts = _run_until_done(run, [campaign], kills_at=(100, 250, 400))
    figures = _report("sigkill", run, [campaign])
    assert kills == 3 and 0 < restarts <= kills
    assert figures["missed"] == 0 and figures["unexpected"] == 0
    assert figures["duplicated"] <= kills
    assert figures["sent"] == 600


def test_a_mail_server_that_stalls_past_the_timeout_gets_each_message_once(persona, cast, harness):
    _organisation(persona, "Slowpoke Logistics", "Fault test", 60)
    run = harness(stalls=3, stall_seconds=3.0)
    campaign = _queue(persona, cast, "Stall test", {"tags_all": ["Fault test"]})
    run.start_worker()
    _kills, restarts = _run_until_done(run, [campaign])
    figures = _report("stall", run, [campaign])
    assert restarts == 0  # a slow chain is alive: the watchdog leaves it alone
    assert (figures["missed"], figures["duplicated"], figures["unexpected"]) == (0, 0, 0)
    assert figures["sent"] == 60
    stalled = OutboxMessage.objects.filter(campaign=campaign, attempts__gt=1)
    assert stalled.count() == 3  # each stalled message was tried again, later


def test_refused_and_deferred_recipients(persona, cast, harness):
    _organisation(persona, "Bouncy Castles", "Fault test", 80)
    refused = [f"p{n}@bouncy.test" for n in range(0, 80, 8)]
    deferred = [f"p{n}@bouncy.test" for n in range(4, 80, 8)]
    run = harness(refuse=refused, defer_once=deferred)
    campaign = _queue(persona, cast, "Refusal test", {"tags_all": ["Fault test"]})
    run.start_worker()
    _kills, restarts = _run_until_done(run, [campaign])
    assert restarts == 0
    figures = _report("refused-and-deferred", run, [campaign])
    assert (figures["missed"], figures["duplicated"], figures["unexpected"]) == (0, 0, 0)
    assert figures["refused"] == 10 and figures["sent"] == 70
    bounced = Contact.objects.filter(email__in=refused, email_bounced_at__isnull=False)
    assert bounced.count() == 10
    # Twenty refusals (ten for good, ten for now) did not cost twenty reconnections: one
    # conversation, and one for each later link that retried deferred ones.
    assert figures["smtp_sessions"] < figures["refused"]


def test_two_workers_and_two_overlapping_campaigns_within_the_limit(
    persona, cast, harness, settings
):
    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_LIMIT": 1}
    _organisation(persona, "Alpha Widgets", "Overlap A", 150)
    _organisation(persona, "Bravo Gadgets", "Overlap both", 150)
    _organisation(persona, "Charlie Gizmos", "Overlap B", 150)
    run = harness()
    first = _queue(persona, cast, "First", {"tags_any": ["Overlap A", "Overlap both"]})
    second = _queue(persona, cast, "Second", {"tags_any": ["Overlap B", "Overlap both"]})
    # Bravo's contacts were already on their way in the first: the second leaves them out.
    assert (first.messages.count(), second.messages.count()) == (300, 150)
    run.start_worker()
    run.start_worker()
    _kills, restarts = _run_until_done(run, [first, second])
    assert restarts == 0
    figures = _report("two-workers", run, [first, second], limit=1)
    assert (figures["missed"], figures["duplicated"], figures["unexpected"]) == (0, 0, 0)
    assert figures["over_limit"] == 0 and figures["delivered"] == 450
