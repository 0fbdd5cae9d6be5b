"""The vacancies app's schedule: what the scheduler runs, and the tasks that do it."""

from django_tasks import task

from mycareer.core.registry import DailyJob
from mycareer.vacancies import services


@task()
def close_expired_vacancies() -> int:
    """The daily job: close approved vacancies whose closing date has passed."""
    return services.vacancies_close_expired()


JOBS = (DailyJob("close-expired-vacancies", close_expired_vacancies, hour=5),)
