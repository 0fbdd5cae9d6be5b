"""The script in docs/api.md that imports notes with a token works as written: its exact
code, run as its readers run it, against a live server; and an answer the guide shows is
the API's. (The website's "upcoming events" list from the same page runs in a real
browser: e2e/test_journeys_public_feeds.py.)"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mycareer.api import services
from mycareer.api.models import Scope
from mycareer.bookings.models import Booking
from mycareer.organisations.models import Note
from mycareer.organisations.tests.factories import make_organisation

ROOT = Path(__file__).resolve().parents[3]


def _documented_script() -> str:
    text = (ROOT / "docs" / "api.md").read_text()
    section = text.split("## A script that imports notes with a token", 1)[1]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


@pytest.mark.django_db(transaction=True)
def test_the_documented_notes_import_script_records_each_note(live_server, persona, tmp_path):
    tom = persona("operator")
    northbridge = make_organisation("Northbridge Engineering Ltd", by=tom)
    make_organisation("Kestrel Games", by=tom)
    make_organisation("Kestrel Games Studio", by=tom)
    _token, secret = services.token_create(
        owner=tom,
        by=tom,
        name="Notes import script",
        scopes=[Scope.READ, Scope.WRITE_ORGANISATIONS],
    )
    script = tmp_path / "import_notes.py"
    script.write_text(_documented_script())
    calls = tmp_path / "calls.csv"
    calls.write_text(
        "organisation,date,kind,text\n"
        "Northbridge Engineering,1900-11-20,call,A slip of the year: refused and said why.\n"
        "Northbridge Engineering,2026-11-20,call,Talked about summer placements.\n"
        'Kestrel,2026-11-21,meeting,"Which Kestrel? Two match, so it is skipped."\n'
        f"{'Long' * 60},2026-11-22,call,A name too long to search for: refused and said why.\n",
        encoding="utf-8",
    )
    environment = {**os.environ, "MYCAREER": live_server.url, "MYCAREER_TOKEN": secret}
    run = subprocess.run(  # noqa: S603 (our own documented script, run as its readers do)
        [sys.executable, str(script), str(calls)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    note = Note.objects.get(organisation=northbridge)
    assert (note.text, note.kind, str(note.date), note.author) == (
        "Talked about summer placements.",
        "call",
        "2026-11-20",
        tom,
    )
    assert f"recorded note {note.pk} for Northbridge Engineering Ltd" in run.stdout
    assert "skipped: 'Kestrel' matches 2 organisations" in run.stdout
    # The refused row says its line and why, and the rows after it are still recorded.
    assert (
        "refused: line 2 (Northbridge Engineering): date: A note cannot be dated before "
        "1 January 2000: check the year (20 November 1900 was typed)."
    ) in run.stdout
    # A lookup refused (a name too long to search for) is said too, not a traceback.
    assert f"refused: line 5 ({'Long' * 15}): text:" in run.stdout
    assert Note.objects.count() == 1


def _documented_answer(after: str) -> dict:
    """The JSON example that follows `after` in docs/api.md."""
    text = (ROOT / "docs" / "api.md").read_text()
    section = text.split(after, 1)[1]
    return json.loads(re.search(r"```json\n(.*?)```", section, flags=re.S).group(1))


@pytest.mark.django_db
def test_taking_up_an_offer_answers_as_the_guide_shows(client, persona):
    from mycareer.api.tests.test_waiting_list import _offered

    aisha = persona("student")
    entry = _offered(aisha)
    event = entry.event
    _token, secret = services.token_create(
        owner=aisha, by=aisha, name="Timetable app", scopes=[Scope.READ, Scope.BOOKINGS]
    )

    answer = client.post(
        f"/api/v1/waiting-list/{entry.pk}/accept", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )

    assert answer.status_code == 201
    booking = Booking.objects.get(event=event, student=aisha)
    documented = _documented_answer("`POST /waiting-list/{id}/accept` takes up")
    assert answer.json() == {**documented, "event": event.pk, "booking": booking.pk}
