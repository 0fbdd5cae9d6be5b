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

from mycareer.core.tests.conftest_matrix import api_headers, login_as
from mycareer.core.tests.matrix import (
    API_BODIES,
    PERSONAS,
    route_kwargs,
    sample_objects,
    url_routes,
)

#          anonymous, student, employer_a, employer_b, viewer, untrained, operator, manager,
#          mailer, admin
GET = {
    "api:api-root": "DDDDDDDDDD",
    "api:attendance_record": "MMMMMMMMMM",
    "api:booking_cancel": "MMMMMMMMMM",
    "api:booking_create": "LDLLDDAADA",
    "api:booking_list": "LDLLDDAADA",
    "api:communication_chart": "LDLLAAAAAA",
    "api:contact_create": "MMMMMMMMMM",
    "api:contact_detail": "LDLLAAAAAA",
    "api:contact_update": "LDLLAAAAAA",
    "api:event_create": "LALLAAAAAA",
    "api:event_detail": "LALLAAAAAA",
    "api:event_list": "LALLAAAAAA",
    "api:event_publish": "MMMMMMMMMM",
    "api:event_update": "LALLAAAAAA",
    "api:note_create": "LDLLAAAAAA",
    "api:note_list": "LDLLAAAAAA",
    "api:openapi-json": "AAAAAAAAAA",
    "api:organisation_create": "LDLLAAAAAA",
    "api:organisation_detail": "LALLAAAAAA",
    "api:organisation_list": "LDLLAAAAAA",
    "api:organisation_update": "LALLAAAAAA",
    "api:unknown": "DDDDDDDDDD",
    "api:vacancy_list": "LALLAAAAAA",
    "api_pages:docs": "AAAAAAAAAA",
    "api_pages:revoke": "LMDDMMMMMM",
    "api_pages:service_tokens": "LDDDDDDDDA",
    "api_pages:tokens": "LADDAAAAAA",
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
    "events:public": "AAAAAAAAAA",
    "events:public_ics": "AAAAAAAAAA",
    "events:publish": "LDDDDDAADA",
    "events:reset_token": "MMMMMMMMMM",
    "events:subscribe": "LAAAAAAAAA",
    "events:unit_feed": "DAAAAAAAAA",
    "events:week": "LAAAAAAAAA",
    "accounts:access_edit": "LDDDDDDDDA",
    "accounts:access_list": "LDDDDDDDDA",
    "accounts:signin_attempts": "LDDDDDDDDA",
    "accounts:failed_tasks": "LDDDDDDDDA",
    "operations:status": "LDDDDDDDDA",
    "accounts:my_access": "LDDDAAAAAA",
    "accounts:profile": "LDDDAAAAAA",
    "accounts:terms": "LDDDAAAAAA",
    "accounts:terms_publish": "LDDDDDDDDA",
    "accounts:training_expiring": "LDDDDDDDDA",
    "accounts:training_session": "LDDDAAAAAA",
    "accounts:training_session_create": "LDDDDDDDDA",
    "accounts:training_sessions": "LDDDAAAAAA",
    "audit:erase": "LDDDDDDDDA",
    "audit:erasure_report": "LDDDDDDDDA",
    "audit:letter": "LDDDDDDDDA",
    "audit:letter_json": "LDDDDDDDDA",
    "audit:list": "LDDDDDDDDA",
    "audit:person": "LDDDDDDDDA",
    "audit:privacy": "LDDDDDDDDA",
    "audit:retention": "LDDDDDDDDA",
    "directory:list": "LADDAAAAAA",
    "employer:activity": "LDAADDDDDD",
    "employer:contact_create": "LDAADDDDDD",
    "employer:contact_edit": "LDADDDDDDD",
    "employer:contacts": "LDAADDDDDD",
    "employer:preferences": "LDADDDDDDD",
    "employer:profile": "LDAADDDDDD",
    "employer:register": "AAAAAAAAAA",
    "home": "AAAAAAAAAA",
    "mailing:campaign": "LDDDDDDDAA",
    "mailing:campaign_approve": "LDDDDDDDAA",
    "mailing:campaign_cancel": "LDDDDDDDAA",
    "mailing:campaign_create": "LDDDDDDDAA",
    "mailing:campaign_edit": "LDDDDDDDAD",
    "mailing:campaign_preview": "LDDDDDDDAA",
    "mailing:campaign_preview_html": "LDDDDDDDAA",
    "mailing:campaign_progress": "LDDDDDDDAA",
    "mailing:campaign_recipients": "LDDDDDDDAD",
    "mailing:campaign_send": "LDDDDDDDAD",
    "mailing:campaigns": "LDDDDDDDAA",
    "mailing:chart": "LDDDAAAAAA",
    "mailing:chart_csv": "LDDDAAAAAA",
    "mailing:chart_png": "LDDDAAAAAA",
    "mailing:unsubscribe": "AAAAAAAAAA",
    # A screenshot attached to a fault: staff only (logos, public, are tested on their own).
    "media": "LDDDAAAAAA",
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
    "organisations:import_checking": "LDDDDDDDDD",
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
    "organisations:suggestions": "LDDDAAAAAA",
    "organisations:tag_suggestions": "LDDDAAAAAA",
    "people:check": "LDDDDDDDDA",
    "people:confirm": "MMMMMMMMMM",
    "people:import": "LDDDDDDDDA",
    "people:template": "LDDDDDDDDA",
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
    "api:api-root": "DDDDDDDDDD",
    "api:attendance_record": "LDLLDDDADA",
    "api:booking_cancel": "MMMMMMMMMM",
    "api:booking_create": "LALLDDDDDD",
    "api:booking_list": "LALLDDDDDD",
    "api:communication_chart": "MMMMMMMMMM",
    "api:contact_create": "LDLLDDAAAA",
    "api:contact_detail": "MMMMMMMMMM",
    "api:contact_update": "MMMMMMMMMM",
    "api:event_create": "LDLLDDAADA",
    "api:event_detail": "MMMMMMMMMM",
    "api:event_list": "LDLLDDAADA",
    "api:event_publish": "LDLLDDAADA",
    "api:event_update": "MMMMMMMMMM",
    "api:note_create": "LDLLDDAAAA",
    "api:note_list": "LDLLDDAAAA",
    "api:openapi-json": "MMMMMMMMMM",
    "api:organisation_create": "LDLLDDAAAA",
    "api:organisation_detail": "MMMMMMMMMM",
    "api:organisation_list": "LDLLDDAAAA",
    "api:organisation_update": "MMMMMMMMMM",
    "api:unknown": "DDDDDDDDDD",
    "api:vacancy_list": "MMMMMMMMMM",
    "api_pages:docs": "MMMMMMMMMM",
    "api_pages:revoke": "LADDDDDDDA",
    "api_pages:service_tokens": "LDDDDDDDDA",
    "api_pages:tokens": "LADDAAAAAA",
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
    "events:public": "MMMMMMMMMM",
    "events:public_ics": "MMMMMMMMMM",
    "events:publish": "LDDDDDAADA",
    "events:reset_token": "LAAAAAAAAA",
    "events:subscribe": "MMMMMMMMMM",
    "events:unit_feed": "MMMMMMMMMM",
    "events:week": "MMMMMMMMMM",
    "accounts:access_edit": "LDDDDDDDDA",
    "accounts:access_list": "LDDDDDDDDA",
    "accounts:signin_attempts": "LDDDDDDDDA",
    "accounts:failed_tasks": "LDDDDDDDDA",
    "operations:status": "LDDDDDDDDM",
    "accounts:my_access": "LDDDAAAAAA",
    "accounts:profile": "LDDDAAAAAA",
    "accounts:terms": "LDDDAAAAAA",
    "accounts:terms_publish": "LDDDDDDDDA",
    "accounts:training_expiring": "LDDDDDDDDA",
    "accounts:training_session": "LDDDAAAAAA",
    "accounts:training_session_create": "LDDDDDDDDA",
    "accounts:training_sessions": "LDDDAAAAAA",
    "audit:erase": "LDDDDDDDDA",
    "audit:erasure_report": "MMMMMMMMMM",
    "audit:letter": "MMMMMMMMMM",
    "audit:letter_json": "MMMMMMMMMM",
    "audit:list": "MMMMMMMMMM",
    "audit:person": "MMMMMMMMMM",
    "audit:privacy": "MMMMMMMMMM",
    "audit:retention": "LDDDDDDDDA",
    "directory:list": "MMMMMMMMMM",
    "employer:activity": "MMMMMMMMMM",
    "employer:contact_create": "LDAADDDDDD",
    "employer:contact_edit": "LDADDDDDDD",
    "employer:contacts": "LDAADDDDDD",
    "employer:preferences": "LDADDDDDDD",
    "employer:profile": "LDAADDDDDD",
    "employer:register": "AAAAAAAAAA",
    "home": "MMMMMMMMMM",
    "mailing:campaign": "LDDDDDDDAA",
    "mailing:campaign_approve": "LDDDDDDDAA",
    "mailing:campaign_cancel": "LDDDDDDDAA",
    "mailing:campaign_create": "LDDDDDDDAA",
    "mailing:campaign_edit": "LDDDDDDDAD",
    "mailing:campaign_preview": "MMMMMMMMMM",
    "mailing:campaign_preview_html": "MMMMMMMMMM",
    "mailing:campaign_recipients": "LDDDDDDDAD",
    "mailing:campaign_send": "LDDDDDDDAD",
    "mailing:campaign_progress": "MMMMMMMMMM",
    "mailing:campaigns": "MMMMMMMMMM",
    "mailing:chart": "MMMMMMMMMM",
    "mailing:chart_csv": "MMMMMMMMMM",
    "mailing:chart_png": "MMMMMMMMMM",
    "mailing:unsubscribe": "AAAAAAAAAA",
    "media": "MMMMMMMMMM",
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
    "organisations:import_checking": "MMMMMMMMMM",
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
    "organisations:suggestions": "MMMMMMMMMM",
    "organisations:tag_suggestions": "MMMMMMMMMM",
    "people:check": "MMMMMMMMMM",
    "people:confirm": "LDDDDDDDDA",
    "people:import": "LDDDDDDDDA",
    "people:template": "MMMMMMMMMM",
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
    if response.status_code == 401:  # the API without a token
        return "L"
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
def test_each_persona_gets_exactly_the_expected_outcome(
    client, persona, cast, method, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path  # the sample upload is written there
    expected_table = GET if method == "get" else POST
    objects = sample_objects(persona)
    tokens: dict = {}
    failures = []
    for name, route in sorted(url_routes().items()):
        url = reverse(name, kwargs=route_kwargs(name, route, objects))
        expected = expected_table.get(name)
        if expected is None:
            continue  # reported by test_every_url_has_an_entry
        for who, want in zip(PERSONAS, expected, strict=True):
            login_as(client, persona, who)
            if name.startswith("api:"):
                # The API ignores the session: each persona calls with its own token,
                # made outside the rolled-back request.
                client.logout()
                headers = api_headers(persona, who, tokens)
            with transaction.atomic():
                if name.startswith("api:"):
                    body = _api_body(name)
                    if method == "post":
                        headers["content_type"] = "application/json"
                    response = getattr(client, method)(url, body or None, **headers)
                else:
                    response = getattr(client, method)(url)
                got = outcome(response)
                transaction.set_rollback(True)
            if got != want:
                failures.append(f"{method.upper()} {name} as {who}: expected {want}, got {got}")
    assert failures == []


def _api_body(name: str) -> dict:
    from mycareer.accounts.models import Unit

    body = dict(API_BODIES.get(name, {}))
    if body.get("unit") == "UNIT":  # Tom's school: operators of it may organise there
        body["unit"] = Unit.objects.get(code="mech").pk
    return body
