"""The insights app's schedule: the opportunities are found afresh every night."""

from django_tasks import task

from mycareer.core.registry import DailyJob


@task()
def refresh_opportunities() -> dict[str, int]:
    """Nightly: find every opportunity afresh (the pages show when this ran)."""
    from mycareer.insights.services import opportunities_refresh

    run = opportunities_refresh()
    return {"opportunities": sum(run.counts.values())}


@task()
def refresh_scores() -> dict[str, int]:
    """Nightly: score every organisation for this month (the month's row is its history)."""
    from mycareer.insights.scores import scores_refresh

    return {"organisations": scores_refresh()}


JOBS: tuple = (
    DailyJob("insights scores", refresh_scores, hour=3),
    DailyJob("insights", refresh_opportunities, hour=3),
)
