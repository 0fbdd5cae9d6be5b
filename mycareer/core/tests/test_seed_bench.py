"""seed_bench: the shapes it promises, the values services would keep, and its safety.

Each test looks at the benchmark's own organisations (their websites are under the
reserved `.example` domain), whatever else the database holds.
"""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mycareer.accounts.models import User
from mycareer.bookings.models import Booking, BookingSettings
from mycareer.core.benchseed import STUDENT_EMAIL_DOMAIN
from mycareer.events.models import Event
from mycareer.organisations import services
from mycareer.organisations.models import (
    Contact,
    Note,
    Organisation,
    TaggedOrganisation,
    tag_token,
)
from mycareer.organisations.search import filter_by_text

pytestmark = pytest.mark.django_db


def bench_organisations():
    return Organisation.objects.filter(domain__endswith=".example").order_by("pk")


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_bench", stdout=out, **options)
    return out.getvalue()


def snapshot(organisations) -> list[tuple]:
    return [
        (
            org.name,
            org.sector_id,
            org.size,
            org.locations,
            sorted(org.tags.names()),
            sorted(org.contacts.values_list("email", flat=True)),
        )
        for org in organisations
    ]


def test_the_peer_shape_gives_exactly_three_tags_and_one_contact_each():
    seed(organisations=200, shape="peer", seed=7)

    assert bench_organisations().count() == 200
    per_org = bench_organisations().annotate(
        tag_count=Count("tagged_items", distinct=True),
        contact_count=Count("contacts", distinct=True),
    )
    assert {(o.tag_count, o.contact_count) for o in per_org} == {(3, 1)}
    used = TaggedOrganisation.objects.filter(content_object__in=bench_organisations())
    assert used.values("tag").distinct().count() <= 200
    assert not Note.objects.filter(organisation__in=bench_organisations()).exists()


def test_it_is_deterministic_for_a_seed():
    seed(organisations=60, shape="peer", seed=11)
    first = snapshot(bench_organisations())
    seed(organisations=60, shape="peer", seed=11, force=True)
    assert snapshot(bench_organisations()[60:]) == first
    seed(organisations=60, shape="peer", seed=12, force=True)
    assert snapshot(bench_organisations()[120:]) != first


def test_it_keeps_what_the_services_would_keep(monkeypatch):
    # A small full shape: fewer students and events than the real thing, same code.
    monkeypatch.setattr("mycareer.accounts.bench_seed.STUDENTS", 30)
    monkeypatch.setattr("mycareer.events.bench_seed.EVENTS", 40)
    monkeypatch.setattr("mycareer.bookings.bench_seed.BOOKINGS", 300)
    seed(organisations=50, seed=5)

    assert bench_organisations().count() == 50
    for org in bench_organisations():
        document, key, domain = org.search_document, org.name_key, org.domain
        services.refresh_search_document(org)
        assert org.search_document == document
        # Plain-row tag links still give each organisation its tag text.
        links = org.tagged_items.order_by("tag_id").values_list("tag_id", flat=True)
        assert org.tag_document == " ".join(map(tag_token, links)) != ""
        org.save()  # recomputes name_key and domain
        assert (org.name_key, org.domain) == (key, domain)
        assert org.last_engaged_on == org.notes.aggregate(latest=Max("date"))["latest"]
        assert org.notes.count() == 10
        assert org.contacts.count() == 3
    # Every email goes to a reserved domain that can reach no one.
    contacts = Contact.objects.filter(organisation__in=bench_organisations())
    assert not contacts.exclude(email__endswith=".example").exists()


def organisations_rewritten() -> int:
    """How many organisation rows this connection has rewritten and not yet reported to
    the server's statistics (PostgreSQL): compare two readings within a transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = %s",
            [Organisation._meta.db_table],
        )
        return cursor.fetchone()[0]


def test_its_tag_links_go_in_without_rewriting_their_organisations():
    # PostgreSQL keeps a rewritten row's old version: links inserted a statement each
    # rewrote each organisation once per link but its last, and left the table of a
    # harness run mostly old row versions, which every search then read past.
    rewritten = organisations_rewritten() if connection.vendor == "postgresql" else 0
    with CaptureQueriesContext(connection) as seeding:
        seed(organisations=40, shape="peer", seed=3)
    links = [
        query["sql"]
        for query in seeding.captured_queries
        if query["sql"].startswith(f'INSERT INTO "{TaggedOrganisation._meta.db_table}"')
    ]
    assert len(links) == 1 and links[0].count("), (") == 40 * 3 - 1
    if connection.vendor == "postgresql":
        assert organisations_rewritten() == rewritten
    for org in bench_organisations():
        tags = org.tagged_items.order_by("tag_id").values_list("tag_id", flat=True)
        assert org.tag_document == " ".join(map(tag_token, tags))


def test_bookings_follow_the_rules_the_booking_service_keeps(monkeypatch):
    monkeypatch.setattr("mycareer.accounts.bench_seed.STUDENTS", 30)
    monkeypatch.setattr("mycareer.events.bench_seed.EVENTS", 40)
    monkeypatch.setattr("mycareer.bookings.bench_seed.BOOKINGS", 300)
    seed(organisations=20, seed=5)

    bookings = Booking.objects.filter(student__email__endswith=f"@{STUDENT_EMAIL_DOMAIN}")
    assert bookings.count() == 300
    # One booking per person and event, on published events only.
    assert bookings.values("event", "student").distinct().count() == 300
    assert not bookings.exclude(event__status=Event.Status.PUBLISHED).exists()
    now = timezone.now()
    for booking in bookings.select_related("event"):
        assert booking.booked_at <= now and booking.booked_at < booking.event.starts_at
        if booking.status == Booking.Status.CANCELLED:
            assert booking.cancelled_at is not None
        elif booking.event.starts_at >= now:
            assert booking.status == Booking.Status.CONFIRMED
        else:
            assert booking.status in (Booking.Status.ATTENDED, Booking.Status.NO_SHOW)
            assert (booking.checked_in_at is not None) == (
                booking.status == Booking.Status.ATTENDED
            )
    # No event holds more people than its places.
    held = bookings.exclude(status=Booking.Status.CANCELLED).values("event").annotate(n=Count("pk"))
    capacity = dict(BookingSettings.objects.values_list("event_id", "capacity"))
    assert held and all(row["n"] <= capacity[row["event"]] for row in held)


def test_the_substring_index_sees_every_organisation():
    # FTS5 on SQLite, trigram indexes on PostgreSQL: each must agree with a full scan.
    seed(organisations=120, shape="peer", seed=3)
    every = Organisation.objects.all()
    for word in ("ridge", "Ltd", "Khan", "ale"):
        indexed = set(filter_by_text(every, word).values_list("pk", flat=True))
        scanned = set(every.filter(search_document__icontains=word).values_list("pk", flat=True))
        assert indexed == scanned


def test_it_refuses_a_database_with_real_records(cast):
    from mycareer.organisations.tests.factories import OrganisationFactory

    # Without the demo administrator, an organisation looks like a real record.
    OrganisationFactory(name="Northbridge Engineering Ltd")
    User.objects.filter(email="admin@demo.ac.uk").update(email="careers@uni.example")
    with pytest.raises(CommandError, match="not a demo database"):
        seed(organisations=10, shape="peer")
    seed(organisations=10, shape="peer", force=True)
    assert bench_organisations().count() == 10


def test_it_refuses_to_seed_twice_without_force():
    seed(organisations=10, shape="peer")
    with pytest.raises(CommandError, match="already holds benchmark data"):
        seed(organisations=10, shape="peer")
