"""Start the test OpenID Connect provider: migrate, register MyCareer, serve on a port.

python -m mycareer.accounts.tests.oidc_idp.serve PORT REDIRECT_URI (OIDC_IDP_FOLDER set)
"""

import os
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

os.environ["DJANGO_SETTINGS_MODULE"] = "mycareer.accounts.tests.oidc_idp.settings"

from mycareer.accounts.tests.oidc_idp import CLIENT_ID, CLIENT_SECRET


class Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


def main() -> None:
    port, redirect_uri = int(sys.argv[1]), sys.argv[2]
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    Application.objects.update_or_create(
        client_id=CLIENT_ID,
        defaults={
            "name": "MyCareer",
            "client_secret": CLIENT_SECRET,
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": redirect_uri,
            "algorithm": Application.RS256_ALGORITHM,
            "skip_authorization": True,
        },
    )
    server = make_server("127.0.0.1", port, get_wsgi_application(), handler_class=Quiet)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
