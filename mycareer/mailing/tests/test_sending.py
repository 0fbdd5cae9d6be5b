"""Sending through a real SMTP server, unsubscribe, and the outbox's crash safety."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from mycareer.mailing import services
from mycareer.mailing.models import Campaign, OutboxMessage
from mycareer.mailing.unsubscribe import make_token
from mycareer.organisations.models import EmailOptOut

@pytest.mark.django_db(transaction=True)
def test_messages_arrive_with_merge_fields_both_parts_and_unsubscribe_headers(
    tagged, make_campaign, send_now, smtp_server, run_worker, settings
):
    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_RATE": 0}
    campaign = make_campaign(body="Dear {{ first_name }},\n\nCome to our fair, {{ organisation }}!\n\n<script>x()</script>")
    send_now(campaign)
    run_worker()
    messages = [m for m in smtp_server.wait_for(6) if m["X-MyCareer-Campaign"] == str(campaign.pk)]
    assert len(messages) == 6
    by_to = {m["To"]: m for m in messages}
    message = by_to["p0@aurora.example.com"]
    assert message["Subject"] == "Fair for Aurora Optics"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Dear Person0," in text and "Come to our fair, Aurora Optics!" in text
    assert "<p>Dear Person0,</p>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html  # shown as typed, never run
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/email/unsubscribe/" in message["List-Unsubscribe"]
    assert "mailto:" in message["List-Unsubscribe"]
    row = OutboxMessage.objects.get(campaign=campaign, email="p0@aurora.example.com")
    assert message["Message-ID"] == row.message_id
    assert row.status == OutboxMessage.Status.SENT and row.sent_at
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_a_hard_bounce_marks_the_address(
    tagged, make_campaign, send_now, smtp_server, run_worker, settings
):
    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_RATE": 0}
    smtp_server.refuse = {"p1@aurora.example.com": "550 5.1.1 No such mailbox"}
    campaign = make_campaign()
    send_now(campaign)
    run_worker()
    row = OutboxMessage.objects.get(campaign=campaign, email="p1@aurora.example.com")
    assert row.status == OutboxMessage.Status.FAILED
    assert row.error.startswith("550")
    assert row.contact.email_bounced_at is not None
    assert OutboxMessage.objects.filter(campaign=campaign, status="sent").count() == 5


@pytest.mark.django_db
def test_unsubscribe_get_changes_nothing_and_post_opts_out(client, tagged):
    contact = tagged[0].contacts.first()
    url = reverse("mailing:unsubscribe", args=[make_token(contact.pk, "events")])
    page = client.get(url)
    assert page.status_code == 200
    assert not EmailOptOut.objects.filter(contact=contact).exists()
    done = client.post(url)
    assert done.status_code == 200
    opt_out = EmailOptOut.objects.get(contact=contact)
    assert (opt_out.purpose, opt_out.method) == ("events", "link")


@pytest.mark.django_db
def test_a_forged_unsubscribe_token_is_refused(client, tagged):
    contact = tagged[0].contacts.first()
    token = make_token(contact.pk, "events")
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.post(reverse("mailing:unsubscribe", args=[forged])).status_code == 400
    assert not EmailOptOut.objects.filter(contact=contact).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("untrained", 403),
        ("viewer", 403),
        ("operator", 403),
        ("student", 403),
        ("employer@demo-employer.com", 403),
        ("mailer", 200),
        ("admin", 200),
    ],
)
def test_the_send_pages_are_refused_to_everyone_but_trained_senders(client, persona, name, status):
    client.force_login(persona(name))
    assert client.get(reverse("mailing:campaign_create")).status_code == status
    assert client.get(reverse("mailing:campaigns")).status_code == status


@pytest.mark.django_db
def test_refusal_says_why(client, persona):
    client.force_login(persona("operator"))
    body = client.get(reverse("mailing:campaign_create")).content.decode()
    assert "to send bulk email to employer contacts you need the Bulk mailer level" in body


def _bulk_contacts(persona, count):
    from mycareer.organisations import services as org_services
    from mycareer.organisations.models import Contact

    org = org_services.organisation_create(
        by=persona("operator"), name="Crash Test Ltd", tags=["Crash test"], confirm_duplicates=True
    )
    Contact.objects.bulk_create(
        [
            Contact(organisation=org, full_name=f"Person {n}", email=f"p{n}@crash.example.com")
            for n in range(count)
        ]
    )
    return org


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_mid_campaign_loses_nobody_and_doubles_at_most_one_per_kill(
    persona, cast, smtp_server
):
    from mycareer.mailing.sending import reset_stale
    from mycareer.mailing.tasks import send_campaign

    recipients = 2000
    _bulk_contacts(persona, recipients)
    campaign = services.campaign_create(
        sender=persona("mailer"),
        unit=cast["units"]["lubs"],
        purpose="events",
        subject="Crash",
        body="Hello {{ first_name }}",
        recipient_query="tags_all=Crash+test",
    )
    services.campaign_send(campaign=campaign, by=persona("mailer"))
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(settings.EMAIL_PORT),
        "BULK_EMAIL_RATE": "0",
        "DEBUG": "1",
    }
    root = Path(settings.BASE_DIR)
    command = [
        sys.executable,
        "manage.py",
        "db_worker",
        "--no-reload",
        "--no-startup-delay",
        "--interval",
        "0.2",
    ]

    def sent() -> int:
        return OutboxMessage.objects.filter(campaign=campaign, status="sent").count()

    kills = 0
    while kills < 4:
        worker = subprocess.Popen(
            command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        before, deadline = sent(), time.monotonic() + 60
        # Kill it once it is sending: some progress since it started, and not finished.
        while sent() < before + 100 and time.monotonic() < deadline:
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills += 1
        # What the watchdog does a minute later: free the dead worker's rows, queue again.
        reset_stale(campaign.pk, older_than=datetime.timedelta(0))
        send_campaign.enqueue(campaign.pk)
    assert sent() < recipients, "every kill must have landed mid-campaign"
    worker = subprocess.Popen(
        command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 180
        while sent() < recipients and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert OutboxMessage.objects.filter(campaign=campaign, status="sent").count() == recipients
    received = {}
    for message in smtp_server.wait_for(recipients):
        if message["Subject"] == "Crash":
            received[message["To"]] = received.get(message["To"], 0) + 1
    assert len(received) == recipients  # nobody missed
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates <= kills


@pytest.mark.django_db(transaction=True)
def test_the_cross_promotion_block_arrives_in_both_parts(
    tagged, filters, make_campaign, send_now, smtp_server, run_worker, settings
):
    from mycareer.events.models import Event
    from mycareer.mailing.crosspromotion import suggested_event_ids, upcoming_events

    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_RATE": 0}
    event = (
        Event.objects.filter(
            status="published",
            starts_at__gt=timezone.now(),
            audience__open_to_employers=True,
        )
        .order_by("starts_at")
        .first()
    )
    event.organisations.add(tagged[0])
    campaign = make_campaign(promoted_events=[event.pk])
    assert event.pk in suggested_event_ids(campaign, upcoming_events())
    send_now(campaign)
    run_worker()
    message = next(
        m for m in smtp_server.wait_for(6) if m["X-MyCareer-Campaign"] == str(campaign.pk)
    )
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Coming up at the university" in text and event.title in text
    assert event.title in html and event.get_public_url() in html and event.get_public_url() in text
