"""MyCareer's own email records are kept 2 years, as bulk email's: the marks of whom each
list reached and the emails that failed for good (both hold addresses)."""

import datetime

import pytest
from django.utils import timezone

from mycareer.audit.retention import retention_apply, retention_rules
from mycareer.core.models import FailedTask, SentEmail

pytestmark = pytest.mark.django_db


def test_records_of_emails_sent_and_failed_go_two_years_after(cast):
    now = timezone.now()
    old, recent = now - datetime.timedelta(days=800), now - datetime.timedelta(days=300)
    SentEmail.objects.create(
        batch="bookings.employer_report:1", recipient="a@x.example", sent_at=old
    )
    SentEmail.objects.create(
        batch="bookings.employer_report:9", recipient="b@x.example", sent_at=recent
    )
    for when, who in ((old, "a@x.example"), (recent, "b@x.example")):
        FailedTask.objects.create(
            task_path="mycareer.bookings.tasks.send_employer_report",
            description="Send the attendance figures",
            recipients=who,
            attempts=5,
            error=f"SMTPRecipientsRefused: {who}",
            failed_at=when,
        )

    done = retention_apply(by=None)

    assert done["Records of emails sent (to whom each list went)"] == 1
    assert done["Emails that failed for good"] == 1
    assert list(SentEmail.objects.values_list("recipient", flat=True)) == ["b@x.example"]
    assert list(FailedTask.objects.values_list("recipients", flat=True)) == ["b@x.example"]
    periods = {rule.name: rule.keep_for for rule in retention_rules()}
    assert periods["Records of emails sent (to whom each list went)"] == "2 years after sending"
    assert periods["Emails that failed for good"] == "2 years after failing"
