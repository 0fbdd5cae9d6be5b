"""Who may sign in at the test provider, and the claims it releases for them.

The test writes people.json ({username: {claim: value}}) before each sign-in; it is read
afresh on every request, so a changed email at the "university" is seen at once.
"""

import json

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from oauth2_provider.oauth2_validators import OAuth2Validator

from mycareer.accounts.tests.oidc_idp import PASSWORD


def people() -> dict:
    path = settings.FOLDER / "people.json"
    return json.loads(path.read_text()) if path.exists() else {}


class PeopleBackend(ModelBackend):
    """Anyone in people.json, with the one test password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username in people() and password == PASSWORD:
            user, _ = User.objects.get_or_create(username=username)
            return user
        return None


class ClaimsValidator(OAuth2Validator):
    oidc_claim_scope = None  # release every claim the person has

    def get_additional_claims(self, request):
        return people().get(request.user.username, {})
