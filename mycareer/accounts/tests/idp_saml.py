"""A real SAML 2.0 identity provider on loopback, for tests: pysaml2's IdP side.

It serves its metadata and a single sign-on page over HTTP (a thread in the test
process), signs its assertions with a key made for the run, and answers as whoever the
test says is at the keyboard (`idp.person`). Its page posts the assertion back with a
plain button (no script), as a university's IdP does after its own login form.
"""

import base64
import copy
import datetime
import html
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT
from saml2.server import Server

XMLSEC = "/usr/bin/xmlsec1"
# SHA-256: MyCareer, like any careful SP, refuses SHA-1 signatures.
SIGN_ALG = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
DIGEST_ALG = "http://www.w3.org/2001/04/xmlenc#sha256"
PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


def make_key_and_certificate(folder: Path, name: str = "idp") -> tuple[Path, Path]:
    """A 2048-bit RSA key and a self-signed certificate, as PEM files in `folder`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"test {name}")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


@dataclass
class Person:
    """Who is signing in at the IdP, with the attributes it releases (friendly names)."""

    uid: str
    email: str
    given_name: str = "Ada"
    family_name: str = "Lovelace"
    affiliation: list[str] = field(default_factory=lambda: ["member", "student"])

    def attributes(self) -> dict[str, list[str]]:
        return {
            "eduPersonPrincipalName": [self.uid],
            "mail": [self.email],
            "givenName": [self.given_name],
            "sn": [self.family_name],
            "eduPersonAffiliation": list(self.affiliation),
        }


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the standard library's name)
        pass


class SamlIdP:
    """pysaml2's IdP, serving on 127.0.0.1 in a thread; `stop()` ends it."""

    def __init__(self, folder: Path, port: int = 0):
        self.folder = folder
        key_file, cert_file = folder / "idp.key", folder / "idp.crt"
        if key_file.exists() and cert_file.exists():
            # A restarted IdP keeps its key: a site caches the metadata that names it.
            self.key_file, self.cert_file = key_file, cert_file
        else:
            self.key_file, self.cert_file = make_key_and_certificate(folder)
        self.person: Person | None = None
        self.sp_metadata: str | None = None
        self._server: Server | None = None
        self.httpd: WSGIServer = make_server("127.0.0.1", port, self.wsgi, handler_class=_Quiet)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        self.entity_id = f"{self.base}/metadata"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # Configuration --------------------------------------------------------------------

    def _config(self) -> IdPConfig:
        metadata = {}
        if self.sp_metadata:
            sp_file = self.folder / "sp.xml"
            sp_file.write_text(self.sp_metadata, encoding="utf-8")
            metadata = {"local": [str(sp_file)]}
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [
                                (f"{self.base}/sso/redirect", BINDING_HTTP_REDIRECT)
                            ],
                            "single_logout_service": [
                                (f"{self.base}/slo/redirect", BINDING_HTTP_REDIRECT)
                            ],
                        },
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 5},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_URI,
                            }
                        },
                        "name_id_format": [NAMEID_FORMAT_TRANSIENT, NAMEID_FORMAT_PERSISTENT],
                        "sign_assertion": True,
                    }
                },
                "key_file": str(self.key_file),
                "cert_file": str(self.cert_file),
                "xmlsec_binary": XMLSEC,
                "metadata": metadata,
            }
        )
        return config

    def server(self) -> Server:
        if self._server is None:
            self._server = Server(config=self._config())
        return self._server

    def trust(self, sp_metadata: str) -> None:
        """Load the service provider's metadata, as an IdP operator registers an SP."""
        self.sp_metadata = sp_metadata
        self._server = None

    def metadata(self) -> str:
        return str(entity_descriptor(self._config()))

    def settings_env(self, **extra: str) -> dict[str, str]:
        """The environment a site uses to trust this IdP (MyCareer's SAML_* variables)."""
        return {
            "SAML_IDP_METADATA_URL": f"{self.base}/metadata",
            "SAML_IDP_ENTITY_ID": self.entity_id,
            **extra,
        }

    # Answering ------------------------------------------------------------------------

    def answer(self, query: str) -> tuple[str, dict[str, str]]:
        """The ACS address and form fields for an AuthnRequest sent by HTTP-Redirect."""
        assert self.person is not None, "say who is at the keyboard: idp.person = Person(...)"
        params = urllib.parse.parse_qs(query)
        server = self.server()
        request = server.parse_authn_request(params["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        args = server.response_args(request.message, [BINDING_HTTP_POST])
        response = server.create_authn_response(
            self.person.attributes(),
            userid=self.person.uid,
            authn={"class_ref": PASSWORD_PROTECTED},
            sign_assertion=True,
            sign_response=False,
            sign_alg=SIGN_ALG,
            digest_alg=DIGEST_ALG,
            **args,
        )
        fields = {"SAMLResponse": base64.b64encode(str(response).encode()).decode()}
        if params.get("RelayState"):
            fields["RelayState"] = params["RelayState"][0]
        return args["destination"], fields

    def wsgi(self, environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/metadata":
            start_response("200 OK", [("Content-Type", "text/xml")])
            return [self.metadata().encode()]
        if path == "/sso/redirect":
            return self.continue_page(start_response, environ.get("QUERY_STRING", ""))
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    def continue_page(self, start_response, query: str):
        """The answer to an AuthnRequest, as the page that posts it back to MyCareer."""
        action, fields = self.answer(query)
        return self.page(
            start_response,
            f"<p>Signed in as {html.escape(self.person.email)}.</p>",
            action,
            fields,
            "Continue to MyCareer",
        )

    @staticmethod
    def page(
        start_response, text: str, action: str, fields: dict[str, str], button: str, inside=""
    ):
        """The IdP's page: `text` and a form (`inside`, hidden `fields`) posted to `action`."""
        inputs = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in fields.items()
        )
        page = (
            "<!doctype html><html lang='en'><head><title>University sign-in</title></head>"
            f"<body><main><h1>University sign-in</h1>{text}"
            f'<form method="post" action="{html.escape(action)}">{inside}{inputs}'
            f"<button type='submit'>{button}</button></form></main></body></html>"
        )
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [page.encode()]

    def logout_request(self, *, sp_entity_id: str, sls_url: str, name_id) -> str:
        """An IdP-initiated LogoutRequest for the SP's SLS, as a query string (Redirect)."""
        server = self.server()
        request_id, request = server.create_logout_request(
            sls_url, sp_entity_id, name_id=name_id, sign=False
        )
        info = server.apply_binding(BINDING_HTTP_REDIRECT, str(request), sls_url, "", sign=False)
        location = dict(info["headers"])["Location"]
        return urllib.parse.urlsplit(location).query


def use_identity_provider(settings, env: dict[str, str]) -> None:
    """Configure the site (the `settings` fixture) as its environment `env` would."""
    from mycareer.accounts.sso_settings import form_action_origins, socialaccount_providers

    settings.MYCAREER_SSO_ENV = env
    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers(env, site_url=settings.SITE_URL)
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = [
        "'self'",
        *form_action_origins(env, settings.SOCIALACCOUNT_PROVIDERS),
    ]
    settings.CONTENT_SECURITY_POLICY = policy


def signed_in_as(client):
    """The person the Django test client's session is signed in as, or None."""
    from mycareer.accounts.models import User

    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def fetch(url: str) -> str:
    """GET a loopback address, as a browser or allauth would."""
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback only)
        return response.read().decode()
