"""Publishing new terms names how many people must accept them, shows them, and waits
for a yes with that number; pressing publish twice publishes one version."""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from mycareer.accounts import services
from mycareer.accounts.models import TermsVersion, User
from mycareer.accounts.permissions import compute_access, current_terms, staff_bound_by_terms
from mycareer.core.tests.concurrency import at_once

pytestmark = pytest.mark.django_db

NEW = {
    "version": "3.0",
    "title": "MyCareer terms of use",
    "body": "Keep contacts safe.\nAsk first.",
}


def publish_url():
    return reverse("accounts:terms_publish")


def people(n: int) -> str:
    return f"{n} person" if n == 1 else f"{n} people"


@pytest.fixture
def some_people_differ(persona):
    """A superuser on staff, a member of staff who has left, and a student."""
    User.objects.filter(pk=persona("viewer").pk).update(is_superuser=True)
    User.objects.filter(pk=persona("untrained").pk).update(is_active=False)


# The number -----------------------------------------------------------------------------


@pytest.mark.usefixtures("some_people_differ")
def test_the_number_asked_is_everyone_the_new_terms_then_stop(client, persona):
    asked = staff_bound_by_terms()
    count = asked.count()
    assert 0 < count < User.objects.filter(kind=User.Kind.STAFF).count()
    services.terms_publish(**NEW, by=persona("admin"), confirmed=count)
    # Everyone signed in whom the terms now stop, as access (and so the middleware) sees it.
    stopped = {
        person.pk
        for person in User.objects.filter(is_active=True)
        if person.kind == User.Kind.STAFF and not compute_access(person).terms_accepted
    }
    assert stopped == set(asked.values_list("pk", flat=True))
    client.force_login(persona("operator"))
    assert client.get("/").url.startswith(reverse("accounts:terms"))
    client.force_login(persona("viewer"))  # the superuser
    assert client.get("/").status_code == 200


def test_publishing_is_refused_with_a_number_out_of_date(persona):
    count = staff_bound_by_terms().count()
    for confirmed in (count + 1, count - 1, 0):
        with pytest.raises(services.TermsAudienceChanged) as refused:
            services.terms_publish(**NEW, by=persona("admin"), confirmed=confirmed)
        assert f"{people(count)} would now be asked" in refused.value.messages[0]
    assert not TermsVersion.objects.filter(version="3.0").exists()


def test_publishing_logs_one_line_with_the_number(persona, caplog):
    count = staff_bound_by_terms().count()
    with caplog.at_level("INFO", logger="mycareer.accounts.services"):
        terms = services.terms_publish(**NEW, by=persona("admin"), confirmed=count)
    [line] = [
        r.getMessage()
        for r in caplog.records
        if r.getMessage().startswith("event=accounts.terms.published ")
    ]
    assert f"terms={terms.pk}" in line and f"asked={count}" in line


def test_the_same_words_again_publish_nothing_and_other_words_need_a_new_number(persona):
    count = staff_bound_by_terms().count()
    first = services.terms_publish(**NEW, by=persona("admin"), confirmed=count)
    with pytest.raises(services.TermsAlreadyPublished) as again:
        services.terms_publish(**NEW, by=persona("admin"), confirmed=count)
    assert again.value.terms == first
    with pytest.raises(ValidationError) as other:
        services.terms_publish(
            **{**NEW, "body": "Other words."}, by=persona("admin"), confirmed=count
        )
    assert "new version number" in other.value.message_dict["version"][0]
    assert TermsVersion.objects.filter(version="3.0").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_presses_at_the_same_moment_publish_one_version(cast, persona):
    admin, count = persona("admin"), staff_bound_by_terms().count()
    results, _ = at_once(
        [lambda: services.terms_publish(**NEW, by=admin, confirmed=count) for _ in range(2)]
    )
    published = [r for r in results if isinstance(r, TermsVersion)]
    refused = [r for r in results if isinstance(r, services.TermsAlreadyPublished)]
    assert len(published) == 1 and len(refused) == 1, results
    assert TermsVersion.objects.filter(version="3.0").count() == 1


# The page -------------------------------------------------------------------------------


def admin_client(persona) -> Client:
    client = Client()
    client.force_login(persona("admin"))
    return client


def test_the_page_says_how_many_must_accept(persona):
    page = admin_client(persona).get(publish_url()).content.decode()
    assert f"<strong>{people(staff_bound_by_terms().count())}</strong> will be asked" in page


def test_publishing_shows_the_terms_and_the_number_and_waits_for_a_tick(persona):
    client, count = admin_client(persona), staff_bound_by_terms().count()
    response = client.post(publish_url(), NEW)
    page = response.content.decode()
    assert response.status_code == 200 and current_terms().version == "2.1"
    assert f"{people(count)} must accept it before they go on" in page
    assert "<p>Keep contacts safe.<br>Ask first.</p>" in page  # the preview
    assert f"Yes, ask {people(count)} to accept version 3.0 before they go on" in page

    # Publish without the tick: nothing published, nothing typed lost.
    response = client.post(publish_url(), {**NEW, "step": "publish", "expected": count})
    page = response.content.decode()
    assert response.status_code == 200 and current_terms().version == "2.1"
    assert "Tick the box to ask" in page and 'value="Keep contacts safe.\nAsk first."' in page

    # Change the terms: the form comes back filled in.
    page = client.post(publish_url(), {**NEW, "step": "edit"}).content.decode()
    assert "Keep contacts safe.\nAsk first.</textarea>" in page
    assert current_terms().version == "2.1"

    confirmed = {**NEW, "step": "publish", "expected": count, "confirm": "on"}
    response = client.post(publish_url(), confirmed)
    assert response.status_code == 302 and response.url == reverse("accounts:terms")
    assert current_terms().version == "3.0"
    [message] = get_messages(response.wsgi_request)
    assert f"{people(count)} will be asked to accept it" in str(message)

    # Pressed a second time: one version, and a plain answer rather than a refusal.
    response = client.post(publish_url(), confirmed)
    assert response.status_code == 302 and response.url == reverse("accounts:terms")
    assert TermsVersion.objects.filter(version="3.0").count() == 1
    *_, message = get_messages(response.wsgi_request)
    assert "already published; it was not published again" in str(message)


def test_a_number_out_of_date_or_missing_is_asked_again(persona):
    client, count = admin_client(persona), staff_bound_by_terms().count()
    for expected in (count + 3, "", "many"):
        response = client.post(
            publish_url(), {**NEW, "step": "publish", "expected": expected, "confirm": "on"}
        )
        page = response.content.decode()
        assert response.status_code == 200 and current_terms().version == "2.1"
        assert f'name="expected" value="{count}"' in page
        assert "Confirm again" in page or f"{people(count)} would now be asked" in page


def test_a_version_number_in_use_is_refused_on_the_form(persona):
    response = admin_client(persona).post(publish_url(), {**NEW, "version": "2.1"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Version 2.1 is already published with other words" in page


@pytest.mark.parametrize("name", ["operator", "manager", "student"])
def test_only_administrators_publish(client, persona, name):
    client.force_login(persona(name))
    count = staff_bound_by_terms().count()
    response = client.post(
        publish_url(), {**NEW, "step": "publish", "expected": count, "confirm": "on"}
    )
    assert response.status_code == 403
    assert current_terms().version == "2.1"


def test_new_terms_start_from_the_current_text_and_name_its_version(client, persona):
    """A new version is usually the current one changed: retyping it all invites loss."""
    current = current_terms()
    assert current is not None
    client.force_login(persona("admin"))
    form = client.get(publish_url()).context["form"]
    assert form["title"].value() == current.title
    assert form["body"].value() == current.body
    assert form["version"].value() in (None, "")
    assert f"version {current.version}" in form.fields["version"].help_text


def test_publishing_the_current_words_again_is_said_before_it_is_done(persona):
    """Everyone would be stopped to accept what they already accepted."""
    current = current_terms()
    client, count = admin_client(persona), staff_bound_by_terms().count()
    same = {"version": "9.9", "title": current.title, "body": current.body}
    page = client.post(publish_url(), same).content.decode()
    assert f"The title and text are the same as version {current.version}: publishing asks " in (
        page
    )
    assert f"{people(count)} to accept the same words again" in page
    page = client.post(publish_url(), NEW).content.decode()
    assert "the same words again" not in page
