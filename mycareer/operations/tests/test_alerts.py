"""Failed background tasks email the administrators, once per kind of task per hour.

The real worker runs a task that raises; the alert goes through the real SMTP server.
"""

import datetime

import pytest
import time_machine
from django.utils import timezone
from django_tasks import task

from mycareer.accounts.selectors import administrators
from mycareer.core.retry import email_task
from mycareer.operations.alerts import task_failure_alert
from mycareer.operations.models import TaskAlert

pytestmark = pytest.mark.django_db(transaction=True)


@task()
def broken_import(row: int) -> None:
    """Import the nightly file from the student record system."""
    raise ValueError(f"row {row}: the file ended half-way")


@task()
def other_broken_job() -> None:
    """Refresh the public events feed."""
    raise RuntimeError("the feed could not be written")


@email_task()
def unsendable() -> None:
    """Send a reminder that cannot be sent."""
    raise ValueError("a template that does not render")


def alerts(inbox) -> list:
    return [m for m in inbox.messages() if "A background task failed" in m["Subject"]]


def test_a_failed_task_emails_each_administrator_once_an_hour(
    cast, smtp_server, run_worker, caplog
):
    run_worker()  # anything the cast queued
    smtp_server.envelopes.clear()
    admins = administrators()
    assert admins, "the cast has an administrator"
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        broken_import.enqueue(1)
        broken_import.enqueue(2)
        run_worker()
        first = alerts(smtp_server)
        assert sorted(m["To"] for m in first) == sorted(a.email for a in admins)
        body = first[0].get_content()
        assert "Import the nightly file from the student record system." in body
        assert "ValueError: row 1: the file ended half-way" in body
        assert "/operations/status/" in body

        # More failures within the hour are counted, not emailed.
        clock.shift(datetime.timedelta(minutes=59))
        broken_import.enqueue(3)
        run_worker()
        assert len(alerts(smtp_server)) == len(admins)
        assert TaskAlert.objects.get(kind__endswith="broken_import").held_back == 2

        # Another kind is emailed at once.
        other_broken_job.enqueue()
        run_worker()
        assert len(alerts(smtp_server)) == 2 * len(admins)

        # After the hour, the next failure is emailed, saying how many were held back.
        clock.shift(datetime.timedelta(minutes=2))
        broken_import.enqueue(4)
        run_worker()
    later = alerts(smtp_server)[-1].get_content()
    assert len(alerts(smtp_server)) == 3 * len(admins)
    assert "row 4" in later and "failed 2 more times since the last email" in later
    assert "event=task.alert.held_back" in caplog.text


def test_an_email_task_given_up_alerts_once_not_twice(cast, smtp_server, run_worker):
    """It is given up at once (not a mail server fault) and raises: one alert, not two."""
    run_worker()
    smtp_server.envelopes.clear()
    unsendable.enqueue()
    run_worker()
    assert len(alerts(smtp_server)) == len(administrators())
    alert = TaskAlert.objects.get(kind__endswith="unsendable")
    assert alert.held_back == 0


def test_an_administrator_on_the_daily_digest_is_alerted_at_once(cast, mailoutbox, client):
    """The alert is held back for an hour at most: it must not wait for the digest."""
    from mycareer.accounts.models import NotificationMode, PendingNotification
    from mycareer.operations.alerts import send_task_failure_alert

    admins = administrators()
    for admin in admins:
        admin.notification_mode = NotificationMode.DIGEST
        admin.save(update_fields=["notification_mode"])
    sent = send_task_failure_alert.call(
        kind="imports.nightly",
        description="Import the nightly file",
        error="ValueError: row 3",
        held_back=0,
        stamp=timezone.now().isoformat(timespec="seconds"),
    )
    assert sent == len(admins)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(a.email for a in admins)
    assert not PendingNotification.objects.exists()
    client.force_login(admins[0])
    page = client.get("/me/profile/").content.decode()
    assert "Alerts that a background task failed always come as they happen" in page


def test_only_one_of_several_processes_emails_about_the_same_kind(cast):
    """The claim is in the database: a second process in the same hour holds back."""
    from mycareer.core.tests.concurrency import at_once

    outcomes, _ = at_once(
        [
            lambda: task_failure_alert(kind="mycareer.x.task", description="X", error="E")
            for _ in range(6)
        ]
    )
    assert sorted(outcomes) == [False] * 5 + [True]
    assert TaskAlert.objects.get(kind="mycareer.x.task").held_back == 5
