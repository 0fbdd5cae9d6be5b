"""Storing what was found, and acting on it: follow-up, dismissal, merge."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from mycareer.audit.models import AuditEntry
from mycareer.insights import selectors, services
from mycareer.insights.models import Audience, Dismissal, Opportunity
from mycareer.insights.tests.helpers import aware, notes, organisation, unit
from mycareer.organisations.models import KeyAccount, Note
from mycareer.organisations.tests.factories import ContactFactory, key_account_with_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiet_account(persona, days_ago):
    """Tom's key account with Quiet Ltd: his last note there was 120 days ago."""
    tom = persona("operator")
    contact = ContactFactory(organisation=organisation("Quiet Ltd"))
    account = key_account_with_contact(
        contact=contact, operator=tom, unit=unit("mech"), by=persona("admin")
    )
    KeyAccount.objects.filter(pk=account.pk).update(created_at=aware(days_ago(400)))
    notes(account.organisation, tom, [days_ago(120)])
    return account


def test_a_refresh_stores_each_opportunity_with_its_audience(persona, quiet_account):
    run = services.opportunities_refresh()
    assert run.counts == {"key_quiet": 1}
    [item] = selectors.opportunities_for_person(persona("operator"))
    assert item.key == f"key_quiet:{quiet_account.pk}"
    assert "120 days" in item.reason
    # Offered to Tom and his unit, not to a colleague in another faculty.
    assert list(selectors.opportunities_for_person(persona("mailer"))) == []
    assert list(selectors.opportunities_for_unit(unit("eps"))) == [item]
    assert list(selectors.opportunities_for_unit(unit("lubs"))) == []
    assert list(selectors.opportunities_everywhere()) == [item]


def test_a_second_refresh_replaces_the_first(quiet_account, persona, today):
    services.opportunities_refresh()
    notes(quiet_account.organisation, persona("operator"), [today])
    services.opportunities_refresh()
    assert Opportunity.objects.count() == 0


def test_a_follow_up_records_a_note_takes_it_off_the_list_and_is_audited(
    persona, quiet_account, today
):
    tom = persona("operator")
    services.opportunities_refresh()
    [item] = selectors.opportunities_for_person(tom)
    due = today + datetime.timedelta(days=7)

    note = services.opportunity_follow_up(opportunity=item, by=tom, due_on=due)

    assert note.author == tom and note.follow_up_on == due and not note.follow_up_done
    assert note.text == f"Follow up: {item.reason}"
    assert list(selectors.opportunities_for_person(tom)) == []
    entry = AuditEntry.objects.get(action="insights.opportunity.followed_up")
    assert entry.data["note"] == note.pk and entry.actor_id == tom.pk
    # The note is the owner's: the next run finds the account no longer quiet.
    services.opportunities_refresh()
    assert Opportunity.objects.count() == 0


def test_a_follow_up_for_a_colleague_is_theirs_and_says_who_set_it(persona, quiet_account, today):
    priya, tom = persona("admin"), persona("operator")
    services.opportunities_refresh()
    [item] = selectors.opportunities_everywhere()
    note = services.opportunity_follow_up(
        opportunity=item, by=priya, due_on=today, assignee=tom, text="Call David."
    )
    assert note.author == tom
    assert note.text == "Call David.\n\n(Follow-up set by Priya Shah.)"


def test_a_follow_up_in_the_past_or_by_someone_who_cannot_act_is_refused(
    persona, quiet_account, today
):
    services.opportunities_refresh()
    [item] = selectors.opportunities_everywhere()
    with pytest.raises(ValidationError):
        services.opportunity_follow_up(
            opportunity=item, by=persona("operator"), due_on=today - datetime.timedelta(days=1)
        )
    with pytest.raises(PermissionDenied):
        services.opportunity_follow_up(opportunity=item, by=persona("viewer"), due_on=today)
    with pytest.raises(ValidationError):
        services.opportunity_follow_up(
            opportunity=item, by=persona("operator"), due_on=today, assignee=persona("viewer")
        )
    assert Note.objects.filter(follow_up_on__isnull=False).count() == 0


def test_a_dismissal_hides_it_for_90_days_across_refreshes_with_the_reason_recorded(
    persona, quiet_account, today
):
    tom = persona("operator")
    services.opportunities_refresh()
    [item] = selectors.opportunities_for_person(tom)
    with pytest.raises(ValidationError):
        services.opportunity_dismiss(opportunity=item, by=tom, reason="   ")

    dismissal = services.opportunity_dismiss(opportunity=item, by=tom, reason="On sabbatical.")

    assert dismissal.until == today + datetime.timedelta(days=90)
    services.opportunities_refresh()
    assert Opportunity.objects.count() == 1  # still found ...
    assert list(selectors.opportunities_for_person(tom)) == []  # ... but hidden
    Dismissal.objects.update(until=today - datetime.timedelta(days=1))
    assert len(selectors.opportunities_for_person(tom)) == 1  # back when the time is up
    entry = AuditEntry.objects.get(action="insights.opportunity.dismissed")
    assert entry.data["reason"] == "On sabbatical."


def test_a_merge_moves_opportunities_and_dismissals_to_the_survivor(persona, quiet_account):
    from mycareer.organisations.services import organisation_merge

    tom = persona("operator")
    services.opportunities_refresh()
    [item] = selectors.opportunities_for_person(tom)
    services.opportunity_dismiss(opportunity=item, by=tom, reason="Merging soon.")
    survivor = organisation("Survivor Ltd")
    organisation_merge(
        survivor=survivor, other=quiet_account.organisation, keep={}, by=persona("admin")
    )
    assert Dismissal.objects.get().organisation == survivor
    assert Opportunity.objects.get().organisation == survivor


@pytest.mark.django_db(transaction=True)
def test_the_nightly_job_refreshes(run_worker, quiet_account):
    from mycareer.insights.jobs import refresh_opportunities

    result = refresh_opportunities.enqueue()
    run_worker()
    result.refresh()
    assert result.return_value == {"opportunities": 1}
    assert selectors.last_run().counts == {"key_quiet": 1}


def _rows_the_planner_knows(table: str) -> int | None:
    """The row count the last ANALYZE recorded for a table (None: never analysed)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchone() is None:
                return None
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
            counts = [int(stat.split()[0]) for (stat,) in cursor.fetchall()]
            return max(counts) if counts else None
        # The table the queries read (the suite keeps copies in other schemas).
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        (tuples,) = cursor.fetchone()
        return None if tuples < 0 else int(tuples)


def test_the_nightly_job_leaves_the_planner_statistics_of_what_it_replaced(quiet_account):
    from mycareer.insights.jobs import refresh_opportunities

    refresh_opportunities.call()

    assert Opportunity.objects.count() == 1
    assert _rows_the_planner_knows(Opportunity._meta.db_table) == 1
    assert _rows_the_planner_knows("insights_audience") == Audience.objects.count()
