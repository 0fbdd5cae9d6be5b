"""`/healthz` answers the load balancer: no login, no host check, nothing private."""

import json

import pytest
from django.db.migrations.recorder import MigrationRecorder

from mycareer.operations import health

pytestmark = pytest.mark.django_db


def test_it_says_ok_without_login_to_any_host_over_plain_http(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["mycareer.example.ac.uk"]
    # A load balancer asks by the machine's address, over HTTP, without cookies.
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert json.loads(response.content) == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok"},
    }
    assert response["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert client.head("/healthz/").status_code == 200


def test_it_refuses_other_methods(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_a_migration_not_applied_makes_it_unavailable(client, monkeypatch, caplog):
    monkeypatch.setattr(health, "_migrations_seen_applied", set())
    applied = MigrationRecorder.Migration.objects.filter(app="operations").order_by("-id").first()
    name = applied.name
    applied.delete()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body == {"status": "unavailable", "checks": {"database": "ok", "migrations": "pending"}}
    # It names no migration, version or table: nothing a stranger could use.
    assert name not in response.content.decode()
    assert "event=health.failed" in caplog.text
    MigrationRecorder.Migration.objects.create(app="operations", name=name)
    assert client.get("/healthz").status_code == 200


def test_an_unreachable_database_makes_it_unavailable(client, monkeypatch):
    monkeypatch.setattr(health, "database_answers", lambda using="default": False)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["database"] == "unreachable"
