"""The insights app's schedule: the opportunities are found afresh every night."""

from django_tasks import task

from mycareer.core.maintenance import refresh_planner_statistics, tidy_after_rewrite
from mycareer.core.registry import DailyJob


@task()
def refresh_opportunities() -> dict[str, int]:
    """Nightly: find every opportunity afresh (the pages show when this ran)."""
    from mycareer.insights.models import Audience, Opportunity
    from mycareer.insights.services import opportunities_refresh

    run = opportunities_refresh()
    refresh_planner_statistics(Opportunity, Audience)
    return {"opportunities": sum(run.counts.values())}


@task()
def refresh_scores() -> dict[str, int]:
    """Nightly: score every organisation for this month (the month's row is its history)."""
    from mycareer.insights.models import EngagementScore
    from mycareer.insights.scores import scores_refresh
    from mycareer.organisations.models import OrganisationScore

    run = scores_refresh()
    refresh_planner_statistics(EngagementScore)
    # The first scoring, or a change of the scoring rules, rewrites every kept score.
    tidy_after_rewrite(OrganisationScore, rewritten=run.changed, rows=run.organisations)
    return {"organisations": run.organisations}


@task()
def refresh_trends() -> dict[str, int]:
    """Nightly: count the trends month by month (the monthly charts read these counts)."""
    from mycareer.insights.models import TrendCount
    from mycareer.insights.trends import trends_refresh

    rows = trends_refresh()
    refresh_planner_statistics(TrendCount)
    return {"rows": rows}


@task()
def send_weekly_digest() -> dict[str, int]:
    """Daily, acting on the digest day only: each operator's weekly insights email."""
    from django.utils import timezone

    from mycareer.insights.digest import is_digest_day, send_weekly_digests

    today = timezone.localdate()
    return {"sent": send_weekly_digests(today=today) if is_digest_day(today) else 0}


JOBS: tuple = (
    DailyJob("insights scores", refresh_scores, hour=3),
    DailyJob("insights", refresh_opportunities, hour=3),
    DailyJob("insights trends", refresh_trends, hour=3),
    # After the night's opportunities, before the working day.
    DailyJob("insights weekly digest", send_weekly_digest, hour=7),
)
