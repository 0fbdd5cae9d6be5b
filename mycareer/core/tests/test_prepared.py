"""A query compiled once and run with new values gives what the queryset itself gives."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from mycareer.accounts.models import User
from mycareer.accounts.permissions import STANDING, with_standing
from mycareer.core.prepared import PreparedQuery

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("days", [0, 200, 400, 800])
def test_each_persons_standing_is_what_the_queryset_reads_on_any_day(cast, days):
    """Dates, booleans and levels come back converted, for every member of staff, on
    days before and after their training expires."""
    when = timezone.now() + datetime.timedelta(days=days)
    staff = list(User.objects.filter(kind=User.Kind.STAFF))
    assert len(staff) > 3
    with time_machine.travel(when, tick=False):
        today, now = timezone.localdate(), timezone.now()
        for person in staff:
            prepared = STANDING.get(pk=person.pk, today=today, now=now)
            built = (
                with_standing(User.objects.filter(pk=person.pk), today=today, now=now)
                .values(*prepared)
                .get()
            )
            assert prepared == built
    expiries = [STANDING.get(pk=p.pk, today=today, now=now)["operator_expires"] for p in staff]
    assert any(isinstance(expiry, datetime.date) for expiry in expiries)


def test_a_value_the_query_does_not_pass_as_a_parameter_is_refused(cast):
    """A slice's bound is written into the SQL itself: it could not be changed."""
    first = PreparedQuery(lambda n: User.objects.order_by("pk").values("pk")[:n], n=7_777_777)
    with pytest.raises(ValueError, match="cannot change"):
        first.get(n=1)


def test_it_gives_one_row_or_says_why_not(cast):
    by_email = PreparedQuery(
        lambda email: User.objects.filter(email=email).values("pk", "kind"), email="\x00marker"
    )
    person = User.objects.filter(kind=User.Kind.STAFF).first()
    assert by_email.get(email=person.email) == {"pk": person.pk, "kind": person.kind}
    with pytest.raises(LookupError, match="0 rows"):
        by_email.get(email="nobody@example.org")
    with pytest.raises(TypeError, match="exactly"):
        by_email.get(address=person.email)
