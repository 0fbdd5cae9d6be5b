"""Transactional emails wait for an unreachable mail server instead of failing for good.

A real SMTP server (the `smtp_server` fixture) that is first unreachable and then back,
and the real task worker: a waiting-list offer and a moderation decision are tried,
retried later (not at once, not in a loop), delivered once the server is back; and with
the server down for good, they end on the administrators' failed emails page, from
which trying again delivers them.
"""

import datetime
import logging
import socket

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mycareer.bookings import services as booking_services
from mycareer.bookings.models import WaitlistEntry
from mycareer.bookings.tests.factories import make_event
from mycareer.core.models import FailedTask
from mycareer.core.retry import max_attempts, retry_delay
from mycareer.vacancies import services as vacancy_services
from mycareer.vacancies.tests.factories import MembershipFactory, vacancy_fields

pytestmark = pytest.mark.django_db(transaction=True)


def closed_port() -> int:
    """A port on loopback where nothing listens: the mail server is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mail_server_down(smtp_server, settings, run_worker):
    """Whatever was queued before goes first; then the server goes down until brought back."""
    run_worker()
    smtp_server.envelopes.clear()
    up = settings.EMAIL_PORT
    settings.EMAIL_PORT = closed_port()
    settings.EMAIL_TIMEOUT = 2

    def bring_back():
        settings.EMAIL_PORT = up

    return bring_back


def waiting_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(status="READY").order_by("run_after"))


def make_offer_and_decision(persona):
    """A waiting-list offer to Oliver and a rejected vacancy: two emails to send."""
    tom = persona("operator")
    aisha, oliver = persona("student"), persona("student2")
    event = make_event(organiser=tom, capacity=1, title="Offshore wind careers")
    booking_services.booking_settings_update(event=event, by=tom, promotion="offer", offer_hours=6)
    booking = booking_services.booking_create(event=event, student=aisha, by=aisha)
    booking_services.booking_create(event=event, student=oliver, by=oliver)
    booking_services.booking_cancel(booking=booking, by=aisha)
    assert WaitlistEntry.objects.get(event=event, student=oliver).status == "offered"
    employer = persona("employer")
    brightwave = MembershipFactory(user=employer, organisation__name="Brightwave Digital")
    vacancy = vacancy_services.vacancy_create(
        organisation=brightwave.organisation, by=employer, submit=True, **vacancy_fields()
    )
    vacancy_services.vacancy_reject(vacancy=vacancy, by=persona("admin"), reason="Needs a salary")
    return oliver, vacancy


def subjects(inbox) -> list[str]:
    return sorted(str(m["Subject"]).strip() for m in inbox.messages())


def test_emails_are_retried_later_and_delivered_when_the_server_is_back(
    cast, persona, smtp_server, mail_server_down, run_worker, caplog
):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        oliver, vacancy = make_offer_and_decision(persona)
        with caplog.at_level(logging.WARNING, logger="mycareer.core.retry"):
            run_worker()
        assert smtp_server.messages() == []
        assert "event=task.retry" in caplog.text and "attempt=1" in caplog.text
        # Each task waits a minute before its next try: not a tight loop.
        retries = [t for t in waiting_tasks() if t.args_kwargs["kwargs"].get("_attempt") == 2]
        assert {t.task_path.rsplit(".", 1)[-1] for t in retries} >= {
            "send_offer",
            "send_vacancy_decision_email",
        }
        assert all(t.run_after == start + retry_delay(1) for t in retries)
        run_worker()  # too early: nothing is tried
        assert all(
            t.status == "READY" for t in DBTaskResult.objects.filter(pk__in=[t.pk for t in retries])
        )

        mail_server_down()  # the server is back
        clock.shift(retry_delay(1) + datetime.timedelta(seconds=1))
        run_worker()
    got = subjects(smtp_server)
    assert sum("[MyCareer] A place is yours if you want it: Offshore" in s for s in got) == 1
    assert sum(f"[MyCareer] Your vacancy “{vacancy.title}” was not" in s for s in got) == 1
    offer = next(m for m in smtp_server.messages() if "A place is yours" in m["Subject"])
    assert offer["To"] == oliver.email
    assert not FailedTask.objects.filter(
        task_path__in=[
            "mycareer.bookings.tasks.send_offer",
            "mycareer.vacancies.tasks.send_vacancy_decision_email",
        ]
    ).exists()


def test_after_the_last_try_an_administrator_sees_the_failure_and_tries_again(
    cast, persona, smtp_server, mail_server_down, run_worker, client
):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        oliver, _ = make_offer_and_decision(persona)
        for attempt in range(1, max_attempts() + 1):
            run_worker()
            clock.shift(retry_delay(attempt) + datetime.timedelta(seconds=1))
        run_worker()
    assert smtp_server.messages() == []
    failed = FailedTask.objects.get(task_path__endswith="send_offer")
    assert failed.attempts == max_attempts()
    assert "ConnectionRefusedError" in failed.error and "Connection refused" in failed.error
    assert failed.recipients == oliver.email

    client.force_login(persona("admin"))
    page = client.get(reverse("accounts:failed_tasks")).content.decode()
    assert "Offer a freed place to the next person waiting" in page
    assert oliver.email in page

    mail_server_down()  # back
    response = client.post(reverse("accounts:failed_tasks"), {"task": failed.pk})
    assert response.status_code == 302
    run_worker()
    assert [m["To"] for m in smtp_server.messages() if "A place is yours" in m["Subject"]] == [
        oliver.email
    ]
    failed.refresh_from_db()
    assert failed.status == FailedTask.Status.RETRIED


def test_a_retry_does_not_send_again_what_an_earlier_try_sent(cast, persona, smtp_server, settings):
    """A list half sent when the server failed: the next run sends only the rest, even
    where the task's own record of who was told had not been written yet."""
    from mycareer.bookings.models import EmployerReport
    from mycareer.bookings.tasks import send_employer_report
    from mycareer.core.models import SentEmail
    from mycareer.organisations.tests.factories import ContactFactory

    event = make_event(organiser=persona("operator"), title="Offshore wind careers")
    first, second = ContactFactory.create_batch(2)
    report = EmployerReport.objects.create(event=event, sent_by=persona("operator"))
    report.contacts.add(first, second)
    # The first run reached the first contact, then the mail server failed.
    SentEmail.objects.create(
        batch=f"bookings.employer_report:{report.pk}", recipient=first.email.lower()
    )
    send_employer_report.call(report.pk)
    assert [m["To"] for m in smtp_server.messages()] == [second.email]


@pytest.mark.django_db
def test_the_failed_emails_page_costs_few_queries(client, persona, django_assert_max_num_queries):
    admin = persona("admin")
    for n in range(30):
        FailedTask.objects.create(
            task_path="mycareer.bookings.tasks.send_offer",
            description="Offer a freed place to the next person waiting",
            args=[n],
            recipients=f"student{n}@example.ac.uk",
            attempts=5,
            error="ConnectionRefusedError: [Errno 111] Connection refused",
            retried_by=admin if n % 2 else None,
            status=FailedTask.Status.RETRIED if n % 2 else FailedTask.Status.FAILED,
        )
    client.force_login(admin)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("accounts:failed_tasks"))
    assert response.content.decode().count("@example.ac.uk") >= 30
