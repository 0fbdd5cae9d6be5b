"""Cross-promotion: one email serves several events (policy 2.5)."""

from django.apps import apps


def events_installed() -> bool:
    return apps.is_installed("mycareer.events")


def events_for(campaign) -> list:
    """The published, upcoming events a campaign promotes, in date order."""
    if not campaign.promoted_events or not events_installed():
        return []
    from django.utils import timezone

    from mycareer.events.models import Event

    return list(
        Event.objects.filter(
            pk__in=campaign.promoted_events,
            status=Event.Status.PUBLISHED,
            starts_at__gte=timezone.now(),
        )
        .select_related("unit")
        .order_by("starts_at")
    )


def upcoming_events(*, weeks: int = 12) -> list:
    """Published events in the next few weeks, from every unit, to offer for promotion."""
    if not events_installed():
        return []
    import datetime

    from django.utils import timezone

    from mycareer.events.models import Event

    now = timezone.now()
    return list(
        Event.objects.filter(
            status=Event.Status.PUBLISHED,
            starts_at__gte=now,
            starts_at__lte=now + datetime.timedelta(weeks=weeks),
        )
        .select_related("unit")
        .prefetch_related("organisations__tags")
        .order_by("starts_at")[:60]
    )


def suggested_event_ids(recipient_query: str, events: list) -> set[int]:
    """Events relevant to the recipients: one of their organisations takes part, or an
    organisation taking part shares a sector or a tag with theirs."""
    if not events or not recipient_query:
        return set()
    from mycareer.mailing.recipients import organisations_for_query
    from mycareer.organisations.models import Organisation, TaggedOrganisation

    try:
        organisations = organisations_for_query(recipient_query)
    except Exception:  # noqa: BLE001 - an invalid search simply suggests nothing
        return set()
    org_ids = set(organisations.values_list("pk", flat=True)[:5000])
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
