"""Bulk email in erasure, subject access and merging: what was sent, not what was kept."""

import pytest

from mycareer.audit.personal_data import subject_from_ids
from mycareer.mailing import privacy, services
from mycareer.mailing.models import OutboxMessage
from mycareer.organisations.merging import MergeOutcome


@pytest.fixture
def one_sent_one_cancelled(make_campaign, send_now, tagged):
    """Every contact of `tagged` had one campaign sent and another cancelled before it
    went: the cancelled one's rows are kept, to list whom it was meant for."""
    went, cancelled = make_campaign(), make_campaign()
    send_now(went)
    went.messages.update(status=OutboxMessage.Status.SENT)
    send_now(cancelled)
    services.campaign_cancel(campaign=cancelled, by=cancelled.sender)
    return went, cancelled


@pytest.mark.django_db
def test_erasure_counts_as_sent_only_the_emails_that_went(one_sent_one_cancelled):
    went, _ = one_sent_one_cancelled
    contact = went.messages.first().contact
    plan = privacy._anonymise_outbox(subject_from_ids([], [contact.pk]), apply=False)
    counts = {change.what: change.count for change in plan}
    assert counts == {
        "Bulk emails sent to them": 1,
        "Bulk emails meant for them but not sent": 1,
    }


@pytest.mark.django_db
def test_erasure_records_as_sent_an_email_found_by_its_address_alone(one_sent_one_cancelled):
    """Counted after the addresses were replaced, an email whose record was deleted (found
    by its address alone) was recorded as "meant for them but not sent"."""
    went, _ = one_sent_one_cancelled
    message = went.messages.first()
    contact = message.contact
    OutboxMessage.objects.filter(pk=message.pk).update(contact=None)
    done = privacy._anonymise_outbox(subject_from_ids([], [contact.pk]), apply=True)
    counts = {change.what: change.count for change in done}
    assert counts == {
        "Bulk emails sent to them": 1,
        "Bulk emails meant for them but not sent": 1,
    }
    message.refresh_from_db()
    assert message.email.endswith("@erased.invalid")


@pytest.mark.django_db
def test_the_letter_lists_under_messages_sent_only_those_that_went(one_sent_one_cancelled):
    went, cancelled = one_sent_one_cancelled
    contact = went.messages.first().contact
    entries = list(privacy._letter(subject_from_ids([], [contact.pk])))
    assert [(e.category, e.title) for e in entries] == [
        ("messages", f"Bulk email: {went.subject}"),
        ("other", f"Bulk email not sent to you: {cancelled.subject}"),
    ]


@pytest.mark.django_db
def test_the_letter_says_an_address_the_schedule_removed_was_removed(one_sent_one_cancelled):
    """It gave the placeholder ("erased-51@erased.invalid") as the address sent to."""
    went, _ = one_sent_one_cancelled
    contact = went.messages.first().contact
    privacy.forget_outbox_addresses(went.messages.all())
    entries = list(privacy._letter(subject_from_ids([], [contact.pk])))
    [to] = [value for label, value in entries[0].facts if label == "To"]
    # Removed by the schedule or by an erasure that found it by address: not guessed.
    assert to == "address removed"


@pytest.mark.django_db
def test_the_merge_summary_counts_the_emails_sent_as_its_preview_does(
    one_sent_one_cancelled, tagged
):
    went, _ = one_sent_one_cancelled
    outcome = MergeOutcome()
    services._merge_email_history(survivor=tagged[1], other=tagged[0], outcome=outcome)
    sent = went.messages.filter(
        organisation_id_at_send=tagged[1].pk, contact__organisation=tagged[0]
    )
    assert outcome.summary["emails"] == sent.count() == 2
    # Every row moved, the cancelled ones too: the figures per organisation read them.
    assert not OutboxMessage.objects.filter(organisation_id_at_send=tagged[0].pk).exists()
