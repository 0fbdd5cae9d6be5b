"""Links that students follow are web addresses: an event's online link reaches students'
pages, booking emails and calendar files, so the API refuses what the form refuses."""

import pytest

from mycareer.events.models import Event
from mycareer.events.tests.factories import at, far_monday, make_event, unit
from mycareer.organisations.models import Organisation
from mycareer.organisations.tests.factories import make_organisation

pytestmark = pytest.mark.django_db

NOT_WEB_LINKS = ["javascript:alert(1)", "notaurl", "ftp://files.example.com/talk", "data:,hi"]


def _event_body(**extra):
    monday = far_monday()
    return {
        "title": "Tom's talk",
        "unit": unit("mech").pk,
        "starts_at": at(monday, 12).isoformat(),
        "ends_at": at(monday, 13).isoformat(),
        "audience_units": [unit("mech").pk],
        **extra,
    }


@pytest.mark.parametrize("link", NOT_WEB_LINKS)
def test_an_event_is_not_made_with_an_online_link_that_is_no_web_address(call, token_for, link):
    answer = call(token_for("operator"), "post", "/events", _event_body(online_url=link))
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    assert list(answer.json()["fields"]) == ["online_url"]
    assert not Event.objects.exists()


@pytest.mark.parametrize("link", NOT_WEB_LINKS)
def test_an_events_online_link_is_not_changed_to_one_that_is_no_web_address(
    call, token_for, persona, link
):
    event = make_event(
        by=persona("operator"),
        starts_at=at(far_monday(), 10),
        online_url="https://teams.example.ac.uk/talk",
    )
    secret = token_for("operator")
    etag = call(secret, "get", f"/events/{event.pk}")["ETag"]
    answer = call(secret, "patch", f"/events/{event.pk}", {"online_url": link}, HTTP_IF_MATCH=etag)
    assert answer.status_code == 400
    assert list(answer.json()["fields"]) == ["online_url"]
    assert Event.objects.get(pk=event.pk).online_url == "https://teams.example.ac.uk/talk"


def test_a_web_address_is_taken_and_an_empty_one_clears_the_link(call, token_for):
    secret = token_for("operator")
    link = "https://teams.example.ac.uk/l/meetup-join/19%3Ameeting?context=x"
    made = call(secret, "post", "/events", _event_body(online_url=f" {link} "))
    assert made.status_code == 201 and made.json()["online_url"] == link
    pk = made.json()["id"]
    etag = call(secret, "get", f"/events/{pk}")["ETag"]
    cleared = call(
        secret, "patch", f"/events/{pk}", {"online_url": "", "venue": "Room 2"}, HTTP_IF_MATCH=etag
    )
    assert cleared.status_code == 200 and cleared.json()["online_url"] == ""


def test_an_organisations_website_is_a_web_address_too(call, token_for):
    secret = token_for("operator")
    refused = call(
        secret, "post", "/organisations", {"name": "Kestrel", "website": "javascript:alert(1)"}
    )
    assert refused.status_code == 400 and list(refused.json()["fields"]) == ["website"]
    org = make_organisation("Aire Valley Robotics")
    etag = call(secret, "get", f"/organisations/{org.pk}")["ETag"]
    changed = call(
        secret, "patch", f"/organisations/{org.pk}", {"website": "notaurl"}, HTTP_IF_MATCH=etag
    )
    assert changed.status_code == 400 and list(changed.json()["fields"]) == ["website"]
    assert Organisation.objects.get(pk=org.pk).website == ""


@pytest.mark.parametrize("website", ["http://[", "\nù]©"])
def test_a_website_that_is_no_address_at_all_is_a_400_not_a_500(call, token_for, website):
    """Found by the fuzz: the duplicate check read the host of what was sent before the
    website was validated, and failed on it."""
    secret = token_for("operator")
    made = call(secret, "post", "/organisations", {"name": "Kestrel", "website": website})
    assert made.status_code == 400 and list(made.json()["fields"]) == ["website"]
    org = make_organisation("Aire Valley Robotics")
    etag = call(secret, "get", f"/organisations/{org.pk}")["ETag"]
    changed = call(
        secret, "patch", f"/organisations/{org.pk}", {"website": website}, HTTP_IF_MATCH=etag
    )
    assert changed.status_code == 400 and list(changed.json()["fields"]) == ["website"]
