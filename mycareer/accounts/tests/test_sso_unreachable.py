"""The university's identity provider is down: people are told so, never shown a 500."""

import socket

import pytest
from django.urls import reverse

from mycareer.accounts.tests.idp_saml import use_identity_provider

pytestmark = pytest.mark.django_db
HOST = "127.0.0.1"


@pytest.fixture
def nowhere() -> str:
    """An address on loopback where nothing answers: the port was free a moment ago."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    return f"http://{HOST}:{port}"


@pytest.fixture
def client_at_host(client):
    client.defaults["HTTP_HOST"] = HOST  # python3-saml refuses single-label hosts
    return client


def assert_told_it_is_down(response, caplog) -> None:
    assert response.status_code == 503
    assert response["Retry-After"]
    page = response.content.decode()
    assert "cannot reach the university's sign-in service" in page
    assert "Employers" in page  # who can still sign in, and how
    assert any("event=sso.unreachable" in line for line in caplog.messages)


def test_a_saml_sign_in_when_the_idp_is_down(settings, client_at_host, nowhere, caplog):
    use_identity_provider(
        settings,
        {"SAML_IDP_METADATA_URL": f"{nowhere}/metadata", "SAML_IDP_ENTITY_ID": nowhere},
    )
    assert client_at_host.get(reverse("account_login")).status_code == 200

    pressed = client_at_host.post(reverse("saml_login", args=["university"]))
    assert_told_it_is_down(pressed, caplog)
    metadata = client_at_host.get(reverse("saml_metadata", args=["university"]))
    assert_told_it_is_down(metadata, caplog)


def test_an_openid_connect_sign_in_when_the_provider_is_down(
    settings, client_at_host, nowhere, caplog
):
    use_identity_provider(
        settings,
        {"OIDC_ISSUER": nowhere, "OIDC_CLIENT_ID": "mycareer", "OIDC_CLIENT_SECRET": "s"},
    )
    pressed = client_at_host.post(reverse("openid_connect_login", args=["university-oidc"]))
    assert_told_it_is_down(pressed, caplog)
