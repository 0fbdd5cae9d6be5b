"""The weekly insights digest: one email per person, through their notification choices.

Each operator with something to act on hears, once a week: their follow-ups due in the
coming week, their key accounts going quiet, and the opportunities offered to them or
their units. A person who switched the kind off on their profile gets nothing; one who
chose a daily digest gets it in that.
"""

import datetime
import logging

from django.conf import settings
from django.utils import timezone

from mycareer.accounts.models import User
from mycareer.accounts.notifications import notify
from mycareer.accounts.permissions import can_edit_records
from mycareer.core.logs import log_event
from mycareer.insights.models import Kind
from mycareer.insights.selectors import opportunities_for_person
from mycareer.organisations.selectors import follow_ups_due

logger = logging.getLogger(__name__)

WEEKLY = "insights.weekly"
# Opportunities named in one email; the rest are counted, with the page's address.
NAMED = 10


def digest_for(user: User, *, today: datetime.date) -> dict | None:
    """What one person's weekly digest says, or None when there is nothing."""
    follow_ups = list(follow_ups_due(user, within_days=7))
    opportunities = list(opportunities_for_person(user))
    # A leaver's key account goes to the administrators, whose own it is not.
    quiet = [
        o for o in opportunities if o.kind == Kind.KEY_ACCOUNT_QUIET and not o.figures.get("left")
    ]
    others = [o for o in opportunities if o not in quiet]
    if not (follow_ups or opportunities):
        return None
    return {
        "user": user,
        "today": today,
        "follow_ups": follow_ups,
        "quiet": quiet,
        "others": others[:NAMED],
        "more": max(0, len(others) - NAMED),
    }


def send_weekly_digests(*, today: datetime.date | None = None) -> int:
    """Monday's digest to each operator with something to act on. Returns emails sent."""
    today = today or timezone.localdate()
    year, week, _ = today.isocalendar()
    once = f"{WEEKLY}:{year}-W{week:02d}"
    sent = people = 0
    for user in User.objects.filter(kind=User.Kind.STAFF, is_active=True).order_by("pk"):
        if not can_edit_records(user):
            continue
        context = digest_for(user, today=today)
        if context is None:
            continue
        people += 1
        sent += notify(
            user=user,
            kind=WEEKLY,
            subject="Your week: follow-ups and opportunities",
            template="insights/email/weekly.txt",
            context=context,
            once=once,
        )
    log_event(logger, "insights.weekly_digest", people=people, sent=sent, week=once)
    return sent


def is_digest_day(today: datetime.date) -> bool:
    return today.weekday() == settings.MYCAREER["INSIGHTS"]["DIGEST_WEEKDAY"]
