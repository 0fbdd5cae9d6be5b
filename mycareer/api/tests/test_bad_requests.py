"""A request Django cannot read, one too large and a fault of ours still get the API's
JSON shape, never an HTML page or a plain-text traceback."""

import pytest


@pytest.mark.django_db
def test_a_host_the_site_does_not_serve_gets_a_json_400(client):
    response = client.get("/api/v1/organisations", HTTP_HOST="-:")

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.django_db
def test_pages_keep_djangos_own_400(client):
    response = client.get("/organisations/", HTTP_HOST="-:")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


@pytest.fixture
def answers(client):
    """The client answers a fault as a browser would meet it, rather than raising it."""
    client.raise_request_exception = False
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_a_body_over_the_size_limit_is_a_json_413(answers, call, token_for, settings, debug):
    """It was a 400 "could not be read", and with DEBUG a plain-text 500 traceback."""
    from mycareer.organisations.models import Organisation

    settings.DEBUG = debug
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    secret = token_for("operator")
    answer = call(secret, "post", "/organisations", {"name": "Kestrel", "description": "x" * 2000})
    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "too_large"
    assert "1000\xa0bytes" in answer.json()["message"]
    assert not Organisation.objects.exists()
    # Where no body is read, one over the limit is refused the same way.
    no_body = call(secret, "post", "/bookings/1/attendance", {"x": "x" * 2000})
    assert no_body.status_code == 413 and no_body.json()["code"] == "too_large"


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_a_fault_of_ours_is_a_json_500_and_still_logged(
    answers, call, token_for, settings, monkeypatch, caplog, debug
):
    """Not Django's HTML page, nor with DEBUG ninja's plain-text traceback."""
    from django.db import OperationalError

    from mycareer.api import routes

    settings.DEBUG = debug

    def broken(query):
        raise RuntimeError("a bug")

    monkeypatch.setattr(routes.chart, "chart_data", broken)
    secret = token_for("admin")
    answer = call(secret, "get", "/communication-chart")
    assert answer.status_code == 500
    assert answer["Content-Type"] == "application/json"
    assert set(answer.json()) == {"code", "message", "fields"}
    assert answer.json()["code"] == "server_error"
    assert "a bug" not in answer.content.decode()
    [logged] = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
    assert logged.status_code == 500 and "a bug" in str(logged.exc_info[1])

    # A database error that is not a busy lock is such a fault too (a busy one is a 503).
    def unreachable(query):
        raise OperationalError("no such table: mailing_campaign")

    monkeypatch.setattr(routes.chart, "chart_data", unreachable)
    answer = call(secret, "get", "/communication-chart")
    assert answer.status_code == 500 and answer.json()["code"] == "server_error"


@pytest.mark.django_db
def test_a_fault_outside_an_endpoint_is_a_json_500_too(answers, call, token_for, monkeypatch):
    """Recording the call fails after the endpoint has answered: that was Django's HTML
    500 page. The pages keep it."""
    from django.test import RequestFactory

    from mycareer.api import api, errors

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    secret = token_for("admin")
    monkeypatch.setattr(api.audit, "log", broken)
    answer = call(secret, "get", "/communication-chart")
    assert answer.status_code == 500
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "server_error"
    page = errors.server_error_page(RequestFactory().get("/organisations/"))
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_a_fault_still_surfaces_in_tests(call, token_for, monkeypatch):
    """Reported as Django reports one, so a test that meets a bug sees it."""
    from mycareer.api import routes

    def broken(query):
        raise RuntimeError("a bug")

    monkeypatch.setattr(routes.chart, "chart_data", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        call(token_for("admin"), "get", "/communication-chart")


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "delete"])
@pytest.mark.parametrize(
    ("path", "status"), [("/nowhere", 404), ("/organisations/", 404), ("/openapi.json", 405)]
)
@pytest.mark.parametrize("secret", [True, False])
def test_a_write_to_an_address_the_api_does_not_take_is_json(
    token_for, method, path, status, secret
):
    """Refused by the pages' CSRF check, it was the HTML "Form not accepted" page."""
    from django.test import Client

    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for('operator')}"} if secret else {}
    client = Client(enforce_csrf_checks=True)
    answer = getattr(client, method)(f"/api/v1{path}", **headers)

    assert answer.status_code == status
    assert answer["Content-Type"] == "application/json"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/organisations", {"name": "Kestrel\x00"}, "name"),
        ("post", "/organisations", {"name": "Kestrel", "tags": ["Placements\x00"]}, "tags"),
        ("get", "/organisations?tags_any=Placements%00", None, "tags_any"),
        ("get", "/events?organisation=Kestrel%00", None, "organisation"),
    ],
)
def test_a_null_character_is_a_400_naming_the_field(call, token_for, method, path, body, field):
    """As the pages' fields refuse one: PostgreSQL stores and compares none, and these
    failed there with a 500 (SQLite takes it, so the refusal is the API's own)."""
    from mycareer.organisations.models import Organisation

    answer = call(token_for("operator"), method, path, body)

    assert answer.status_code == 400
    assert answer.json()["fields"] == {field: ["Null characters are not allowed."]}
    assert not Organisation.objects.filter(name__startswith="Kestrel").exists()


@pytest.mark.django_db
def test_a_call_to_an_address_holding_a_null_character_is_recorded_without_it(call, token_for):
    """PostgreSQL's JSON holds no NUL: recording `/organisations/%00` failed there (500)."""
    from mycareer.audit.models import AuditEntry

    answer = call(token_for("operator"), "get", "/organisations/%00")

    assert answer.status_code in (400, 404)
    recorded = AuditEntry.objects.get(action="api.call")
    assert recorded.data["path"] == "/api/v1/organisations/\ufffd"


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["", "[]", "null", '"Kestrel"', "5"])
def test_a_body_that_is_no_json_object_is_told_so(client, token_for, body):
    """It was told "Field required", or "Input should be a valid dictionary or object to
    extract fields from", under no field."""
    answer = client.post(
        "/api/v1/organisations",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token_for('operator')}",
    )
    assert answer.status_code == 400
    said = "Send a JSON object with this request's fields as the body."
    assert answer.json()["fields"] == {"__all__": [said]}
    assert answer.json()["message"] == said  # the whole call's fault, said as its message
