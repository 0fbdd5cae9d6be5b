"""Employers' own tokens: read only, and only what their pages show them."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mycareer.api import services
from mycareer.api.models import ApiToken, Scope
from mycareer.events.tests.factories import at, far_monday, make_event, unit
from mycareer.organisations import services as organisations
from mycareer.organisations.models import EmployerMembership, Organisation
from mycareer.organisations.tests.factories import (
    brightwave_digital,
    key_account_with_contact,
    make_organisation,
)
from mycareer.vacancies import services as vacancies
from mycareer.vacancies.tests.factories import MembershipFactory, vacancy_fields

pytestmark = pytest.mark.django_db

EMPLOYER = "employer@demo-employer.com"


@pytest.fixture
def brightwave(persona):
    """Laura's organisation: she is its admin and a contact students may reach; Zara, a
    colleague, keeps her details from students."""
    return brightwave_digital(persona(EMPLOYER))


@pytest.fixture
def northbridge(persona, cast):
    """Another organisation, with Tom's key contact and a note."""
    tom = persona("operator")
    org = make_organisation("Northbridge Engineering Ltd", by=tom, tags=["Placements"])
    david = organisations.contact_create(
        organisation=org,
        by=tom,
        full_name="David Okoro",
        email="david@northbridge.example",
        visible_to_students=True,
    )
    key_account_with_contact(
        contact=david, operator=tom, unit=cast["units"]["mech"], by=persona("admin")
    )
    organisations.note_create(organisation=org, by=tom, text="Talked about sponsorship.")
    return org


@pytest.mark.parametrize(
    ("who", "may"),
    [
        ("operator", {Scope.READ, Scope.WRITE_ORGANISATIONS, Scope.WRITE_EVENTS}),
        # Offered what they can do: writing needs the right to change records.
        ("viewer", {Scope.READ}),
        ("untrained", {Scope.READ}),
        ("student", {Scope.READ, Scope.BOOKINGS}),
        (EMPLOYER, {Scope.READ}),
    ],
)
def test_each_kind_of_account_gives_its_tokens_only_the_scopes_that_fit(
    persona, brightwave, who, may
):
    owner = persona(who)
    assert set(services.scopes_for(owner)) == may
    for scope in Scope.values:
        if scope in may:
            services.token_create(owner=owner, by=owner, name=scope, scopes=[scope])
        else:
            with pytest.raises(ValidationError):
                services.token_create(owner=owner, by=owner, name=scope, scopes=[scope])
    assert sorted(t.scopes[0] for t in ApiToken.objects.filter(owner=owner)) == sorted(may)


def test_an_employer_without_an_approved_organisation_holds_no_token(persona):
    laura = persona(EMPLOYER)
    with pytest.raises(PermissionDenied, match="approved"):
        services.token_create(owner=laura, by=laura, name="Feed", scopes=[Scope.READ])


def test_a_token_for_a_units_systems_is_never_an_employers(persona, brightwave, cast):
    with pytest.raises(PermissionDenied, match="staff"):
        services.token_create(
            owner=persona(EMPLOYER),
            by=persona("admin"),
            name="Dashboards",
            scopes=[Scope.READ],
            unit=cast["units"]["careers"],
        )
    assert not ApiToken.objects.exists()


def test_an_employer_makes_a_read_token_on_their_tokens_page(client, persona, brightwave):
    client.force_login(persona(EMPLOYER))
    page = client.get("/me/tokens/")
    assert page.status_code == 200
    # Said as it is for them: "notes" and "figures" are staff's, and refused to them.
    assert list(page.context["form"].fields["scopes"].choices) == [
        (Scope.READ.value, "Read your organisation, its vacancies and the events you may see")
    ]
    refused = client.post(
        "/me/tokens/", {"name": "Our website", "scopes": ["write-organisations"], "days": "30"}
    )
    assert refused.status_code == 200 and not ApiToken.objects.exists()
    assert b'value="Our website"' in refused.content
    made = client.post("/me/tokens/", {"name": "Our website", "scopes": ["read"], "days": "30"})
    assert made.status_code == 201
    assert ApiToken.objects.get().scopes == ["read"]
    listed = client.get("/me/tokens/").content.decode()
    assert "Read your organisation, its vacancies and the events you may see" in listed
    assert "notes" not in listed
    client.force_login(persona("student"))
    offered = dict(client.get("/me/tokens/").context["form"].fields["scopes"].choices)
    assert offered[Scope.READ.value] == (
        "Read the events and vacancies open to you, and employers’ profiles one by one"
    )


def test_an_employer_token_reads_its_own_organisation_with_all_its_people(
    call, token_for, brightwave, northbridge
):
    secret = token_for(EMPLOYER, scopes=[Scope.READ])
    own = call(secret, "get", f"/organisations/{brightwave.pk}").json()
    assert own["name"] == "Brightwave Digital"
    people = {c["email"]: c["visible_to_students"] for c in own["contacts"]}
    # Their contacts page lists every colleague and whether students may see them.
    assert people == {"employer@demo-employer.com": True, "zara.holmes@demo-employer.com": False}
    # The staff's record of the relationship is not theirs to read.
    assert own["tags"] == [] and own["key_accounts"] == [] and own["unit"] is None
    assert all(c["owners"] == [] and c["key_contact"] is False for c in own["contacts"])


def test_an_employer_token_never_reads_another_organisations_people_or_notes(
    call, token_for, brightwave, northbridge
):
    secret = token_for(EMPLOYER, scopes=[Scope.READ])
    # Another employer's profile is not theirs to read: its contacts chose to be seen
    # by students, not by other employers.
    other = call(secret, "get", f"/organisations/{northbridge.pk}")
    assert other.status_code == 404
    assert "david@northbridge.example" not in other.content.decode()
    david = northbridge.contacts.get()
    assert call(secret, "get", f"/contacts/{david.pk}").status_code == 404
    assert call(secret, "get", f"/organisations/{northbridge.pk}/notes").status_code == 403
    assert call(secret, "get", "/organisations?text=Northbridge").status_code == 403
    # An organisation not yet approved has no public profile at all.
    pending = make_organisation("Quiet Startup Ltd", status=Organisation.Status.PENDING)
    assert call(secret, "get", f"/organisations/{pending.pk}").status_code == 404
    # Nor does a record merged into another's: naming the survivor would say what it is.
    old = make_organisation("Northbridge Eng (old record)")
    organisations.organisation_merge(survivor=northbridge, other=old, keep={}, by=None)
    gone = call(secret, "get", f"/organisations/{old.pk}")
    assert gone.status_code == 404
    assert str(northbridge.pk) not in gone.content.decode()


def test_an_employer_token_lists_its_own_vacancies_only(
    call, token_for, persona, brightwave, northbridge
):
    laura = persona(EMPLOYER)
    vacancies.vacancy_create(organisation=brightwave, by=laura, **vacancy_fields(title="Tester"))
    vacancies.vacancy_create(
        organisation=northbridge,
        by=persona("operator"),
        **vacancy_fields(title="Rival engineer"),
    )
    found = call(token_for(EMPLOYER, scopes=[Scope.READ]), "get", "/vacancies").json()["items"]
    assert [(v["title"], v["status"]) for v in found] == [("Tester", "draft")]


def test_an_employer_token_reads_a_vacancy_past_its_closing_date_as_closed(
    call, token_for, persona, brightwave
):
    """Until the 05:00 job, the API said "approved" for a vacancy whose page read "Closed"."""
    import datetime

    from django.utils import timezone

    from mycareer.vacancies.models import Vacancy

    expired = vacancies.vacancy_create(
        organisation=brightwave, by=persona("operator"), **vacancy_fields(title="Expired")
    )
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Vacancy.objects.filter(pk=expired.pk).update(closing_date=yesterday)
    assert Vacancy.objects.get(pk=expired.pk).status == Vacancy.Status.APPROVED
    found = call(token_for(EMPLOYER, scopes=[Scope.READ]), "get", "/vacancies").json()["items"]
    assert [(v["title"], v["status"]) for v in found] == [("Expired", "closed")]


def test_an_employer_token_sees_the_events_open_to_employers_not_their_bookings(
    call, token_for, persona, brightwave
):
    """An event for all students is not one for employers: the token listed and opened
    it, as the calendar did, though only students were its audience."""
    tom = persona("operator")
    monday = far_monday()
    fair = make_event(
        by=tom,
        title="Engineering fair",
        starts_at=at(monday, 10),
        publish=True,
        open_to_all=True,
        open_to_employers=True,
    )
    make_event(
        by=tom,
        title="Mechanical only",
        starts_at=at(monday, 14),
        audience_units=[unit("mech")],
        publish=True,
        override_reason="Different rooms",
    )
    for_students = make_event(
        by=tom,
        title="Interview skills for all students",
        starts_at=at(monday, 18),
        publish=True,
        open_to_all=True,
        override_reason="Different rooms",
    )
    secret = token_for(EMPLOYER, scopes=[Scope.READ])
    assert [e["title"] for e in call(secret, "get", "/events").json()["items"]] == [
        "Engineering fair"
    ]
    assert call(secret, "get", f"/events/{fair.pk}").status_code == 200
    assert call(secret, "get", f"/events/{for_students.pk}").status_code == 404
    assert call(secret, "get", f"/events/{fair.pk}/bookings").status_code == 403


def test_an_employers_token_stops_when_their_membership_ends(call, token_for, brightwave):
    secret = token_for(EMPLOYER, scopes=[Scope.READ])
    assert call(secret, "get", "/vacancies").status_code == 200
    EmployerMembership.objects.filter(organisation=brightwave).update(
        status=EmployerMembership.Status.DECLINED
    )
    refused = call(secret, "get", "/vacancies")
    assert refused.status_code == 401
    assert "approved" in refused.json()["message"]


def test_a_member_of_two_organisations_reads_both_but_no_third(
    call, token_for, persona, brightwave, northbridge
):
    MembershipFactory(organisation=northbridge, user=persona(EMPLOYER), is_admin=False)
    secret = token_for(EMPLOYER, scopes=[Scope.READ])
    theirs = call(secret, "get", f"/organisations/{northbridge.pk}").json()
    assert [c["full_name"] for c in theirs["contacts"]] == ["David Okoro"]
    assert call(secret, "get", f"/organisations/{northbridge.pk}/notes").status_code == 403
