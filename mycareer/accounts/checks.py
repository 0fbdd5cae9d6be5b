"""System checks (`manage.py check`) for the university sign-in settings."""

from collections import Counter

from django.conf import settings
from django.core import checks


@checks.register()
def sign_in_buttons_named_apart(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Each university sign-in button must read differently: with SAML and OpenID Connect
    both configured and one name ("Sign in with your university account" twice), nobody
    can tell which button is theirs."""
    names = Counter(
        app.get("name", "")
        for provider in settings.SOCIALACCOUNT_PROVIDERS.values()
        for app in provider.get("APPS", [])
    )
    return [
        checks.Warning(
            f"The login page would show {count} buttons reading “Sign in with {name}”.",
            hint="Give each university sign-in its own name: SAML_NAME and OIDC_NAME.",
            id="accounts.W001",
        )
        for name, count in names.items()
        if count > 1
    ]
