"""A task for the stalled-task test: says it has started, then waits to be killed."""

import time
from pathlib import Path

from django_tasks import task


@task()
def wait_to_be_killed(flag: str) -> None:
    """Wait to be killed (a test's task)."""
    Path(flag).write_text("started", encoding="utf-8")
    time.sleep(600)
