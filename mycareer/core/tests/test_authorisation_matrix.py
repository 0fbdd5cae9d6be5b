"""The authorisation matrix: every URL of the site, for every persona, on the server.

Each entry is one letter per persona, in the order of PERSONAS:
A allowed (a page or a redirect that is not to the login page), D denied (403 or 404),
L sent to log in, M method not allowed. A URL without an entry fails the test, so a new
page cannot ship without someone deciding who may use it. Every request runs in a
transaction that is rolled back, so one persona's POST does not change the next one's.
"""

import pytest
from django.db import transaction
from django.urls import reverse

from mycareer.core.tests.conftest_matrix import login_as
from mycareer.core.tests.matrix import PERSONAS, route_kwargs, sample_objects, url_routes

#          anonymous, student, employer_a, employer_b, viewer, untrained, operator, manager,
#          mailer, admin
GET = {
    "bookings:attendance": "LDDDDDAADA",
    "bookings:book": "MMMMMMMMMM",
    "bookings:cancel": "LADDDDDADA",
    "bookings:check_in": "LDDDDDAADA",
    "bookings:check_in_code": "MMMMMMMMMM",
    "bookings:counts": "LDDDDDAADA",
    "bookings:event": "LADDAAAAAA",
    "bookings:leave": "MMMMMMMMMM",
    "bookings:lift_ban": "MMMMMMMMMM",
    "bookings:manage": "LDDDDDAADA",
    "bookings:move": "LDDDDDDADA",
    "bookings:move_entry": "LDDDDDDDDA",
    "bookings:my_events": "LADDDDDDDD",
    "bookings:offer": "LADDDDDDDD",
    "bookings:overview": "LDDDDDAAAA",
    "bookings:policy": "LDDDDDAAAA",
    "bookings:report": "LDDDDDAADA",
    "bookings:report_csv": "LDDDDDAADA",
    "bookings:scan": "LAAAAAAAAA",
    "bookings:settings": "LDDDDDAADA",
    "bookings:walk_in": "MMMMMMMMMM",
    "events:cancel": "LDDDDDAADA",
    "events:clashes": "LDDDDDAADA",
    "events:create": "LDDDDDAAAA",
    "events:detail": "LADDAAAAAA",
    "events:edit": "LDDDDDAADA",
    "events:feed": "DAAAAAAAAA",
    "events:free_slots": "LDDDDDAADA",
    "events:ics": "DADDAAAAAA",
    "events:list": "LAAAAAAAAA",
    "events:month": "LAAAAAAAAA",
    "events:opening": "LDDDAAAAAA",
    "events:opening_create": "LDDDDDAADA",
    "events:openings": "LDDDAAAAAA",
    "events:personal_feed": "AAAAAAAAAA",
    "events:publish": "LDDDDDAADA",
    "events:reset_token": "MMMMMMMMMM",
    "events:subscribe": "LAAAAAAAAA",
    "events:unit_feed": "DAAAAAAAAA",
    "events:week": "LAAAAAAAAA",
    "accounts:access_edit": "LDDDDDDDDA",
    "accounts:access_list": "LDDDDDDDDA",
    "accounts:my_access": "LDDDAAAAAA",
    "accounts:terms": "LDDDAAAAAA",
    "accounts:terms_publish": "LDDDDDDDDA",
    "accounts:training_expiring": "LDDDDDDDDA",
    "accounts:training_session": "LDDDAAAAAA",
    "accounts:training_session_create": "LDDDDDDDDA",
    "accounts:training_sessions": "LDDDAAAAAA",
    "audit:list": "LDDDDDDDDA",
    "audit:person": "LDDDDDDDDA",
    "audit:privacy": "LDDDDDDDDA",
    "audit:retention": "LDDDDDDDDA",
    "employer:activity": "LDAADDDDDD",
    "employer:contact_create": "LDAADDDDDD",
    "employer:contact_edit": "LDADDDDDDD",
    "employer:contacts": "LDAADDDDDD",
    "employer:preferences": "LDADDDDDDD",
    "employer:profile": "LDAADDDDDD",
    "employer:register": "AAAAAAAAAA",
    "home": "AAAAAAAAAA",
    "mailing:campaign": "LDDDDDDDAA",
    "mailing:campaign_create": "LDDDDDDDAA",
    "mailing:campaign_edit": "LDDDDDDDAA",
    "mailing:campaign_preview": "LDDDDDDDAA",
    "mailing:campaign_progress": "LDDDDDDDAA",
    "mailing:campaigns": "LDDDDDDDAA",
    "mailing:chart": "LDDDAAAAAA",
    "mailing:chart_csv": "LDDDAAAAAA",
    "mailing:chart_png": "LDDDAAAAAA",
    "mailing:unsubscribe": "AAAAAAAAAA",
    "organisations:archive": "LDDDDDDAAA",
    "organisations:contact": "LDDDAAAAAA",
    "organisations:contact_create": "LDDDDDAAAA",
    "organisations:contact_delete": "LDDDDDDAAA",
    "organisations:contact_edit": "LDDDDDAAAA",
    "organisations:create": "LDDDDDAAAA",
    "organisations:delete": "LDDDDDDAAA",
    "organisations:detail": "LAAAAAAAAA",
    "organisations:edit": "LDDDDDAAAA",
    "organisations:export": "LDDDAAAAAA",
    "organisations:follow_up_done": "MMMMMMMMMM",
    "organisations:import": "LDDDDDAAAA",
    "organisations:import_confirm": "MMMMMMMMMM",
    "organisations:import_status": "LDDDDDDDDD",
    "organisations:import_template": "LDDDDDAAAA",
    "organisations:key_account_add": "LDDDDDAAAA",
    "organisations:key_account_reassign": "LDDDDDDDDA",
    "organisations:key_account_remove": "MMMMMMMMMM",
    "organisations:key_contact_mark": "LDDDDDADDA",
    "organisations:liaison_inbox": "LDDDDDAAAA",
    "organisations:liaison_request": "LDDDDDADAA",
    "organisations:liaison_request_create": "LDDDDDAAAA",
    "organisations:merge": "LDDDDDAAAA",
    "organisations:multi_touch": "LDDDDDDDDA",
    "organisations:my_activity": "LDDDDDAAAA",
    "organisations:note_create": "LDDDDDAAAA",
    "organisations:note_delete": "LDDDDDDAAA",
    "organisations:note_edit": "LDDDDDDAAA",
    "organisations:registration": "LDDDDDAAAA",
    "organisations:registrations": "LDDDDDAAAA",
    "organisations:saved_search_create": "MMMMMMMMMM",
    "organisations:saved_search_delete": "MMMMMMMMMM",
    "organisations:search": "LDDDAAAAAA",
    "organisations:suggest": "LDDDAAAAAA",
    "organisations:tag_suggestions": "LDDDAAAAAA",
    "usergroup:announcement_create": "LDDDDDDAAA",
    "usergroup:board": "LDDDAAAAAA",
    "usergroup:dismiss": "MMMMMMMMMM",
    "usergroup:feedback": "LDDDAAAAAA",
    "usergroup:feedback_create": "LDDDAAAAAA",
    "usergroup:group": "LDDDAAAAAA",
    "vacancies:create": "LDAADDDDDD",
    "vacancies:detail": "LDADAAAAAA",
    "vacancies:edit": "LDADDDAAAA",
    "vacancies:list": "LAAAAAAAAA",
    "vacancies:mine": "LDAADDDDDD",
    "vacancies:moderate": "LDDDDDAAAA",
    "vacancies:moderation": "LDDDAAAAAA",
    "vacancies:post": "LDDDDDAAAA",
    "vacancies:submit": "MMMMMMMMMM",
    "vacancies:withdraw": "LDADDDAAAA",
}

POST = {
    "bookings:attendance": "LDDDDDAADA",
    "bookings:book": "LADDAAAAAA",
    "bookings:cancel": "LADDDDDADA",
    "bookings:check_in": "LDDDDDDDDD",
    "bookings:check_in_code": "LDDDDDAADA",
    "bookings:counts": "MMMMMMMMMM",
    "bookings:event": "MMMMMMMMMM",
    "bookings:leave": "LADDDDDDDA",
    "bookings:lift_ban": "LDDDDDAAAA",
    "bookings:manage": "LDDDDDAADA",
    "bookings:move": "LDDDDDDADA",
    "bookings:move_entry": "LDDDDDDDDA",
    "bookings:my_events": "MMMMMMMMMM",
    "bookings:offer": "LADDDDDDDD",
    "bookings:overview": "MMMMMMMMMM",
    "bookings:policy": "LDDDDDDDDA",
    "bookings:report": "LDDDDDAADA",
    "bookings:report_csv": "MMMMMMMMMM",
    "bookings:scan": "MMMMMMMMMM",
    "bookings:settings": "LDDDDDAADA",
    "bookings:walk_in": "LDDDDDAADA",
    "events:cancel": "LDDDDDAADA",
    "events:clashes": "MMMMMMMMMM",
    "events:create": "LDDDDDAAAA",
    "events:detail": "MMMMMMMMMM",
    "events:edit": "LDDDDDAADA",
    "events:feed": "MMMMMMMMMM",
    "events:free_slots": "LDDDDDDDDD",
    "events:ics": "MMMMMMMMMM",
    "events:list": "MMMMMMMMMM",
    "events:month": "MMMMMMMMMM",
    "events:opening": "LDDDDDDDAA",
    "events:opening_create": "LDDDDDAADA",
    "events:openings": "MMMMMMMMMM",
    "events:personal_feed": "MMMMMMMMMM",
    "events:publish": "LDDDDDAADA",
    "events:reset_token": "LAAAAAAAAA",
    "events:subscribe": "MMMMMMMMMM",
    "events:unit_feed": "MMMMMMMMMM",
    "events:week": "MMMMMMMMMM",
    "accounts:access_edit": "LDDDDDDDDA",
    "accounts:access_list": "LDDDDDDDDA",
    "accounts:my_access": "LDDDAAAAAA",
    "accounts:terms": "LDDDAAAAAA",
    "accounts:terms_publish": "LDDDDDDDDA",
    "accounts:training_expiring": "LDDDDDDDDA",
    "accounts:training_session": "LDDDAAAAAA",
    "accounts:training_session_create": "LDDDDDDDDA",
    "accounts:training_sessions": "LDDDAAAAAA",
    "audit:list": "LDDDDDDDDA",
    "audit:person": "LDDDDDDDDA",
    "audit:privacy": "LDDDDDDDDA",
    "audit:retention": "LDDDDDDDDA",
    "employer:activity": "MMMMMMMMMM",
    "employer:contact_create": "LDAADDDDDD",
    "employer:contact_edit": "LDADDDDDDD",
    "employer:contacts": "LDAADDDDDD",
    "employer:preferences": "LDADDDDDDD",
    "employer:profile": "LDAADDDDDD",
    "employer:register": "AAAAAAAAAA",
    "home": "MMMMMMMMMM",
    "mailing:campaign": "LDDDDDDDAA",
    "mailing:campaign_create": "LDDDDDDDAA",
    "mailing:campaign_edit": "LDDDDDDDAA",
    "mailing:campaign_preview": "MMMMMMMMMM",
    "mailing:campaign_progress": "MMMMMMMMMM",
    "mailing:campaigns": "MMMMMMMMMM",
    "mailing:chart": "MMMMMMMMMM",
    "mailing:chart_csv": "MMMMMMMMMM",
    "mailing:chart_png": "MMMMMMMMMM",
    "mailing:unsubscribe": "AAAAAAAAAA",
    "organisations:archive": "LDDDDDDAAA",
    "organisations:contact": "MMMMMMMMMM",
    "organisations:contact_create": "LDDDDDAAAA",
    "organisations:contact_delete": "LDDDDDDAAA",
    "organisations:contact_edit": "LDDDDDAAAA",
    "organisations:create": "LDDDDDAAAA",
    "organisations:delete": "LDDDDDDAAA",
    "organisations:detail": "MMMMMMMMMM",
    "organisations:edit": "LDDDDDAAAA",
    "organisations:export": "MMMMMMMMMM",
    "organisations:follow_up_done": "LDDDDDDAAA",
    "organisations:import": "LDDDDDAAAA",
    "organisations:import_confirm": "LDDDDDDDDD",
    "organisations:import_status": "MMMMMMMMMM",
    "organisations:import_template": "MMMMMMMMMM",
    "organisations:key_account_add": "LDDDDDAAAA",
    "organisations:key_account_reassign": "LDDDDDDDDA",
    "organisations:key_account_remove": "LDDDDDAAAA",
    "organisations:key_contact_mark": "LDDDDDADDA",
    "organisations:liaison_inbox": "MMMMMMMMMM",
    "organisations:liaison_request": "LDDDDDADAA",
    "organisations:liaison_request_create": "LDDDDDAAAA",
    "organisations:merge": "LDDDDDAAAA",
    "organisations:multi_touch": "LDDDDDDDDA",
    "organisations:my_activity": "MMMMMMMMMM",
    "organisations:note_create": "LDDDDDAAAA",
    "organisations:note_delete": "LDDDDDDAAA",
    "organisations:note_edit": "LDDDDDDAAA",
    "organisations:registration": "LDDDDDAAAA",
    "organisations:registrations": "MMMMMMMMMM",
    "organisations:saved_search_create": "LDDDAAAAAA",
    "organisations:saved_search_delete": "LDDDDDADDD",
    "organisations:search": "MMMMMMMMMM",
    "organisations:suggest": "MMMMMMMMMM",
    "organisations:tag_suggestions": "MMMMMMMMMM",
    "usergroup:announcement_create": "LDDDDDDAAA",
    "usergroup:board": "MMMMMMMMMM",
    "usergroup:dismiss": "LDDDAAAAAA",
    "usergroup:feedback": "LDDDAAAAAA",
    "usergroup:feedback_create": "LDDDAAAAAA",
    "usergroup:group": "LDDDDDDDDA",
    "vacancies:create": "LDAADDDDDD",
    "vacancies:detail": "MMMMMMMMMM",
    "vacancies:edit": "LDADDDAAAA",
    "vacancies:list": "MMMMMMMMMM",
    "vacancies:mine": "MMMMMMMMMM",
    "vacancies:moderate": "LDDDDDAAAA",
    "vacancies:moderation": "MMMMMMMMMM",
    "vacancies:post": "LDDDDDAAAA",
    "vacancies:submit": "LDADDDAAAA",
    "vacancies:withdraw": "LDADDDAAAA",
}


def outcome(response) -> str:
    if response.status_code in (301, 302) and "/accounts/login/" in response.get("Location", ""):
        return "L"
    if response.status_code in (403, 404):
        return "D"
    if response.status_code == 405:
        return "M"
    if response.status_code >= 500:
        return "E"
    return "A"


def test_every_url_has_an_entry():
    routes = set(url_routes())
    assert routes - set(GET) == set(), "new URLs need an entry in the authorisation matrix"
    assert routes - set(POST) == set(), "new URLs need an entry in the authorisation matrix"
    assert set(GET) - routes == set(), "entries for URLs that no longer exist"


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_each_persona_gets_exactly_the_expected_outcome(client, persona, cast, method):
    expected_table = GET if method == "get" else POST
    objects = sample_objects(persona)
    failures = []
    for name, route in sorted(url_routes().items()):
        url = reverse(name, kwargs=route_kwargs(name, route, objects))
        expected = expected_table.get(name)
        if expected is None:
            continue  # reported by test_every_url_has_an_entry
        for who, want in zip(PERSONAS, expected, strict=True):
            login_as(client, persona, who)
            with transaction.atomic():
                got = outcome(getattr(client, method)(url))
                transaction.set_rollback(True)
            if got != want:
                failures.append(f"{method.upper()} {name} as {who}: expected {want}, got {got}")
    assert failures == []
