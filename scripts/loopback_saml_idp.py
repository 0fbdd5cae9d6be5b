"""A SAML 2.0 identity provider on loopback, to try single sign-on before the university's.

pysaml2's IdP side, the one the single sign-on tests use (mycareer/accounts/tests/
idp_saml.py), as a process of its own with a sign-in page: for walking
docs/deployment.md by hand and for scripts/walk_deployment.py. Never part of a site.

    .venv/bin/python scripts/loopback_saml_idp.py --folder /tmp/idp --port 8090 \\
        --sp-metadata sp.xml --people people.json

--folder keeps its key and certificate (a restarted IdP keeps them: MyCareer caches the
IdP's metadata); --sp-metadata names the file where MyCareer's metadata, saved from
/accounts/saml/university/metadata/, is put (as an IdP's operator registers a service
provider; read again whenever it changes, so it may come after the IdP starts);
--people is a JSON file {username: {"uid", "email", "given_name", "family_name",
"affiliation": [...]}}, read at each sign-in. Its metadata is at /metadata; it prints
"ready" when it serves. Needs the development dependencies and Debian's xmlsec1.
"""

import argparse
import html
import json
import sys
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mycareer.accounts.tests.idp_saml import Person, SamlIdP  # noqa: E402


class SignInIdP(SamlIdP):
    """The test IdP with a sign-in page: who is at the keyboard is whoever signs in."""

    def __init__(self, folder: Path, port: int, people_file: Path, sp_file: Path | None):
        super().__init__(folder, port)
        self.people_file, self.sp_file = people_file, sp_file

    def server(self):
        # MyCareer's metadata is read afresh when it changes: registering the service
        # provider needs no restart (and MyCareer needs this IdP running to make it).
        if self.sp_file and self.sp_file.exists():
            text = self.sp_file.read_text(encoding="utf-8")
            if text != self.sp_metadata:
                self.trust(text)
        return super().server()

    def wsgi(self, environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/sso/redirect":
            return self.sign_in_page(start_response, environ.get("QUERY_STRING", ""), "")
        if path == "/sso/login" and environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            form = urllib.parse.parse_qs(environ["wsgi.input"].read(size).decode())
            username = form.get("username", [""])[0].strip()
            query = form.get("query", [""])[0]
            people = json.loads(self.people_file.read_text(encoding="utf-8"))
            if username not in people:
                return self.sign_in_page(start_response, query, f"No account {username!r}.")
            self.person = Person(**people[username])
            return self.continue_page(start_response, query)
        return super().wsgi(environ, start_response)

    def sign_in_page(self, start_response, query: str, error: str):
        return self.page(
            start_response,
            f"<p>{html.escape(error)}</p>" if error else "",
            "/sso/login",
            {"query": query},
            "Sign in",
            inside="<label for='username'>Username</label> "
            "<input id='username' name='username' autocomplete='username' required>",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sp-metadata", type=Path, help="MyCareer's SAML metadata (a file)")
    parser.add_argument("--people", type=Path, required=True)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    idp = SignInIdP(args.folder, args.port, args.people, args.sp_metadata)
    print(f"ready: metadata at {idp.base}/metadata", flush=True)
    try:
        idp.thread.join()
    except KeyboardInterrupt:
        idp.stop()


if __name__ == "__main__":
    main()
