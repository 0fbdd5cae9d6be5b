"""The bookings app's schedule: what the scheduler runs, and the tasks that do it."""

from django_tasks import task

from mycareer.bookings import services
from mycareer.core.registry import PeriodicJob


@task()
def expire_offers() -> int:
    """Every few minutes: close offers nobody took up and offer the places on."""
    return services.offers_expire()


JOBS = (PeriodicJob("expire-offers", expire_offers, every_minutes=5),)
