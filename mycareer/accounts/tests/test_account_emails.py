"""Account emails are MyCareer's own: its voice, British spelling, links that work from the mail."""

import logging
import re
from pathlib import Path

import allauth
import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from mycareer.accounts.models import User
from mycareer.core.tests.test_logging import fields_of, lines

SITE = "https://mycareer.example.ac.uk"
AMERICAN = re.compile(
    r"\b(recogniz\w*|finaliz\w*|organiz\w*|authoriz\w*|realiz\w*|customiz\w*|"
    r"colou?r(?<!colour)|center|canceled|canceling|behavior|favor)\b",
    re.IGNORECASE,
)
STOCK = ("Hello from", "Thank you for using", "You're receiving this", "Please Confirm")
ALLAUTH_TEMPLATES = Path(allauth.__file__).parent / "templates"
OURS = Path(__file__).resolve().parents[1] / "templates"


def links(body: str) -> list[str]:
    return re.findall(r"https?://\S+", body)


def assert_ours(message) -> None:
    text = f"{message.subject}\n{message.body}"
    assert not any(stock in text for stock in STOCK), text
    assert not AMERICAN.search(text), AMERICAN.search(text)
    assert "testserver" not in text and "127.0.0.1" not in text
    assert message.subject.startswith("[MyCareer] ")
    for link in links(message.body):
        assert link.startswith(f"{SITE}/"), link
    assert message.body.rstrip().endswith(f"{SITE}/")


def path_of(link: str) -> str:
    return link.removeprefix(SITE)


@pytest.fixture
def site(settings):
    settings.SITE_URL = SITE


def test_every_account_email_of_the_library_has_our_own_template():
    for folder in ("account/email", "mfa/email"):
        theirs = {p.name for p in (ALLAUTH_TEMPLATES / folder).glob("*.txt")}
        ours = {p.name for p in (OURS / folder).glob("*.txt")}
        assert theirs - ours == set(), folder


@pytest.mark.parametrize(
    "template", sorted(p.relative_to(OURS).as_posix() for p in OURS.glob("*/email/*.txt"))
)
def test_each_template_reads_in_our_voice(template, site):
    from django.conf import settings

    context = {
        "user": User(full_name="Kim Lee", email="kim@kittiwake.studio"),
        "email": "kim@kittiwake.studio",
        "site_url": settings.SITE_URL,
        "activate_url": f"{SITE}/accounts/confirm-email/KEY/",
        "password_reset_url": f"{SITE}/accounts/password/reset/key/UID-KEY/",
        "login_url": f"{SITE}/accounts/login/",
        "forgotten_password_url": f"{SITE}/accounts/password/reset/",
        "register_url": f"{SITE}/employer/register/",
        "timestamp": timezone.now(),
        "ip": "198.51.100.7",
        "user_agent": "Firefox",
        "code": "123456",
        "from_email": "a@example.com",
        "to_email": "b@example.com",
        "deleted_email": "c@example.com",
    }
    text = render_to_string(template, context)
    assert text.strip()
    assert not any(stock in text for stock in STOCK)
    assert not AMERICAN.search(text), AMERICAN.search(text)
    for link in links(text):
        assert link.startswith(f"{SITE}/"), link


@pytest.mark.django_db
def test_the_registration_email_confirms_from_the_link_in_it(client, cast, mailoutbox, site):
    from mycareer.organisations.tests.test_registration import form

    response = client.post(
        reverse("employer:register"),
        form(),
        HTTP_HOST="127.0.0.1:8731",
        SERVER_NAME="127.0.0.1",
    )
    assert response.status_code == 302
    [message] = mailoutbox
    assert_ours(message)
    assert message.subject == "[MyCareer] Confirm your email address to complete your registration"
    assert message.body.startswith("Hello Kim,")
    # A new organisation: its profile to complete, and the university's check to come.
    body = " ".join(message.body.split())
    assert "log in and complete your organisation's profile" in body
    assert "until then students do not see your organisation" in body
    [confirm] = [link for link in links(message.body) if "/confirm-email/" in link]
    page = client.get(path_of(confirm))
    assert "Confirm my email address" in page.content.decode()
    client.post(path_of(confirm))
    assert User.objects.get(email="kim@kittiwake.studio").emailaddress_set.get().verified


@pytest.mark.django_db
def test_the_registration_email_of_who_joins_an_organisation_says_it_is_checked_first(
    client, cast, mailoutbox, site
):
    from mycareer.organisations.models import Organisation
    from mycareer.organisations.tests.test_registration import form

    studio = Organisation.objects.create(
        name="Kittiwake Studio", website="https://kittiwake.studio"
    )
    response = client.post(
        reverse("employer:register"), form(organisation_choice=f"join:{studio.pk}")
    )
    assert response.status_code == 302
    [message] = mailoutbox
    body = " ".join(message.body.split())
    assert "checks that you work for Kittiwake Studio; we will email you when it has" in body
    assert "complete your organisation's profile" not in body


@pytest.mark.django_db
def test_a_password_reset_email_links_to_a_page_that_sets_the_password(
    client, cast, mailoutbox, site, caplog
):
    with caplog.at_level(logging.INFO, logger="mycareer.core.mail"):
        client.post(reverse("account_reset_password"), {"email": "employer@demo-employer.com"})
    [message] = mailoutbox
    # It went the one way every email goes, and left its line.
    [line] = lines(caplog, "email.sent")
    assert fields_of(line.getMessage())["kind"] == "account:password_reset_key"
    assert_ours(message)
    assert message.subject == "[MyCareer] Reset your password"
    assert message.body.startswith("Hello Laura,")
    [reset] = [link for link in links(message.body) if "/password/reset/key/" in link]
    page = client.get(path_of(reset), follow=True)
    assert "Choose a new password" in page.content.decode()
    done = client.post(
        page.redirect_chain[-1][0] if page.redirect_chain else path_of(reset),
        {"password1": "A-new-Password-77", "password2": "A-new-Password-77"},
    )
    assert done.status_code == 302
    assert User.objects.get(email="employer@demo-employer.com").check_password("A-new-Password-77")


RULES = "<ul><li>Your password can’t be too similar to your other personal information.</li>"


@pytest.mark.django_db
def test_the_new_password_help_reads_as_a_list_on_each_page_that_sets_one(
    client, cast, mailoutbox, site
):
    """The reset page showed "<ul><li>Your password can't be too similar…" as text."""
    client.post(reverse("account_reset_password"), {"email": "employer@demo-employer.com"})
    [reset] = [link for link in links(mailoutbox[0].body) if "/password/reset/key/" in link]
    page = client.get(path_of(reset), follow=True).content.decode()
    assert "Choose a new password" in page
    assert RULES in page
    assert "&lt;ul&gt;" not in page and "&lt;li&gt;" not in page
    client.force_login(User.objects.get(email="employer@demo-employer.com"))
    page = client.get(reverse("account_change_password")).content.decode()
    assert RULES in page
    assert "&lt;ul&gt;" not in page
    # Labels in sentence case, and one link to the reset (not "Forgot" and "Forgotten").
    assert ">Current password</label>" in page and ">New password (again)</label>" in page
    assert "Password</label>" not in page
    assert page.count(reverse("account_reset_password")) == 1


def test_other_help_text_is_still_escaped():
    from django import forms

    class Form(forms.Form):
        name = forms.CharField(help_text="<b>Bold</b> & <script>x</script>")

    html = Form()["name"].as_field_group()
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;script&gt;" in html
    assert "<script>" not in html


@pytest.mark.django_db
def test_a_reset_for_an_unknown_address_points_employers_to_registration(
    client, cast, mailoutbox, site
):
    client.post(reverse("account_reset_password"), {"email": "nobody@example.net"})
    [message] = mailoutbox
    assert_ours(message)
    assert f"{SITE}/employer/register/" in message.body
    assert client.get(path_of(f"{SITE}/employer/register/")).status_code == 200
