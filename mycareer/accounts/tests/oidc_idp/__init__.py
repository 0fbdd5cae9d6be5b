"""The test OpenID Connect provider's fixed client and password (a loopback test server)."""

CLIENT_ID = "mycareer"
CLIENT_SECRET = "mycareer-test-secret"  # noqa: S105
PASSWORD = "idp-password"  # noqa: S105
