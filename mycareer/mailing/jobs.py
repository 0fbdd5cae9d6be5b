"""The mailing app's schedule: the watchdog that restarts a campaign's dead sending chain."""

import logging

from django_tasks import task

from mycareer.core.logs import log_event
from mycareer.core.registry import PeriodicJob
from mycareer.mailing.models import Campaign
from mycareer.mailing.sending import release_expired, sweep_cancelled
from mycareer.mailing.tasks import OPEN, chain_alive, start_sending

logger = logging.getLogger(__name__)


@task()
def campaign_watchdog() -> list[int]:
    """Restart campaigns whose chain died: free its expired claims and start a new chain;
    drop what cancelled campaigns still have waiting or held by a worker that died."""
    sweep_cancelled()
    restarted = []
    for campaign in Campaign.objects.filter(status__in=OPEN):
        release_expired(campaign.pk)
        if chain_alive(campaign):
            continue
        if start_sending(campaign.pk, replacing=campaign.sending_task_id) is not None:
            restarted.append(campaign.pk)
            log_event(
                logger, "mailing.chain.restarted", level=logging.WARNING, campaign=campaign.pk
            )
    return restarted


JOBS = (PeriodicJob("campaign-watchdog", campaign_watchdog, every_minutes=1),)
