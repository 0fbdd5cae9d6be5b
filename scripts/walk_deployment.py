"""Walk docs/deployment.md's single sign-on on PostgreSQL, without a person at the keys.

    scripts/with-postgres.sh .venv/bin/python scripts/walk_deployment.py

What a new site runs, from deploy/: the settings are deploy/mycareer.env.example with
its `change-me` values filled in (read by the shell, as deploy/mycareer-manage reads
them); migrate, `check --deploy`, collectstatic; the people feed through the command of
deploy/mycareer-import-people.service; then two web processes, a task worker and the
scheduler, each started with the ExecStart line of its unit (only the folder, the
ports and the number of gunicorn workers changed). A SAML identity provider on loopback
(scripts/loopback_saml_idp.py) stands for the university's. The client acts as the
reverse proxy and the browser together: it sends Host, X-Forwarded-For and
X-Forwarded-Proto as deploy/nginx.conf does, keeps the cookies, and follows the SAML
POST binding by hand.

What must hold: both web processes answer /healthz; the worker runs what the scheduler
queues; a student the feed brought in signs in through the IdP at web process 1 for
the first time, is linked to the feed's person (not duplicated) and sees the event for
her programme and not another programme's; web process 2 knows her session and shows
her the same. Exits 0 and prints the timings, or stops at the first failure and says
which, keeping the processes' logs (the folder it prints).

Needs DATABASE_URL to name an empty PostgreSQL database whose owner may create
databases' extensions (scripts/with-postgres.sh makes one), the development
dependencies (the IdP is pysaml2's) and Debian's xmlsec1.
"""

import html
import http.client
import http.cookies
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SITE_HOST = "mycareer.example.ac.uk"
SITE = f"https://{SITE_HOST}"
CLIENT_ADDRESS = "192.0.2.10"  # the student's address, as the proxy forwards it
STARTED = time.monotonic()
PYTHON = str(ROOT / ".venv" / "bin" / "python")  # the units' .venv/bin/python


def say(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:5.1f} s] {text}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Settings and commands, as the units have them ----------------------------------------


def write_env_file(folder: Path, values: dict[str, str]) -> Path:
    """deploy/mycareer.env.example with `values` put in; every change-me must be gone."""
    lines = []
    for line in (DEPLOY / "mycareer.env.example").read_text(encoding="utf-8").splitlines():
        name = line.split("=", 1)[0]
        if "=" in line and not line.startswith("#") and name in values:
            line = f"{name}={shlex.quote(values.pop(name))}"
        lines.append(line)
    lines += [f"{name}={shlex.quote(value)}" for name, value in values.items()]
    text = "\n".join(lines) + "\n"
    assert "change-me" not in text, "a change-me value is left in the settings"
    path = folder / "mycareer.env"
    path.write_text(text, encoding="utf-8")
    return path


def exec_start(unit: str, **instance: str) -> list[str]:
    """A unit's ExecStart as arguments, run from this checkout instead of /srv/mycareer."""
    text = (DEPLOY / unit).read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    line = line.removeprefix("ExecStart=").replace("/srv/mycareer", str(ROOT))
    for name, value in instance.items():  # %i, %H
        line = line.replace(f"%{name}", value)
    return shlex.split(line)


class Site:
    """The processes of one site, each reading the settings file as the units do."""

    def __init__(self, folder: Path, env_file: Path):
        self.folder, self.env_file = folder, env_file
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def command(self, args: list[str]) -> list[str]:
        # What deploy/mycareer-manage does, without changing user: the shell reads the file.
        return ["sh", "-c", 'set -a; . "$0"; set +a; exec "$@"', str(self.env_file), *args]

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> str:
        done = subprocess.run(  # noqa: S603 (our own programs)
            self.command(list(args)), cwd=ROOT, capture_output=True, text=True, env=base_env()
        )
        assert done.returncode in ok, f"{args} exited {done.returncode}:\n{done.stderr[-3000:]}"
        return done.stdout

    def start(self, name: str, args: list[str]) -> None:
        log = (self.folder / f"{name}.log").open("a")
        process = subprocess.Popen(  # noqa: S603 (our own programs)
            self.command(args), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=base_env()
        )
        self.processes.append((name, process))

    def check_running(self) -> None:
        for name, process in self.processes:
            assert process.poll() is None, f"{name} stopped; see {self.folder / name}.log"

    def stop(self) -> None:
        for _, process in self.processes:
            process.send_signal(signal.SIGTERM)
        for _, process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_answering(port: int, path: str, running) -> None:
    """Wait until 127.0.0.1:port answers 200 at path; `running()` asserts all is well."""
    deadline = time.monotonic() + 120
    while True:
        running()
        assert time.monotonic() < deadline, f"nothing answered at :{port}{path}"
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)


def base_env() -> dict[str, str]:
    """Only what a unit's environment has besides the settings file."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


# A browser behind the proxy -----------------------------------------------------------


class Browser:
    """Keeps cookies, sends what nginx adds, and talks to one web process at a time."""

    def __init__(self, web_port: int):
        self.web_port = web_port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, form: dict[str, str] | None = None, origin=""):
        parts = urllib.parse.urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"User-Agent": "walk-deployment"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if parts.netloc == SITE_HOST:
            connection = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=60)
            headers |= {
                "Host": SITE_HOST,
                "X-Forwarded-For": CLIENT_ADDRESS,
                "X-Forwarded-Proto": "https",
                "Origin": origin or SITE,
            }
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        else:  # the IdP, on loopback over plain HTTP
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        connection.close()
        if parts.netloc == SITE_HOST:
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in http.cookies.SimpleCookie(header).items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
        return response.status, response.headers.get("Location", ""), text

    def follow(self, method: str, url: str, form=None, origin="") -> tuple[str, str]:
        """Make a request and follow redirects; the last address and its page."""
        for _ in range(10):
            status, location, text = self.request(method, url, form, origin)
            if status not in (301, 302, 303):
                assert status == 200, f"{method} {url} answered {status}:\n{text[:2000]}"
                return url, text
            url, method, form = urllib.parse.urljoin(url, location), "GET", None
        raise AssertionError(f"too many redirects from {url}")


def form_fields(page: str, action_part: str) -> tuple[str, dict[str, str]]:
    """The action and the named inputs of the first form whose action contains a part."""
    for match in re.finditer(r"<form\b([^>]*)>(.*?)</form>", page, re.S):
        action = re.search(r'action="([^"]*)"', match.group(1))
        if action and action_part in html.unescape(action.group(1)):
            fields = {
                html.unescape(name): html.unescape(value)
                for name, value in re.findall(
                    r'<input[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"', match.group(2)
                )
            }
            return html.unescape(action.group(1)), fields
    raise AssertionError(f"no form posting to {action_part!r} on the page:\n{page[:2000]}")


# The walk -----------------------------------------------------------------------------


PEOPLE_CSV = """\
Kind,Stable id,Email,Given name,Family name,Student number,Programme code,Year of study,\
Faculty or school,Expected graduation,Status,Units
student,rf1920@example.ac.uk,r.franklin@students.example.ac.uk,Rosalind,Franklin,20190001,\
mchem,2,chemistry,2028-06-30,enrolled,
student,cb1990@example.ac.uk,c.babbage@students.example.ac.uk,Charles,Babbage,20190002,\
bsc-cs,1,,2029-06-30,enrolled,
staff,,c.staff@example.ac.uk,Chris,Staff,,,,,,,chemistry
"""

IDP_PEOPLE = """{"rf1920": {"uid": "rf1920@example.ac.uk",
  "email": "r.franklin@students.example.ac.uk", "given_name": "Rosalind",
  "family_name": "Franklin", "affiliation": ["student", "member"]}}"""

# Run in manage.py shell: what the administrator makes in Django admin before the first
# feed (units and programmes) and what operators publish (an event for each programme).
STRUCTURE = """
import datetime
from django.utils import timezone
from mycareer.accounts.models import DegreeProgramme, Unit, User
from mycareer.events import services
from mycareer.events.models import Event

admin = User.objects.create_superuser("ops.admin@example.ac.uk", "not-used", full_name="Ops Admin")
day = timezone.localdate() + datetime.timedelta(days=10)
for code, name, programme_code, programme, hour in (
    ("chemistry", "School of Chemistry", "mchem", "MChem Chemistry", 18),
    ("computing", "School of Computing", "bsc-cs", "BSc Computer Science", 12),
):
    unit = Unit.objects.create(code=code, name=name, kind="school")
    programme = DegreeProgramme.objects.create(code=programme_code, name=programme, unit=unit)
    starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
    event = services.event_create(
        by=admin, title=f"{name} careers night", type=Event.Type.OTHER, unit=unit,
        venue="Great Hall", starts_at=starts, ends_at=starts + datetime.timedelta(hours=2),
        audience_programmes=[programme],
    )
    services.event_publish(event=event, by=admin)
"""

CHECK = """
from mycareer.accounts.models import User
from mycareer.operations.models import Heartbeat
people = User.objects.filter(university_id="rf1920@example.ac.uk")
print(people.count(), people.get().socialaccount_set.count(), Heartbeat.objects.count())
"""


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    assert database_url.startswith("postgres"), "DATABASE_URL must name PostgreSQL"
    assert shutil.which("xmlsec1"), "xmlsec1 is missing: `make xmlsec1` installs it"
    folder = Path(tempfile.mkdtemp(prefix="walk-deployment."))
    say(f"logs and settings in {folder}")

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    smtp_port, idp_port = free_port(), free_port()
    smtp = Controller(Sink(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    idp_url = f"http://127.0.0.1:{idp_port}/metadata"
    (folder / "sis").mkdir()
    feed = folder / "sis" / "people.csv"
    feed.write_text(PEOPLE_CSV, encoding="utf-8")
    env_file = write_env_file(
        folder,
        {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": database_url,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "MEDIA_ROOT": str(folder / "media"),
            "BACKUP_DIR": str(folder / "backups"),
            "PEOPLE_FEED_FILE": str(feed),
            # This checkout's var/ is the developer's: the site's own folder instead.
            "MYCAREER_VAR_DIR": str(folder / "var"),
            "SAML_IDP_METADATA_URL": idp_url,
            "SAML_IDP_ENTITY_ID": idp_url,
        },
    )
    site = Site(folder, env_file)
    idp = None
    try:
        site.run(PYTHON, "manage.py", "migrate", "--noinput")
        site.run(PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
        site.run(PYTHON, "manage.py", "collectstatic", "--noinput")
        site.run(PYTHON, "manage.py", "shell", "-c", STRUCTURE)
        say("migrated, checked (--deploy), static files collected, units and programmes made")
        out = site.run(*exec_start("mycareer-import-people.service"))
        assert "Created: 3." in out, out
        say("people fed: " + " ".join(out.split()))

        (folder / "idp").mkdir()
        (folder / "idp" / "people.json").write_text(IDP_PEOPLE, encoding="utf-8")
        idp_log = (folder / "idp.log").open("a")
        idp = subprocess.Popen(  # noqa: S603 (our own script)
            [sys.executable, str(ROOT / "scripts" / "loopback_saml_idp.py"),
             "--folder", str(folder / "idp"), "--port", str(idp_port),
             "--sp-metadata", str(folder / "idp" / "sp.xml"),
             "--people", str(folder / "idp" / "people.json")],
            cwd=ROOT, stdout=idp_log, stderr=subprocess.STDOUT,
        )  # fmt: skip

        # MyCareer reads the IdP's metadata at the first SAML page: the IdP must answer by then
        # (a busy machine once took longer to start it than to start gunicorn).
        def idp_running() -> None:
            assert idp.poll() is None, f"the IdP stopped; see {folder / 'idp.log'}"

        wait_until_answering(idp_port, "/metadata", idp_running)

        web_ports = [free_port(), free_port()]
        for number, port in enumerate(web_ports, start=1):
            args = exec_start("mycareer-web.service")
            args[args.index("--bind") + 1] = f"127.0.0.1:{port}"
            args[args.index("--workers") + 1] = "2"
            site.start(f"web{number}", args)
        site.start("worker", exec_start("mycareer-worker@.service", H="walk", i="1"))
        site.start("scheduler", exec_start("mycareer-scheduler.service"))
        for port in web_ports:
            wait_until_answering(port, "/healthz", site.check_running)
        say(f"web 1 (:{web_ports[0]}) and web 2 (:{web_ports[1]}) answer /healthz")

        # The IdP's operator registers MyCareer's metadata.
        browser = Browser(web_ports[0])
        _, metadata = browser.follow("GET", f"{SITE}/accounts/saml/university/metadata/")
        assert f'entityID="{SITE}/accounts/saml/university/metadata/"' in metadata
        (folder / "idp" / "sp.xml").write_text(metadata, encoding="utf-8")

        # A student's first sign-in, at web process 1.
        _, login = browser.follow("GET", f"{SITE}/accounts/login/")
        assert "Sign in with your university account" in login
        action, fields = form_fields(login, "/accounts/saml/university/login/")
        url, idp_page = browser.follow("POST", urllib.parse.urljoin(SITE, action), fields)
        assert url.startswith(f"http://127.0.0.1:{idp_port}/sso/redirect"), url
        action, fields = form_fields(idp_page, "/sso/login")
        fields["username"] = "rf1920"
        url, answer = browser.follow(
            "POST", urllib.parse.urljoin(url, action), fields, origin=f"http://127.0.0.1:{idp_port}"
        )
        action, fields = form_fields(answer, "/accounts/saml/university/acs/")
        assert action == f"{SITE}/accounts/saml/university/acs/", action
        url, home = browser.follow("POST", action, fields, origin=f"http://127.0.0.1:{idp_port}")
        assert url == f"{SITE}/", url
        assert "Welcome, Rosalind" in home, home[:2000]
        assert "School of Chemistry careers night" in home
        assert "School of Computing careers night" not in home
        say("a student signed in through the IdP at web 1 and sees her programme's event")

        # The same session at web process 2.
        browser.web_port = web_ports[1]
        _, events = browser.follow("GET", f"{SITE}/events/list/")
        assert "School of Chemistry careers night" in events
        assert "School of Computing careers night" not in events
        _, home = browser.follow("GET", f"{SITE}/")
        assert "Welcome, Rosalind" in home
        say("web 2 knows her session and shows her the same events")

        deadline = time.monotonic() + 180
        while True:
            site.check_running()
            out = site.run(PYTHON, "manage.py", "shell", "-c", CHECK)
            people, links, heartbeats = out.strip().splitlines()[-1].split()
            if heartbeats != "0":
                break
            assert time.monotonic() < deadline, "the worker never ran the scheduler's heartbeat"
            time.sleep(1)
        assert (people, links) == ("1", "1"), "the feed's person was not linked, or doubled"
        say("one login for her (the feed's, linked); the worker ran the scheduler's jobs")
    finally:
        site.stop()
        if idp is not None:
            idp.terminate()
            idp.wait(timeout=10)
        smtp.stop()
    say("the walk passed")
    shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
