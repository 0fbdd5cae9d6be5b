"""One way to log: structured lines, and a line with start, outcome and duration for every
background job (the task worker, the scheduler, imports, failing tasks)."""

import json
import logging
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django_tasks import task

from mycareer.core.logs import (
    JsonFormatter,
    KeyValueFormatter,
    format_event,
    log_event,
    logged_job,
)

ROOT = Path(__file__).resolve().parents[3]


def fields_of(message: str) -> dict[str, str]:
    """A key=value line back as its fields (the format promises shlex can split it)."""
    return dict(part.split("=", 1) for part in shlex.split(message))


def lines(caplog, event: str, *, task: str = "") -> list[logging.LogRecord]:
    """The records of one event (of one task's, for task lines): the demo story queues
    tasks of its own, which the worker runs too."""
    return [
        r
        for r in caplog.records
        if r.getMessage().startswith(f"event={event} ")
        and (not task or f" task={task} " in r.getMessage())
    ]


@task()
def always_fails(number: int) -> None:
    """A task that fails, as a bug would make one."""
    raise LookupError(f"no such thing as {number}")


def test_a_line_splits_back_into_its_fields_whatever_the_values():
    line = format_event("x.done", who=7, text='She said "hi"\nthen left', empty="", none=None)
    assert "\n" not in line
    assert fields_of(line) == {
        "event": "x.done",
        "who": "7",
        "text": 'She said "hi"\\nthen left',
        "empty": "",
        "none": "",
    }


def test_both_formats_carry_the_event_and_its_fields(caplog):
    logger = logging.getLogger("mycareer.tests.formats")
    with caplog.at_level(logging.INFO, logger="mycareer.tests.formats"):
        log_event(logger, "demo.happened", organisation=12, reason="two words")
        logging.getLogger("mycareer.tests.formats").warning("plain %s", "text")
    structured, plain = caplog.records[-2:]

    text = KeyValueFormatter().format(structured)
    assert " level=INFO logger=mycareer.tests.formats event=demo.happened " in text
    assert text.endswith('organisation=12 reason="two words"')
    assert KeyValueFormatter().format(plain).endswith('message="plain text"')

    data = json.loads(JsonFormatter().format(structured))
    assert data["event"] == "demo.happened"
    assert data["organisation"] == 12 and data["reason"] == "two words"
    assert data["level"] == "INFO" and data["logger"] == "mycareer.tests.formats"
    assert json.loads(JsonFormatter().format(plain))["message"] == "plain text"


def test_a_job_logs_its_start_outcome_and_duration_and_a_failure_too(caplog):
    logger = logging.getLogger("mycareer.tests.jobs")
    with caplog.at_level(logging.INFO, logger="mycareer.tests.jobs"):
        with logged_job(logger, "demo.job", unit=3) as outcome:
            outcome["done"] = 5
        with pytest.raises(ValueError), logged_job(logger, "demo.job", unit=4):
            raise ValueError("broken")
    good, bad = (fields_of(r.getMessage()) for r in lines(caplog, "demo.job"))
    assert good["outcome"] == "succeeded" and good["done"] == "5" and good["unit"] == "3"
    assert good["started"].endswith("+00:00") and int(good["duration_ms"]) >= 0
    assert bad["outcome"] == "failed" and bad["error"] == "ValueError" and bad["unit"] == "4"
    assert lines(caplog, "demo.job")[1].levelno == logging.ERROR


@pytest.mark.django_db
def test_the_scheduler_leaves_one_line_per_check_with_what_it_enqueued(caplog):
    from django.utils import timezone

    from mycareer.core.scheduler import enqueue_due_jobs

    now = timezone.now()  # one moment for both: a minute turning between them made more due
    with caplog.at_level(logging.INFO, logger="mycareer.core.scheduler"):
        enqueued = enqueue_due_jobs(now=now)
        enqueue_due_jobs(now=now)  # the same minute again: nothing new is due
    first, second = (fields_of(r.getMessage()) for r in lines(caplog, "scheduler.check"))
    assert enqueued and first["enqueued"] == ",".join(enqueued)
    assert first["outcome"] == "succeeded" and "duration_ms" in first and "started" in first
    assert second["enqueued"] == "-"


@pytest.mark.django_db(transaction=True)
def test_a_failing_task_leaves_an_error_line_with_its_outcome_and_error(caplog, run_worker):
    always_fails.enqueue(3)
    with caplog.at_level(logging.INFO):
        run_worker()
    name = f"{__name__}.always_fails"
    (started,) = lines(caplog, "task.started", task=name)
    (finished,) = lines(caplog, "task.finished", task=name)
    fields = fields_of(finished.getMessage())
    assert fields["outcome"] == "failed" and fields["error"] == "builtins.LookupError"
    assert int(fields["duration_ms"]) >= 0 and fields["started"]
    assert finished.levelno == logging.ERROR and finished.name == __name__
    assert fields_of(started.getMessage())["id"] == fields["id"]


@pytest.mark.django_db(transaction=True)
def test_an_import_checked_by_the_worker_leaves_its_lines(
    caplog, run_worker, persona, settings, tmp_path
):
    from mycareer.organisations import imports, jobs

    settings.MEDIA_ROOT = tmp_path
    data = b"Organisation name,Website\nLogline Ltd,logline.example.org\nGrep Group,grep.example\n"
    file = imports.store_for_check(data=data)
    user = persona("operator")
    jobs.check_import.enqueue(user_id=user.pk, file=file, filename="two.csv")
    with caplog.at_level(logging.INFO):
        run_worker()
    (checked,) = lines(caplog, "import.checked")
    assert fields_of(checked.getMessage())["rows"] == "2"
    (finished,) = lines(caplog, "task.finished", task="mycareer.organisations.jobs.check_import")
    fields = fields_of(finished.getMessage())
    assert fields["outcome"] == "succeeded" and "duration_ms" in fields


def test_a_job_refused_with_a_message_for_the_person_is_a_warning_not_a_fault(caplog):
    from django.core.exceptions import ValidationError

    logger = logging.getLogger("mycareer.tests.jobs")
    with (
        caplog.at_level(logging.INFO, logger="mycareer.tests.jobs"),
        pytest.raises(ValidationError),
        logged_job(logger, "demo.refused"),
    ):
        raise ValidationError("The file changed since it was checked.")
    (line,) = lines(caplog, "demo.refused")
    assert line.levelno == logging.WARNING
    assert fields_of(line.getMessage())["outcome"] == "refused"


@pytest.mark.django_db
def test_an_import_written_leaves_one_line_with_what_it_did(caplog, persona):
    from mycareer.organisations import imports

    data = b"Organisation name,Website\nLogline Ltd,logline.example.org\n"
    plan = imports.plan_import(data=data, filename="one.csv")
    with caplog.at_level(logging.INFO, logger="mycareer.organisations.imports"):
        imports.import_apply(plan=plan, by=persona("operator"))
    (line,) = lines(caplog, "import.write")
    fields = fields_of(line.getMessage())
    assert fields["outcome"] == "succeeded" and fields["file"] == "one.csv"
    assert fields["rows"] == "1" and fields["created"] == "1" and "duration_ms" in fields


def test_log_format_and_level_come_from_the_environment():
    script = (
        "import django, logging; django.setup(); "
        "from mycareer.core.logs import log_event; "
        "log_event(logging.getLogger('mycareer.x'), 'demo.seen', n=1); "
        "log_event(logging.getLogger('mycareer.x'), 'demo.hidden', level=logging.DEBUG)"
    )

    def run(**env):
        return subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "mycareer.settings", **env},
            capture_output=True,
            text=True,
            check=False,
        )

    as_json = run(LOG_FORMAT="json")
    assert as_json.returncode == 0, as_json.stderr
    (line,) = as_json.stderr.strip().splitlines()
    assert json.loads(line)["event"] == "demo.seen" and json.loads(line)["n"] == 1

    as_text = run(LOG_FORMAT="", LOG_LEVEL="debug")
    seen, hidden = as_text.stderr.strip().splitlines()
    assert seen.endswith("logger=mycareer.x event=demo.seen n=1")
    assert hidden.endswith("event=demo.hidden")

    wrong = run(LOG_FORMAT="xml")
    assert wrong.returncode != 0 and "LOG_FORMAT must be keyvalue or json" in wrong.stderr
