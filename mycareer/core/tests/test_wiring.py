"""Background work is wired one way: services enqueue tasks; tasks read and email.

A task module that imported a service (which imports the task module to enqueue it)
would need imports hidden inside functions to load at all. Tasks import models,
selectors and the mail helpers; work done through services is a job (jobs.py).
"""

import ast
from pathlib import Path

import mycareer

ROOT = Path(mycareer.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_task_modules_import_no_services_and_no_jobs():
    wrong = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in imported_modules(path)
            if name.startswith("mycareer.")
            and name.rsplit(".", 1)[-1] in {"services", "jobs", "registration", "keyaccounts"}
        )
        for path in ROOT.glob("*/tasks.py")
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_the_scheduler_finds_every_periodic_job_in_a_jobs_module():
    from mycareer.core.registry import daily_jobs, periodic_jobs

    jobs = daily_jobs() + periodic_jobs()
    assert len(jobs) >= 8
    for job in jobs:
        app = job.task.func.__module__.split(".")[1]
        schedule = __import__(f"mycareer.{app}.jobs", fromlist=["JOBS"]).JOBS
        assert job in schedule, job.name
