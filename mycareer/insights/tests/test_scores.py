"""The engagement score: each part from a known history, stable, and monotonic."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from mycareer.bookings.models import Booking
from mycareer.events.tests.factories import EventFactory
from mycareer.insights.models import EngagementScore
from mycareer.insights.scores import History, score, scores_refresh
from mycareer.insights.tests.helpers import aware, notes, organisation
from mycareer.organisations.models import Organisation, OrganisationScore
from mycareer.vacancies.tests.factories import VacancyFactory

TODAY = datetime.date(2026, 12, 1)


def points(history: History) -> dict[str, int]:
    return {part.name: part.points for part in score(history, today=TODAY)}


def test_each_part_from_a_known_history():
    history = History(
        last_engaged=TODAY - datetime.timedelta(days=40),
        notes=4,
        units={1, 2, 3},
        events=1,
        attended=12,
        vacancies=5,
    )
    parts = score(history, today=TODAY)
    assert [(p.name, p.points, p.of) for p in parts] == [
        ("Recency", 20, 30),
        ("Frequency", 12, 30),
        ("Breadth", 15, 20),
        ("Depth", 4 + 2 + 6, 20),
    ]
    assert parts[0].why == "last note or event 40 days ago"
    assert parts[3].why == "1 event, 12 students attending, 5 vacancies in 12 months"


def test_never_engaged_scores_nothing_and_the_parts_have_ceilings():
    assert sum(points(History()).values()) == 0
    busy = History(
        last_engaged=TODAY, notes=50, units=set(range(9)), events=9, attended=99, vacancies=9
    )
    assert points(busy) == {"Recency": 30, "Frequency": 30, "Breadth": 20, "Depth": 20}


histories = st.builds(
    History,
    last_engaged=st.one_of(st.none(), st.dates(TODAY - datetime.timedelta(days=800), TODAY)),
    notes=st.integers(0, 40),
    units=st.sets(st.integers(1, 12), max_size=8),
    events=st.integers(0, 5),
    attended=st.integers(0, 60),
    vacancies=st.integers(0, 6),
)


@given(histories, st.integers(1, 12))
def test_one_more_recent_engagement_never_lowers_the_score(history, unit):
    before = sum(points(history).values())
    after = History(
        last_engaged=TODAY,
        notes=history.notes + 1,
        units=history.units | {unit},
        events=history.events,
        attended=history.attended,
        vacancies=history.vacancies,
    )
    assert sum(points(after).values()) >= before
    assert score(history, today=TODAY) == score(history, today=TODAY)  # stable


@pytest.mark.django_db
def test_scores_are_read_from_the_records_kept_monthly_and_on_the_organisation(
    persona, cast, today, days_ago
):
    tom = persona("operator")
    org = organisation("Scored Ltd")
    notes(org, tom, [days_ago(10), days_ago(20)], unit_code="mech")
    notes(org, tom, [days_ago(400)], unit_code="lubs")  # older than 12 months
    event = EventFactory(starts_at=aware(days_ago(5)))
    event.organisations.add(org)
    for student in list(cast["students"].values())[:5]:
        Booking.objects.create(event=event, student=student, checked_in_at=aware(days_ago(5)))
    VacancyFactory(organisation=org)
    quiet = organisation("Never Engaged Ltd")

    first = scores_refresh(today=today)

    row = EngagementScore.objects.get(organisation=org)
    assert row.month == today.replace(day=1)
    assert {c["name"]: c["points"] for c in row.components} == {
        "Recency": 30,  # the event 5 days ago
        "Frequency": 6,
        "Breadth": 5,  # Mechanical Engineering, by note and by event
        "Depth": 4 + 1 + 2,
    }
    kept = dict(OrganisationScore.objects.values_list("organisation_id", "score"))
    assert kept[org.pk] == row.total == 48
    assert kept[quiet.pk] == 0
    # Every total was new, so every organisation's row was written (and a job tidies
    # the table after so many: core.maintenance.tidy_after_rewrite).
    assert first.changed == first.organisations >= 2
    # Run again the same month: the month's row is rewritten, not added to, and no
    # organisation whose total is the same is written again.
    again = scores_refresh(today=today)
    assert again == (first.organisations, 0)
    assert EngagementScore.objects.filter(organisation=org).count() == 1
    next_month = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    scores_refresh(today=next_month)
    assert EngagementScore.objects.filter(organisation=org).count() == 2


@pytest.mark.django_db
def test_keeping_the_scores_writes_no_organisation_row(persona, today, days_ago):
    # A score on the organisation's row rewrote that row in every index of its table.
    tom = persona("operator")
    org = organisation("Never Rewritten Ltd")
    notes(org, tom, [days_ago(10)], unit_code="mech")
    with CaptureQueriesContext(connection) as first:
        scores_refresh(today=today)
    notes(org, tom, [days_ago(1)], unit_code="lubs")
    with CaptureQueriesContext(connection) as changed:
        assert scores_refresh(today=today).changed == 1
    table = re.escape(Organisation._meta.db_table)
    for run in (first, changed):
        statements = [query["sql"] for query in run.captured_queries]
        assert not [sql for sql in statements if re.match(rf'UPDATE "?{table}"?\s', sql)]
        assert [sql for sql in statements if "organisations_organisationscore" in sql]
    assert OrganisationScore.objects.get(organisation=org).score > 0


def test_the_organisation_export_has_the_score_and_when_it_was_computed(
    client, persona, today, days_ago
):
    import csv
    import io

    from django.urls import reverse
    from django.utils import timezone

    tom = persona("operator")
    scored = organisation("Exported Scored Ltd")
    notes(scored, tom, [days_ago(10)], unit_code="mech")
    scores_refresh(today=today)
    organisation("Exported Unscored Ltd")  # made after the night's scores
    organisation("Elsewhere Ltd")  # an export leaves some organisation out
    computed = EngagementScore.objects.get(organisation=scored).computed_at
    client.force_login(tom)
    response = client.get(reverse("organisations:export"), {"text": "Exported"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][-2:] == ["Engagement score", "Score computed at"]
    by_name = {row[0]: row[-2:] for row in rows[1:]}
    score = OrganisationScore.objects.get(organisation=scored).score
    assert by_name == {
        "Exported Scored Ltd": [
            str(score),
            timezone.localtime(computed).strftime("%Y-%m-%d %H:%M"),
        ],
        "Exported Unscored Ltd": ["", ""],
    }
    assert score > 0
