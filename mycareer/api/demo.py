"""Demo API tokens: an operator's notes import script, a student's calendar app, an
employer's careers page (read only), and the planning office's dashboards (a unit's
token, made by the administrator)."""

import datetime

from django.utils import timezone

from mycareer.api import services
from mycareer.api.models import ApiToken, Scope


def seed_tokens(cast: dict) -> None:
    if ApiToken.objects.exists():
        return
    admin, staff, units = cast["admin"], cast["staff"], cast["units"]
    operator = staff["operator@demo.ac.uk"]
    student = cast["students"]["student@demo.ac.uk"]
    made = [
        services.token_create(
            owner=operator,
            by=operator,
            name="Notes import script",
            scopes=[Scope.READ, Scope.WRITE_ORGANISATIONS],
            days=90,
        )[0],
        services.token_create(
            owner=student, by=student, name="My calendar app", scopes=[Scope.READ, Scope.BOOKINGS]
        )[0],
        services.token_create(
            owner=cast["employer"],
            by=cast["employer"],
            name="Our careers page",
            scopes=[Scope.READ],
            days=180,
        )[0],
        services.token_create(
            owner=admin,
            by=admin,
            name="Planning office dashboards",
            scopes=[Scope.READ],
            days=365,
            unit=units["careers"],
        )[0],
    ]
    # Used yesterday, so the lists show when and from where.
    yesterday = timezone.now() - datetime.timedelta(days=1)
    ApiToken.objects.filter(pk__in=[t.pk for t in made]).update(
        last_used_at=yesterday, last_used_from="192.0.2.10"
    )
