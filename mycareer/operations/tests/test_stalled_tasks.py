"""A worker killed in the middle of a task (SIGKILL, a machine lost) never marks it
finished: django-tasks-db leaves it "running" for ever. A periodic job marks a task
running longer than TASK_RUNNING_LIMIT_MINUTES as failed, logs it, alerts the
administrators and the status page lists it."""

import datetime
import logging
import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from mycareer.mailing.tests.test_outbox_faults import _database_url
from mycareer.operations.jobs import fail_stalled_tasks
from mycareer.operations.models import TaskAlert
from mycareer.operations.tests.slow_task import wait_to_be_killed

pytestmark = pytest.mark.django_db(transaction=True)


def _worker(log) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": _database_url(), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
         "--interval", "0.2", "--worker-id", "doomed-1"],
        cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_a_task_whose_worker_was_killed_is_marked_failed_after_the_limit(
    tmp_path, client, persona, caplog
):
    flag = tmp_path / "started"
    result = wait_to_be_killed.enqueue(str(flag))
    worker = _worker((tmp_path / "worker.log").open("a"))
    try:
        deadline = time.monotonic() + 120
        while not flag.exists():
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker never started the task"
            time.sleep(0.1)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()
    stuck = DBTaskResult.objects.get(pk=result.id)
    assert stuck.status == "RUNNING"  # what the worker left: nobody will finish it

    # Within the limit it may still be working (a long import): left alone.
    assert fail_stalled_tasks() == 0
    assert DBTaskResult.objects.get(pk=result.id).status == "RUNNING"

    later = stuck.started_at + datetime.timedelta(
        minutes=settings.MYCAREER["TASK_RUNNING_LIMIT_MINUTES"], seconds=1
    )
    with caplog.at_level(logging.WARNING, logger="mycareer.operations.jobs"):
        assert fail_stalled_tasks(now=later) == 1
    failed = DBTaskResult.objects.get(pk=result.id)
    assert failed.status == "FAILED" and failed.finished_at == later
    assert "doomed-1" in failed.traceback
    line = next(r.getMessage() for r in caplog.records if "task.stalled" in r.getMessage())
    assert f"id={result.id}" in line and "worker=doomed-1" in line
    assert TaskAlert.objects.filter(kind=wait_to_be_killed.module_path).exists()
    assert fail_stalled_tasks(now=later) == 0  # once

    client.force_login(persona("admin"))
    page = client.get(reverse("operations:status")).content.decode()
    assert "mycareer.operations.tests.slow_task.wait_to_be_killed" in page
    assert "its worker stopped" in page
