"""Single sign-on settings from the environment: allauth's SAML and OpenID Connect apps.

Imported by mycareer/settings.py, so it imports nothing from Django apps. Each kind of
identity provider is configured only when its variables are set; with neither, staff
and students sign in with the password the demo gave them (docs/deployment.md).
"""

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

# The eduPerson and X.500 attributes UK federation IdPs release, by their friendly
# names; an assertion may name them either way, so both are looked for.
SAML_ATTRIBUTE_OIDS = {
    "eduPersonPrincipalName": "urn:oid:1.3.6.1.4.1.5923.1.1.1.6",
    "eduPersonAffiliation": "urn:oid:1.3.6.1.4.1.5923.1.1.1.1",
    "eduPersonScopedAffiliation": "urn:oid:1.3.6.1.4.1.5923.1.1.1.9",
    "eduPersonTargetedID": "urn:oid:1.3.6.1.4.1.5923.1.1.1.10",
    "eduPersonUniqueId": "urn:oid:1.3.6.1.4.1.5923.1.1.1.13",
    "mail": "urn:oid:0.9.2342.19200300.100.1.3",
    "givenName": "urn:oid:2.5.4.42",
    "sn": "urn:oid:2.5.4.4",
    "ou": "urn:oid:2.5.4.11",
    "departmentNumber": "urn:oid:2.16.840.1.113730.3.1.2",
}

# What MyCareer reads of a person, and the attribute (SAML) or claim (OIDC) it reads it
# from by default. Each can be changed with SAML_ATTR_<FIELD> or OIDC_CLAIM_<FIELD>.
SAML_DEFAULTS = {
    "uid": "eduPersonPrincipalName",
    "email": "mail",
    "given_name": "givenName",
    "family_name": "sn",
    "affiliation": "eduPersonAffiliation",
    "department": "",
}
OIDC_DEFAULTS = {
    "uid": "sub",
    "email": "email",
    "given_name": "given_name",
    "family_name": "family_name",
    # Microsoft Entra ID sends app roles in "roles"; the university defines "student" and
    # "staff" roles for MyCareer (docs/deployment.md).
    "affiliation": "roles",
    "department": "",
}

SAML_PROVIDER = "saml"
OIDC_PROVIDER = "openid_connect"


def _get(env: Mapping[str, str], name: str, default: str = "") -> str:
    return (env.get(name) or default).strip()


def saml_names(name: str) -> list[str]:
    """The names an attribute may carry in an assertion: its OID and its friendly name."""
    names = [part.strip() for part in name.split(",") if part.strip()]
    found: list[str] = []
    for each in names:
        for candidate in (SAML_ATTRIBUTE_OIDS.get(each), each):
            if candidate and candidate not in found:
                found.append(candidate)
    return found


def attribute_map(env: Mapping[str, str], prefix: str, defaults: dict[str, str]) -> dict:
    """{field: attribute or claim name} from the defaults and <prefix><FIELD> variables."""
    return {
        field: _get(env, f"{prefix}{field.upper()}", default) for field, default in defaults.items()
    }


def _saml_idp(env: Mapping[str, str]) -> dict:
    metadata_url = _get(env, "SAML_IDP_METADATA_URL")
    entity_id = _get(env, "SAML_IDP_ENTITY_ID")
    if metadata_url:
        return {"entity_id": entity_id, "metadata_url": metadata_url}
    # The IdP's metadata from a file: read once, when the site starts.
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    xml = Path(_get(env, "SAML_IDP_METADATA_FILE")).read_text(encoding="utf-8")
    parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml, entity_id=entity_id or None)["idp"]
    idp = {
        "entity_id": parsed["entityId"],
        "x509cert": parsed.get("x509cert")
        or parsed.get("x509certMulti", {}).get("signing", [""])[0],
        "sso_url": parsed["singleSignOnService"]["url"],
    }
    if parsed.get("singleLogoutService", {}).get("url"):
        idp["slo_url"] = parsed["singleLogoutService"]["url"]
    return idp


def saml_app(env: Mapping[str, str], *, site_url: str) -> dict | None:
    """allauth's SAML app for the university's IdP, or None when it is not configured."""
    if not (_get(env, "SAML_IDP_METADATA_URL") or _get(env, "SAML_IDP_METADATA_FILE")):
        return None
    slug = _get(env, "SAML_SLUG", "university")
    fields = attribute_map(env, "SAML_ATTR_", SAML_DEFAULTS)
    advanced: dict = {
        # Always on: an assertion must be for us, fresh, and signed by the IdP.
        "strict": True,
        "want_assertion_signed": _get(env, "SAML_WANT_ASSERTIONS_SIGNED", "1") in {"1", "true"},
        "reject_idp_initiated_sso": True,
        "logout_request_signed": False,
    }
    cert, key = _get(env, "SAML_SP_CERT_FILE"), _get(env, "SAML_SP_KEY_FILE")
    if cert and key:
        advanced["x509cert"] = Path(cert).read_text(encoding="utf-8")
        advanced["private_key"] = Path(key).read_text(encoding="utf-8")
        advanced["authn_request_signed"] = True
        advanced["logout_request_signed"] = True
    return {
        "name": _get(env, "SAML_NAME", "your university account"),
        "provider_id": slug,
        "client_id": slug,
        "settings": {
            "idp": _saml_idp(env),
            # A stable entity id that does not depend on the host a request came to.
            "sp": {
                "entity_id": _get(env, "SAML_SP_ENTITY_ID")
                or f"{site_url}/accounts/saml/{slug}/metadata/"
            },
            "attribute_mapping": {
                "uid": saml_names(fields["uid"]),
                "email": saml_names(fields["email"]),
                "first_name": saml_names(fields["given_name"]),
                "last_name": saml_names(fields["family_name"]),
            },
            "mycareer_fields": {field: saml_names(name) for field, name in fields.items()},
            "advanced": advanced,
        },
    }


def oidc_app(env: Mapping[str, str]) -> dict | None:
    """allauth's OpenID Connect app (Entra ID and others), or None when not configured."""
    issuer = _get(env, "OIDC_ISSUER")
    if not issuer:
        return None
    fields = attribute_map(env, "OIDC_CLAIM_", OIDC_DEFAULTS)
    return {
        "provider_id": _get(env, "OIDC_SLUG", "university-oidc"),
        "name": _get(env, "OIDC_NAME", "your university account"),
        "client_id": _get(env, "OIDC_CLIENT_ID"),
        "secret": _get(env, "OIDC_CLIENT_SECRET"),
        "settings": {
            "server_url": issuer,
            "uid_field": fields["uid"],
            "scope": ["openid", "profile", "email"]
            + [s for s in _get(env, "OIDC_EXTRA_SCOPES").split(",") if s.strip()],
            "mycareer_fields": {field: [name] if name else [] for field, name in fields.items()},
        },
    }


def socialaccount_providers(env: Mapping[str, str], *, site_url: str) -> dict:
    """SOCIALACCOUNT_PROVIDERS for whichever IdPs the environment configures."""
    providers: dict = {}
    if app := saml_app(env, site_url=site_url):
        providers[SAML_PROVIDER] = {"APPS": [app]}
    if app := oidc_app(env):
        providers[OIDC_PROVIDER] = {"APPS": [app], "OAUTH_PKCE_ENABLED": True}
    return providers


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def form_action_origins(env: Mapping[str, str], providers: dict) -> list[str]:
    """Where the login page's sign-in buttons may lead, for the CSP's form-action.

    The button posts to MyCareer, which redirects to the IdP's sign-in page; browsers
    hold that redirect to form-action too. The IdP's own origin (from its metadata file,
    its metadata address or the OIDC issuer) and any in SSO_FORM_ACTION_ORIGINS, for an
    IdP whose sign-in page is on another host than its metadata.
    """
    urls = [_get(env, "SAML_IDP_METADATA_URL"), _get(env, "OIDC_ISSUER")]
    for app in providers.get(SAML_PROVIDER, {}).get("APPS", []):
        urls.append(app["settings"]["idp"].get("sso_url", ""))
    urls += [u for u in _get(env, "SSO_FORM_ACTION_ORIGINS").split(",") if u.strip()]
    origins: list[str] = []
    for url in urls:
        origin = _origin(url.strip())
        if origin and origin not in origins:
            origins.append(origin)
    return origins


def affiliations(env: Mapping[str, str]) -> dict[str, list[str]]:
    """Which affiliation values (or OIDC roles) make a person staff, and which a student."""
    return {
        "staff": [
            v.strip().lower()
            for v in _get(env, "SSO_STAFF_AFFILIATIONS", "staff,faculty,employee").split(",")
            if v.strip()
        ],
        "student": [
            v.strip().lower()
            for v in _get(env, "SSO_STUDENT_AFFILIATIONS", "student").split(",")
            if v.strip()
        ],
    }
