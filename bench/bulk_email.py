"""Bulk email throughput: messages per second from the outbox to a local SMTP sink.

    .venv/bin/python -m bench.bulk_email [RECIPIENTS]

Builds a throwaway SQLite database, 10,000 contacts (by default) at tagged
organisations, one campaign to them, and sends it through the real outbox code with
the site's throttle off, to an SMTP server on loopback that accepts everything. Prints
the sustained rate and the time from "send" to the last message accepted.
"""

import os
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Sink:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(recipients: int) -> None:
    from aiosmtpd.controller import Controller

    workdir = tempfile.mkdtemp(prefix="mycareer-bench-")
    port = free_port()
    os.environ.update(
        {
            "MYCAREER_VAR_DIR": workdir,
            "DJANGO_SETTINGS_MODULE": "mycareer.settings",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port),
            "BULK_EMAIL_RATE": "0",
            "BULK_EMAIL_LIMIT": "1000",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)

    from mycareer.accounts.models import Unit, User
    from mycareer.mailing import services
    from mycareer.mailing.models import OutboxMessage
    from mycareer.mailing.sending import send_campaign_batch
    from mycareer.organisations import services as org_services
    from mycareer.organisations.models import Contact

    operator = User.objects.get(email="operator@demo.ac.uk")
    mailer = User.objects.get(email="mailer@demo.ac.uk")
    per_org = 50
    for start in range(0, recipients, per_org):
        org = org_services.organisation_create(
            by=operator,
            name=f"Bench Employer {start // per_org:05d}",
            tags=["Bench"],
            confirm_duplicates=True,
        )
        Contact.objects.bulk_create(
            [
                Contact(organisation=org, full_name=f"Person {n}", email=f"p{n}@bench.example.com")
                for n in range(start, min(start + per_org, recipients))
            ]
        )
    campaign = services.campaign_create(
        sender=mailer,
        unit=Unit.objects.get(code="lubs"),
        purpose="events",
        subject="Benchmark",
        body="Dear {{ first_name }}, hello from {{ organisation }}.",
        recipient_filters={"tags_all": ["Bench"]},
    )
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        confirmed = len(services.campaign_recipients(campaign).included)
        started = time.perf_counter()
        services.campaign_send(campaign=campaign, by=mailer, confirmed=confirmed)
        queued = time.perf_counter()
        while True:
            result = send_campaign_batch(campaign.pk, time_budget=600, rate=0)
            if result["done"]:
                break
        finished = time.perf_counter()
    finally:
        controller.stop()
    sent = OutboxMessage.objects.filter(campaign=campaign, status="sent").count()
    sending = finished - queued
    print(f"recipients queued:          {sent}")
    print(f"messages accepted by sink:  {sink.count}")
    print(f"building the recipient list and outbox: {queued - started:.1f} s")
    print(f"sending:                    {sending:.1f} s")
    print(f"sustained rate:             {sent / sending:.0f} messages/s (target: 200)")
    print(f"send to last accepted:      {finished - started:.1f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
