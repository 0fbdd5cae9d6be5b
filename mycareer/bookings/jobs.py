"""The bookings app's schedule: what the scheduler runs, and the tasks that do it."""

import logging

from django_tasks import task

from mycareer.bookings import services
from mycareer.core.logs import log_event
from mycareer.core.registry import PeriodicJob

logger = logging.getLogger(__name__)


@task()
def expire_offers() -> dict[str, int]:
    """Every few minutes: close offers nobody took up and offer the places on; end offers
    held by students restricted from booking past their deadline; and give places left
    free to who is next in line (a restriction on booking ran out)."""
    expired = services.offers_expire()
    restricted = services.restricted_offers_end()
    moved = services.queues_settle()
    log_event(
        logger, "bookings.offers_expired", expired=expired, restricted=restricted, moved=moved
    )
    return {"expired": expired, "restricted": restricted, "moved": moved}


@task()
def settle_waits_of(student_id: int) -> int:
    """A student's restriction on booking was lifted: give them (or who is next in line)
    any place left free at the events where they wait (enqueued by the services)."""
    moved = services.waits_settle(student_id=student_id)
    log_event(logger, "bookings.waits_settled", student_id=student_id, moved=moved)
    return moved


JOBS = (PeriodicJob("expire-offers", expire_offers, every_minutes=5),)
