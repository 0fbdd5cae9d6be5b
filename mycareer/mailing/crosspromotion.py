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
        .order_by("starts_at")[:60]
    )
