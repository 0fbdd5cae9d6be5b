"""Pages: who reaches what, what students see, employers' own lists and moderation."""

import datetime
import html

import pytest
from django.urls import reverse

from mycareer.core.tests.html_forms import as_post, form_fields
from mycareer.organisations.models import Organisation
from mycareer.organisations.tests.factories import OrganisationFactory
from mycareer.vacancies import services
from mycareer.vacancies.forms import VacancyForm
from mycareer.vacancies.models import Vacancy
from mycareer.vacancies.tests.factories import VacancyFactory, in_days, vacancy_fields

pytestmark = pytest.mark.django_db

Status = Vacancy.Status


def form_data(**overrides) -> dict:
    data = {
        "title": "Graduate Analyst",
        "type": "graduate_job",
        "description": "Analyse things.",
        "location": "Leeds",
        "salary": "£27,000 a year",
        "closing_date": in_days(30).isoformat(),
        "apply_url": "https://jobs.example.com/analyst",
        "apply_email": "",
        **overrides,
    }
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def who(request, persona, employer_a, employer_b):
    """Log the client in as one of the cast (or nobody)."""

    def login(client, name: str):
        people = {"employer A": employer_a, "employer B": employer_b}
        if name != "anonymous":
            client.force_login(people.get(name) or persona(name))

    return login


# Who reaches what ------------------------------------------------------------------

PEOPLE = ["anonymous", "student", "employer A", "employer B", "viewer", "operator", "admin"]
MATRIX = {
    # page: expected status for each of PEOPLE (302 for anonymous is the login page)
    "list": [302, 200, 302, 302, 200, 200, 200],
    "mine": [302, 403, 200, 200, 403, 403, 403],
    "create": [302, 403, 200, 200, 403, 403, 403],
    "post": [302, 403, 403, 403, 403, 200, 200],
    "edit": [302, 404, 200, 403, 403, 200, 200],
    "submit": [302, 404, 302, 403, 403, 302, 302],
    "moderation": [302, 403, 403, 403, 200, 200, 200],
    "moderate": [302, 403, 403, 403, 403, 200, 200],
}


@pytest.mark.parametrize(
    ("view", "name", "expected"),
    [
        (view, name, codes[index])
        for view, codes in MATRIX.items()
        for index, name in enumerate(PEOPLE)
    ],
)
def test_permissions_matrix(client, who, draft, employer_a, view, name, expected):
    if view == "moderate":
        services.vacancy_submit(vacancy=draft, by=employer_a)
    who(client, name)
    if view in ("edit", "submit", "moderate"):
        url = reverse(f"vacancies:{view}", args=[draft.pk])
    else:
        url = reverse(f"vacancies:{view}")
    response = client.post(url) if view == "submit" else client.get(url)
    assert response.status_code == expected
    if name == "anonymous":
        assert response["Location"].startswith("/accounts/login/")
    if view == "submit":
        draft.refresh_from_db()
        assert (draft.status == Status.SUBMITTED) == (expected == 302 and name != "anonymous")


def test_an_employer_is_sent_from_the_student_list_to_their_own(client, employer_a):
    client.force_login(employer_a)
    response = client.get(reverse("vacancies:list"))
    assert response["Location"] == reverse("vacancies:mine")


def test_a_member_who_is_not_an_admin_reads_but_cannot_change(client, brightwave, draft):
    from mycareer.vacancies.tests.factories import MembershipFactory

    member = MembershipFactory(organisation=brightwave, is_admin=False).user
    client.force_login(member)
    assert client.get(draft.get_absolute_url()).status_code == 200
    response = client.get(reverse("vacancies:edit", args=[draft.pk]))
    assert response.status_code == 403
    assert "administrators" in response.content.decode()
    assert client.get(reverse("vacancies:create")).status_code == 403
    refused = html.unescape(client.get(reverse("vacancies:create")).content.decode())
    assert "Only your organisation's administrators can add vacancies: ask one of them" in refused
    # With no administrator, there is nobody to ask but the Careers Centre.
    brightwave.memberships.filter(is_admin=True).update(is_admin=False)
    refused = html.unescape(client.get(reverse("vacancies:create")).content.decode())
    assert "yours has none on MyCareer just now: ask the Careers Centre" in refused
    assert "ask one of them" not in refused


# What students see -----------------------------------------------------------------


def test_a_student_sees_only_approved_open_vacancies_of_active_organisations(client, persona, cast):
    shown = VacancyFactory(title="Approved Open Role", apply_email="apply@example.com")
    hidden = [
        VacancyFactory(title="Draft Role", status=Status.DRAFT),
        VacancyFactory(title="Submitted Role", status=Status.SUBMITTED),
        VacancyFactory(title="Rejected Role", status=Status.REJECTED),
        VacancyFactory(title="Withdrawn Role", status=Status.WITHDRAWN),
        VacancyFactory(title="Closed Role", status=Status.CLOSED),
        VacancyFactory(title="Expired Role", closing_date=in_days(-1)),
        VacancyFactory(
            title="Pending Organisation Role", organisation__status=Organisation.Status.PENDING
        ),
    ]
    elsewhere = VacancyFactory(title="Computing Only Role")
    elsewhere.target_units.set([cast["units"]["computing"]])
    client.force_login(persona("student"))
    body = client.get(reverse("vacancies:list") + "?q=role").content.decode()
    assert "Approved Open Role" in body
    for vacancy in [*hidden, elsewhere]:
        assert vacancy.title not in body
    # Never published: unknown. Published, and closed or for others: said so (a link sent
    # to them opened a "not found" that blamed the link).
    for vacancy in [hidden[i] for i in (0, 1, 2, 3, 6)]:
        assert client.get(vacancy.get_absolute_url()).status_code == 404, vacancy.title
    live_then_withdrawn = VacancyFactory(title="Taken Down Role")
    services.vacancy_withdraw(
        vacancy=live_then_withdrawn, by=persona("operator"), reason="The role is filled."
    )
    for vacancy, heading in [
        (live_then_withdrawn, "This vacancy has closed"),
        (hidden[4], "This vacancy has closed"),
        (hidden[5], "This vacancy has closed"),
        (elsewhere, "This vacancy is for other students"),
    ]:
        refused = client.get(vacancy.get_absolute_url())
        assert refused.status_code == 403 and heading in refused.content.decode()
        assert "How to apply" not in refused.content.decode()
    detail = client.get(shown.get_absolute_url())
    page = detail.content.decode()
    assert detail.status_code == 200
    assert "How to apply" in page
    assert 'href="https://jobs.example.com/apply"' in page
    assert "mailto:apply@example.com" in page
    # The record (status, history) is for staff and the organisation only.
    assert "History" not in page


@pytest.mark.usefixtures("elsewhere")
def test_the_student_list_puts_own_faculty_first_and_searches(client, persona, cast):
    client.force_login(persona("student"))
    body = client.get(reverse("vacancies:list")).content.decode()
    assert body.index("Graduate Mechanical Engineer") < body.index("Summer Vacation Scheme")
    assert "For your course" in body
    assert "Data Science Intern" not in body  # aimed at the School of Computing
    searched = client.get(
        reverse("vacancies:list"), {"q": "engineer", "type": "graduate_job", "closing_soon": ""}
    ).content.decode()
    assert "Graduate Mechanical Engineer" in searched
    assert "Summer Vacation Scheme" not in searched
    assert 'value="engineer"' in searched  # the search is kept
    soon = client.get(reverse("vacancies:list"), {"closing_soon": "on"}).content.decode()
    assert "Summer Internship: Propulsion Engineering" in soon
    assert "Graduate Mechanical Engineer" not in soon


@pytest.mark.usefixtures("elsewhere")
def test_a_filter_the_list_does_not_know_is_refused_by_name_not_ignored(client, persona):
    """A mistyped link (`?kind=graduate_job`) listed every vacancy as if they matched."""
    client.force_login(persona("student"))
    response = client.get(reverse("vacancies:list"), {"kind": "graduate_job"})
    body = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "The search has a filter it does not know: “kind”." in body
    assert "Correct the search above to see vacancies." in body
    assert "Summer Vacation Scheme" not in body
    # Its page is not a filter, and a filter it knows still narrows the list.
    known = client.get(reverse("vacancies:list"), {"type": "graduate_job", "page": "1"})
    body = known.content.decode()
    assert "does not know" not in body
    assert "Graduate Mechanical Engineer" in body and "Summer Vacation Scheme" not in body


@pytest.mark.usefixtures("elsewhere")
def test_a_bad_filter_value_lists_no_vacancies(client, persona):
    client.force_login(persona("student"))
    body = client.get(reverse("vacancies:list"), {"type": "party"}).content.decode()
    assert "Select a valid choice" in body
    assert "Summer Vacation Scheme" not in body


def test_the_student_list_reads_a_page_in_a_few_queries(
    client, persona, cast, django_assert_max_num_queries
):
    for n in range(30):
        vacancy = VacancyFactory(title=f"Bulk Vacancy {n}")
        if n % 2:
            vacancy.target_units.set([cast["units"]["mech"]])
    client.force_login(persona("student"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("vacancies:list"))
    assert response.status_code == 200
    with django_assert_max_num_queries(12):
        response = client.get(reverse("vacancies:list"), {"page": 2, "q": "bulk"})
    assert "Bulk Vacancy" in response.content.decode()


def test_a_title_with_a_script_is_shown_as_text_everywhere(
    client, persona, brightwave, employer_a, cast
):
    title = "<script>alert('x')</script> Developer"
    vacancy = services.vacancy_create(
        organisation=brightwave,
        by=employer_a,
        submit=True,
        target_units=[cast["units"]["mech"]],  # so it is among the student's first few
        **vacancy_fields(title=title),
    )

    def check(person, url):
        client.force_login(person)
        body = client.get(url).content.decode()
        assert "<script>alert" not in body, url
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Developer" in body, url

    check(persona("operator"), reverse("vacancies:moderation"))
    check(persona("operator"), reverse("vacancies:moderate", args=[vacancy.pk]))
    check(employer_a, reverse("vacancies:mine"))
    check(employer_a, vacancy.get_absolute_url())
    check(employer_a, "/")
    services.vacancy_approve(vacancy=vacancy, by=persona("operator"))
    check(persona("student"), reverse("vacancies:list"))
    check(persona("student"), vacancy.get_absolute_url())
    check(persona("student"), "/")


# Employers -------------------------------------------------------------------------


@pytest.mark.usefixtures("every_state", "elsewhere")
def test_an_employer_sees_where_each_of_their_vacancies_stands(client, employer_a):
    client.force_login(employer_a)
    body = client.get(reverse("vacancies:mine")).content.decode()
    for expected in [
        "Junior Content Designer",
        "Draft: not sent for moderation yet",
        "Graduate Software Developer",
        "Waiting for moderation",
        "Summer Internship: User Research",
        "Live, with changes waiting for moderation",
        "Not approved",
        "Reason: The university cannot advertise commission-only roles",
        "Withdrawn",
        "Closed",
    ]:
        assert expected in body
    assert "Graduate Mechanical Engineer" not in body  # another organisation's


def test_an_employer_never_sees_another_organisations_vacancies(
    client, employer_b, brightwave, draft
):
    theirs = Vacancy.objects.filter(organisation=brightwave)
    assert list(theirs) == [draft]
    client.force_login(employer_b)
    body = client.get(reverse("vacancies:mine")).content.decode()
    assert "You have no vacancies yet" in body
    for vacancy in theirs:
        assert vacancy.title not in body
        for response in (
            client.get(vacancy.get_absolute_url()),
            client.get(reverse("vacancies:edit", args=[vacancy.pk])),
            client.post(reverse("vacancies:withdraw", args=[vacancy.pk])),
        ):
            # Refused saying why, never what it is or whose.
            assert response.status_code == 403
            page = html.unescape(response.content.decode())
            assert "This vacancy is another organisation's" in page
            assert "You see only Rival Recruitment Ltd's vacancies" in page
            assert vacancy.title not in page and "Brightwave" not in page
    draft.refresh_from_db()
    assert draft.status == Vacancy.Status.DRAFT
    assert client.get(reverse("vacancies:detail", args=[99999])).status_code == 404
    # A link forwarded from a colleague: the page says whose login this is, and offers to
    # log out and open the link again.
    url = theirs.first().get_absolute_url()
    page = client.get(url).content.decode()
    assert f"You are logged in as {employer_b.full_name} ({employer_b.email})" in page
    assert f'name="next" value="{url}"' in page
    response = client.post(reverse("account_logout"), {"next": url})
    assert response.status_code == 302 and response["Location"] == url
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ({"apply_url": "mailto:a@b.com"}, "Enter a valid URL."),
        ({"apply_url": "http://example.com/a b"}, "Enter a valid URL."),
        ({"apply_url": "", "apply_email": "a@"}, "Enter a valid email address."),
    ],
)
def test_a_bad_link_or_address_gets_one_message_not_also_that_none_was_given(typed, error):
    """A link typed but invalid was also told "Say how to apply", though one was given."""
    form = VacancyForm(form_data(**typed))
    assert not form.is_valid()
    messages = [message for errors in form.errors.values() for message in errors]
    assert messages == [error]
    assert VacancyForm(form_data(apply_url="", apply_email="")).errors == {
        "apply_url": ["Say how to apply: give a link, an email address, or both."]
    }


def test_an_employer_drafts_sends_and_a_bad_form_keeps_what_was_typed(
    client, employer_a, brightwave, cast
):
    client.force_login(employer_a)
    url = reverse("vacancies:create")
    response = client.post(
        url, form_data(title="Keep This Title", apply_url="", location="", action="submit")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="Keep This Title"' in body
    assert "Say how to apply" in body
    assert "Give a location" in body
    assert not Vacancy.objects.filter(title="Keep This Title").exists()
    # A closing date gone by is named with the other mistakes, not after they are mended.
    response = client.post(
        url, form_data(title="Keep This Title", location="", closing_date=in_days(-1).isoformat())
    )
    body = response.content.decode()
    assert "Give a location" in body and "The closing date has passed" in body
    mech = cast["units"]["mech"]
    response = client.post(
        url, form_data(title="Keep This Title", action="submit", target_units=[mech.pk])
    )
    vacancy = Vacancy.objects.get(title="Keep This Title")
    assert response["Location"] == vacancy.get_absolute_url()
    assert vacancy.status == Status.SUBMITTED
    assert vacancy.organisation == brightwave
    assert list(vacancy.target_units.all()) == [mech]
    client.post(url, form_data(title="Just A Draft", action="draft"))
    assert Vacancy.objects.get(title="Just A Draft").status == Status.DRAFT


def test_a_very_long_description_is_refused_by_its_length_and_kept_in_the_box(
    client, employer_a, brightwave
):
    """A 200,000-character description went to the moderator, the students and the public
    feeds: the pages took any length, where the API stopped at 20,000 characters."""
    client.force_login(employer_a)
    url = reverse("vacancies:create")
    long = "word " * 5000
    response = client.post(url, form_data(title="Too Long", description=long, action="draft"))
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert "Keep it to 20,000 characters (about 3,000 words): it has 24,999." in body
    assert long.strip() in body  # nothing typed is lost
    assert 'maxlength="20000"' not in body  # the browser does not cut a paste short
    assert not Vacancy.objects.filter(title="Too Long").exists()
    client.post(url, form_data(title="Just Right", description="d" * 20_000, action="draft"))
    assert len(Vacancy.objects.get(title="Just Right").description) == 20_000


def test_the_same_page_sent_twice_makes_one_vacancy(client, employer_a, brightwave):
    """Back and send again (or a retried request) made a second vacancy for moderation."""
    client.force_login(employer_a)
    url = reverse("vacancies:create")
    data = as_post(form_fields(client.get(url).content.decode(), containing="title"))
    data.update(form_data(title="Sent Twice", action="submit"))
    first = client.post(url, data)
    again = client.post(url, data, follow=True)
    vacancy = Vacancy.objects.get(title="Sent Twice")
    assert again.redirect_chain[-1][0] == first["Location"] == vacancy.get_absolute_url()
    assert "This page was already sent and saved" in again.content.decode()
    # Other content is another vacancy (here: kept as a draft).
    data = as_post(form_fields(client.get(url).content.decode(), containing="title"))
    data.update(form_data(title="Sent Twice", action="draft"))
    client.post(url, data)
    assert Vacancy.objects.filter(title="Sent Twice").count() == 2


def test_editing_a_live_vacancy_sends_the_changes_for_moderation(client, employer_a, live):
    client.force_login(employer_a)
    url = reverse("vacancies:edit", args=[live.pk])
    assert "students see the approved version" in client.get(url).content.decode()
    response = client.post(
        url, form_data(title="Junior Tester", description="Build accessible web services.")
    )
    assert response.status_code == 302
    live.refresh_from_db()
    assert live.title == "Junior Tester"
    assert live.pending_changes == {
        "salary": "£27,000 a year",
        "apply_url": "https://jobs.example.com/analyst",
    }
    record = client.get(live.get_absolute_url()).content.decode()
    assert "Changes waiting for moderation" in record
    assert "£28,000 a year" in record and "£27,000 a year" in record
    # Editing again starts from the waiting changes, not the live version.
    assert 'value="£27,000 a year"' in client.get(url).content.decode()


def test_waiting_changes_saved_again_unchanged_say_so(client, employer_a, live):
    """It said "Your changes are sent for moderation" again, as if something had gone."""
    client.force_login(employer_a)
    url = reverse("vacancies:edit", args=[live.pk])
    client.post(url, form_data(title="Junior Tester"))
    live.refresh_from_db()
    waiting = (live.pending_changes, live.pending_since)
    data = as_post(form_fields(client.get(url).content.decode(), containing="title"))
    again = client.post(url, data, follow=True)
    page = html.unescape(again.content.decode())
    assert "Nothing was changed: your changes still wait for moderation." in page
    assert "Your changes are sent for moderation" not in page
    live.refresh_from_db()
    assert (live.pending_changes, live.pending_since) == waiting


def test_withdrawing_through_the_page(client, employer_a, live):
    client.force_login(employer_a)
    url = reverse("vacancies:withdraw", args=[live.pk])
    assert "Students will no longer see it" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    live.refresh_from_db()
    assert live.status == Status.WITHDRAWN
    response = client.get(reverse("vacancies:edit", args=[live.pk]))
    assert response.status_code == 302  # nothing left to edit


def test_staff_withdrawing_through_the_page_must_say_why(client, moderator, live):
    client.force_login(moderator)
    url = reverse("vacancies:withdraw", args=[live.pk])
    assert "emailed that the Careers Centre withdrew it" in client.get(url).content.decode()
    page = client.post(url, {"reason": ""}).content.decode()
    # What to give, in the page's words, not "This field is required."
    assert "Reason: Say why the vacancy is taken down." in page
    assert "This field is required." not in page
    live.refresh_from_db()
    assert live.status == Status.APPROVED
    response = client.post(url, {"reason": "The role is filled."}, follow=True)
    assert "Brightwave Digital is told by email." in html.unescape(response.content.decode())
    live.refresh_from_db()
    assert live.status == Status.WITHDRAWN


def test_staff_withdrawing_a_vacancy_nobody_at_the_organisation_manages_are_not_told_it_is_emailed(
    client, moderator, elsewhere
):
    """A vacancy staff posted for an organisation with no employer logins: the page and the
    message said the organisation was emailed, while the email went to nobody there."""
    vacancy = elsewhere["Graduate Mechanical Engineer"]
    assert services.vacancy_withdrawal_recipients(vacancy) == []
    client.force_login(moderator)
    url = reverse("vacancies:withdraw", args=[vacancy.pk])
    page = html.unescape(client.get(url).content.decode())
    assert "emailed that the Careers Centre withdrew it" not in page
    assert "Nobody at Northbridge Engineering Ltd signs in to MyCareer" in page
    assert "Kept in the vacancy's history" in page
    response = client.post(url, {"reason": "The role is filled."}, follow=True)
    told = html.unescape(response.content.decode())
    assert "is told by email" not in told
    assert "so nobody there is emailed." in told
    vacancy.refresh_from_db()
    assert vacancy.status == Status.WITHDRAWN


def test_a_vacancy_past_its_closing_date_offers_no_edit_before_the_morning_job(
    client, employer_a, moderator, live
):
    import time_machine
    from django.utils import timezone

    services.vacancy_update(vacancy=live, by=employer_a, closing_date=in_days(90))
    day_after = live.closing_date + datetime.timedelta(days=1)
    past_midnight = timezone.make_aware(datetime.datetime.combine(day_after, datetime.time(0, 5)))
    with time_machine.travel(past_midnight, tick=False):
        for person in (employer_a, moderator):
            client.force_login(person)
            page = client.get(live.get_absolute_url()).content.decode()
            assert reverse("vacancies:edit", args=[live.pk]) not in page
            assert reverse("vacancies:moderate", args=[live.pk]) not in page
            assert "Changes waiting for moderation" not in page
            response = client.get(reverse("vacancies:edit", args=[live.pk]), follow=True)
            assert "This vacancy is closed, so it can no longer be changed." in (
                response.content.decode()
            )


# Moderation ------------------------------------------------------------------------


@pytest.mark.usefixtures("every_state")
def test_the_queue_lists_oldest_first_with_the_diff_of_changes(client, persona, cast):
    client.force_login(persona("viewer"))
    body = client.get(reverse("vacancies:moderation")).content.decode()
    # A submitted vacancy, then a live one with changes (sent later).
    assert body.index("Graduate Software Developer") < body.index(
        "Changes to Placement Year: Front-end Developer"
    )
    assert "£22,000 a year" in body and "£24,000 a year" in body
    assert "approving and rejecting needs operator access" in body


def test_rejecting_needs_a_reason_and_keeps_what_was_typed(
    client, persona, submitted, django_assert_max_num_queries
):
    client.force_login(persona("operator"))
    url = reverse("vacancies:moderate", args=[submitted.pk])
    response = client.post(url, {"decision": "reject", "reason": ""})
    assert response.status_code == 200
    assert "Give a reason" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    response = client.post(url, {"decision": "reject", "reason": "Add the salary."})
    assert response["Location"] == reverse("vacancies:moderation")
    submitted.refresh_from_db()
    assert submitted.status == Status.REJECTED
    assert submitted.rejection_reason == "Add the salary."
    # Once decided, the page sends the moderator to the record.
    assert client.get(url).status_code == 302


def test_approving_changes_through_the_page(client, persona, employer_a, live):
    services.vacancy_update(vacancy=live, by=employer_a, title="Junior QA Engineer")
    client.force_login(persona("operator"))
    url = reverse("vacancies:moderate", args=[live.pk])
    page = client.get(url).content.decode()
    assert "What would change" in page and "Junior QA Engineer" in page
    assert client.post(url, {"decision": "approve"}).status_code == 302
    live.refresh_from_db()
    assert live.title == "Junior QA Engineer" and not live.has_pending_edit


def test_the_moderation_page_says_a_change_clearing_every_target_is_for_every_student(
    client, persona, employer_a, moderator, live, cast
):
    computing = cast["units"]["computing"]
    services.vacancy_update(vacancy=live, by=moderator, target_units=[computing])
    services.vacancy_update(vacancy=live, by=employer_a, target_units=[])
    client.force_login(moderator)
    page = client.get(reverse("vacancies:moderate", args=[live.pk])).content.decode()
    assert "<ins>Every student</ins>" in page and "<ins>None</ins>" not in page
    assert "<del>School of Computing</del>" in page
    # Approved, the vacancy's own page says it in the same words.
    services.vacancy_approve_edit(vacancy=live, by=moderator)
    record = client.get(live.get_absolute_url()).content.decode()
    assert "<dt>Aimed at</dt>\n  <dd>Every student</dd>" in record


def _seen(page: str) -> str:
    """The version of the vacancy the moderation page was drawn with (its hidden field)."""
    return dict(form_fields(page, containing="seen"))["seen"]


def test_a_decision_is_on_the_version_the_moderator_read(client, persona, employer_a, submitted):
    client.force_login(persona("operator"))
    url = reverse("vacancies:moderate", args=[submitted.pk])
    opened = _seen(client.get(url).content.decode())
    # The employer changes the vacancy while the moderator reads the page.
    services.vacancy_update(vacancy=submitted, by=employer_a, description="Cash in hand only.")
    response = client.post(url, {"decision": "approve", "seen": opened})
    page = response.content.decode()
    assert response.status_code == 200
    assert "changed this vacancy after you opened it" in page
    assert "Cash in hand only." in page
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    # Having read it, the moderator decides on what the page now shows.
    response = client.post(url, {"decision": "reject", "reason": "No.", "seen": _seen(page)})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Status.REJECTED


def test_a_vacancy_saved_in_the_hour_the_clocks_pass_twice_can_be_decided(
    client, persona, submitted
):
    """The page carried the version as a local time without its offset; 01:15 on the
    night the clocks go back happens twice, so every decision was refused, for good."""
    saved = datetime.datetime(2026, 10, 25, 0, 15, 30, 123456, tzinfo=datetime.UTC)
    Vacancy.objects.filter(pk=submitted.pk).update(updated_at=saved)
    client.force_login(persona("operator"))
    url = reverse("vacancies:moderate", args=[submitted.pk])
    response = client.post(
        url, {"decision": "approve", "seen": _seen(client.get(url).content.decode())}
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Status.APPROVED


def test_a_waiting_edit_revised_while_the_moderator_reads_is_not_approved_unseen(
    client, persona, employer_a, live
):
    services.vacancy_update(vacancy=live, by=employer_a, title="Junior QA Engineer")
    client.force_login(persona("operator"))
    url = reverse("vacancies:moderate", args=[live.pk])
    opened = _seen(client.get(url).content.decode())
    services.vacancy_update(vacancy=live, by=employer_a, title="Send us your bank details")
    response = client.post(url, {"decision": "approve", "seen": opened})
    assert "changed this vacancy after you opened it" in response.content.decode()
    live.refresh_from_db()
    assert live.title == "Junior Tester"
    assert live.pending_changes == {"title": "Send us your bank details"}


def test_the_queue_reads_in_a_few_queries(
    client, persona, brightwave, employer_a, cast, django_assert_max_num_queries
):
    for n in range(10):
        vacancy = services.vacancy_create(
            organisation=brightwave, by=persona("operator"), **vacancy_fields(title=f"Q{n}")
        )
        services.vacancy_update(
            vacancy=vacancy,
            by=employer_a,
            title=f"Q{n} renamed",
            target_units=[cast["units"]["mech"]],
        )
    client.force_login(persona("operator"))
    with django_assert_max_num_queries(16):
        response = client.get(reverse("vacancies:moderation"))
    assert "Q9 renamed" in response.content.decode()


def test_staff_post_a_vacancy_for_an_organisation_and_it_is_live(client, persona, cast):
    northbridge = OrganisationFactory(name="Northbridge Engineering Ltd")
    client.force_login(persona("operator"))
    url = reverse("vacancies:post")
    page = client.get(url, {"organisation": northbridge.pk}).content.decode()
    assert f'<option value="{northbridge.pk}" selected>' in page
    response = client.post(
        url, form_data(organisation=northbridge.pk, title="Posted By Tom", apply_url="")
    )
    assert response.status_code == 200  # no way to apply given
    assert 'value="Posted By Tom"' in response.content.decode()
    client.post(url, form_data(organisation=northbridge.pk, title="Posted By Tom"))
    vacancy = Vacancy.objects.get(title="Posted By Tom")
    assert vacancy.status == Status.APPROVED and vacancy.posted_by_staff
    assert vacancy.organisation == northbridge


# Home, navigation and the organisation's timeline ----------------------------------


@pytest.mark.usefixtures("every_state", "elsewhere")
def test_each_person_sees_their_vacancy_panel_and_link(client, persona, employer_a):
    client.force_login(persona("student"))
    body = client.get("/").content.decode()
    assert "Vacancies for you" in body and "Graduate Mechanical Engineer" in body
    assert f'href="{reverse("vacancies:list")}"' in body
    client.force_login(employer_a)
    body = client.get("/").content.decode()
    assert "Your vacancies" in body and "Waiting for moderation" in body
    assert f'href="{reverse("vacancies:mine")}"' in body
    client.force_login(persona("operator"))
    body = client.get("/").content.decode()
    assert "2 vacancies wait for moderation" in body
    assert ">Vacancy moderation</a>" in body
    client.force_login(persona("viewer"))
    body = client.get("/").content.decode()
    assert "wait for moderation" not in body
    assert ">Vacancy moderation</a>" not in body


@pytest.mark.usefixtures("every_state")
def test_the_organisation_timeline_shows_vacancies_and_decisions(client, persona, brightwave):
    client.force_login(persona("viewer"))
    body = client.get(brightwave.get_absolute_url()).content.decode()
    assert "Vacancy not approved: Sales Executive (Commission Only)" in body
    assert "Reason: The university cannot advertise commission-only roles" in body
    assert "Vacancy approved: Summer Internship: User Research" in body


@pytest.mark.django_db
def test_an_archived_organisation_s_page_offers_no_vacancy_to_post(client, persona):
    """It offered "Post a vacancy", whose form has no archived record to choose: it opened
    with no organisation chosen and theirs nowhere in the list."""
    from mycareer.organisations import services as organisation_services

    organisation = OrganisationFactory(name="Dormant Dynamics")
    post = f"{reverse('vacancies:post')}?organisation={organisation.pk}"
    client.force_login(persona("operator"))
    assert post in client.get(organisation.get_absolute_url()).content.decode()
    organisation_services.organisation_archive(organisation=organisation, by=persona("manager"))
    page = client.get(organisation.get_absolute_url()).content.decode()
    assert "Archived" in page and post not in page


@pytest.mark.django_db
def test_deleting_an_organisation_names_the_vacancies_that_go_with_it(client, persona):
    """The page named its contacts and notes only: its vacancies (and employer logins'
    membership, and its email history) went too, unmentioned."""
    from mycareer.audit.models import AuditEntry

    organisation = OrganisationFactory(name="Vanishing Ventures")
    VacancyFactory.create_batch(3, organisation=organisation)
    client.force_login(persona("manager"))
    url = reverse("organisations:delete", args=[organisation.pk])
    page = html.unescape(client.get(url).content.decode())
    assert "everything linked to it: 3 vacancies." in page
    assert client.post(url, {"confirm": "on"}).status_code == 302
    entry = AuditEntry.objects.get(action="organisations.organisation.deleted")
    assert entry.data["linked"] == {"vacancies": 3}
    assert not Vacancy.objects.filter(organisation_id=organisation.pk).exists()
