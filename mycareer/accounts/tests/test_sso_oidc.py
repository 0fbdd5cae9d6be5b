"""Single sign-on through OpenID Connect, against a real provider on loopback
(django-oauth-toolkit, in its own process): discovery, keys, code exchange and userinfo
all go over HTTP, as they would to Microsoft Entra ID."""

import pytest
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from mycareer.accounts.models import User
from mycareer.accounts.tests.factories import StudentProfileFactory
from mycareer.accounts.tests.idp_oidc import OidcIdP, path_of
from mycareer.accounts.tests.idp_saml import signed_in_as, use_identity_provider

HOST = "127.0.0.1"
SLUG = "university-oidc"
CALLBACK = f"http://{HOST}/accounts/oidc/{SLUG}/login/callback/"


@pytest.fixture(scope="module")
def oidc_idp(tmp_path_factory):
    idp = OidcIdP(tmp_path_factory.mktemp("oidc"), redirect_uri=CALLBACK)
    yield idp
    idp.stop()


@pytest.fixture
def university(settings, oidc_idp, client, db):
    use_identity_provider(settings, oidc_idp.settings_env())
    client.defaults["HTTP_HOST"] = HOST
    return oidc_idp


def sign_in(client, idp, username: str, claims: dict):
    idp.people({username: claims})
    start = client.post(reverse("openid_connect_login", args=[SLUG]))
    assert start.status_code == 302, start.content
    assert start["Location"].startswith(f"{idp.issuer}/authorize/")
    back = idp.sign_in(start["Location"], username)
    assert back.startswith(CALLBACK)
    return client.get(path_of(back))


STUDENT = {
    "sub": "s-1001",
    "email": "mei.lin@example.ac.uk",
    "given_name": "Mei",
    "family_name": "Lin",
    "roles": ["student"],
}


def test_the_login_page_offers_the_university_sign_in(university, client):
    page = client.get(reverse("account_login")).content.decode()
    assert f'action="/accounts/oidc/{SLUG}/login/"' in page


def test_a_first_sign_in_makes_the_person_matched_by_the_configured_claim(university, client):
    done = sign_in(client, university, "mei", STUDENT)

    assert done.status_code == 302 and done["Location"] == "/"
    person = signed_in_as(client)
    assert (person.university_id, person.email, person.full_name, person.kind) == (
        "s-1001",
        "mei.lin@example.ac.uk",
        "Mei Lin",
        User.Kind.STUDENT,
    )
    assert not person.has_usable_password()


def test_returning_with_a_changed_email_is_the_same_login(university, client):
    sign_in(client, university, "mei", STUDENT)
    first = signed_in_as(client)
    client.post(reverse("account_logout"))
    assert signed_in_as(client) is None

    sign_in(client, university, "mei", {**STUDENT, "email": "m.lin@example.ac.uk"})

    assert signed_in_as(client) == first
    first.refresh_from_db()
    assert first.email == "m.lin@example.ac.uk"
    assert SocialAccount.objects.filter(user=first).count() == 1


def test_a_person_from_the_feed_is_linked_by_a_configured_claim(university, client, settings):
    profile = StudentProfileFactory(user__university_id="201900123")
    use_identity_provider(settings, university.settings_env(OIDC_CLAIM_UID="student_id"))

    sign_in(client, university, "mei", {**STUDENT, "student_id": "201900123"})

    assert signed_in_as(client) == profile.user


def test_an_unknown_role_is_refused_with_a_page_that_says_why(university, client):
    refused = sign_in(client, university, "guest", {**STUDENT, "sub": "g-1", "roles": ["guest"]})

    assert refused.status_code == 403
    assert "does not say that you are a member of staff or a student" in refused.content.decode()
    assert signed_in_as(client) is None


def test_a_forged_answer_is_refused(university, client):
    university.people({"mei": STUDENT})
    start = client.post(reverse("openid_connect_login", args=[SLUG]))
    back = university.sign_in(start["Location"], "mei")
    forged = back.replace("code=", "code=forged")

    refused = client.get(path_of(forged))

    assert refused.status_code == 401
    assert signed_in_as(client) is None
