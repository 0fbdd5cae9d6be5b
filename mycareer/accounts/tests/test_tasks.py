import datetime

import pytest
from django.utils import timezone

from mycareer.accounts import services
from mycareer.accounts.models import TrainingCourse
from mycareer.accounts.tasks import send_training_expiry_reminders


@pytest.mark.django_db(transaction=True)
def test_daily_reminder_really_emails_people_whose_training_expires_soon(
    cast, persona, smtp_server, run_worker
):
    result = send_training_expiry_reminders.enqueue()
    run_worker()
    result.refresh()
    assert result.return_value == 1
    # The worker also runs whatever else the demo story queued; pick out the reminders.
    messages = [m for m in smtp_server.wait_for(1) if "is valid until the end of" in m["Subject"]]
    assert len(messages) == 1
    message = messages[0]
    assert message["To"] == "expiring@demo.ac.uk"
    assert "is valid until the end of" in message["Subject"]
    assert "/training/" in message.get_content()
    # Sent once: the next day's run sends nothing again.
    again = send_training_expiry_reminders.enqueue()
    run_worker()
    again.refresh()
    assert again.return_value == 0


@pytest.mark.django_db(transaction=True)
def test_no_reminder_once_training_is_renewed(cast, persona, smtp_server, run_worker):
    course = TrainingCourse.objects.get(code=TrainingCourse.OPERATOR)
    services.training_completion_record(
        user=persona("expiring"), course=course, completed_on=timezone.localdate(), by=cast["admin"]
    )
    result = send_training_expiry_reminders.enqueue()
    run_worker()
    result.refresh()
    assert result.return_value == 0
    assert [m for m in smtp_server.messages() if "is valid until the end of" in m["Subject"]] == []


@pytest.mark.django_db
def test_scheduler_enqueues_each_daily_job_once_a_day(cast, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from mycareer.core.scheduler import enqueue_due_jobs

    morning = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(9)))
    with django_capture_on_commit_callbacks(execute=True):
        first = enqueue_due_jobs(now=morning)
        second = enqueue_due_jobs(now=morning + datetime.timedelta(hours=1))
    assert "training-expiry-reminders" in first
    assert "training-expiry-reminders" not in second
    assert (
        DBTaskResult.objects.filter(task_path__endswith="send_training_expiry_reminders").count()
        == 1
    )
    early = morning.replace(hour=3) + datetime.timedelta(days=1)
    assert "training-expiry-reminders" not in enqueue_due_jobs(now=early)
