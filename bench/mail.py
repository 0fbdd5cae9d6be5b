"""Bulk email: a campaign to about 10,000 contacts, sent by the real worker to a local sink.

The path is the production one: the mailer's `campaign_send` builds the recipient
list and fills the outbox; `manage.py db_worker` (a separate process, as on a server)
picks up the task and sends through Django's SMTP backend to an aiosmtpd server on
loopback that accepts everything. BULK_EMAIL_RATE=0 lifts the site's throttle, so the
figure is what the outbox can do, not what the throttle allows.

Needs Django set up (it runs inside the harness's per-database process).
"""

import subprocess
import sys
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller

MAILING_TAG = "Bench mailing list"


class Sink:
    """An SMTP server that accepts every message and notes when each arrived."""

    def __init__(self):
        self.times: list[float] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            self.times.append(time.perf_counter())
        return "250 Message accepted for delivery"


def start_sink(port: int) -> tuple[Controller, Sink]:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, sink


def tag_recipients(wanted: int) -> int:
    """Tag enough active benchmark organisations to give `wanted` contacts; returns contacts."""
    from django.db.models import Count
    from taggit.models import Tag

    from mycareer.organisations.models import Organisation, TaggedOrganisation

    tag, _ = Tag.objects.get_or_create(name=MAILING_TAG, defaults={"slug": "bench-mailing-list"})
    chosen, contacts = [], 0
    rows = (
        Organisation.objects.filter(
            status=Organisation.Status.ACTIVE,
            merged_into__isnull=True,
            domain__endswith=".example",
        )
        .annotate(n=Count("contacts"))
        .filter(n__gt=0)
        .order_by("pk")
        .values_list("pk", "n")
    )
    for pk, n in rows.iterator(chunk_size=2000):
        chosen.append(pk)
        contacts += n
        if contacts >= wanted:
            break
    TaggedOrganisation.objects.bulk_create(
        [TaggedOrganisation(content_object_id=pk, tag=tag) for pk in chosen],
        batch_size=1000,
        ignore_conflicts=True,
    )
    return contacts


def run_mail_benchmark(
    *, project: Path, root: Path, env: dict, smtp_port: int, recipients: int
) -> dict:
    """Queue a campaign, let the worker send it, time the sink; returns the figures."""
    from django.db import connection

    from mycareer.accounts.models import User
    from mycareer.mailing import services
    from mycareer.mailing.models import Campaign

    tagged = tag_recipients(recipients)
    mailer = User.objects.get(email="mailer@demo.ac.uk")
    unit = mailer.memberships.first().unit
    campaign = services.campaign_create(
        sender=mailer,
        unit=unit,
        purpose=Campaign.Purpose.EVENTS,
        subject="Meet our students at the spring careers fair",
        body="Dear colleague,\n\nOur spring careers fair is open for bookings.",
        recipient_filters={"tags_all": [MAILING_TAG]},
    )
    controller, sink = start_sink(smtp_port)
    log = open(root / "worker.log", "w")  # noqa: SIM115 (closed below, after the worker)
    # Tasks the demo story queued (notification emails) go first, so the sink then
    # counts only the campaign.
    subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        check=False,
    )
    with sink.lock:
        sink.times.clear()
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2"],
        cwd=project,
        env=env | {"BULK_EMAIL_RATE": "0"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(3)  # the worker's own start-up is not part of "send to last accepted"
        started = time.perf_counter()
        confirmed = len(services.campaign_recipients(campaign).included)
        services.campaign_send(campaign=campaign, by=mailer, confirmed=confirmed)
        queued = time.perf_counter()
        expected = campaign.messages.count()
        deadline = started + max(120.0, expected / 20)
        while time.perf_counter() < deadline:
            with sink.lock:
                if len(sink.times) >= expected:
                    break
            if worker.poll() is not None:
                break
            time.sleep(0.2)
        with sink.lock:
            times = list(sink.times)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
        controller.stop()
        connection.close()
    received = len(times)
    result = {
        "recipients_tagged": tagged,
        "queued": expected,
        "received": received,
        "queue_seconds": queued - started,
        "note": "" if received >= expected else f"only {received} of {expected} arrived",
    }
    if received >= 2:
        # Sustained rate: between the first and the last message accepted.
        result["messages_per_second"] = (received - 1) / (times[-1] - times[0])
        result["send_to_last_seconds"] = times[-1] - started
        result["send_to_first_seconds"] = times[0] - started
    return result
