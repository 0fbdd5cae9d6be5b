"""What the merge's locks protect, under real concurrency: a write sent to a record while
it is being merged away, each in its own thread with its own database connection.

On SQLite the IMMEDIATE transaction already makes the write wait for the merge; on
PostgreSQL (`make test-postgres`) only the row lock the merged check reads under does.
"""

import threading
import time

import pytest
from django.core.exceptions import ValidationError

from mycareer.core.tests.concurrency import in_thread
from mycareer.organisations import merging, services
from mycareer.organisations.models import Contact, Note, Organisation


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("write", ["note", "contact"])
def test_a_write_sent_while_the_record_is_merged_away_waits_and_is_refused(
    persona, monkeypatch, write
):
    """The check passed while the merge held both records, and the note or contact went
    onto the merged-away one once the merge committed, where nobody sees it."""
    operator = persona("operator")
    survivor = services.organisation_create(by=operator, name="Acme Ltd", confirm_duplicates=True)
    other = services.organisation_create(by=operator, name="ACME Limited", confirm_duplicates=True)
    holding, release = threading.Event(), threading.Event()
    merge_organisation = merging.merge_organisation

    def merge_then_hold(**kwargs):
        merge_organisation(**kwargs)
        holding.set()  # both records locked, the rows moved, nothing committed yet
        release.wait(timeout=60)

    monkeypatch.setattr(merging, "merge_organisation", merge_then_hold)
    writes = {
        "note": lambda: services.note_create(organisation=other, by=operator, text="Met"),
        "contact": lambda: services.contact_create(
            organisation=other, by=operator, full_name="Jo", email="jo@acme.example"
        ),
    }
    results: dict = {}
    merge = in_thread(
        lambda: services.organisation_merge(survivor=survivor, other=other, keep={}, by=None),
        results,
        "merge",
    )
    assert holding.wait(timeout=60)
    writer = in_thread(writes[write], results, "write")
    time.sleep(1)  # the write reaches the lock and waits there
    release.set()
    merge.join(timeout=60)
    writer.join(timeout=60)

    assert isinstance(results["merge"], dict), results["merge"]
    assert isinstance(results["write"], ValidationError), results["write"]
    assert results["write"].code == "merged"
    assert Organisation.objects.get(pk=other.pk).merged_into_id == survivor.pk
    assert not Note.objects.filter(organisation=other).exists()
    assert not Contact.objects.filter(organisation=other).exists()
