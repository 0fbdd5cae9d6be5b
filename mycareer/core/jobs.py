"""The core app's schedule: database housekeeping."""

from django_tasks import task

from mycareer.core.maintenance import prune_finished_work, refresh_planner_statistics
from mycareer.core.registry import DailyJob


@task()
def refresh_database_statistics() -> None:
    """Daily: keep the planner's statistics in step as records grow (see maintenance)."""
    refresh_planner_statistics()


@task()
def prune_old_work() -> dict[str, int]:
    """Daily: delete old task results and scheduler rows (see maintenance)."""
    return prune_finished_work()


JOBS = (
    DailyJob("database-statistics", refresh_database_statistics, hour=3),
    DailyJob("prune-old-work", prune_old_work, hour=3),
)
