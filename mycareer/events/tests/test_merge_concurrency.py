"""An event naming two organisations, saved while one is merged into the other: each
in its own thread with its own database connection.

On SQLite the IMMEDIATE transaction serialises the two; on PostgreSQL
(`make test-postgres`) the order the rows are locked in decides whether they deadlock.
"""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db.models.sql.compiler import SQLCompiler

from mycareer.core.tests.concurrency import in_thread
from mycareer.events.tests.factories import at, far_monday, make_event, organisation
from mycareer.organisations import services as organisation_services
from mycareer.organisations.models import Organisation


@pytest.mark.django_db(transaction=True)
def test_an_event_saved_during_a_merge_of_its_organisations_waits_and_is_refused(
    persona, monkeypatch
):
    """The event locks its organisations in id order; the merge locked the survivor, then
    the other record. Merging the older record into the newer while the event was saved
    deadlocked them, and the database ended one."""
    tom = persona("operator")
    older, newer = organisation("Calder Systems (old record)"), organisation("Calder Systems")
    assert older.pk < newer.pk
    holding, release = threading.Event(), threading.Event()
    execute_sql = SQLCompiler.execute_sql

    def hold_after_first_lock(self, *args, **kwargs):
        result = execute_sql(self, *args, **kwargs)
        merging = threading.current_thread().name == "merge"
        if merging and self.query.select_for_update and not holding.is_set():
            holding.set()  # the merge's first row lock is taken
            release.wait(timeout=60)
        return result

    monkeypatch.setattr(SQLCompiler, "execute_sql", hold_after_first_lock)
    results: dict = {}
    merge = in_thread(
        lambda: organisation_services.organisation_merge(
            survivor=newer, other=older, keep={}, by=None
        ),
        results,
        "merge",
    )
    assert holding.wait(timeout=60)
    saving = in_thread(
        lambda: make_event(by=tom, starts_at=at(far_monday(), 10), organisations=[older, newer]),
        results,
        "event",
    )
    time.sleep(1)  # the event reaches the locks and waits there
    release.set()
    merge.join(timeout=60)
    saving.join(timeout=60)

    assert isinstance(results["merge"], dict), results["merge"]
    assert isinstance(results["event"], ValidationError), results["event"]
    assert "merged into Calder Systems" in str(results["event"].message_dict["organisations"])
    assert Organisation.objects.get(pk=older.pk).merged_into_id == newer.pk
