"""`manage.py check` says when two university sign-ins would show alike buttons."""

import os
import subprocess
import sys

from django.conf import settings as django_settings

from mycareer.accounts.checks import sign_in_buttons_named_apart
from mycareer.accounts.sso_settings import socialaccount_providers

BOTH = {
    "SAML_IDP_METADATA_URL": "https://idp.example.ac.uk/metadata",
    "SAML_IDP_ENTITY_ID": "https://idp.example.ac.uk/metadata",
    "OIDC_ISSUER": "https://login.example.ac.uk/v2.0",
    "OIDC_CLIENT_ID": "mycareer",
    "OIDC_CLIENT_SECRET": "secret",
}


def _configure(settings, **env):
    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers(
        {**BOTH, **env}, site_url="https://mycareer.example.ac.uk"
    )


def test_saml_and_openid_connect_with_one_name_are_reported(settings):
    _configure(settings)
    messages = sign_in_buttons_named_apart(None)
    assert [message.id for message in messages] == ["accounts.W001"]
    assert "your university account" in messages[0].msg
    assert "SAML_NAME" in messages[0].hint and "OIDC_NAME" in messages[0].hint


def test_each_with_its_own_name_or_only_one_is_fine(settings):
    _configure(settings, OIDC_NAME="your Microsoft account")
    assert sign_in_buttons_named_apart(None) == []
    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers(
        {"OIDC_ISSUER": BOTH["OIDC_ISSUER"]}, site_url="https://mycareer.example.ac.uk"
    )
    assert sign_in_buttons_named_apart(None) == []


def test_manage_py_check_reports_it_from_the_environment():
    """As an operations person runs it: the settings file's variables, a new process."""
    env = {**os.environ, **BOTH}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", "check"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "accounts.W001" in done.stderr + done.stdout
