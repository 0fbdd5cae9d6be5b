"""The public vacancies feed for the website: only open vacancies for every student,
and only the signpost to each (no description, no way to contact the employer)."""

import datetime
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from mycareer.accounts.models import DegreeProgramme, Unit
from mycareer.core.tests.queries import assert_no_more_queries, queries_of
from mycareer.organisations.models import Organisation
from mycareer.vacancies import services
from mycareer.vacancies.models import Vacancy
from mycareer.vacancies.tests.factories import VacancyFactory, in_days, vacancy_fields

pytestmark = pytest.mark.django_db


def feed(client, kind: str = "json", /, **query):
    return client.get(reverse(f"feeds:vacancies_{kind}"), query)


def titles(client, **query) -> list[str]:
    response = feed(client, **query)
    assert response.status_code == 200, response.content[:300]
    return [item["title"] for item in response.json()["items"]]


def test_only_open_vacancies_for_every_student_appear_closing_soonest_first(
    client, live, brightwave, employer_a, moderator
):
    later = VacancyFactory(organisation=brightwave, title="Later", closing_date=in_days(60))
    sooner = VacancyFactory(organisation=brightwave, title="Sooner", closing_date=in_days(2))
    today = VacancyFactory(organisation=brightwave, title="Closes today", closing_date=in_days(0))
    VacancyFactory(organisation=brightwave, title="Expired", closing_date=in_days(-1))
    VacancyFactory(organisation=brightwave, title="Closed", status=Vacancy.Status.CLOSED)
    VacancyFactory(organisation=brightwave, title="Withdrawn", status=Vacancy.Status.WITHDRAWN)
    VacancyFactory(organisation=brightwave, title="Rejected", status=Vacancy.Status.REJECTED)
    services.vacancy_create(
        organisation=brightwave, by=employer_a, **vacancy_fields(title="Still a draft")
    )
    services.vacancy_create(
        organisation=brightwave, by=employer_a, submit=True, **vacancy_fields(title="Submitted")
    )
    waiting = VacancyFactory(title="Of an organisation not approved yet").organisation
    Organisation.objects.filter(pk=waiting.pk).update(status=Organisation.Status.PENDING)
    for_a_faculty = VacancyFactory(organisation=brightwave, title="For engineers only")
    for_a_faculty.target_units.add(Unit.objects.get(code="eps"))
    for_a_programme = VacancyFactory(organisation=brightwave, title="For one programme")
    for_a_programme.target_programmes.add(DegreeProgramme.objects.first())
    assert titles(client) == [today.title, sooner.title, live.title, later.title]


def test_a_vacancy_on_the_last_date_there_is_does_not_break_the_feeds(client, live, brightwave):
    # Stored before the service refused such a date: the feeds stay up for everyone.
    VacancyFactory(organisation=brightwave, title="Far away", closing_date=datetime.date.max)
    assert "Far away" in titles(client)
    for kind in ("rss", "atom"):
        assert feed(client, kind).status_code == 200


def test_each_item_is_a_signpost_without_the_advert_or_a_way_to_contact_the_employer(
    client, brightwave
):
    vacancy = VacancyFactory(
        organisation=brightwave,
        title="Graduate Developer",
        description="Call Jo on 07700 900123 or write to jo@brightwave.example.",
        apply_url="https://jobs.brightwave.example/apply",
        apply_email="jo@brightwave.example",
        location="Leeds",
        remote=True,
    )
    document = feed(client).json()
    assert document["version"] == 1 and document["feed"] == "vacancies"
    [item] = document["items"]
    assert item == {
        "id": vacancy.pk,
        "title": "Graduate Developer",
        "organisation": {"name": "Brightwave Digital"},
        "type": {"code": "graduate_job", "label": "Graduate job"},
        "location": "Leeds",
        "remote": True,
        "salary": "£27,000 a year",
        "closing_date": vacancy.closing_date.isoformat(),
        "url": f"http://127.0.0.1:8000{vacancy.get_absolute_url()}",
        "updated_at": vacancy.updated_at.isoformat(),
    }
    for format in ("json", "rss", "atom"):
        body = feed(client, format).content.decode()
        assert "jo@brightwave.example" not in body
        assert "07700" not in body and "jobs.brightwave.example" not in body


def test_an_edit_waiting_for_moderation_is_not_shown(client, live, employer_a):
    services.vacancy_update(
        vacancy=live, by=employer_a, **vacancy_fields(title="Junior Tester (renamed)")
    )
    live.refresh_from_db()
    assert live.has_pending_edit
    assert titles(client) == ["Junior Tester"]


def test_filters_and_refusals(client, brightwave):
    VacancyFactory(
        organisation=brightwave, title="Remote internship", type="internship", remote=True
    )
    VacancyFactory(organisation=brightwave, title="Office job")
    assert titles(client, type="internship") == ["Remote internship"]
    assert titles(client, remote="yes") == ["Remote internship"]
    assert titles(client, remote="no") == ["Office job"]
    for query, code in (
        ({"programme": "meng-mech"}, "unknown_filter"),
        ({"remote": "maybe"}, "bad_filter_value"),
        ({"type": "apprenticeship"}, "bad_filter_value"),
        ({"limit": "201"}, "bad_filter_value"),
    ):
        response = feed(client, **query)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == code
        assert set(response.json()["error"]["filters"]) == {"type", "remote", "limit"}


def test_rss_and_atom_are_valid_and_escape_titles(client, brightwave):
    brightwave.name = "Smith & <Sons>"
    brightwave.save()
    VacancyFactory(organisation=brightwave, title='<img src=x onerror="alert(1)"> Tester')
    rss = feed(client, "rss")
    assert rss["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert "<img" not in rss.content.decode()
    [item] = ET.fromstring(rss.content).find("channel").findall("item")
    assert item.findtext("title") == '<img src=x onerror="alert(1)"> Tester at Smith & <Sons>'
    atom = feed(client, "atom")
    assert atom["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(atom.content)
    assert len(root.findall("{http://www.w3.org/2005/Atom}entry")) == 1


def test_the_feed_is_cached_with_an_etag_until_a_vacancy_changes(
    client, live, employer_a, django_capture_on_commit_callbacks
):
    first = feed(client)
    assert first["Cache-Control"].startswith("public, max-age=")
    assert first["Access-Control-Allow-Origin"] == "*"
    not_modified = client.get(
        reverse("feeds:vacancies_json"), headers={"If-None-Match": first["ETag"]}
    )
    assert not_modified.status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        services.vacancy_withdraw(vacancy=live, by=employer_a)
    after = feed(client)
    assert after["ETag"] != first["ETag"]
    assert after.json()["items"] == []


def test_last_modified_moves_when_the_organisation_is_renamed(
    client, live, brightwave, django_capture_on_commit_callbacks
):
    first = feed(client)
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(hours=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        brightwave.name = "Brightwave Digital Group"
        brightwave.save()
    after = feed(client)
    assert after.json()["items"][0]["organisation"]["name"] == "Brightwave Digital Group"
    assert after["ETag"] != first["ETag"]
    brightwave.refresh_from_db()
    assert after["Last-Modified"] == brightwave.updated_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert after["Last-Modified"] != first["Last-Modified"]


def test_a_cached_feed_lasts_no_longer_than_its_first_vacancy(client, brightwave):
    """Time alone takes a vacancy out: after its closing day the cached feed is not served."""
    VacancyFactory(organisation=brightwave, title="Closes today", closing_date=in_days(0))
    first = feed(client)
    assert [i["title"] for i in first.json()["items"]] == ["Closes today"]
    left = datetime.datetime.combine(in_days(1), datetime.time())
    seconds = (timezone.make_aware(left) - timezone.now()).total_seconds()
    assert int(first["Cache-Control"].split("=")[1]) <= max(1, seconds)
    with time_machine.travel(timezone.make_aware(left) + datetime.timedelta(minutes=1)):
        assert feed(client).json()["items"] == []


def test_a_cold_feed_is_built_in_a_few_queries(client, brightwave, django_assert_max_num_queries):
    for n in range(30):
        VacancyFactory(organisation=brightwave, title=f"Vacancy {n}")
    feed(client, limit=1)  # makes the cache's generation for vacancies
    for format in ("json", "rss", "atom"):
        with django_assert_max_num_queries(10):
            assert feed(client, format).status_code == 200


def test_the_rss_and_atom_feeds_cost_the_same_with_more_vacancies(client, brightwave):
    """Built cold (a limit not asked before is another cache entry), each vacancy with its
    own organisation."""
    from mycareer.organisations.tests.factories import OrganisationFactory

    def posted(n: int) -> None:
        for i in range(n):
            VacancyFactory(organisation=OrganisationFactory(), title=f"Open vacancy {i}")

    posted(1)
    feed(client, limit=1)  # makes the cache's generation for vacancies
    kinds = ("rss", "atom")
    before = {kind: queries_of(lambda kind=kind: feed(client, kind, limit=50)) for kind in kinds}
    posted(7)
    for kind in kinds:
        after = queries_of(lambda kind=kind: feed(client, kind, limit=49))
        assert feed(client, kind, limit=49).content.decode().count("Open vacancy") >= 8
        assert_no_more_queries(before[kind], after)
