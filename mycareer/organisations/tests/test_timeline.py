"""Timelines: filtered by kind, and a bulk email to many people is one row, not forty."""

import datetime
import re

import pytest
from django.utils import timezone

from mycareer.organisations import services, timeline
from mycareer.organisations.models import Organisation
from mycareer.organisations.tests.factories import make_organisation
from mycareer.organisations.timeline import TimelineEntry, organisation_timeline

pytestmark = pytest.mark.django_db


def kinds_shown(response) -> set[str]:
    metas = re.findall(r'<p class="timeline__meta">.*?· ([^<]+)</p>', response.content.decode())
    return {meta.split(":")[0].strip() for meta in metas}


@pytest.fixture
def northbridge(cast) -> Organisation:
    return make_organisation("Northbridge Engineering Ltd", website="https://northbridge-eng.co.uk")


@pytest.fixture
def history(northbridge, persona):
    """Three notes from the past weeks, and thirteen events still to come: with twelve
    emails unfolded, the latest note would be the 26th row, on page two."""
    from mycareer.events.tests.factories import EventFactory

    for days_ago in (30, 9, 2):
        services.note_create(
            organisation=northbridge,
            by=persona("operator"),
            text=f"Call about placements, {days_ago} days ago.",
            date=timezone.localdate() - datetime.timedelta(days=days_ago),
        )
    for event in EventFactory.create_batch(13):
        event.organisations.add(northbridge)


@pytest.fixture
def bulk_email(northbridge, persona):
    """One campaign sent to 12 of Northbridge's people, after every note."""
    from mycareer.mailing.models import Campaign, OutboxMessage

    for n in range(12):
        services.contact_create(
            organisation=northbridge,
            by=None,
            full_name=f"Recipient {n:02d}",
            email=f"recipient{n:02d}@northbridge-eng.co.uk",
        )
    mailer = persona("mailer")
    campaign = Campaign.objects.create(
        sender=mailer,
        unit=mailer.memberships.first().unit,
        subject="Summer robotics week",
        body="Come to the fair.",
        status="sent",
    )
    sent = timezone.now()
    for n, contact in enumerate(northbridge.contacts.filter(full_name__startswith="Recipient")):
        OutboxMessage.objects.create(
            campaign=campaign,
            contact=contact,
            email=contact.email,
            organisation_id_at_send=northbridge.pk,
            status="sent",
            sent_at=sent - datetime.timedelta(seconds=n),
        )
    return campaign


@pytest.mark.usefixtures("history")
def test_twelve_recipients_of_one_email_are_one_row_and_the_notes_stay_on_page_one(
    client, persona, northbridge, bulk_email
):
    client.force_login(persona("operator"))
    body = client.get(northbridge.get_absolute_url()).content.decode()
    assert body.count("Summer robotics week") == 1
    assert "11 more like this" in body
    latest_note = northbridge.notes.order_by("-date", "-created_at").first()
    assert f'id="note-{latest_note.pk}"' in body


@pytest.mark.usefixtures("history")
def test_staff_filter_the_timeline_by_kind(client, persona, northbridge, bulk_email):
    client.force_login(persona("operator"))
    everything = client.get(northbridge.get_absolute_url())
    assert {"Note", "Email", "Event"} <= kinds_shown(everything)
    notes = client.get(northbridge.get_absolute_url(), {"kind": "notes"})
    assert kinds_shown(notes) == {"Note"}
    emails_and_events = client.get(northbridge.get_absolute_url(), {"kind": ["emails", "events"]})
    assert kinds_shown(emails_and_events) <= {"Email", "Event"}
    body = emails_and_events.content.decode()
    assert 'value="emails" id="kind-emails" checked' in body
    assert 'value="notes" id="kind-notes">' in body  # unticked
    # A kind it does not have is refused by name, never taken for "everything".
    nonsense = client.get(northbridge.get_absolute_url(), {"kind": "passwords"})
    assert kinds_shown(nonsense) == set()
    assert "The activity has no kind called “passwords”." in nonsense.content.decode()
    # Nothing ticked shows nothing, and says so: it showed everything, every box ticked.
    nothing = client.get(northbridge.get_absolute_url(), {"shown": "1"})
    body = nothing.content.decode()
    assert kinds_shown(nothing) == set()
    assert "Tick at least one kind of activity to show." in body
    assert 'id="kind-notes" checked' not in body


def test_employers_filter_their_activity_and_never_see_notes(client, persona, laura, brightwave):
    from mycareer.vacancies import services as vacancies
    from mycareer.vacancies.tests.factories import vacancy_fields

    # Something of theirs to filter, and a staff note they must never see.
    vacancies.vacancy_create(organisation=brightwave, by=laura, **vacancy_fields())
    services.note_create(organisation=brightwave, by=persona("operator"), text="Staff only")
    client.force_login(laura)
    body = client.get("/employer/activity/").content.decode()
    assert 'value="events"' in body and 'value="notes"' not in body
    staff_only = client.get("/employer/activity/", {"kind": "notes"})
    assert kinds_shown(staff_only) == set()
    assert "no kind called “notes”" in staff_only.content.decode()
    assert "Tick at least one kind" in (
        client.get("/employer/activity/", {"shown": "1"}).content.decode()
    )


def test_a_page_past_the_oldest_activity_does_not_say_there_is_none(client, laura, brightwave):
    """A bookmarked or typed "?page=99" said "Nothing of these kinds yet." to an employer
    with a whole history of vacancies."""
    from mycareer.vacancies import services as vacancies
    from mycareer.vacancies.tests.factories import vacancy_fields

    vacancies.vacancy_create(organisation=brightwave, by=laura, **vacancy_fields())
    client.force_login(laura)
    body = client.get("/employer/activity/", {"kind": "vacancies", "page": "99"}).content
    body = body.decode()
    assert "Nothing of these kinds yet" not in body
    assert "There is no activity this far back." in body
    assert 'href="?kind=vacancies#activity">See the newest activity</a>' in body


# Folding and paging, with sources made for the test ------------------------------------


def _entries(prefix: str, times: list[int], *, title: str | None = None) -> list[TimelineEntry]:
    base = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    return [
        TimelineEntry(
            when=base - datetime.timedelta(minutes=t),
            kind=prefix,
            title=title or f"{prefix} {t}",
            details=[f"{prefix} detail {t}"],
        )
        for t in times
    ]


@pytest.fixture
def sources(monkeypatch):
    registry: dict = {}
    monkeypatch.setattr(timeline, "_sources", registry)

    def add(name, entries):
        timeline.register_timeline_source(
            name, lambda organisation, *, viewer, limit: entries[:limit], staff_only=False
        )

    return add


def test_paging_through_folded_rows_loses_and_repeats_nothing(sources, northbridge):
    # 100 emails of one campaign between the notes: one row, wherever the pages break.
    sources("notes", _entries("Note", list(range(0, 600, 10))))
    sources("emails", _entries("Email", list(range(201, 301)), title="Email “Fair”"))
    seen = []
    page = 1
    while True:
        rows, more = organisation_timeline(
            northbridge, viewer=None, staff=False, page=page, per_page=7
        )
        seen += rows
        if not more:
            break
        page += 1
    titles = [row.title for row in seen]
    assert titles.count("Email “Fair”") == 1
    assert len([t for t in titles if t.startswith("Note")]) == 60
    assert len(titles) == 61
    [email] = [row for row in seen if row.title == "Email “Fair”"]
    assert len(email.alike) == 99
    assert [row.when for row in seen] == sorted((row.when for row in seen), reverse=True)


def test_different_things_on_one_day_are_not_folded(sources, northbridge):
    sources("notes", _entries("Note", [1, 2], title="Meeting recorded by Tom Bennett"))
    rows, _ = organisation_timeline(northbridge, viewer=None, staff=False)
    assert len(rows) == 1  # same title, no text: folded
    sources("notes", [*_entries("Note", [1], title="A"), *_entries("Note", [2], title="B")])
    rows, _ = organisation_timeline(northbridge, viewer=None, staff=False)
    assert len(rows) == 2
