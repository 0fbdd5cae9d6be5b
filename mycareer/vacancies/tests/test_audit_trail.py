"""A vacancy's changes in the audit trail: names and words, not ids and JSON."""

import datetime

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from mycareer.audit.models import AuditEntry
from mycareer.vacancies import services
from mycareer.vacancies.selectors import NONE_CHOSEN
from mycareer.vacancies.tests.factories import VacancyFactory, vacancy_fields

pytestmark = pytest.mark.django_db

CHANGED = "vacancies.vacancy.changed"
REJECTED = "vacancies.vacancy.edit_rejected"


def details(vacancy, action: str) -> list[tuple[str, str]]:
    return AuditEntry.objects.filter(object_id=str(vacancy.pk), action=action).latest("pk").details


def test_a_change_names_the_units_and_says_every_student(live, moderator, cast):
    computing, ahc = cast["units"]["computing"], cast["units"]["ahc"]
    services.vacancy_update(vacancy=live, by=moderator, target_units=[ahc, computing])
    assert details(live, CHANGED) == [
        (
            "faculties and schools",
            f"Every student → {', '.join(sorted([ahc.name, computing.name]))}",
        )
    ]
    services.vacancy_update(vacancy=live, by=moderator, target_units=[], salary="£30,000")
    assert details(live, CHANGED) == [
        ("salary", "£28,000 a year → £30,000"),
        (
            "faculties and schools",
            f"{', '.join(sorted([ahc.name, computing.name]))} → Every student",
        ),
    ]


def test_a_change_that_clears_one_kind_of_target_names_what_is_left(live, moderator, cast):
    computing, cs = cast["units"]["computing"], cast["programmes"]["bsc-cs"]
    services.vacancy_update(
        vacancy=live, by=moderator, target_units=[computing], target_programmes=[cs]
    )
    services.vacancy_update(vacancy=live, by=moderator, target_units=[])
    assert details(live, CHANGED) == [
        ("faculties and schools", f"{computing.name} → No faculty or school")
    ]


def test_an_old_change_that_cleared_one_kind_of_target_does_not_guess(cast):
    # Recorded before both kinds were kept: the programmes then are not known.
    computing = cast["units"]["computing"]
    entry = AuditEntry(
        action=CHANGED,
        data={"changed": {"target_units": [[computing.pk, 999999], []], "remote": [False, True]}},
    )
    assert entry.details == [
        ("remote working possible", "No → Yes"),
        ("faculties and schools", f"(removed, number 999999), {computing.name} → {NONE_CHOSEN}"),
    ]


def test_a_proposed_and_an_approved_edit_read_line_by_line(live, employer_a, moderator, cast):
    cs = cast["programmes"]["bsc-cs"]
    services.vacancy_update(
        vacancy=live, by=employer_a, target_programmes=[cs], closing_date=live.closing_date
    )
    services.vacancy_update(vacancy=live, by=employer_a, title="Senior Tester", type="internship")
    expected = [
        ("title", "Junior Tester → Senior Tester"),
        ("type of vacancy", "Graduate job → Internship"),
        ("degree programmes", f"Every student → {cs.name}"),
    ]
    assert details(live, "vacancies.vacancy.edit_proposed") == expected
    services.vacancy_approve_edit(vacancy=live, by=moderator)
    assert details(live, "vacancies.vacancy.edit_approved") == expected


def test_a_rejected_or_dropped_edit_reads_as_what_it_proposed(live, employer_a, moderator, cast):
    computing = cast["units"]["computing"]
    services.vacancy_update(vacancy=live, by=employer_a, target_units=[computing], remote=True)
    services.vacancy_reject_edit(vacancy=live, by=moderator, reason="Say where.")
    assert details(live, "vacancies.vacancy.edit_rejected") == [
        ("reason", "Say where."),
        ("proposed remote working possible", "Yes"),
        ("proposed faculties and schools", computing.name),
    ]
    dropped = AuditEntry(
        action="vacancies.vacancy.closed",
        data={"closing_date": "2026-12-03", "dropped_edit": {"target_programmes": []}},
    )
    assert dropped.details == [
        ("closing date", "3 December 2026"),
        ("dropped degree programmes", NONE_CHOSEN),
    ]


def test_a_rejected_edit_that_empties_one_kind_of_target_says_whom_it_meant(
    live, employer_a, moderator, cast
):
    # Recorded with the programmes as they stood: with none, emptied units meant
    # every student; with one, they widened nothing.
    computing, cs = cast["units"]["computing"], cast["programmes"]["bsc-cs"]
    services.vacancy_update(vacancy=live, by=moderator, target_units=[computing])
    services.vacancy_update(vacancy=live, by=employer_a, target_units=[])
    services.vacancy_reject_edit(vacancy=live, by=moderator, reason="Keep it aimed.")
    entry = AuditEntry.objects.filter(action=REJECTED, object_id=str(live.pk)).latest("pk")
    assert entry.data["other_targets"] == {"target_programmes": []}
    assert entry.details == [
        ("reason", "Keep it aimed."),
        ("proposed faculties and schools", "Every student"),
    ]
    services.vacancy_update(vacancy=live, by=moderator, target_programmes=[cs])
    services.vacancy_update(vacancy=live, by=employer_a, target_units=[])
    services.vacancy_reject_edit(vacancy=live, by=moderator, reason="Keep it aimed.")
    assert details(live, REJECTED)[1:] == [
        ("proposed faculties and schools", "No faculty or school")
    ]


def test_an_edit_dropped_on_closing_that_empties_the_units_reads_every_student(
    live, employer_a, moderator, cast
):
    services.vacancy_update(vacancy=live, by=moderator, target_units=[cast["units"]["computing"]])
    services.vacancy_update(vacancy=live, by=employer_a, target_units=[])
    services.vacancies_close_expired(today=live.closing_date + datetime.timedelta(days=1))
    assert details(live, "vacancies.vacancy.closed") == [
        ("closing date", date_format(live.closing_date, "j F Y")),
        ("dropped faculties and schools", "Every student"),
    ]


def _target(count, *, organisation, by, cast):
    """`count` vacancies, each given one or two units by a member of staff."""
    units = list(cast["units"].values())
    for n, vacancy in enumerate(VacancyFactory.create_batch(count, organisation=organisation)):
        services.vacancy_update(vacancy=vacancy, by=by, target_units=units[n % 3 : n % 3 + 2])


def test_a_page_of_vacancy_entries_reads_their_names_once(
    client, persona, brightwave, moderator, cast, django_assert_max_num_queries
):
    # The trail and a member of staff's history: 21 entries cost what one does.
    client.force_login(persona("admin"))
    urls = [reverse("audit:list"), reverse("audit:person", args=[moderator.pk])]
    _target(1, organisation=brightwave, by=moderator, cast=cast)
    most = {}
    for url in urls:
        with django_assert_max_num_queries(100) as captured:
            client.get(url)
        most[url] = len(captured)
    _target(20, organisation=brightwave, by=moderator, cast=cast)
    for url in urls:
        with django_assert_max_num_queries(most[url]):
            html = client.get(url).content.decode()
        assert html.count("faculties and schools:") == 21


def test_a_staff_members_history_shows_names_not_ids_nor_json(
    client, persona, live, employer_a, moderator, cast
):
    computing, cs = cast["units"]["computing"], cast["programmes"]["bsc-cs"]
    services.vacancy_update(vacancy=live, by=moderator, target_units=[computing])
    services.vacancy_update(vacancy=live, by=employer_a, target_programmes=[cs], target_units=[])
    services.vacancy_approve_edit(vacancy=live, by=moderator)
    client.force_login(persona("admin"))
    response = client.get(reverse("audit:person", args=[moderator.pk]))
    html = response.content.decode()
    assert f"faculties and schools: Every student → {computing.name}" in html
    assert f"faculties and schools: {computing.name} → No faculty or school" in html
    assert f"degree programmes: No degree programme → {cs.name}" in html
    assert "{&quot;" not in html and '{"' not in html
    assert f"{computing.pk} →" not in html and f"→ {cs.pk}" not in html


def test_a_new_vacancy_names_its_organisation_and_status(draft, brightwave, moderator):
    # In any order: PostgreSQL keeps a JSON object's keys in an order of its own.
    assert sorted(details(draft, "vacancies.vacancy.created")) == [
        ("organisation", "Brightwave Digital"),
        ("status", "Draft"),
        ("title", "Junior Tester"),
    ]
    posted = services.vacancy_create(
        organisation=brightwave, by=moderator, **vacancy_fields(title="Posted for them")
    )
    assert sorted(details(posted, "vacancies.vacancy.posted")) == [
        ("organisation", "Brightwave Digital"),
        ("status", "Approved"),
        ("title", "Posted for them"),
    ]


def test_a_new_vacancy_of_an_organisation_since_deleted_says_so(cast):
    entry = AuditEntry(
        action="vacancies.vacancy.posted",
        data={"organisation": 999999, "title": "Old", "status": "approved"},
    )
    assert entry.details == [
        ("organisation", "(removed, number 999999)"),
        ("title", "Old"),
        ("status", "Approved"),
    ]
