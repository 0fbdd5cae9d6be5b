"""Tokens: shown once and stored hashed, scoped, revocable, expiring, and acting with
their owner's permissions as they are now."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from mycareer.accounts.models import TrainingRecord
from mycareer.api import services
from mycareer.api.models import ApiToken, Scope, digest_of
from mycareer.audit.models import AuditEntry
from mycareer.core.tests.queries import assert_no_more_queries, steady_queries
from mycareer.organisations.tests.factories import make_organisation

pytestmark = pytest.mark.django_db


def test_the_secret_is_stored_only_as_its_hash(persona):
    owner = persona("operator")
    token, secret = services.token_create(owner=owner, by=owner, name="Notes", scopes=["read"])
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in (stored.digest, stored.prefix, stored.name)
    assert stored.digest == digest_of(secret)
    assert secret.startswith(stored.prefix)
    assert AuditEntry.objects.filter(action="api.token.created", person=owner).exists()


def test_a_token_needs_a_scope_and_a_fresh_name(persona):
    owner = persona("operator")
    with pytest.raises(ValidationError):
        services.token_create(owner=owner, by=owner, name="Empty", scopes=[])
    with pytest.raises(ValidationError):
        services.token_create(owner=owner, by=owner, name="Odd", scopes=["delete-everything"])
    services.token_create(owner=owner, by=owner, name="Notes", scopes=["read"])
    with pytest.raises(ValidationError):
        services.token_create(owner=owner, by=owner, name="notes", scopes=["read"])


def test_only_administrators_make_tokens_for_a_unit(persona, cast):
    operator = persona("operator")
    with pytest.raises(PermissionDenied):
        services.token_create(
            owner=operator,
            by=operator,
            name="Dashboards",
            scopes=["read"],
            unit=cast["units"]["mech"],
        )


def test_without_a_token_or_with_a_wrong_one_the_answer_is_401_in_json(call):
    for secret in (None, "mc_not-a-real-token"):
        response = call(secret, "get", "/organisations")
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_stops_at_once(call, token_for, persona):
    secret = token_for("operator")
    assert call(secret, "get", "/organisations").status_code == 200
    token = ApiToken.objects.get(owner=persona("operator"))
    services.token_revoke(token=token, by=persona("operator"))
    response = call(secret, "get", "/organisations")
    assert response.status_code == 401
    assert "revoked" in response.json()["message"]


def test_only_the_owner_or_an_administrator_revokes(persona, token_for):
    token_for("operator")
    token = ApiToken.objects.get(owner=persona("operator"))
    with pytest.raises(PermissionDenied):
        services.token_revoke(token=token, by=persona("manager"))
    services.token_revoke(token=token, by=persona("admin"))
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_an_expired_token_is_refused(call, token_for):
    secret = token_for("operator", days=30)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=31)):
        response = call(secret, "get", "/organisations")
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


def test_a_token_stops_when_its_owners_training_expires(call, token_for, persona):
    """Operator access lapses with the training, so the token may only read, as a viewer."""
    secret = token_for("operator")
    created = call(secret, "post", "/organisations", {"name": "Aire Valley Robotics"})
    assert created.status_code == 201
    TrainingRecord.objects.filter(user=persona("operator")).update(
        expires_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    response = call(secret, "post", "/organisations", {"name": "Calder Widgets"})
    assert response.status_code == 403
    assert "training" in response.json()["message"]
    assert call(secret, "get", "/organisations").status_code == 200


def test_scopes_limit_what_a_token_does_beyond_its_owner(call, token_for):
    secret = token_for("operator", scopes=[Scope.READ])
    response = call(secret, "post", "/organisations", {"name": "Fresh Widgets Ltd"})
    assert response.status_code == 403
    assert response.json()["code"] == "scope_missing"
    reader = token_for("manager", scopes=[Scope.WRITE_ORGANISATIONS])
    assert call(reader, "get", "/organisations").json()["code"] == "scope_missing"


def test_each_use_is_recorded_with_when_and_from_where_and_audited(call, token_for, persona):
    secret = token_for("operator")
    make_organisation("Northbridge Engineering Ltd")
    call(secret, "get", "/organisations", REMOTE_ADDR="198.51.100.7")
    token = ApiToken.objects.get(owner=persona("operator"))
    assert token.last_used_from == "198.51.100.7"
    assert token.last_used_at is not None
    entry = AuditEntry.objects.get(action="api.call")
    assert entry.actor == persona("operator")
    assert entry.data == {
        "token": "Test operator",
        "method": "GET",
        "path": "/api/v1/organisations",
        "status": 200,
    }


def test_the_record_of_each_call_goes_after_the_retention_schedule_keeps_it(
    call, token_for, settings
):
    from mycareer.audit.retention import retention_apply, retention_dry_run

    secret = token_for("operator")
    call(secret, "get", "/organisations")
    call(secret, "get", "/organisations")
    old, recent = AuditEntry.objects.filter(action="api.call").order_by("pk")
    kept = settings.MYCAREER["API_CALLS_KEPT_DAYS"]
    AuditEntry.objects.filter(pk=old.pk).update(
        at=timezone.now() - datetime.timedelta(days=kept, hours=1)
    )
    schedule = {rule.name: (rule.keep_for, n) for rule, n in retention_dry_run()}
    assert schedule["Records of API calls"] == (f"{kept} days", 1)
    assert retention_apply(by=None)["Records of API calls"] == 1
    assert list(AuditEntry.objects.filter(action="api.call")) == [recent]


def test_each_call_writes_one_structured_log_line(call, token_for, caplog):
    secret = token_for("operator")
    with caplog.at_level("INFO", logger="mycareer.api.api"):
        call(secret, "get", "/organisations")
    lines = [r.getMessage() for r in caplog.records if "event=api.call" in r.getMessage()]
    assert len(lines) == 1
    assert "status=200" in lines[0] and "token=" in lines[0]


def test_the_rate_limit_answers_429_with_retry_after(call, token_for, settings):
    settings.MYCAREER = {**settings.MYCAREER, "API_CALLS_PER_MINUTE": 3}
    secret = token_for("operator")
    # Frozen inside one minute, so all calls fall in one window.
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        codes = [call(secret, "get", "/vacancies").status_code for _ in range(4)]
        refused = call(secret, "get", "/vacancies")
    assert codes == [200, 200, 200, 429]
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    # Another token has its own allowance.
    assert call(token_for("manager"), "get", "/vacancies").status_code == 200


def test_a_token_for_a_unit_lists_for_administrators_only(client, persona, cast):
    admin = persona("admin")
    services.token_create(
        owner=admin, by=admin, name="Dashboards", scopes=["read"], unit=cast["units"]["careers"]
    )
    client.force_login(persona("operator"))
    assert client.get("/access/api-tokens/").status_code == 403


def test_tokens_page_shows_the_secret_once_and_revokes(client, persona):
    client.force_login(persona("student"))
    response = client.post(
        "/me/tokens/", {"name": "My calendar app", "scopes": ["read", "bookings"], "days": "90"}
    )
    assert response.status_code == 201
    secret = response.context["secret"]
    assert secret.startswith("mc_")
    assert secret.encode() in response.content
    again = client.get("/me/tokens/")
    assert secret.encode() not in again.content
    assert b"My calendar app" in again.content
    token = ApiToken.objects.get(owner=persona("student"))
    revoke = f"/me/tokens/{token.pk}/revoke/"
    assert f'href="{revoke}"'.encode() in again.content


def test_revoking_asks_first_saying_what_stops_and_a_second_press_changes_nothing(
    client, persona, token_for
):
    """A revoked token never works again and whatever uses it fails at once: one press
    must not do it."""
    token_for("student")
    token = ApiToken.objects.get(owner=persona("student"))
    ApiToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now(), last_used_from="192.0.2.7"
    )
    revoke = f"/me/tokens/{token.pk}/revoke/"
    client.force_login(persona("student"))
    question = " ".join(client.get(revoke).content.decode().split())
    assert "Revoke the token “" in question
    assert "from 192.0.2.7: whatever uses it stops working at once" in question
    assert "A revoked token never works again" in question
    assert client.post(revoke).status_code == 200  # no confirmation: nothing happens
    assert ApiToken.objects.get(pk=token.pk).state == "active"
    done = client.post(revoke, {"confirm": "yes"}, follow=True)
    assert "is revoked: it no longer works" in done.content.decode()
    assert ApiToken.objects.get(pk=token.pk).state == "revoked"
    [entry] = AuditEntry.objects.filter(action="api.token.revoked")
    again = client.post(revoke, {"confirm": "yes"}, follow=True)
    assert "is already revoked" in again.content.decode()
    assert AuditEntry.objects.filter(action="api.token.revoked").get() == entry


def test_nobody_revokes_another_persons_token_from_the_page(client, persona, token_for):
    token_for("operator")
    token = ApiToken.objects.get(owner=persona("operator"))
    client.force_login(persona("manager"))
    assert client.post(f"/me/tokens/{token.pk}/revoke/").status_code == 403
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_a_bad_form_keeps_what_was_typed(client, persona):
    client.force_login(persona("operator"))
    response = client.post("/me/tokens/", {"name": "Keep me", "days": "90"})
    assert response.status_code == 200
    assert b'value="Keep me"' in response.content
    assert not ApiToken.objects.exists()


# Lists cost the same however many rows they show ------------------------------------------


def test_the_token_pages_cost_the_same_with_more_tokens(client, persona, cast, call):
    from django.urls import reverse

    admin = persona("admin")
    units = [cast["units"][code] for code in ("mech", "careers", "computing")]
    made = iter(range(100))

    def tokens(n: int) -> None:
        """Own tokens and units' tokens: used, revoked and not used yet."""
        for i in range(n):
            number = next(made)
            for unit in (None, units[i % len(units)]):
                token, secret = services.token_create(
                    owner=admin,
                    by=admin,
                    name=f"System {number} {unit or 'own'}",
                    scopes=["read", "write-events"],
                    unit=unit,
                )
                if number % 3 == 0:
                    services.token_revoke(token=token, by=admin)
                elif number % 3 == 1:
                    call(secret, "get", "/organisations")

    tokens(2)
    client.force_login(admin)
    pages = [reverse("api_pages:tokens"), reverse("api_pages:service_tokens")]
    before = [steady_queries(lambda page=page: client.get(page)) for page in pages]
    tokens(6)
    after = [steady_queries(lambda page=page: client.get(page)) for page in pages]
    assert client.get(pages[1]).content.decode().count("Revoked ") >= 3
    for counted_before, counted_after in zip(before, after, strict=True):
        assert_no_more_queries(counted_before, counted_after)
