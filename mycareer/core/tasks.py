from django_tasks import task

from mycareer.core.maintenance import prune_finished_work, refresh_planner_statistics


@task()
def refresh_database_statistics() -> None:
    """Daily: keep the planner's statistics in step as records grow (see maintenance)."""
    refresh_planner_statistics()


@task()
def prune_old_work() -> dict[str, int]:
    """Daily: delete old task results and scheduler rows (see maintenance)."""
    return prune_finished_work()
