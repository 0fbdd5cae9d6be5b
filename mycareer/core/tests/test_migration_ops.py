r"""The data migrations that make "\n" the only line break stored in text columns."""

import pytest
from django.apps import apps
from django.db import migrations

from mycareer.core.migration_ops import newlines_normalised, normalise_newlines
from mycareer.events.models import Event
from mycareer.events.tests.factories import at, far_monday, make_event
from mycareer.organisations.models import Organisation, OrganisationText, search_document_of
from mycareer.organisations.search import filter_by_text
from mycareer.organisations.services import organisation_create

pytestmark = pytest.mark.django_db

# As a browser sent it before MultiLineTextField, and as an old Mac wrote it.
OLD = "Wind turbines.\r\n\r\nBlades\rand towers."
NOW = "Wind turbines.\n\nBlades\nand towers."


def test_old_line_breaks_are_rewritten_and_clean_rows_left_alone(persona):
    tom = persona("operator")
    old = make_event(by=tom, title="Stored long ago", starts_at=at(far_monday(), 10))
    clean = make_event(
        by=tom, title="Stored since", starts_at=at(far_monday(), 12), description="One\nTwo"
    )
    # Below the field's attribute, as rows were stored before it.
    Event.objects.filter(pk=old.pk).update(description=OLD)
    assert Event.objects.filter(pk=old.pk).values_list("description", flat=True).get() == OLD
    stamped = Event.objects.get(pk=clean.pk).updated_at

    changed = newlines_normalised(
        apps, "default", "events", {"Event": ["description", "cancelled_reason"]}
    )

    assert changed == {"Event.description": 1, "Event.cancelled_reason": 0}
    rows = dict(Event.objects.values_list("pk", "description"))
    assert rows[old.pk] == NOW and rows[clean.pk] == "One\nTwo"
    assert Event.objects.get(pk=clean.pk).updated_at == stamped


def test_an_organisations_search_document_and_index_follow(persona):
    """The search document is made in Python from the description: the migration rewrites
    it too, and the index (SQLite's FTS5 triggers, PostgreSQL's view) follows it."""
    rail = organisation_create(by=persona("operator"), name="Northern Turbines Ltd")
    Organisation.objects.filter(pk=rail.pk).update(
        description=OLD, search_document=search_document_of(rail.name, OLD, [])
    )
    assert "\r" in OrganisationText.objects.get(organisation=rail).document

    newlines_normalised(
        apps, "default", "organisations", {"Organisation": ["description", "search_document"]}
    )

    rail.refresh_from_db()
    stored = Organisation.objects.filter(pk=rail.pk).values_list("description", flat=True)
    assert stored.get() == NOW
    document = search_document_of(rail.name, NOW, [])
    assert rail.search_document == document
    assert OrganisationText.objects.get(organisation=rail).document == document
    for words in ("towers", "blades turbines", "northern"):
        assert list(filter_by_text(Organisation.objects.all(), words)) == [rail], words
        assert list(filter_by_text(Organisation.objects.all(), words, row_by_row=True)) == [rail]


def test_the_migration_operation_goes_back_without_a_change():
    operation = normalise_newlines("events", {"Event": ["description"]})
    assert isinstance(operation, migrations.RunPython)
    assert operation.reversible and operation.reverse_code is migrations.RunPython.noop
