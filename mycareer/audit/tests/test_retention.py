"""Applying the retention schedule now shows, rule by rule, how many records go and the
total, and removes nothing until that total is typed."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from mycareer.audit import retention
from mycareer.audit.models import AuditEntry
from mycareer.audit.retention import RetentionRule

pytestmark = pytest.mark.django_db

OLD, STALE = "test.retention.old", "test.retention.stale"


def _old_entries():
    return AuditEntry.objects.filter(action=OLD)


def _stale_entries():
    return AuditEntry.objects.filter(action=STALE).exclude(object_repr="")


@pytest.fixture
def schedule(monkeypatch):
    """Two rules of our own, so the numbers are exact: one removes, one anonymises."""
    rules = {
        "Old test entries": RetentionRule(
            "Old test entries", "1 day", _old_entries, lambda rows: rows.delete()[0]
        ),
        "Stale test names": RetentionRule(
            "Stale test names", "1 week", _stale_entries, lambda rows: rows.update(object_repr="")
        ),
    }
    monkeypatch.setattr(retention, "_rules", rules)
    return rules


@pytest.fixture
def due(schedule):
    """Three entries to remove and two to anonymise: five records due."""
    AuditEntry.objects.bulk_create(
        [AuditEntry(action=OLD) for _ in range(3)]
        + [AuditEntry(action=STALE, object_repr=f"Person {n}") for n in range(2)]
    )


def _left() -> tuple[int, int]:
    return _old_entries().count(), _stale_entries().count()


# The numbers ----------------------------------------------------------------------------


@pytest.mark.usefixtures("due")
def test_the_dry_run_counts_exactly_what_applying_then_does():
    plan = {rule.name: count for rule, count in retention.retention_dry_run()}
    assert plan == {"Old test entries": 3, "Stale test names": 2}
    assert retention.retention_due_total() == 5
    assert _left() == (3, 2)  # the dry run changed nothing
    done = retention.retention_apply(by=None, confirmed=5)
    assert done == plan
    assert _left() == (0, 0)
    assert retention.retention_due_total() == 0


@pytest.mark.usefixtures("due")
def test_applying_refuses_a_total_out_of_date():
    for confirmed in (4, 6, 0):
        with pytest.raises(retention.RetentionChanged) as refused:
            retention.retention_apply(by=None, confirmed=confirmed)
        assert "5 records are due now" in refused.value.messages[0]
    assert _left() == (3, 2)
    # The daily task, which nobody confirms, applies what is due.
    assert retention.retention_apply(by=None) == {"Old test entries": 3, "Stale test names": 2}


def test_what_a_run_removes_is_wiped_from_the_database_files_after(
    schedule, django_capture_on_commit_callbacks
):
    from mycareer.operations.jobs import wipe_removed

    with django_capture_on_commit_callbacks() as nothing_due:
        retention.retention_apply(by=None)
    assert nothing_due == []
    AuditEntry.objects.create(action=OLD)
    with django_capture_on_commit_callbacks() as removed:
        retention.retention_apply(by=None)
    assert removed == [wipe_removed.enqueue]


# The page -------------------------------------------------------------------------------


def _admin(client, persona):
    client.force_login(persona("admin"))
    return client


@pytest.mark.usefixtures("due")
def test_the_page_shows_each_rule_s_number_and_the_total(client, persona):
    page = _admin(client, persona).get(reverse("audit:retention")).content.decode()
    assert '<td data-label="To remove or anonymise now">3</td>' in page
    assert '<td data-label="To remove or anonymise now">2</td>' in page
    assert "removes or anonymises <strong>5 records</strong>" in page
    assert '<label for="id_confirmed">Type the number of records to confirm</label>' in page
    assert "Remove or anonymise 5 records now</button>" in page


@pytest.mark.usefixtures("due")
def test_nothing_goes_without_the_total_typed(client, persona):
    client = _admin(client, persona)
    for typed, says in (
        ("", "Type the number of records shown above."),
        ("4", "Type the number shown above: 5. You typed 4."),
        ("five", "in figures"),
    ):
        response = client.post(reverse("audit:retention"), {"confirmed": typed})
        assert response.status_code == 200
        assert says in response.content.decode()
        assert _left() == (3, 2)


@pytest.mark.usefixtures("due")
def test_typing_the_total_applies_it_and_reports_the_numbers(client, persona, caplog):
    with caplog.at_level("INFO", logger="mycareer.audit.views"):
        response = _admin(client, persona).post(reverse("audit:retention"), {"confirmed": "5"})
    assert response.status_code == 302
    assert _left() == (0, 0)
    [message] = get_messages(response.wsgi_request)
    assert str(message) == (
        "Applied the schedule: 5 records removed or anonymised "
        "(Old test entries: 3; Stale test names: 2)."
    )
    [line] = [
        r.getMessage()
        for r in caplog.records
        if r.getMessage().startswith("event=audit.retention.applied_now ")
    ]
    assert "confirmed=5" in line and "done=5" in line and "rules=2" in line
    assert AuditEntry.objects.filter(action="audit.retention.applied").count() == 2


@pytest.mark.usefixtures("due")
def test_a_total_that_grew_since_the_page_is_asked_again(client, persona):
    client = _admin(client, persona)
    client.get(reverse("audit:retention"))
    AuditEntry.objects.create(action=OLD)  # one more fell due meanwhile
    response = client.post(reverse("audit:retention"), {"confirmed": "5"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Type the number shown above: 6. You typed 5." in page
    assert "removes or anonymises <strong>6 records</strong>" in page
    assert _left() == (4, 2)


@pytest.mark.usefixtures("schedule")
def test_with_nothing_due_it_says_so_and_offers_no_button(client, persona):
    client = _admin(client, persona)
    page = client.get(reverse("audit:retention")).content.decode()
    assert "Nothing is due now: no records need removing or anonymising." in page
    assert "button--danger" not in page and 'name="confirmed"' not in page
    response = client.post(reverse("audit:retention"), {"confirmed": "0"})
    assert response.status_code == 302
    [message] = get_messages(response.wsgi_request)
    assert str(message) == "Nothing is due now, so nothing was removed or anonymised."
    assert not AuditEntry.objects.filter(action="audit.retention.applied").exists()


@pytest.mark.usefixtures("due")
@pytest.mark.parametrize("name", ["operator", "manager", "mailer"])
def test_only_administrators_apply_it(client, persona, name):
    client.force_login(persona(name))
    response = client.post(reverse("audit:retention"), {"confirmed": "5"})
    assert response.status_code == 403
    assert _left() == (3, 2)
