import pytest

from mycareer.api import services


@pytest.fixture
def token_for(persona):
    """token_for('operator', scopes) -> the secret of a new token of that persona."""

    made: dict[str, str] = {}

    def make(name: str, scopes=None, **extra) -> str:
        """The same token for the same persona with every scope its kind of account may
        give; a new one otherwise."""
        key = name if (scopes is None and not extra) else None
        if key in made:
            return made[key]
        owner = persona(name)
        scopes = services.scopes_for(owner) if scopes is None else scopes
        _token, secret = services.token_create(
            owner=owner,
            by=extra.pop("by", owner),
            name=f"Test {name}" if key else f"Test {name} {len(made) + 1}",
            scopes=scopes,
            **extra,
        )
        made[key or secret] = secret
        return secret

    return make


@pytest.fixture
def call(client):
    """call(secret, 'get', '/organisations', ...) with the token in the header."""

    def send(secret: str | None, method: str, path: str, data=None, **headers):
        if secret:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        kwargs = {"content_type": "application/json"} if data is not None else {}
        return getattr(client, method)(f"/api/v1{path}", data=data, **kwargs, **headers)

    return send
