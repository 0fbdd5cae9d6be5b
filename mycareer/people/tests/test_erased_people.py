"""A person erased at their request is not made again by the student record feed."""

import datetime
import json

import pytest
import time_machine
from django.core.management import call_command

from mycareer.accounts.models import User
from mycareer.audit.personal_data import subject_from_ids
from mycareer.audit.services import personal_data_erase
from mycareer.people.models import FeedImport
from mycareer.people.tests.test_feed import ROWS, _write, run, staff, student
from mycareer.people.tests.test_views import upload

ERASED_ON = datetime.datetime(2026, 11, 3, 12, tzinfo=datetime.UTC)
ZARA = student("zk42@uni", "zara.khan@demo.ac.uk", given="Zara", family="Khan")


@pytest.fixture
def zara_erased(cast, persona):
    """Zara came from the feed, then asked to be erased; the feed still sends her."""
    run([*ROWS, ZARA])
    zara = User.objects.get(university_id="zk42@uni")
    with time_machine.travel(ERASED_ON, tick=False):
        personal_data_erase(subject=subject_from_ids([zara.pk], []), by=persona("admin"))
    return zara


def _nobody_called_zara() -> bool:
    return not User.objects.filter(full_name__icontains="zara").exists() and not (
        User.objects.filter(university_id="zk42@uni").exists()
    )


def test_the_next_import_skips_an_erased_person_and_says_when_they_were_erased(zara_erased):
    counts = run([*ROWS, ZARA])

    assert _nobody_called_zara()
    assert (counts["created"], counts["erased"], counts["skipped"]) == (0, 1, 0)
    assert counts["erased_rows"] == [{"row": 5, "erased_on": "3 November 2026"}]
    # The kept summary does not name her either.
    kept = json.dumps(FeedImport.objects.latest("pk").counts)
    assert "zk42" not in kept and "zara" not in kept.lower()


def test_a_dry_run_says_the_same_and_the_command_does_not_fail_for_it(zara_erased, capsys):
    path = _write([*ROWS, ZARA])
    call_command("import_people", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "1 row is a person erased at their request: skipped, as always." in out
    assert "Row 5: skipped: erased on 3 November 2026." in out
    assert "zk42" not in out
    call_command("import_people", str(path))  # no CommandError: nothing to correct
    assert _nobody_called_zara()


def test_a_new_stable_id_with_the_erased_email_is_still_skipped(zara_erased):
    """Recognised by either identifier: her email under a new stable id is still her."""
    counts = run([student("zk42-new@uni", "zara.khan@demo.ac.uk", given="Zara", family="Khan")])
    assert counts["erased"] == 1 and _nobody_called_zara()


def test_erased_staff_fed_by_email_are_skipped_too(cast, persona):
    run([staff("t.ng@demo.ac.uk", given="Tam", family="Ng")])
    tam = User.objects.get(email="t.ng@demo.ac.uk")
    personal_data_erase(subject=subject_from_ids([tam.pk], []), by=persona("admin"))
    counts = run([staff("t.ng@demo.ac.uk", given="Tam", family="Ng")])
    assert (counts["created"], counts["erased"]) == (0, 1)
    assert not User.objects.filter(email="t.ng@demo.ac.uk").exists()


def test_the_import_page_shows_the_erased_rows_without_naming_them(zara_erased, client, persona):
    client.force_login(persona("admin"))
    response = upload(client, [*ROWS, ZARA])
    page = client.get(response["Location"]).content.decode()
    assert "People erased at their request, skipped" in page
    assert "Skipped: erased on 3 November 2026" in page
    assert "zk42" not in page and "Zara" not in page


def test_a_file_with_nothing_new_but_an_erased_person_offers_nothing(zara_erased, client, persona):
    client.force_login(persona("admin"))
    response = upload(client, [*ROWS, ZARA])
    page = client.get(response["Location"]).content.decode()
    assert "There is nothing to import" in page


def test_erasure_takes_the_person_out_of_the_kept_summaries_of_earlier_imports(cast, persona):
    """The import that made her, and the one that found her missing, named her."""
    run([*ROWS, ZARA])
    run(ROWS)  # she is missing from this one: listed among those leaving
    zara = User.objects.get(university_id="zk42@uni")

    personal_data_erase(subject=subject_from_ids([zara.pk], []), by=persona("admin"))

    kept = json.dumps([i.counts for i in FeedImport.objects.order_by("pk")])
    assert "zara" not in kept.lower() and "zk42" not in kept
    # Everyone else's lines are as they were.
    assert "s1@demo.ac.uk" in kept and "Ada Byron" in kept
