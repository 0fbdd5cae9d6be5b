"""Cross-promotion: one email serves several events (policy 2.5).

Only events whose audience includes employers or the public are offered and sent:
their public pages open for every reader, with or without an account.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from mycareer.events.models import Event
from mycareer.mailing.recipients import campaign_query
from mycareer.organisations.models import Organisation, TaggedOrganisation
from mycareer.organisations.search import search_organisations

SHARED = Q(audience__open_to_employers=True) | Q(audience__open_to_public=True)


def _promotable():
    return Event.objects.filter(SHARED, status=Event.Status.PUBLISHED)


def events_for(campaign) -> list:
    """The published, upcoming, shareable events a campaign promotes, in date order."""
    if not campaign.promoted_events:
        return []
    return list(
        _promotable()
        .filter(pk__in=campaign.promoted_events, starts_at__gte=timezone.now())
        .select_related("unit")
        .order_by("starts_at")
    )


def upcoming_events(*, weeks: int = 12) -> list:
    """Shareable events in the next few weeks, from every unit, to offer for promotion."""
    now = timezone.now()
    return list(
        _promotable()
        .filter(starts_at__gte=now, starts_at__lte=now + datetime.timedelta(weeks=weeks))
        .select_related("unit")
        .prefetch_related("organisations__tags")
        .order_by("starts_at")[:60]
    )


def events_to_offer(campaign=None) -> list:
    """The events a campaign form offers: the coming weeks' shareable events, and the
    ones a draft already promotes further ahead, so that saving it keeps them."""
    offered = upcoming_events()
    if campaign is not None:
        shown = {event.pk for event in offered}
        offered += [event for event in events_for(campaign) if event.pk not in shown]
    return offered


def no_longer_promoted(campaign) -> list[tuple]:
    """(event, why) for each event a draft chose that it can no longer promote: they are
    not in the email, and the form says so rather than dropping them without a word."""
    if not campaign.promoted_events:
        return []
    still = {event.pk for event in events_for(campaign)}
    now = timezone.now()
    gone = Event.objects.filter(pk__in=set(campaign.promoted_events) - still)
    return [(event, _why_not_promoted(event, now)) for event in gone.order_by("starts_at")]


def _why_not_promoted(event, now) -> str:
    if event.is_cancelled:
        return "cancelled"
    if not event.is_published:
        return "no longer published"
    if event.starts_at < now:
        return "already started"
    return "no longer open to employers or the public"


def suggested_event_ids(campaign, events: list) -> set[int]:
    """Events relevant to the campaign's recipients: one of their organisations takes part,
    or an organisation taking part shares a sector or a tag with theirs."""

    if not events:
        return set()
    try:
        query = campaign_query(campaign)
    except ValidationError:
        return set()
    if query is None:
        return set()
    org_ids = set(search_organisations(query).values_list("pk", flat=True)[:5000])
    sectors = set(
        Organisation.objects.filter(pk__in=org_ids, sector__isnull=False).values_list(
            "sector_id", flat=True
        )
    )
    tags = set(
        TaggedOrganisation.objects.filter(content_object_id__in=org_ids).values_list(
            "tag_id", flat=True
        )
    )
    suggested = set()
    for event in events:
        taking_part = list(event.organisations.all())
        if any(
            o.pk in org_ids
            or (o.sector_id and o.sector_id in sectors)
            or any(t.pk in tags for t in o.tags.all())
            for o in taking_part
        ):
            suggested.add(event.pk)
    return suggested
