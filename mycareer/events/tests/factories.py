import datetime

import factory
from django.utils import timezone

from mycareer.accounts.models import DegreeProgramme, Unit, User
from mycareer.events import services
from mycareer.events.models import Audience, Event
from mycareer.organisations.models import Organisation, Sector


def far_monday(weeks: int = 60) -> datetime.date:
    """A Monday well clear of the demo term, so demo events never get in the way."""
    day = timezone.localdate() + datetime.timedelta(weeks=weeks)
    return day - datetime.timedelta(days=day.weekday())


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


def programme(code: str) -> DegreeProgramme:
    return DegreeProgramme.objects.get(code=code)


def organisation(name: str, sector: str | None = None, tags=()) -> Organisation:
    org = Organisation.objects.create(
        name=name,
        sector=Sector.objects.get(name=sector) if sector else None,
    )
    if tags:
        org.tags.add(*tags)
    return org


def make_event(
    *,
    by: User,
    starts_at: datetime.datetime,
    minutes: int = 60,
    publish: bool = False,
    override_reason: str = "",
    **fields,
) -> Event:
    """An event made the way operators make them (through the service)."""
    fields.setdefault("title", "Test event")
    fields.setdefault("type", Event.Type.OTHER)
    fields.setdefault("unit", unit("mech"))
    fields.setdefault("venue", "Room 1")
    if not (
        fields.get("open_to_all")
        or fields.get("audience_units")
        or fields.get("audience_programmes")
    ):
        fields["audience_units"] = [fields["unit"]]
    # Elapsed time, not wall-clock time: adding to a Europe/London datetime would
    # make a night that crosses a clock change an hour too long or short.
    ends_at = starts_at.astimezone(datetime.UTC) + datetime.timedelta(minutes=minutes)
    maker = by
    if (
        fields.get("open_to_all")
        and not services.selectors.audience_reach(by, [fields["unit"].pk]).everyone
    ):
        # A school's event for every student: an administrator made it so (policy 2.4),
        # for its organiser.
        fields.setdefault("organiser", by)
        maker = User.objects.get(email="admin@demo.ac.uk")
    event = services.event_create(by=maker, starts_at=starts_at, ends_at=ends_at, **fields)
    if publish:
        # An event that has started was published before it did: a week before.
        published = min(timezone.now(), starts_at - datetime.timedelta(days=7))
        services.event_publish(event=event, by=by, override_reason=override_reason, now=published)
        event.refresh_from_db()
    return event


class EventFactory(factory.django.DjangoModelFactory):
    """Fast published events for volume tests; audiences default to open to all."""

    class Meta:
        model = Event
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Factory event {n}")
    type = Event.Type.WORKSHOP
    unit = factory.LazyFunction(lambda: Unit.objects.get(code="mech"))
    starts_at = factory.LazyFunction(lambda: at(far_monday(), 10))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=1))
    venue = "Room 1"
    status = Event.Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def audience(obj, create, extracted, **kwargs):
        if create:
            Audience.objects.create(event=obj, open_to_all=kwargs.get("open_to_all", True))
