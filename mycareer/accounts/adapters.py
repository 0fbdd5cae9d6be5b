from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied

from mycareer.core.clientip import client_ip


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by the university (staff, students) or by employer registration."""

    def is_open_for_signup(self, request) -> bool:
        # Open self-registration belongs to the employer registration journey,
        # which sets the kind of account; the generic sign-up stays closed.
        return bool(getattr(request, "mycareer_employer_signup", False))

    def get_client_ip(self, request) -> str:
        """The real client behind the proxy, so allauth's rate limits are per person."""
        address = client_ip(request)
        if not address:
            raise PermissionDenied("MyCareer could not tell which address this request came from.")
        return address
