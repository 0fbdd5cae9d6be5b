"""A small HTTP client for the load harness: cookies, a form login, timed requests.

The standard library's `http.client` keeps the client's own cost per request low and
predictable (no extra dependency, no connection pool surprises). One `Session` holds
one login's cookies; threads share it, each with its own connection.
"""

import html.parser
import http.client
import threading
import time
import urllib.parse
from dataclasses import dataclass


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class LoginFailed(RuntimeError):
    pass


class _FormParser(html.parser.HTMLParser):
    """The inputs of the first form that has a password field."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {"action": attrs.get("action") or "", "inputs": []}
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None:
            self._current["inputs"].append(attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


class Session:
    """Cookies for one person on one server; safe to share between threads."""

    def __init__(self, base_url: str, timeout: float = 60.0):
        parts = urllib.parse.urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.scheme = parts.scheme
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._local = threading.local()
        self._lock = threading.Lock()

    # Connections ---------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            cls = (
                http.client.HTTPSConnection
                if self.scheme == "https"
                else http.client.HTTPConnection
            )
            connection = cls(self.host, self.port, timeout=self.timeout)
            self._local.connection = connection
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
        self._local.connection = None

    # Requests ------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """One request, timed from sending to the last byte read; no redirects followed."""
        all_headers = {"Host": f"{self.host}:{self.port}", "Accept-Encoding": "identity"}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        all_headers.update(headers or {})
        for attempt in range(2):
            connection = self._connection()
            started = time.perf_counter()
            try:
                connection.request(method, self.prefix + path, body=body, headers=all_headers)
                raw = connection.getresponse()
                data = raw.read()
            except (http.client.HTTPException, ConnectionError, TimeoutError):
                # The server closed a kept-alive connection (gunicorn's sync workers
                # close after each response): reconnect once and try again.
                self._drop_connection()
                if attempt:
                    raise
                continue
            seconds = time.perf_counter() - started
            if raw.getheader("Connection", "").lower() == "close" or raw.will_close:
                self._drop_connection()
            self._remember_cookies(raw.msg.get_all("Set-Cookie") or [])
            return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data, seconds)
        raise AssertionError("unreachable")

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, fields: dict[str, str], referer: str = "") -> Response:
        body = urllib.parse.urlencode(fields).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": self.base_url_origin,
            "Referer": referer or self.base_url + path,
        }
        return self.request("POST", path, body=body, headers=headers)

    @property
    def base_url_origin(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def _remember_cookies(self, lines: list[str]) -> None:
        with self._lock:
            for line in lines:
                name, _, rest = line.partition("=")
                value = rest.split(";", 1)[0]
                if "max-age=0" in line.lower() or value in ('""', ""):
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = value

    # Login ---------------------------------------------------------------------

    def login(self, login_path: str, user: str, password: str) -> None:
        """Log in through the site's own form (see `login_attempt`), expecting a redirect.

        A failed login raises at once, so a wrong password never counts down the
        account's sign-in waits (after five failures) through retries.
        """
        answer = self.login_attempt(login_path, user, password)
        if answer.status not in (301, 302, 303):
            raise LoginFailed(
                f"logging in as {user} answered {answer.status}, not a redirect: "
                "check the address, the user and the password"
            )

    def login_attempt(self, login_path: str, user: str, password: str) -> Response:
        """Read the login form, fill the identity and password fields, keep its hidden
        fields (the CSRF token), post it, and return the answer as it is."""
        page = self.get(login_path)
        if page.status != 200:
            raise LoginFailed(f"GET {login_path} answered {page.status}")
        parser = _FormParser()
        parser.feed(page.text())
        form = next(
            (f for f in parser.forms if any(i.get("type") == "password" for i in f["inputs"])),
            None,
        )
        if form is None:
            raise LoginFailed(f"no login form with a password field at {login_path}")
        fields: dict[str, str] = {}
        identity_set = False
        for field in form["inputs"]:
            name, kind = field.get("name"), (field.get("type") or "text").lower()
            if not name:
                continue
            if kind == "hidden":
                fields[name] = field.get("value") or ""
            elif kind == "password":
                fields[name] = password
            elif kind in ("text", "email") and not identity_set:
                fields[name] = user
                identity_set = True
        action = form["action"] or login_path
        if action.startswith(self.base_url):
            action = action[len(self.base_url) :]
        return self.post_form(action, fields, referer=self.base_url + login_path)
