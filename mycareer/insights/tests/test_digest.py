"""The weekly digest: one email a week per operator with something to act on."""

import datetime

import pytest

from mycareer.insights import services
from mycareer.insights.digest import WEEKLY, digest_for, is_digest_day, send_weekly_digests
from mycareer.insights.tests.helpers import aware, notes, organisation, unit
from mycareer.organisations.models import KeyAccount
from mycareer.organisations.services import note_create
from mycareer.organisations.tests.factories import ContactFactory, key_account_with_contact


@pytest.fixture
def toms_week(persona, days_ago, today):
    """Tom: a key account gone quiet, and a follow-up due in three days."""
    tom = persona("operator")
    contact = ContactFactory(organisation=organisation("Quiet Ltd"))
    account = key_account_with_contact(
        contact=contact, operator=tom, unit=unit("mech"), by=persona("admin")
    )
    KeyAccount.objects.filter(pk=account.pk).update(created_at=aware(days_ago(400)))
    notes(account.organisation, tom, [days_ago(100)])
    note_create(
        organisation=organisation("Follow Ltd"),
        by=tom,
        text="Send the brochure.",
        follow_up_on=today + datetime.timedelta(days=3),
    )
    services.opportunities_refresh()
    return tom


@pytest.mark.django_db
def test_one_email_with_follow_ups_quiet_accounts_and_opportunities_once_a_week(
    toms_week, smtp_server, today, persona
):
    assert send_weekly_digests(today=today) >= 1
    mine = [m for m in smtp_server.wait_for(1) if m["To"] == "operator@demo.ac.uk"]
    assert len(mine) == 1
    body = mine[0].get_content().replace("\r\n", "\n")
    assert "Your follow-ups due in the coming week:\n- Follow Ltd: due" in body
    assert (
        "Your key accounts going quiet:\n- School of Mechanical Engineering's key account" in body
    )
    assert "/insights/" in body
    # Run again the same week: nothing more.
    before = len(smtp_server.messages())
    send_weekly_digests(today=today)
    assert len(smtp_server.messages()) == before
    # Someone with nothing to act on gets nothing.
    assert [m for m in smtp_server.messages() if m["To"] == "untrained@demo.ac.uk"] == []


@pytest.mark.django_db
def test_switched_off_on_the_profile_means_no_email(toms_week, smtp_server, today):
    toms_week.notifications_off = [WEEKLY]
    toms_week.save(update_fields=["notifications_off"])
    send_weekly_digests(today=today)
    assert [m for m in smtp_server.messages() if m["To"] == "operator@demo.ac.uk"] == []


def test_it_goes_on_the_day_in_settings(settings):
    assert is_digest_day(datetime.date(2026, 11, 30))  # a Monday
    assert not is_digest_day(datetime.date(2026, 12, 1))
    settings.MYCAREER = {
        **settings.MYCAREER,
        "INSIGHTS": {**settings.MYCAREER["INSIGHTS"], "DIGEST_WEEKDAY": 1},
    }
    assert is_digest_day(datetime.date(2026, 12, 1))


@pytest.mark.django_db
def test_a_key_account_whose_owner_has_left_is_no_administrators_own_quiet_account(
    toms_week, persona, today
):
    toms_week.is_active = False
    toms_week.save(update_fields=["is_active"])
    services.opportunities_refresh()

    digest = digest_for(persona("admin"), today=today)

    assert digest is not None and digest["quiet"] == []
    assert any("held by Tom Bennett, who has left" in o.reason for o in digest["others"])
