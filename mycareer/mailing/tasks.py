import datetime

from django.utils import timezone
from django_tasks import task

from mycareer.mailing.models import Campaign
from mycareer.mailing.sending import reset_stale, send_campaign_batch


@task()
def send_campaign(campaign_id: int) -> dict:
    """Send a campaign's waiting messages for a while, then hand on to a fresh task."""
    result = send_campaign_batch(campaign_id)
    if (
        not result["done"]
        and Campaign.objects.filter(
            pk=campaign_id, status__in=[Campaign.Status.QUEUED, Campaign.Status.SENDING]
        ).exists()
    ):
        send_campaign.enqueue(campaign_id)
    return result


@task()
def campaign_watchdog() -> list[int]:
    """Restart campaigns whose worker died: free its half-sent rows and queue them again."""
    quiet_since = timezone.now() - datetime.timedelta(minutes=2)
    restarted = []
    stalled = Campaign.objects.filter(
        status__in=[Campaign.Status.QUEUED, Campaign.Status.SENDING],
        queued_at__lte=quiet_since,
    ).exclude(heartbeat_at__gt=quiet_since)
    for campaign in stalled:
        reset_stale(campaign.pk)
        send_campaign.enqueue(campaign.pk)
        restarted.append(campaign.pk)
    return restarted
