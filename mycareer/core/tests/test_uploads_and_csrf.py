"""Uploads are served with DEBUG off, by area and permission; a refused form keeps the layout."""

import io
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.http import http_date
from PIL import Image

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


def png(colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def production(settings, tmp_path):
    """Production settings: DEBUG off, HTTPS only, uploads in their own folder."""
    settings.DEBUG = False
    settings.MEDIA_ROOT = tmp_path
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    return tmp_path


@pytest.fixture
def logo(production, persona):
    """A logo uploaded to an organisation, as its profile page shows it."""
    from mycareer.organisations import services
    from mycareer.organisations.tests.factories import OrganisationFactory

    org = OrganisationFactory(name="Brightwave Digital")
    services.organisation_update(
        organisation=org,
        by=persona("operator"),
        logo=SimpleUploadedFile("brightwave.png", png(), content_type="image/png"),
    )
    org.refresh_from_db()
    return org


def test_an_uploaded_logo_is_served_to_anyone_with_debug_off(client, logo, persona):
    client.force_login(persona("student"))
    page = client.get(logo.get_absolute_url(), secure=True)
    assert f'src="{logo.logo.url}"' in page.content.decode()
    client.logout()
    response = client.get(logo.logo.url, secure=True)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png()
    assert response["Cache-Control"] == "public, max-age=86400"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    again = client.get(logo.logo.url, secure=True, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
    assert again.status_code == 304


def test_a_screenshot_is_only_for_staff(client, production, persona):
    from mycareer.usergroup import services

    feedback = services.feedback_log(
        by=persona("operator"),
        kind="fault",
        title="Broken page",
        description="It breaks",
        screenshot=SimpleUploadedFile("shot.png", png(), content_type="image/png"),
    )
    url = feedback.screenshot.url
    assert client.get(url, secure=True)["Location"].startswith("/accounts/login/")
    for name in ("student", "employer"):
        client.force_login(persona(name))
        assert client.get(url, secure=True).status_code == 403
    client.force_login(persona("viewer"))
    response = client.get(url, secure=True)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "logos/../secret.txt",
        "logos/%2e%2e/secret.txt",
        "secret.txt",
        "elsewhere/file.png",
        "logos/missing.png",
    ],
)
def test_nothing_outside_an_upload_area_is_served(client, production, path):
    (production / "secret.txt").write_text("not for the web")
    (production / "elsewhere").mkdir()
    (production / "elsewhere" / "file.png").write_bytes(png())
    response = client.get(f"/media/{path}", secure=True)
    assert response.status_code == 404


def test_a_file_that_is_not_an_image_is_only_offered_as_a_download(client, production):
    (production / "logos").mkdir()
    (production / "logos" / "page.html").write_text("<script>alert(1)</script>")
    response = client.get("/media/logos/page.html", secure=True)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_behind_nginx_the_view_checks_and_nginx_sends(client, logo, settings):
    settings.MEDIA_X_ACCEL_REDIRECT = "/protected-media/"
    response = client.get(logo.logo.url, secure=True)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/protected-media/" + logo.logo.name
    assert response.content == b""


def test_uploads_only_answer_reads(client, logo):
    assert client.post(logo.logo.url, secure=True).status_code == 405


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_production_server_started_with_debug_off_serves_uploads(tmp_path):
    """The whole stack, as deployed: gunicorn, DEBUG=0, the URLconf loaded without DEBUG."""
    media = tmp_path / "media"
    (media / "logos" / "2026").mkdir(parents=True)
    (media / "logos" / "2026" / "logo.png").write_bytes(png((10, 120, 40)))
    port = _free_port()
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "a-test-only-key-that-is-long-enough-for-the-deploy-checks-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "MEDIA_ROOT": str(media),
        "MYCAREER_VAR_DIR": str(tmp_path / "var"),
    }
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "mycareer.wsgi", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        body = None
        deadline = time.monotonic() + 60
        while body is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/media/logos/2026/logo.png", timeout=5
                ) as response:
                    body, kind = response.read(), response.headers["Content-Type"]
            except OSError:
                time.sleep(0.2)
        assert body == png((10, 120, 40)), server.stderr.read1().decode() if server.poll() else ""
        assert kind == "image/png"
    finally:
        server.terminate()
        server.wait(timeout=30)


# The CSRF failure page ----------------------------------------------------------------


@pytest.mark.parametrize("debug", [True, False])
def test_a_form_refused_by_the_csrf_check_says_why_in_the_site_layout(
    persona, settings, caplog, debug
):
    from django.test import Client

    from mycareer.audit.models import AuditEntry

    settings.DEBUG = debug
    client = Client(enforce_csrf_checks=True)
    client.force_login(persona("admin"))
    before = AuditEntry.objects.count()
    with caplog.at_level(logging.INFO, logger="mycareer.core.views"):
        response = client.post(
            reverse("audit:retention"),
            secure=True,
            HTTP_REFERER="https://testserver/audit/retention/",
        )
    assert response.status_code == 403
    assert [t.name for t in response.templates][:2] == ["403_csrf.html", "base.html"]
    html = response.content.decode()
    assert "We could not accept that form" in html
    assert 'href="https://testserver/audit/retention/"' in html
    assert "/static/core/mycareer.css" in html and 'class="site-header"' in html
    assert "<style" not in html and " style=" not in html
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "CSRF verification failed" not in html
    assert AuditEntry.objects.count() == before  # nothing was done
    lines = [
        r.getMessage() for r in caplog.records if r.getMessage().startswith("event=csrf.refused ")
    ]
    assert len(lines) == 1 and "path=/audit/retention/" in lines[0] and "reason=" in lines[0]


def test_a_refused_form_from_elsewhere_offers_no_link_back_there(persona, caplog):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("account_login"), HTTP_REFERER="https://attacker.example/form")
    assert response.status_code == 403
    assert "attacker.example" not in response.content.decode()


def test_the_last_modified_date_is_a_proper_http_date(client, logo):
    response = client.get(logo.logo.url, secure=True)
    modified = os.stat(Path(logo.logo.path)).st_mtime
    assert response["Last-Modified"] == http_date(modified)
