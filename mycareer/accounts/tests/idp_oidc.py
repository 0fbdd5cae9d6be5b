"""A real OpenID Connect provider on loopback, for tests: django-oauth-toolkit in its own
process (mycareer/accounts/tests/oidc_idp/), as a university's Entra ID would stand.

MyCareer reaches it over HTTP for discovery, keys, tokens and userinfo; the test signs
in at its login page over HTTP as a browser would.
"""

import json
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from mycareer.accounts.tests.idp_saml import make_key_and_certificate
from mycareer.accounts.tests.oidc_idp import CLIENT_ID, CLIENT_SECRET, PASSWORD

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OidcIdP:
    """The provider process; `stop()` ends it."""

    def __init__(self, folder: Path, *, redirect_uri: str):
        self.folder = folder
        make_key_and_certificate(folder, "oidc")
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.issuer = f"{self.base}/o"
        self.process = subprocess.Popen(  # noqa: S603 (our own module, our own Python)
            [
                sys.executable,
                "-m",
                "mycareer.accounts.tests.oidc_idp.serve",
                str(self.port),
                redirect_uri,
            ],
            cwd=ROOT,
            env={"OIDC_IDP_FOLDER": str(folder), "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = self.process.stdout.readline()
        if ready.strip() != "ready":
            self.stop()
            raise RuntimeError(f"the test OIDC provider did not start: {ready}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def settings_env(self, **extra: str) -> dict[str, str]:
        """The environment a site uses to trust this provider (MyCareer's OIDC_*)."""
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            **extra,
        }

    def people(self, people: dict[str, dict]) -> None:
        """Who may sign in here and the claims released for each ({username: claims})."""
        (self.folder / "people.json").write_text(json.dumps(people))

    def sign_in(self, authorize_url: str, username: str) -> str:
        """Sign in at the provider's own page; the address it sends the browser back to."""
        browser = requests.Session()
        url = authorize_url
        for _ in range(10):
            response = browser.get(url, allow_redirects=False, timeout=10)
            if response.status_code == 200 and 'name="password"' in response.text:
                token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
                response = browser.post(
                    url,
                    data={
                        "csrfmiddlewaretoken": token.group(1),
                        "username": username,
                        "password": PASSWORD,
                        "next": re.search(r'name="next" value="([^"]*)"', response.text)
                        .group(1)
                        .replace("&amp;", "&"),
                    },
                    headers={"Referer": url},
                    allow_redirects=False,
                    timeout=10,
                )
            assert response.status_code == 302, (response.status_code, response.text[:500])
            url = urljoin(url, response.headers["Location"])
            if not url.startswith(self.base):
                return url
        raise AssertionError("the provider never sent the browser back")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
