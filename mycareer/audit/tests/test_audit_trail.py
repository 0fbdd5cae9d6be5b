"""The audit trail: filtered by person, dates and kind of action, in plain words."""

import datetime
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from mycareer.audit import log, registry
from mycareer.audit.models import AuditEntry
from mycareer.audit.registry import label_for, registered_actions

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
OUR_APPS = {
    "accounts",
    "audit",
    "bookings",
    "events",
    "mailing",
    "organisations",
    "usergroup",
    "vacancies",
}


def test_every_action_the_code_records_has_a_plain_language_label():
    codes = set()
    for path in ROOT.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text()
        # Log lines (`log_event(logger, "events.cancellation.emailed", …)`) name events,
        # not audited actions.
        log_lines = set(re.findall(r'(?:log_event|logged_job)\(\s*logger,\s*"([a-z_.]+)"', text))
        for code in re.findall(r'"([a-z_]+(?:\.[a-z_]+){2,})"', text):
            if code.split(".")[0] in OUR_APPS and code not in log_lines:
                codes.add(code)
    assert len(codes) > 50
    assert sorted(codes - set(registered_actions())) == []


def _trail(client, **query):
    response = client.get(reverse("audit:list"), query)
    assert response.status_code == 200
    return response


@pytest.fixture
def entries(persona):
    """Three entries by three people on three days."""
    admin, tom, grace = persona("admin"), persona("operator"), persona("mailer")
    made = []
    for days_ago, by, action in (
        (40, tom, "organisations.note.created"),
        (10, grace, "mailing.campaign.queued"),
        (2, admin, "accounts.access.granted"),
    ):
        entry = log(None, action, by=by, data={"marker": f"entry-{days_ago}"})
        AuditEntry.objects.filter(pk=entry.pk).update(
            at=timezone.now() - datetime.timedelta(days=days_ago)
        )
        made.append(entry)
    return made


def _markers(response) -> set[str]:
    """The test entries among all those the filter lets through (on every page)."""
    found = response.context["page"].paginator.object_list
    return {e.data["marker"] for e in found if isinstance(e.data, dict) and "marker" in e.data}


def test_filter_by_person_dates_and_kind_of_action(client, persona, entries):
    client.force_login(persona("admin"))
    by_grace = _trail(client, person="Grace Okafor")
    assert _markers(by_grace) == {"entry-10"}
    grace = persona("mailer")
    # Her own actions, those about her, and records named for her (her key account).
    assert all(
        grace in (e.actor, e.person) or "Grace Okafor" in e.object_repr
        for e in by_grace.context["page"].paginator.object_list
    )
    assert _markers(_trail(client, person="operator@demo")) == {"entry-40"}
    assert _markers(_trail(client, action="mailing.campaign.queued")) == {"entry-10"}
    assert _markers(_trail(client, action="organisations.")) == {"entry-40"}
    today = timezone.localdate()
    week_ago = (today - datetime.timedelta(days=7)).isoformat()
    assert _markers(_trail(client, date_from=week_ago)) == {"entry-2"}
    month_ago = (today - datetime.timedelta(days=30)).isoformat()
    assert _markers(_trail(client, date_from=month_ago, date_to=week_ago)) == {"entry-10"}
    assert _markers(_trail(client, person="Priya", date_to=week_ago)) == set()


def test_kinds_of_action_are_in_plain_words(client, persona, entries):
    client.force_login(persona("admin"))
    html = _trail(client).content.decode()
    assert "Bulk email sent" in html and ">mailing.campaign.queued<" not in html
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', html)
    labels = dict(options)
    assert labels["mailing.campaign.queued"] == label_for("mailing.campaign.queued")
    assert labels["organisations."] == "Anything in organisations, contacts and notes"
    assert all(label and "." not in label.rstrip(".") for label in labels.values())


@pytest.mark.parametrize(
    "query, message",
    [
        ({"date_from": "2026-13-45"}, "Enter a valid date"),
        (
            {"date_from": "2026-05-01", "date_to": "2026-04-01"},
            "The end date is before the start date",
        ),
        ({"date_to": "99999-01-01"}, "Enter a valid date"),
        ({"date_from": "1066-10-14"}, "between the years 2000 and 2199"),
        ({"action": "not.a.kind"}, "Select a valid choice"),
        ({"person": "x" * 500}, "at most 150 characters"),
        # A mistyped name showed the whole trail as if it were the filtered answer.
        ({"persn": "Grace"}, "The audit trail has a filter it does not know"),
        # Half a record's link, or a wrong one, showed the whole trail too.
        ({"ct": "abc", "id": "1"}, "incomplete or wrong"),
        ({"ct": "28"}, "incomplete or wrong"),
        ({"id": "18"}, "incomplete or wrong"),
        ({"ct": "99999", "id": "1"}, "incomplete or wrong"),
    ],
)
def test_a_filter_it_cannot_use_is_refused_with_a_message(client, persona, entries, query, message):
    client.force_login(persona("admin"))
    response = _trail(client, **query)
    html = response.content.decode()
    assert message in html
    assert _markers(response) == set()
    assert "Nothing shown until the filter is corrected." in html


def test_the_trail_costs_the_same_few_queries_however_long_it_is(
    client, persona, cast, django_assert_max_num_queries
):
    people = [persona(n) for n in ("admin", "operator", "mailer", "manager", "student")]
    for n in range(120):
        log(people[n % 5], "accounts.access.granted", by=people[(n + 1) % 5], data={"n": n})
    client.force_login(persona("admin"))
    with django_assert_max_num_queries(8):
        response = _trail(client, action="accounts.access.granted")
    assert len(response.context["page"].object_list) == 50
    with django_assert_max_num_queries(8):
        _trail(client, page=2, person="Tom")


def test_pages_keep_the_filter(client, persona, cast):
    for n in range(60):
        log(None, "accounts.access.granted", by=persona("operator"), data={"n": n})
    client.force_login(persona("admin"))
    html = _trail(client, action="accounts.access.granted").content.decode()
    assert "?action=accounts.access.granted&amp;page=2" in html


def test_an_erasure_links_to_its_report_from_the_trail(client, persona, cast):
    entry = log(
        persona("viewer"), "audit.personal_data.erased", by=persona("admin"), data={"total": 1}
    )
    client.force_login(persona("admin"))
    html = _trail(client, sensitive="on").content.decode()
    assert reverse("audit:erasure_report", args=[entry.pk]) in html


def test_a_listed_value_that_holds_a_comma_reads_as_one():
    entry = AuditEntry(
        action="organisations.organisation.changed",
        data={"tags": ["Engineering, Civil", "Placements"], "fields": ["name", "tags"]},
    )
    assert entry.details == [
        ("tags", "“Engineering, Civil”, Placements"),
        ("fields", "name, tags"),
    ]


def test_a_change_reads_as_each_field_from_before_to_after(settings):
    # The trail showed `changed: {"capacity": [null, 30]}` and raw timestamps.
    settings.TIME_ZONE = "Europe/London"
    entry = AuditEntry(
        action="bookings.settings.changed",
        data={
            "changed": {
                "capacity": [None, 30],
                "job_title": ["Recruiter", "Head of Early Careers"],
                "units": [["Business School"], ["Business School", "Law"]],
                "visible_to_students": [False, True],
            },
            "until": "2026-12-08T06:33:39.351632+00:00",
            "holding_places": 0,
        },
    )
    assert entry.details == [
        ("capacity", "none → 30"),
        ("job title", "Recruiter → Head of Early Careers"),
        ("units", "Business School → Business School, Law"),
        ("visible to students", "no → yes"),
        ("until", "8 Dec 2026 06:33"),
        ("holding places", "0"),
    ]


def test_an_app_shows_a_page_of_its_entries_with_one_call(client, persona, cast, monkeypatch):
    # What an entry records by id is named by the app that recorded it, for the whole page
    # together: one look-up per page, not one per entry.
    calls = []

    def writer(entries):
        calls.append(len(entries))
        return [[("thing", f"named {entry.data['id']}")] for entry in entries]

    monkeypatch.setitem(registry._DETAILS, "accounts.access.granted", writer)
    for n in range(3):
        log(None, "accounts.access.granted", by=persona("operator"), data={"id": n})
    log(None, "organisations.note.created", by=persona("operator"), data={"id": 9})
    client.force_login(persona("admin"))
    html = _trail(client).content.decode()
    assert calls == [3]
    assert "thing: named 2" in html
    assert "id: 9" in html


def test_an_entry_read_alone_is_shown_by_its_app_too(monkeypatch):
    monkeypatch.setitem(
        registry._DETAILS, "accounts.access.granted", lambda entries: [[("who", "Grace")]]
    )
    assert AuditEntry(action="accounts.access.granted", data={"id": 3}).details == [
        ("who", "Grace")
    ]


def test_a_recorded_count_by_reason_reads_as_words_not_json():
    # A campaign's recipients left out, by reason, showed as `{"no email address": 1, …}`.
    entry = AuditEntry(
        action="mailing.campaign.queued",
        data={
            "recipients": 30,
            "left_out": {"no email address": 1, "emailed too often recently": 3},
            "flags": {"open_to_all": True},
        },
    )
    assert entry.details == [
        ("recipients", "30"),
        ("left out", "no email address: 1, emailed too often recently: 3"),
        ("flags", "open to all: yes"),
    ]
