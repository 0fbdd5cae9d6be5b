from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by the university (staff, students) or by employer registration."""

    def is_open_for_signup(self, request) -> bool:
        # Open self-registration belongs to the employer registration journey,
        # which sets the kind of account; the generic sign-up stays closed.
        return bool(getattr(request, "mycareer_employer_signup", False))
