"""Single sign-on through SAML 2.0, against a real IdP (pysaml2) on loopback.

The site fetches the IdP's metadata over HTTP, the test fetches the IdP's sign-in page
over HTTP as a browser would, and posts the signed assertion it carries back to
MyCareer's assertion consumer service.
"""

import base64
import datetime
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core import mail
from django.urls import reverse

from mycareer.accounts.models import StaffMembership, User
from mycareer.accounts.permissions import access_for
from mycareer.accounts.sso_settings import socialaccount_providers
from mycareer.accounts.tests.factories import (
    StaffFactory,
    StudentProfileFactory,
    UnitFactory,
    UserFactory,
)
from mycareer.accounts.tests.idp_saml import Person, fetch, signed_in_as, use_identity_provider
from mycareer.audit.models import AuditEntry

SLUG = "university"
HOST = "127.0.0.1"


@pytest.fixture
def university(settings, saml_idp, client, db):
    """MyCareer trusting the loopback IdP, and the IdP trusting MyCareer's metadata."""
    use_identity_provider(settings, saml_idp.settings_env())
    # python3-saml refuses single-label hosts such as Django's "testserver".
    client.defaults["HTTP_HOST"] = HOST
    metadata = client.get(reverse("saml_metadata", args=[SLUG]))
    assert metadata.status_code == 200
    saml_idp.trust(metadata.content.decode())
    return saml_idp


def _form(page: str) -> tuple[str, dict[str, str]]:
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
    return action.replace(f"http://{HOST}", ""), fields


def start_sign_in(client, idp, person: Person, *, next_url: str = "") -> tuple[str, dict]:
    """Press "Sign in with your university account" and sign in at the IdP."""
    idp.person = person
    query = f"?next={next_url}" if next_url else ""
    start = client.post(reverse("saml_login", args=[SLUG]) + query)
    assert start.status_code == 302, start.content
    assert start["Location"].startswith(f"{idp.base}/sso/redirect?SAMLRequest=")
    return _form(fetch(start["Location"]))


def finish_sign_in(client, action: str, fields: dict):
    """Post the assertion back (the ACS) and follow MyCareer's own step to finish."""
    posted = client.post(action, fields)
    assert posted.status_code == 302
    return client.get(posted["Location"])


def sign_in(client, idp, person: Person, **kwargs):
    return finish_sign_in(client, *start_sign_in(client, idp, person, **kwargs))


ADA = Person(uid="ada@example.ac.uk", email="ada.lovelace@example.ac.uk")


def test_the_service_provider_metadata_is_at_a_stable_address(university, client, settings):
    xml = client.get(reverse("saml_metadata", args=[SLUG])).content.decode()
    assert f'entityID="{settings.SITE_URL}/accounts/saml/{SLUG}/metadata/"' in xml
    assert f"/accounts/saml/{SLUG}/acs/" in xml


def test_the_login_page_offers_the_university_sign_in(university, client):
    page = client.get(reverse("account_login")).content.decode()
    assert "Sign in with your university account" in page
    assert f'action="/accounts/saml/{SLUG}/login/"' in page


def test_a_first_sign_in_makes_a_student_with_no_password(university, client):
    done = sign_in(client, university, ADA)

    assert done.status_code == 302 and done["Location"] == "/"
    person = signed_in_as(client)
    assert person.university_id == "ada@example.ac.uk"
    assert person.email == "ada.lovelace@example.ac.uk"
    assert person.full_name == "Ada Lovelace"
    assert person.kind == User.Kind.STUDENT
    assert not person.has_usable_password()
    assert EmailAddress.objects.filter(user=person, email=person.email, verified=True).exists()
    assert AuditEntry.objects.filter(action="accounts.sso.created", person=person).exists()
    assert client.get("/").status_code == 200


def test_staff_affiliation_makes_staff_without_any_access_level(university, client):
    unit = UnitFactory(code="chem")
    staff = Person(
        uid="grace@example.ac.uk", email="grace@example.ac.uk", affiliation=["staff", "member"]
    )
    sign_in(client, university, staff)

    person = signed_in_as(client)
    assert person.kind == User.Kind.STAFF
    assert access_for(person).granted is None  # levels come only from an administrator
    assert not StaffMembership.objects.filter(user=person, unit=unit).exists()


def test_staff_who_sign_in_through_the_university_can_set_up_a_second_factor(university, client):
    # An administrator signing in this way still needs one (and has no password to re-type).
    sign_in(
        client,
        university,
        Person(uid="grace@example.ac.uk", email="grace@example.ac.uk", affiliation=["staff"]),
    )
    form = client.get(reverse("mfa_activate_totp"))
    assert form.status_code == 200
    assert "authenticator app" in form.content.decode()


def test_a_returning_person_is_the_same_login(university, client):
    sign_in(client, university, ADA)
    first = signed_in_as(client)
    client.post(reverse("account_logout"))

    sign_in(client, university, ADA)

    assert signed_in_as(client) == first
    assert User.objects.filter(university_id=ADA.uid).count() == 1
    assert SocialAccount.objects.filter(user=first, uid=ADA.uid).count() == 1


def test_an_email_changed_at_the_university_changes_ours(university, client):
    sign_in(client, university, ADA)
    client.post(reverse("account_logout"))

    sign_in(client, university, Person(uid=ADA.uid, email="ada.king@example.ac.uk"))

    person = signed_in_as(client)
    assert person.email == "ada.king@example.ac.uk"
    assert list(EmailAddress.objects.filter(user=person).values_list("email", flat=True)) == [
        "ada.king@example.ac.uk"
    ]
    assert AuditEntry.objects.filter(action="accounts.sso.updated", person=person).exists()


def test_a_person_from_the_student_record_feed_is_linked_not_duplicated(university, client):
    profile = StudentProfileFactory(
        user__email="a.lovelace@students.example.ac.uk", user__university_id=ADA.uid
    )
    before = User.objects.count()

    sign_in(client, university, ADA)

    assert signed_in_as(client) == profile.user
    assert User.objects.count() == before
    profile.user.refresh_from_db()
    assert profile.user.email == ADA.email  # the university's address now


def test_staff_in_the_feed_without_an_identifier_are_matched_by_university_email(
    university, client
):
    colleague = StaffFactory(email="grace@example.ac.uk")
    sign_in(
        client,
        university,
        Person(uid="g.hopper", email="Grace@example.ac.uk", affiliation=["staff"]),
    )

    assert signed_in_as(client) == colleague
    colleague.refresh_from_db()
    assert colleague.university_id == "g.hopper"


def test_an_employer_with_the_same_email_is_never_taken_over(university, client):
    employer = UserFactory(email=ADA.email, kind=User.Kind.EMPLOYER)

    refused = sign_in(client, university, ADA)

    assert refused.status_code == 403
    assert "already belongs to another MyCareer account" in refused.content.decode()
    assert signed_in_as(client) is None
    employer.refresh_from_db()
    assert employer.university_id is None


def test_an_unknown_affiliation_is_refused_with_a_page_that_says_why(university, client):
    alumnus = Person(uid="old@example.ac.uk", email="old@example.ac.uk", affiliation=["alum"])

    refused = sign_in(client, university, alumnus)

    assert refused.status_code == 403
    assert "does not say that you are a member of staff or a student" in refused.content.decode()
    assert signed_in_as(client) is None
    assert not User.objects.filter(email="old@example.ac.uk").exists()


def test_an_erased_person_is_not_made_again_and_is_told_whom_to_contact(
    university, client, persona, caplog
):
    from mycareer.audit.personal_data import subject_from_ids
    from mycareer.audit.services import personal_data_erase

    sign_in(client, university, ADA)
    ada = signed_in_as(client)
    client.logout()
    personal_data_erase(subject=subject_from_ids([ada.pk], []), by=persona("admin"))
    people = User.objects.count()

    refused = sign_in(client, university, ADA)

    page = refused.content.decode()
    assert refused.status_code == 403
    assert "MyCareer erased your details on" in page
    assert "write to the data protection officer (dpo@demo.ac.uk)" in page
    assert signed_in_as(client) is None
    assert User.objects.count() == people
    assert not User.objects.filter(university_id=ADA.uid).exists()
    refusal = [r.getMessage() for r in caplog.records if "sso.refused" in r.getMessage()]
    assert refusal and "reason=erased" in refusal[-1] and ADA.uid not in refusal[-1]


def test_a_tampered_assertion_is_refused(university, client):
    action, fields = start_sign_in(client, university, ADA)
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    forged = xml.replace(ADA.email, "someone.else@example.ac.uk")
    assert forged != xml
    fields["SAMLResponse"] = base64.b64encode(forged.encode()).decode()

    refused = finish_sign_in(client, action, fields)

    assert refused.status_code == 401
    assert "did not go through" in refused.content.decode()
    assert signed_in_as(client) is None
    assert not User.objects.filter(university_id=ADA.uid).exists()


def test_an_expired_assertion_is_refused(university, client):
    action, fields = start_sign_in(client, university, ADA)

    # Replayed an hour later: its five minutes (and the allowed clock drift) are long gone.
    with time_machine.travel(datetime.timedelta(hours=1)):
        refused = finish_sign_in(client, action, fields)

    assert refused.status_code == 401
    assert signed_in_as(client) is None


def test_an_assertion_cannot_be_used_twice(university, client):
    action, fields = start_sign_in(client, university, ADA)
    finish_sign_in(client, action, fields)
    client.post(reverse("account_logout"))

    replayed = finish_sign_in(client, action, fields)

    # No sign-in is waiting for this answer (it was used): refused, and said so.
    assert replayed.status_code == 401
    assert "did not go through" in replayed.content.decode()
    assert signed_in_as(client) is None


def test_signing_out_ends_the_session(university, client):
    sign_in(client, university, ADA)
    assert signed_in_as(client) is not None

    client.post(reverse("account_logout"))

    assert signed_in_as(client) is None
    assert client.get(reverse("bookings:my_events")).status_code == 302


def test_a_logout_from_the_identity_provider_ends_the_session(university, client, settings):
    from saml2.saml import NAMEID_FORMAT_TRANSIENT, NameID

    sign_in(client, university, ADA)
    assert signed_in_as(client) is not None
    query = university.logout_request(
        sp_entity_id=f"{settings.SITE_URL}/accounts/saml/{SLUG}/metadata/",
        sls_url=f"http://{HOST}/accounts/saml/{SLUG}/sls/",
        name_id=NameID(format=NAMEID_FORMAT_TRANSIENT, text="anything"),
    )

    answered = client.get(f"{reverse('saml_sls', args=[SLUG])}?{query}")

    assert answered.status_code == 302
    assert answered["Location"].startswith(f"{university.base}/slo/redirect?SAMLResponse=")
    assert signed_in_as(client) is None


def test_staff_and_students_cannot_use_a_password_once_sso_is_on(university, client):
    student = UserFactory(email="kim@example.ac.uk", kind=User.Kind.STUDENT)
    refused = client.post(
        reverse("account_login"), {"login": student.email, "password": "demo-password-1"}
    )
    assert refused.status_code == 200
    assert "sign in with their university account" in refused.content.decode()
    assert signed_in_as(client) is None


def test_a_person_who_signs_in_through_the_university_cannot_make_a_password(university, client):
    sign_in(client, university, ADA)

    refused = client.post(
        reverse("account_set_password"),
        {"password1": "Harbour-Lantern-73", "password2": "Harbour-Lantern-73"},
    )

    assert refused.status_code == 200
    assert "MyCareer keeps no password for you" in refused.content.decode()
    assert not signed_in_as(client).has_usable_password()


def test_employers_keep_their_password_when_sso_is_on(university, client):
    employer = UserFactory(email="kim@kittiwake.studio", kind=User.Kind.EMPLOYER)
    done = client.post(
        reverse("account_login"), {"login": employer.email, "password": "demo-password-1"}
    )
    assert done.status_code == 302
    assert signed_in_as(client) == employer


def test_a_password_reset_for_a_student_explains_the_university_sign_in(university, client):
    UserFactory(email="kim@example.ac.uk", kind=User.Kind.STUDENT)
    client.post(reverse("account_reset_password"), {"email": "kim@example.ac.uk"})
    assert len(mail.outbox) == 1
    assert "sign in with your university account" in mail.outbox[0].body
    assert "/accounts/password/reset/key/" not in mail.outbox[0].body


def test_the_idp_metadata_can_come_from_a_file(settings, saml_idp, tmp_path):
    metadata = tmp_path / "idp.xml"
    metadata.write_text(saml_idp.metadata())
    app = socialaccount_providers(
        {"SAML_IDP_METADATA_FILE": str(metadata)}, site_url=settings.SITE_URL
    )["saml"]["APPS"][0]
    assert app["settings"]["idp"]["entity_id"] == saml_idp.entity_id
    assert app["settings"]["idp"]["sso_url"] == f"{saml_idp.base}/sso/redirect"
    assert "BEGIN" not in app["settings"]["idp"]["x509cert"]
    assert len(app["settings"]["idp"]["x509cert"]) > 500
