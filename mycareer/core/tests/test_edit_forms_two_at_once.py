"""Two people editing one record: the second save does not put back what the first changed.

Both open the same edit page; one saves a change; the other, whose page still holds the
old value, saves theirs. Without a check the old value silently comes back. Every edit
page of the round-trip test is walked here too: each keeps the first change when the
stale page left that field as it was, and refuses a stale page that changed it too,
naming the field and keeping what was typed (and saves it when sent again, the person
having looked); or it is listed below with the reason it needs no check.
"""

import html
import shutil

import pytest
from django.urls import reverse

from mycareer.core.tests.conftest_matrix import login_as
from mycareer.core.tests.html_forms import as_post, form_fields
from mycareer.core.tests.matrix import route_kwargs, url_routes
from mycareer.core.tests.test_edit_forms_round_trip import (
    CASES,
    CRLF,
    EDIT_ROUTES,
    editable_objects,
    give_every_text_two_lines,
)
from mycareer.core.text import single_line

pytestmark = pytest.mark.usefixtures("cast")


def _append(value: str) -> str:
    return f"{value} (changed)".strip()


def _one_more(value: str) -> str:
    return str(int(value or 0) + 1)


# route -> the field someone else changes, how, and its label on the page
SOMEONE_ELSES_CHANGE = {
    "accounts:profile": ("job_title", _append, "Job title"),
    "bookings:policy": ("no_shows", _one_more, "No-shows that start a restriction"),
    "bookings:settings": ("capacity", _one_more, "Number of places"),
    "employer:contact_edit": ("job_title", _append, "Job title"),
    "employer:profile": ("description", _append, "About your organisation (students see this)"),
    "events:edit": ("venue", _append, "Venue"),
    "mailing:campaign_edit": ("subject", _append, "Subject"),
    "organisations:contact_edit": ("job_title", _append, "Job title"),
    "organisations:edit": ("description", _append, "Description"),
    "organisations:note_edit": ("text", _append, "What happened"),
    "vacancies:edit": ("title", _append, "Title"),
}

# Edit pages that need no check, and why.
NOT_GUARDED = {
    "accounts:access_edit": "one level chosen and confirmed; the audit trail names each grant",
    "employer:preferences": "a person's own choices about emails to them, each box its own",
    "mailing:campaign_recipients": "a search, checked against the people again at the send",
    "organisations:key_account_reassign": "one choice (who), made on a page that names both",
    "organisations:key_contact_mark": "the key account operator's own guidance on their contact",
    "usergroup:feedback": "a triage decision, recorded with who made it",
}


def test_every_edit_page_is_guarded_or_says_why_not():
    assert set(SOMEONE_ELSES_CHANGE) | set(NOT_GUARDED) == set(EDIT_ROUTES)
    assert set(SOMEONE_ELSES_CHANGE) & set(NOT_GUARDED) == set()


def _page(client, url: str, field: str) -> dict[str, list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    # As a browser sends it: a textarea's line breaks as "\r\n".
    html = response.content.decode()
    return as_post(form_fields(html, containing=field, pressing_enter=True, line_breaks=CRLF))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "who", "field"),
    [case[:3] for case in CASES if case[0] in SOMEONE_ELSES_CHANGE],
)
def test_a_save_from_a_page_opened_before_another_save_never_puts_back_what_was_saved(
    name, who, field, client, persona, settings, tmp_path
):
    shutil.copytree(settings.MEDIA_ROOT, tmp_path, dirs_exist_ok=True)
    settings.MEDIA_ROOT = tmp_path
    changed, change, label = SOMEONE_ELSES_CHANGE[name]
    objects = editable_objects(persona)
    url = reverse(name, kwargs=route_kwargs(name, url_routes()[name], objects))
    login_as(client, persona, who)
    give_every_text_two_lines()

    mine = _page(client, url, field)
    assert "opened_as" in mine, f"{name} carries no check of what the page showed"
    theirs = {**mine, changed: [change(mine[changed][0])]}
    response = client.post(url, theirs)
    assert response.status_code in (302, 303), f"{name} refused the first save"
    their_value = _page(client, url, field)[changed]
    assert their_value == theirs[changed]

    # The stale page, which left that field as it was, saves: their change stays.
    response = client.post(url, mine)
    assert response.status_code in (302, 303), (name, "refused a save that changed nothing")
    assert _page(client, url, field)[changed] == their_value, f"{name} put the old value back"

    # Both changed the field: refused, naming it; nothing is put back.
    stale = {**mine, changed: [change(change(mine[changed][0]))]}
    response = client.post(url, stale)
    body = response.content.decode()
    assert response.status_code == 200
    assert f"Someone else saved a change to “{label}” after you opened this page" in body, (
        name,
        [line for line in body.splitlines() if "Someone else" in line],
    )
    # Beside the field, what they saved, to choose between.
    saved = single_line(their_value[0])[:40]
    assert f"Since you opened this page, someone else saved “{saved}" in html.unescape(body), name
    assert _page(client, url, field)[changed] == their_value
    # What was typed is kept, and the form drawn again saves it, the person having looked.
    again = as_post(form_fields(body, containing=field, pressing_enter=True, line_breaks=CRLF))
    assert again[changed] == stale[changed]
    response = client.post(url, again)
    assert response.status_code in (302, 303), f"{name} refused the save made knowingly"
    assert _page(client, url, field)[changed] == stale[changed]


@pytest.mark.django_db
def test_two_people_changing_different_fields_both_keep_their_change(client, persona):
    """One changes the venue, the other (from a page opened before) the title: both stay,
    and where both changed one field, the other person's change elsewhere is kept too."""
    name, who, field = next(case[:3] for case in CASES if case[0] == "events:edit")
    objects = editable_objects(persona)
    url = reverse(name, kwargs=route_kwargs(name, url_routes()[name], objects))
    login_as(client, persona, who)
    mine = _page(client, url, field)
    description = mine["description"][0]
    assert client.post(url, {**mine, "venue": ["Hall 2"]}).status_code == 302
    assert client.post(url, {**mine, "title": ["Renamed talk"]}).status_code == 302
    now = _page(client, url, field)
    assert (now["title"], now["venue"]) == (["Renamed talk"], ["Hall 2"])

    mine = now
    theirs = {**mine, "venue": ["Hall 3"], "description": [f"{description} More."]}
    assert client.post(url, theirs).status_code == 302
    response = client.post(url, {**mine, "venue": ["Hall 4"]})
    body = response.content.decode()
    assert "Someone else saved a change to “Venue”" in body
    assert "Their change to “Description” is kept when you save." in body
    again = as_post(form_fields(body, containing=field, pressing_enter=True, line_breaks=CRLF))
    # The page shows their description, and the venue as typed here.
    assert again["description"][0].endswith("More.") and again["venue"] == ["Hall 4"]
    assert client.post(url, again).status_code == 302
    now = _page(client, url, field)
    assert now["venue"] == ["Hall 4"] and now["description"][0].endswith("More.")


@pytest.mark.django_db
def test_the_event_page_s_places_are_guarded_as_the_settings_page_is(client, persona):
    """Another person sets the number of places while the event's page is open: saving
    the page for its title keeps their number; changing the number too is refused."""
    from mycareer.bookings import selectors as booking_selectors
    from mycareer.bookings import services as booking_services
    from mycareer.events.models import Event

    name, who, field = next(case[:3] for case in CASES if case[0] == "events:edit")
    objects = editable_objects(persona)
    url = reverse(name, kwargs=route_kwargs(name, url_routes()[name], objects))
    login_as(client, persona, who)
    mine = _page(client, url, field)
    assert "places-opened_as" in mine, "the places part carries no check of what it showed"
    event = Event.objects.get(pk=route_kwargs(name, url_routes()[name], objects)["pk"])
    places = booking_selectors.settings_of(event).capacity
    booking_services.booking_settings_update(
        event=event, by=persona("admin"), capacity=(places or 10) + 5
    )
    theirs = booking_selectors.settings_of(event).capacity
    assert client.post(url, {**mine, "title": ["Retitled"]}).status_code == 302
    assert booking_selectors.settings_of(event).capacity == theirs
    response = client.post(url, {**mine, "places-capacity": [str(theirs + 7)]})
    assert response.status_code == 200
    assert "Someone else saved a change to “Number of places”" in response.content.decode()
    assert booking_selectors.settings_of(event).capacity == theirs


@pytest.mark.django_db
def test_two_people_making_the_same_change_are_not_asked_to_choose(client, persona):
    name, who, field = next(case[:3] for case in CASES if case[0] == "events:edit")
    objects = editable_objects(persona)
    url = reverse(name, kwargs=route_kwargs(name, url_routes()[name], objects))
    login_as(client, persona, who)
    mine = _page(client, url, field)
    assert client.post(url, {**mine, "venue": ["Hall 9"]}).status_code == 302
    assert client.post(url, {**mine, "venue": ["Hall 9"]}).status_code == 302
    assert _page(client, url, field)["venue"] == ["Hall 9"]
