"""The sending chain of each campaign, and the watchdog that restarts a dead one.

A campaign is sent by a chain of tasks, each working for a while and handing on to the
next. Exactly one link is current: its result id is the campaign's `sending_task_id`.
A link that finds it is not current stops at once, so two chains never send one
campaign side by side, whatever the watchdog or an operator does.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks.exceptions import TaskResultDoesNotExist

from mycareer.core.logs import log_event
from mycareer.mailing.models import Campaign
from mycareer.mailing.sending import lease, next_due, send_campaign_batch

logger = logging.getLogger(__name__)

OPEN = [Campaign.Status.QUEUED, Campaign.Status.SENDING]


def _enqueue_link(campaign_id: int, *, run_after: datetime.datetime | None, replacing: str | None):
    """Enqueue the next link and make it current, in one transaction.

    `replacing` is the link that must still be current for the hand-over to happen (None
    when starting a new chain); if it is not, nothing is enqueued.
    """
    with transaction.atomic():
        campaigns = Campaign.objects.filter(pk=campaign_id, status__in=OPEN)
        if replacing is not None:
            campaigns = campaigns.filter(sending_task_id=replacing)
        if not campaigns.select_for_update().exists():
            return None
        runner = send_campaign.using(run_after=run_after) if run_after else send_campaign
        result = runner.enqueue(campaign_id)
        campaigns.update(sending_task_id=str(result.id))
    return result


def start_sending(campaign_id: int, *, replacing: str | None = None):
    """Start a new sending chain for a campaign; any older chain stops at its next step.

    `replacing`: the link the watchdog found dead. The new chain starts only if that link
    is still the current one: a link that handed on between the watchdog's reading the
    campaign and its reading the link's result looked finished, and its chain is alive.
    """
    result = _enqueue_link(campaign_id, run_after=None, replacing=replacing)
    if result is not None:
        log_event(logger, "mailing.chain.started", campaign=campaign_id, task=result.id)
    return result


@task(takes_context=True)
def send_campaign(context, campaign_id: int) -> dict:
    """Send a campaign's waiting messages for a while, then hand on to the next link."""
    me = str(context.task_result.id)
    current = Campaign.objects.filter(pk=campaign_id, sending_task_id=me).exists()
    if not current:
        log_event(logger, "mailing.chain.superseded", campaign=campaign_id, task=me)
        return {"superseded": True}
    result = send_campaign_batch(campaign_id, link=me)
    if not result["done"]:
        due = next_due(campaign_id)
        if result["unreachable"]:
            due = timezone.now() + datetime.timedelta(
                seconds=settings.MYCAREER["OUTBOX_RETRY_SECONDS"]
            )
        run_after = due if due and due > timezone.now() else None
        _enqueue_link(campaign_id, run_after=run_after, replacing=me)
    return result


def chain_alive(campaign: Campaign, *, now: datetime.datetime | None = None) -> bool:
    """Whether the campaign's current link will carry on: waiting to run, or running with
    a heartbeat newer than a lease (a killed worker leaves its task "running" for ever)."""
    if not campaign.sending_task_id:
        return False
    try:
        result = send_campaign.get_result(campaign.sending_task_id)
    except TaskResultDoesNotExist:
        return False
    if result.status == TaskResultStatus.READY:
        return True
    if result.status == TaskResultStatus.RUNNING:
        now = now or timezone.now()
        beats = [t for t in (campaign.heartbeat_at, result.started_at) if t is not None]
        return bool(beats) and max(beats) > now - lease()
    return False
