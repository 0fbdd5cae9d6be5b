"""Logging in as a persona of the matrix."""


def employer_b(persona):
    """An employer admin of another organisation, made on demand."""
    from mycareer.accounts.models import User
    from mycareer.organisations.models import EmployerMembership, Organisation

    user, _ = User.objects.get_or_create(
        email="employer-b@other-employer.com",
        defaults={"full_name": "Bea Other", "kind": User.Kind.EMPLOYER},
    )
    org = Organisation.objects.get(name="Kestrel Games")
    EmployerMembership.objects.get_or_create(
        user=user, organisation=org, defaults={"is_admin": True, "status": "active"}
    )
    return user


NAMES = {
    "student": "student",
    "employer_a": "employer@demo-employer.com",
    "viewer": "viewer",
    "untrained": "untrained",
    "operator": "operator",
    "manager": "manager",
    "mailer": "mailer",
    "admin": "admin",
}


def login_as(client, persona, name: str) -> None:
    client.logout()
    if name == "anonymous":
        return
    user = employer_b(persona) if name == "employer_b" else persona(NAMES[name])
    client.force_login(user)


def api_headers(persona, name: str, tokens: dict) -> dict:
    """The persona's API token (every scope its kind of account may give) as a header;
    none for those who cannot hold one (visitors), whose calls are then unauthenticated."""
    from mycareer.api import services

    if name == "anonymous":
        return {}
    if name not in tokens:
        user = employer_b(persona) if name == "employer_b" else persona(NAMES[name])
        if not user.has_perm("api.use_tokens"):
            tokens[name] = None
        else:
            tokens[name] = services.token_create(
                owner=user, by=user, name="Matrix", scopes=services.scopes_for(user)
            )[1]
    secret = tokens[name]
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
