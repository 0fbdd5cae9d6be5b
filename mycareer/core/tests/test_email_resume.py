"""A task that emails several people, stopped or failing half-way, resumes without
sending anyone a second copy: the real task worker, a real SMTP server, and each
recipient's "sent" marker (core.mail.SentEmail) written as the server accepts them.
"""

import collections
import datetime
import signal
import threading

import pytest
import time_machine
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mycareer.accounts.models import NotificationMode, User
from mycareer.core.models import SentEmail
from mycareer.core.retry import retry_delay
from mycareer.usergroup import services as usergroup_services
from mycareer.usergroup.models import Announcement
from mycareer.usergroup.selectors import announcement_recipients

pytestmark = pytest.mark.django_db(transaction=True)

SUBJECT = "Version 2.2 of the usage policy"


def announce(persona) -> Announcement:
    return usergroup_services.announcement_publish(
        by=persona("admin"),
        kind="policy",
        title="Version 2.2 of the usage policy",
        body="Section 2.3 now covers key accounts shared between faculties.",
        email=True,
        confirmed=len(announcement_recipients()),
    )


def received(smtp_server) -> collections.Counter:
    return collections.Counter(
        str(m["To"]) for m in smtp_server.messages() if str(m["Subject"]).endswith(SUBJECT)
    )


def emailed_now() -> set[str]:
    """Active staff who take their emails as they happen (digest people get one item)."""
    return set(
        User.objects.filter(kind=User.Kind.STAFF, is_active=True)
        .exclude(email="")
        .exclude(notification_mode=NotificationMode.DIGEST)
        .values_list("email", flat=True)
    )


@pytest.fixture
def quiet_inbox(smtp_server, run_worker):
    """The demo story's own emails go first."""
    run_worker()
    smtp_server.envelopes.clear()
    return smtp_server


def stop_the_worker_at_message(inbox, number: int) -> None:
    """When message `number` arrives, stop the worker as an operator would (Ctrl+C, then
    SIGTERM: the second signal ends the task at once), before the server answers, so that
    message is not delivered."""
    seen = []
    handle_data = inbox.handle_DATA

    async def stopping(server, session, envelope):
        seen.append(envelope)
        if len(seen) == number:
            main = threading.main_thread().ident
            signal.pthread_kill(main, signal.SIGINT)
            signal.pthread_kill(main, signal.SIGTERM)
            return "451 4.3.0 Try again later"
        return await handle_data(server, session, envelope)

    inbox.handle_DATA = stopping


def test_an_announcement_stopped_half_way_reaches_everyone_once(persona, quiet_inbox, run_worker):
    people = emailed_now()
    assert len(people) >= 5
    stop_the_worker_at_message(quiet_inbox, 3)
    announcement = announce(persona)

    run_worker()  # stopped at the third person

    assert sum(received(quiet_inbox).values()) == 2
    assert SentEmail.objects.filter(batch=f"usergroup.announcement:{announcement.pk}").count() >= 2
    queued_again = DBTaskResult.objects.filter(
        task_path="mycareer.usergroup.tasks.email_announcement", status="READY"
    )
    assert queued_again.count() == 1

    quiet_inbox.handle_DATA = type(quiet_inbox).handle_DATA.__get__(quiet_inbox)
    run_worker()  # the next worker carries on

    got = received(quiet_inbox)
    assert set(got) == people
    assert set(got.values()) == {1}
    announcement.refresh_from_db()
    assert announcement.emailed_at is not None


def test_an_announcement_failing_half_way_is_retried_and_reaches_everyone_once(
    persona, quiet_inbox, run_worker, settings
):
    people = sorted(emailed_now())
    third = people[2]
    quiet_inbox.refuse[third] = "451 4.2.0 Mailbox busy, try later"
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        announce(persona)
        run_worker()
        assert third not in received(quiet_inbox)
        sent_before_retry = sum(received(quiet_inbox).values())
        assert 0 < sent_before_retry < len(people)

        quiet_inbox.refuse.clear()
        clock.shift(retry_delay(1) + datetime.timedelta(seconds=1))
        run_worker()

    got = received(quiet_inbox)
    assert set(got) == set(people)
    assert set(got.values()) == {1}
