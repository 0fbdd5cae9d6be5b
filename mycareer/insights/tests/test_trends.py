"""Trends: each figure from a hand-built history, by each dimension and measure."""

import datetime
import itertools
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from mycareer.bookings.models import Booking
from mycareer.events.tests.factories import EventFactory
from mycareer.insights import trends
from mycareer.insights.finders import months_before
from mycareer.insights.models import TrendCount
from mycareer.insights.tests.helpers import aware, notes, organisation, unit
from mycareer.mailing.models import Campaign, OutboxMessage
from mycareer.organisations import keyaccounts
from mycareer.organisations.services import note_create
from mycareer.organisations.tests.factories import ContactFactory, key_account_with_contact
from mycareer.vacancies.tests.factories import VacancyFactory

pytestmark = pytest.mark.django_db


def month_start(today: datetime.date, back: int) -> datetime.date:
    return months_before(today, back).replace(day=1)


def column(data, name: str) -> list[int]:
    return data.series[name]


@pytest.fixture
def history(persona, today):
    """Robotics (engineering; tags robotics, automotive) and Ledger (finance, no tags)
    and Nameless (no sector), with notes this month, three months ago, on the first day
    of the 24-month window, and the day before it (too early to count)."""
    tom, helen = persona("operator"), persona("manager")
    robotics = organisation(
        "Robotics Ltd", sector="Engineering and manufacturing", tags=["robotics", "automotive"]
    )
    ledger = organisation("Ledger Ltd", sector="Finance and accounting")
    nameless = organisation("Nameless Ltd")
    first = month_start(today, 23)
    notes(robotics, tom, [today, today, month_start(today, 3)], unit_code="mech")
    notes(robotics, tom, [first], unit_code="lubs")
    notes(robotics, tom, [first - datetime.timedelta(days=1)], unit_code="lubs")  # too early
    notes(ledger, helen, [today], unit_code="lubs")
    notes(nameless, helen, [month_start(today, 3)], unit_code="english")
    priya = persona("admin")
    key_account_with_contact(operator=tom, unit=unit("mech"), by=priya, organisation=robotics)
    key_account_with_contact(operator=helen, unit=unit("eps"), by=priya, organisation=ledger)
    # Multi-touch releases Helen's key account: she owns it no longer.
    keyaccounts.organisation_set_multi_touch(organisation=ledger, multi_touch=True, by=priya)
    return {"robotics": robotics, "ledger": ledger, "nameless": nameless, "first": first}


def test_24_monthly_buckets_by_default_oldest_first(history, today):
    data = trends.trend_data(trends.TrendQuery())
    assert len(data.periods) == 24
    assert data.periods[0] == history["first"]
    assert data.periods[-1] == today.replace(day=1)


def test_notes_by_unit_count_each_month_and_leave_out_the_day_before(history):
    data = trends.trend_data(trends.TrendQuery(measure="notes", dimension="unit"))
    assert column(data, "School of Mechanical Engineering")[-1] == 2
    assert column(data, "School of Mechanical Engineering")[-4] == 1
    # The first day of the window counts; the day before it does not.
    assert column(data, "Business School")[0] == 1
    assert sum(column(data, "Business School")) == 2  # that one and Ledger's this month
    assert column(data, "School of English")[-4] == 1
    assert data.totals[-1] == 3 and data.totals[-4] == 2 and data.totals[0] == 1
    assert sum(data.totals) == 6
    # The units with the most come first.
    assert list(data.series)[0] == "School of Mechanical Engineering"


def test_notes_by_sector_with_those_without_one(history):
    data = trends.trend_data(trends.TrendQuery(measure="notes", dimension="sector"))
    assert column(data, "Engineering and manufacturing")[-1] == 2
    assert column(data, "Finance and accounting")[-1] == 1
    assert column(data, "No sector")[-4] == 1
    # One sector each: the series add up to the "All" column.
    assert [sum(c) for c in zip(*data.series.values(), strict=True)] == data.totals


def test_notes_by_tag_count_a_note_in_each_of_its_organisations_tags(history):
    data = trends.trend_data(trends.TrendQuery(measure="notes", dimension="tag"))
    assert column(data, "robotics")[-1] == 2 and column(data, "automotive")[-1] == 2
    assert column(data, "No tag")[-1] == 1  # Ledger's
    # …while "All" counts each note once.
    assert data.totals[-1] == 3


def test_notes_by_key_account_owner_only_accounts_in_force(history):
    data = trends.trend_data(trends.TrendQuery(measure="notes", dimension="owner"))
    assert column(data, "Tom Bennett")[-1] == 2
    assert "Helen Marsh" not in data.series  # her key account was released
    assert column(data, "No key account")[-1] == 1


def test_a_unit_sees_its_own_and_those_within_it(history):
    eps = unit("eps")
    data = trends.trend_data(trends.TrendQuery(measure="notes", dimension="sector", unit=eps.pk))
    assert data.series == {"Engineering and manufacturing": [0] * 20 + [1, 0, 0, 2]}
    assert data.totals == [0] * 20 + [1, 0, 0, 2]


def test_weeks(history, today):
    data = trends.trend_data(trends.TrendQuery(measure="notes", period="week", months=6))
    assert data.periods[-1] == today - datetime.timedelta(days=today.weekday())
    assert data.totals[-1] == 3


def engagements(persona, cast, today) -> None:
    """Events (one shared by two employers), attendance, vacancies and emails today."""
    robotics = organisation("Robotics Two Ltd", sector="Engineering and manufacturing")
    ledger = organisation("Ledger Two Ltd", sector="Finance and accounting")
    now = aware(today)
    shared = EventFactory(starts_at=now, unit=unit("lubs"))
    shared.organisations.add(robotics, ledger)
    EventFactory(starts_at=now).organisations.add(robotics)
    EventFactory(starts_at=now, status="cancelled").organisations.add(robotics)
    EventFactory(starts_at=now)  # no employer: not employer engagement
    students = list(cast["students"].values())
    for student in students[:3]:
        Booking.objects.create(event=shared, student=student, checked_in_at=now)
    Booking.objects.create(event=shared, student=students[3])  # booked, never came
    VacancyFactory(organisation=robotics, created_at=now).target_units.set([unit("mech")])
    # Two schools of one faculty: the faculty counts it once.
    VacancyFactory(organisation=robotics, created_at=now).target_units.set(
        [unit("mech"), unit("computing")]
    )
    VacancyFactory(organisation=robotics, created_at=now)
    VacancyFactory(organisation=robotics, created_at=now, status="draft")
    campaign = Campaign.objects.create(
        sender=persona("mailer"), unit=unit("lubs"), subject="Hi", body="Hi", purpose="events"
    )
    for org in (robotics, ledger, ledger):
        contact = ContactFactory(organisation=org)
        OutboxMessage.objects.create(
            campaign=campaign,
            contact=contact,
            email=contact.email,
            status=OutboxMessage.Status.SENT,
            sent_at=timezone.now(),
        )


def test_events_attendance_vacancies_and_emails(persona, cast, today):
    engagements(persona, cast, today)

    def last(measure: str, dimension: str) -> dict:
        data = trends.trend_data(trends.TrendQuery(measure=measure, dimension=dimension))
        return {name: values[-1] for name, values in data.series.items()} | {"All": data.totals[-1]}

    assert last("events", "sector") == {
        "Engineering and manufacturing": 2,
        "Finance and accounting": 1,
        "All": 2,
    }
    assert last("events", "unit") == {
        "Business School": 1,
        "School of Mechanical Engineering": 1,
        "All": 2,
    }
    assert last("attendance", "sector") == {
        "Engineering and manufacturing": 3,
        "Finance and accounting": 3,
        "All": 3,
    }
    assert last("vacancies", "unit") == {
        "School of Mechanical Engineering": 2,
        "School of Computing": 1,
        "No unit": 1,
        "All": 3,
    }
    assert last("emails", "sector") == {
        "Engineering and manufacturing": 1,
        "Finance and accounting": 2,
        "All": 3,
    }


def test_only_the_series_with_the_most_are_shown(persona, today, settings):
    tom = persona("operator")
    for n in range(trends.MOST_SERIES + 2):
        notes(organisation(f"Org {n}", tags=[f"tag-{n:02d}"]), tom, [today] * (n + 1))
    data = trends.trend_data(trends.TrendQuery(measure="notes", dimension="tag"))
    assert len(data.series) == trends.MOST_SERIES
    assert data.left_out == 2
    assert list(data.series)[0] == f"tag-{trends.MOST_SERIES + 1:02d}"
    assert "tag-00" not in data.series and "tag-01" not in data.series
    assert data.totals[-1] == sum(range(1, trends.MOST_SERIES + 3))


# The pages -----------------------------------------------------------------------------


def _table(html: bytes) -> list[list[str]]:
    from lxml import html as parse

    table = parse.fromstring(html).xpath("//table")[0]
    return [
        [" ".join(cell.text_content().split()) for cell in row.xpath("th|td")]
        for row in table.xpath(".//tr")
    ]


def test_the_page_the_table_and_the_csv_show_the_same_figures(client, persona, history):
    client.force_login(persona("viewer"))
    chosen = {"measure": "notes", "dimension": "sector", "months": "12", "period": "month"}
    page = client.get(reverse("insights:trends"), chosen)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Trends: Notes by sector</h1>" in html
    # The form says what the chart shows.
    assert '<option value="sector" selected>' in html
    assert '<option value="12" selected>' in html
    table = _table(page.content)
    assert table[0] == [
        "Month",
        "Engineering and manufacturing",
        "Finance and accounting",
        "No sector",
        "All",
    ]
    assert len(table) == 13
    assert table[-1][1:] == ["2", "1", "0", "3"]
    assert table[-4][1:] == ["1", "0", "1", "2"]
    csv = client.get(reverse("insights:trends_csv"), chosen)
    assert csv["Content-Type"].startswith("text/csv")
    rows = [line.split(",") for line in csv.content.decode("utf-8-sig").splitlines()]
    assert rows[0] == ["month", *table[0][1:]]
    assert [row[1:] for row in rows[1:]] == [row[1:] for row in table[1:]]
    assert [row[0] for row in rows[1:]] == [row[0] for row in table[1:]]
    png = client.get(reverse("insights:trends_png"), chosen)
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")


def test_a_units_trends_and_bad_input(client, persona, history):
    client.force_login(persona("operator"))
    eps = unit("eps")
    page = client.get(reverse("insights:trends"), {"unit": eps.pk, "dimension": "unit"})
    html = page.content.decode()
    assert "Trends: Notes by unit, Faculty of Engineering and Physical Sciences" in html
    assert _table(page.content)[0] == ["Month", "School of Mechanical Engineering", "All"]
    # Saved, the faculty's figures are not taken for the whole university's.
    download = client.get(
        reverse("insights:trends_csv"), {"unit": eps.pk, "dimension": "unit", "months": "12"}
    )
    assert download["Content-Disposition"] == (
        'attachment; filename="mycareer-trends-notes-by-unit-of-faculty-of-engineering-and-'
        'physical-sciences-per-month-12-months.csv"'
    )
    bad = client.get(reverse("insights:trends"), {"measure": "gossip", "unit": "nope"})
    assert bad.status_code == 400
    assert "Select a valid choice" in bad.content.decode()


@pytest.mark.parametrize(
    "asked",
    [
        {"unit": "eps"},  # a unit's code where the form wants its number
        {"months": "999"},  # a span the chart does not offer
        {"units": "1"},  # a filter the chart does not know
    ],
)
def test_trends_with_a_wrong_filter_show_no_figures(client, persona, history, asked, settings):
    """The error showed above the whole university's figures, and the CSV and picture
    were the whole university's too: read as the unit's, or the span's, asked for."""
    client.force_login(persona("operator"))
    response = client.get(reverse("insights:trends"), asked)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please correct what is shown below" in html
    assert "<table" not in html
    assert reverse("insights:trends_csv") not in html
    assert reverse("insights:trends_png") not in html
    for figures in ("insights:trends_csv", "insights:trends_png"):
        refused = client.get(reverse(figures), asked)
        assert refused.status_code == 400
        assert refused["Content-Type"] == "text/plain; charset=utf-8"
        # Plainly, with the way back: the trends page with these filters shows what is wrong.
        said = refused.content.decode()
        again = f"{settings.SITE_URL}{reverse('insights:trends')}?{urlencode(asked)}"
        assert said.startswith("MyCareer cannot make these figures: ")
        assert said.endswith(f" Open {again} to see what to change.")


def test_the_page_reads_a_fixed_number_of_queries(
    client, persona, today, django_assert_max_num_queries
):
    from mycareer.accounts.models import Unit

    tom = persona("operator")
    client.force_login(tom)

    made = itertools.count()

    def grow(n: int) -> None:
        for _ in range(n):
            i = next(made)
            new = Unit.objects.create(name=f"Unit {i}", code=f"u-{i}", kind="school")
            org = organisation(f"Org {i}", tags=[f"t-{i}", f"s-{i}"])
            note_create(organisation=org, by=tom, text="Hi.", date=today, unit=new)

    for dimension in ("unit", "tag", "owner", "sector"):
        grow(2)
        with django_assert_max_num_queries(12) as few:
            client.get(reverse("insights:trends"), {"dimension": dimension})
        grow(12)
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(reverse("insights:trends"), {"dimension": dimension})


def test_the_nightly_counts_give_the_same_figures_as_the_records(history, persona, cast, today):
    """Monthly charts read the nightly counts: every measure by every dimension, for the
    university and for a unit, is what counting the records gives."""
    engagements(persona, cast, today)
    queries = [
        trends.TrendQuery(measure=measure, dimension=dimension, months=months, unit=scope)
        for measure in trends.MEASURES
        for dimension in trends.DIMENSIONS
        for months in (24, 6)
        for scope in (None, unit("eps").pk, unit("lubs").pk)
    ]
    live = [trends.trend_data(query) for query in queries]
    assert trends.counted_at() is None
    rows = trends.trends_refresh()
    assert rows > 0 and trends.counted_at() is not None
    assert TrendCount.objects.exists()
    for query, expected in zip(queries, live, strict=True):
        counted = trends.trend_data(query)
        assert (counted.series, counted.totals) == (expected.series, expected.totals), query
    # A note recorded after the night's count shows tomorrow, not now.
    notes(history["ledger"], persona("manager"), [today], unit_code="lubs")
    assert trends.trend_data(trends.TrendQuery()).totals[-1] == live[0].totals[-1]


def test_the_page_says_when_it_was_counted(client, persona, history):
    client.force_login(persona("viewer"))
    assert "Not counted yet" in client.get(reverse("insights:trends")).content.decode()
    trends.trends_refresh()
    page = client.get(reverse("insights:trends")).content.decode()
    assert "Counted on " in page and "the counts are made every night" in page
    weekly = client.get(reverse("insights:trends"), {"period": "week"}).content.decode()
    assert "counted from the records as you ask" in weekly
