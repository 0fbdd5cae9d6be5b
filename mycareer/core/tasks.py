from django_tasks import task

from mycareer.core.maintenance import refresh_planner_statistics


@task()
def refresh_database_statistics() -> None:
    """Daily: keep the planner's statistics in step as records grow (see maintenance)."""
    refresh_planner_statistics()
