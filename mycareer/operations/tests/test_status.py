"""The administrators' status page: what runs, what failed, the outbox, the last backup."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mycareer.core.models import FailedTask, ScheduledRun
from mycareer.operations.jobs import heartbeat
from mycareer.operations.models import Backup, Heartbeat

pytestmark = pytest.mark.django_db


def failed_result(path: str, error: str) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status="FAILED",
        args_kwargs={"args": [], "kwargs": {}},
        task_path=path,
        backend_name="default",
        queue_name="default",
        run_after=now,
        started_at=now,
        finished_at=now,
        exception_class_path="builtins.ValueError",
        traceback=f"Traceback (most recent call last):\n  ...\nValueError: {error}\n",
    )


def test_it_shows_work_workers_jobs_and_backups(client, persona):
    failed_result("mycareer.events.tasks.send_opening_request_emails", "row 7 is broken")
    FailedTask.objects.create(
        task_path="mycareer.bookings.tasks.send_offer",
        description="Offer a freed place",
        attempts=5,
        error="ConnectionRefusedError",
    )
    heartbeat.call()
    heartbeat.enqueue()  # queued to run now
    heartbeat.using(run_after=timezone.now() + datetime.timedelta(hours=1)).enqueue()
    ScheduledRun.objects.create(job="heartbeat@0001", day=timezone.localdate())
    Backup.objects.create(
        status=Backup.Status.SUCCEEDED,
        path="/var/backups/mycareer-20261201T020000Z.sqlite3",
        size_bytes=3 * 1024 * 1024,
        finished_at=timezone.now(),
    )
    client.force_login(persona("admin"))
    page = client.get(reverse("operations:status")).content.decode()
    assert "Workers, scheduler and backups are all running." in page
    assert "Queued to run now</dt><dd>1 (the oldest since" in page
    assert "Waiting to run later</dt><dd>1</dd>" in page
    assert "ValueError: row 7 is broken" in page
    assert "mycareer.events.tasks.send_opening_request_emails" in page
    assert "Emails given up after retries</dt><dd>1" in page
    assert Heartbeat.objects.get().worker in page
    assert "3.0\xa0MB" in page
    # Every scheduled job has a row, with its outcome.
    assert "backup" in page and "heartbeat" in page and "campaign-watchdog" in page


def test_it_names_what_needs_attention(client, persona):
    Heartbeat.objects.create(worker="web1:42", beat_at=timezone.now() - datetime.timedelta(hours=1))
    Backup.objects.create(status=Backup.Status.FAILED, error="BackupError: pg_dump failed")
    client.force_login(persona("admin"))
    page = client.get(reverse("operations:status")).content.decode()
    assert "Needs attention" in page
    assert "No scheduler has queued any work in the last five minutes." in page
    assert "No task worker has run the heartbeat in the last five minutes." in page
    assert "The last backup failed." in page
    assert "(silent)" in page


def test_it_costs_the_same_few_queries_however_much_work_was_done(
    client, persona, django_assert_max_num_queries
):
    for n in range(40):
        failed_result(f"mycareer.x.task{n}", f"error {n}")
        Heartbeat.objects.create(worker=f"host:{n}")
        Backup.objects.create(status=Backup.Status.SUCCEEDED, path=f"/b/{n}")
    client.force_login(persona("admin"))
    with django_assert_max_num_queries(40):
        response = client.get(reverse("operations:status"))
    assert response.status_code == 200


def test_people_who_do_not_administer_are_refused(client, persona):
    for name in ("operator", "viewer", "student"):
        client.force_login(persona(name))
        assert client.get(reverse("operations:status")).status_code == 403


def test_with_tasks_in_redis_it_does_not_count_the_unused_task_table(client, persona, settings):
    failed_result("mycareer.events.tasks.send_opening_request_emails", "row 7 is broken")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    client.force_login(persona("admin"))
    page = client.get(reverse("operations:status")).content.decode()
    assert "Tasks are kept in Redis on this site" in page
    assert "Queued to run now" not in page and "row 7 is broken" not in page
