"""A refusal (403) leaves one structured log line with the reason, never a traceback."""

import logging

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_refusal_writes_one_key_value_line_and_no_traceback(client, persona, cast, caplog):
    viewer = persona("viewer")
    client.force_login(viewer)
    with caplog.at_level(logging.INFO):
        response = client.get(reverse("organisations:create"))
    assert response.status_code == 403
    lines = [r for r in caplog.records if r.name.startswith(("mycareer", "django"))]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    line = lines[0]
    assert line.exc_info is None
    message = line.getMessage()
    assert message.startswith("event=access.refused ")
    assert "status=403" in message
    assert f"user={viewer.pk}" in message
    assert "path=/organisations/new/" in message
    assert 'reason="Your access level is Viewer' in message
    assert "\n" not in message
