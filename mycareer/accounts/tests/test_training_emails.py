"""Booking a training session sends one confirmation, through the worker and a real SMTP
server: when, where, the joining link of an online session, and a page that opens for
the person it went to."""

import datetime
import logging
import re

import pytest
from django.utils import timezone

from mycareer.accounts.models import TrainingRecord, TrainingSession
from mycareer.accounts.tests.factories import TrainingSessionFactory
from mycareer.core.tests.test_logging import fields_of, lines

SITE = "https://mycareer.example.ac.uk"
JOIN = "https://teams.example.ac.uk/careers/operator-training"


@pytest.fixture
def online(persona):
    """An ad-hoc online session whose joining link goes to those who book."""
    starts = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    return TrainingSessionFactory(
        kind=TrainingSession.Kind.AD_HOC,
        starts_at=starts + datetime.timedelta(days=5),
        place="Online (joining link sent on booking)",
        online_url=JOIN,
        trainer=persona("admin"),
    )


@pytest.mark.django_db(transaction=True)
def test_booking_training_emails_one_confirmation_whose_links_open_for_the_person(
    client, persona, settings, smtp_server, run_worker, caplog, online
):
    settings.SITE_URL = SITE
    sam = persona("untrained")
    client.force_login(sam)
    page = client.get(online.get_absolute_url()).text
    assert JOIN not in page  # the link goes to those who book
    booked = client.post(online.get_absolute_url(), {"do": "book"}, follow=True)
    assert "a confirmation is on its way by email" in booked.text
    client.post(online.get_absolute_url(), {"do": "book"})  # pressed again
    with caplog.at_level(logging.INFO):
        run_worker()
        run_worker()

    found = [m for m in smtp_server.wait_for(1) if m["To"] == sam.email]
    assert len(found) == 1, [m["Subject"] for m in smtp_server.messages()]
    message = found[0]
    starts = timezone.localtime(online.starts_at)
    assert message["Subject"] == (
        f"[MyCareer] Your place at Operator training on {starts:%-d %B %Y}"
    )
    assert message["Reply-To"] == persona("admin").email
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Dear Sam,")
    assert f"When:  {starts:%A %-d %B %Y, %H:%M}–12:00" in body
    assert "Where: Online (joining link sent on booking)" in body
    assert f"Join online: {JOIN}" in body
    [line] = [
        r for r in lines(caplog, "email.sent") if "accounts.training.booked" in r.getMessage()
    ]
    assert fields_of(line.getMessage())["kind"] == "accounts.training.booked"

    ours = [link for link in re.findall(r"https?://\S+", body) if link != JOIN]
    assert ours == [f"{SITE}{online.get_absolute_url()}"]
    for link in ours:
        response = client.get(link.removeprefix(SITE))
        assert response.status_code == 200, link
        assert "Your place: Booked" in response.text
        assert JOIN in response.text


@pytest.mark.django_db(transaction=True)
def test_a_place_cancelled_before_the_worker_runs_is_not_confirmed(
    persona, smtp_server, run_worker, online
):
    from mycareer.accounts import services

    sam = persona("untrained")
    record = services.training_book(session=online, user=sam, by=sam)
    services.training_cancel(record=record, by=sam)
    run_worker()
    assert not [m for m in smtp_server.messages() if m["To"] == sam.email]
    assert not TrainingRecord.objects.filter(user=sam, session=online).exists()


@pytest.mark.django_db
def test_the_demo_online_session_has_the_joining_link_its_place_promises(demo):
    session = TrainingSession.objects.get(place="Online (joining link sent on booking)")
    assert session.online_url.startswith("https://")
