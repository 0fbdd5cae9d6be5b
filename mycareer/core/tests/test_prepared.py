"""A query compiled once and run with new values gives what the queryset itself gives."""

import datetime

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from mycareer.accounts.models import Unit, User
from mycareer.accounts.permissions import STANDING, with_standing
from mycareer.core.prepared import PreparedQuery
from mycareer.organisations.search import sector_and_unit_choices

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


def test_every_row_comes_back_as_the_queryset_gives_it(cast):
    """`rows`: a list of any length, in order, with no markers as well as with them."""
    staff = PreparedQuery(
        lambda kind: User.objects.filter(kind=kind).order_by("email").values_list("pk", "email"),
        kind="\x00marker",
    )
    built = list(
        User.objects.filter(kind=User.Kind.STAFF).order_by("email").values_list("pk", "email")
    )
    assert len(built) > 3
    assert staff.rows(kind=User.Kind.STAFF) == built
    assert staff.rows(kind="nobody") == []
    everyone = PreparedQuery(lambda: User.objects.order_by("pk").values_list("pk", flat=True))
    assert everyone.rows() == [
        (pk,) for pk in User.objects.order_by("pk").values_list("pk", flat=True)
    ]


def test_the_search_forms_sectors_and_units_are_read_fresh_each_time(cast):
    """Compiled once, but run each time: a unit added a moment ago is a choice at once."""
    before = sector_and_unit_choices()[1]
    faculty = Unit.objects.filter(parent__isnull=True).first()
    Unit.objects.create(name="Zoology", parent=faculty)
    after = sector_and_unit_choices()[1]
    assert len(after) == len(before) + 1
    assert any(name.endswith("Zoology") and name.startswith("\u00a0") for _, name in after)


def _statements(run) -> list[str]:
    """The first word of each statement `run()` sends to the database (those a new
    connection sends first, such as SQLite's attaching, left out)."""
    sent: list[str] = []

    def record(execute, sql, params, many, context):
        word = sql.split()[0].upper()
        if word in {"PREPARE", "EXECUTE", "SELECT"}:
            sent.append(word)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return sent


def _by_kind() -> PreparedQuery:
    return PreparedQuery(
        lambda kind: User.objects.filter(kind=kind).order_by("pk").values_list("pk", flat=True),
        kind="\x00marker",
    )


def _staff_ids() -> list[tuple[int]]:
    return [
        (pk,)
        for pk in User.objects.filter(kind=User.Kind.STAFF)
        .order_by("pk")
        .values_list("pk", flat=True)
    ]


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_it_is_prepared_on_the_server_once_per_connection(cast):
    """PostgreSQL parses and plans it once per connection (prepared and run in one
    statement the first time, so a page's count of queries is the same either way);
    SQLite runs the query itself. A new connection (the old one closed, as
    `CONN_MAX_AGE` closes them) prepares again."""
    query = _by_kind()
    runs = [_statements(lambda: query.rows(kind=User.Kind.STAFF)) for _ in range(3)]
    connection.close()
    runs.append(_statements(lambda: query.rows(kind=User.Kind.STAFF)))
    if connection.vendor == "postgresql":
        assert runs == [["PREPARE"], ["EXECUTE"], ["EXECUTE"], ["PREPARE"]]
    else:
        assert runs == [["SELECT"]] * 4
    assert query.rows(kind=User.Kind.STAFF) == _staff_ids()


@pytest.mark.django_db(transaction=True)
def test_a_statement_outlives_a_rolled_back_transaction_and_comes_back_when_dropped(cast):
    """Prepared inside a transaction that is rolled back, it is still there; dropped on
    the server (`DEALLOCATE ALL`, as a pooler may), the run that finds it gone fails and
    the next prepares it again."""
    query = _by_kind()
    with pytest.raises(RuntimeError), transaction.atomic():
        assert query.rows(kind=User.Kind.STAFF) == _staff_ids()
        raise RuntimeError("rolled back")
    assert _statements(lambda: query.rows(kind=User.Kind.STAFF)) == (
        ["EXECUTE"] if connection.vendor == "postgresql" else ["SELECT"]
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
        with pytest.raises(DatabaseError):
            query.rows(kind=User.Kind.STAFF)
    assert query.rows(kind=User.Kind.STAFF) == _staff_ids()


def test_with_prepared_statements_off_the_query_is_sent_as_it_is(cast, settings):
    """`PG_PREPARED_STATEMENTS=0`, for a pooler that shares prepared statements between
    connections: the same rows, from the SQL itself."""
    settings.MYCAREER = {**settings.MYCAREER, "PG_PREPARED_STATEMENTS": False}
    query = _by_kind()
    assert _statements(lambda: query.rows(kind=User.Kind.STAFF)) == ["SELECT"]
    assert query.rows(kind=User.Kind.STAFF) == _staff_ids()
