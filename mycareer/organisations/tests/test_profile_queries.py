"""The staff profile's query count does not grow with the length of its timeline."""

import datetime

import pytest
from django.utils import timezone

from mycareer.organisations import keyaccounts, services
from mycareer.organisations.models import Note, Organisation
from mycareer.organisations.tests.factories import make_organisation

# The benchmark's budget for the profile with its timeline (docs/benchmarks.md).
PROFILE_QUERIES = 15


def history(organisation: Organisation, operator, length: int) -> None:
    """`length` notes (each with a person met) and events, and of every other kind the
    timeline shows: events with bookings and an attendance report, vacancies, emails;
    a key account with a key contact."""
    from mycareer.bookings import services as bookings
    from mycareer.bookings.tests.factories import held_event, make_students
    from mycareer.events.tests.factories import EventFactory
    from mycareer.mailing.models import Campaign, OutboxMessage
    from mycareer.vacancies.tests.factories import VacancyFactory

    contacts = [
        services.contact_create(
            organisation=organisation,
            by=operator,
            full_name=f"Person {n}",
            email=f"person{n}@acme{length}.example",
        )
        for n in range(3)
    ]
    account = keyaccounts.key_account_create(
        organisation=organisation,
        operator=operator,
        unit=operator.memberships.first().unit,
        by=operator,
    )
    keyaccounts.key_contact_mark(
        account=account, contact=contacts[0], guidance="Ask me first.", by=operator
    )
    today = timezone.localdate()
    notes = Note.objects.bulk_create(
        Note(
            organisation=organisation,
            author=operator,
            text=f"Call {n}",
            date=today - datetime.timedelta(days=n),
        )
        for n in range(length)
    )
    Note.contacts.through.objects.bulk_create(
        Note.contacts.through(note=note, contact=contacts[n % 3]) for n, note in enumerate(notes)
    )
    for n in range(length):
        event = EventFactory(
            starts_at=timezone.now() - datetime.timedelta(days=n, hours=3),
            ends_at=timezone.now() - datetime.timedelta(days=n, hours=2),
        )
        event.organisations.add(organisation)
    students = make_students(2)
    for n in range(max(1, length // 40)):
        event = held_event(organiser=operator, students=students, attended=1, days_ago=n + 1)
        event.organisations.add(organisation)
        bookings.employer_report_send(event=event, contacts=[contacts[1]], by=operator)
    VacancyFactory.create_batch(min(length, 30), organisation=organisation)
    campaign = Campaign.objects.create(
        sender=operator,
        unit=operator.memberships.first().unit,
        subject="Fair",
        body="Come.",
        status="sent",
    )
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            campaign=campaign,
            contact=contacts[n % 3],
            email=contacts[n % 3].email,
            organisation_id_at_send=organisation.pk,
            status="sent",
            sent_at=timezone.now() - datetime.timedelta(days=n),
        )
        for n in range(min(length, 3))
    )


@pytest.mark.django_db
def test_the_profile_costs_the_same_few_queries_with_5_or_200_timeline_entries(
    client, persona, django_assert_max_num_queries
):
    operator = persona("operator")
    client.force_login(operator)
    counts = {}
    for length in (5, 200):
        organisation = make_organisation(f"Acme {length}", by=operator, tags=["Robots", "Arts"])
        history(organisation, operator, length)
        client.get(organisation.get_absolute_url())  # the session and access checks settle
        with django_assert_max_num_queries(PROFILE_QUERIES) as captured:
            response = client.get(organisation.get_absolute_url())
        counts[length] = len(captured.captured_queries)
        page = response.content.decode()
        # Every panel and source was read, not left out: tags, key contact, the people
        # met (the key contact with its *), bookings with their report.
        assert '<span class="tag">Arts</span><span class="tag">Robots</span>' in page
        assert "With Person 0 *" in page
        assert "With Person 1" in page
        assert "Attendance report sent on" in page
    assert counts[5] == counts[200]
