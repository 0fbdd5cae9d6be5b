"""Places and the waiting list on the event form itself (a part the events app shows)."""

from django.utils.translation import ngettext

from mycareer.bookings import selectors, services
from mycareer.bookings.forms import BookingSettingsForm
from mycareer.bookings.models import Booking, BookingSettings, WaitlistEntry
from mycareer.core.text import counted
from mycareer.events.registry import EventFormPart

PREFIX = "places"


def moved_text(moved: list) -> str:
    """What raising the number of places did for the people waiting, or ""."""
    if not moved:
        return ""
    if isinstance(moved[0], WaitlistEntry):
        text = ngettext(
            "%(count)d person from the waiting list was offered a place by email.",
            "%(count)d people from the waiting list were offered places by email.",
            len(moved),
        )
    else:
        text = ngettext(
            "%(count)d person from the waiting list was booked and emailed.",
            "%(count)d people from the waiting list were booked and emailed.",
            len(moved),
        )
    return text % {"count": len(moved)}


def saved_text(settings: BookingSettings, moved: list) -> str:
    """What saving the settings did for the people waiting, and, when fewer places are
    now set than people hold, that nobody lost theirs; or ""."""
    text = moved_text(moved)
    if settings.capacity is not None:
        holding = selectors.counts_for(settings.event, settings).booked
        if holding > settings.capacity:
            text = f"{text} " if text else ""
            text += (
                f"{counted(holding, 'person already has a place', 'people already have places')}"
                f", more than the {counted(settings.capacity, 'place', 'places')} now set: "
                "nobody loses theirs, and no new place is given until enough cancel."
            )
    return text


def move_warning(event) -> str:
    """What moving the event to a later day would undo (`services.check_ins_follow_start`):
    the check-ins recorded so far, said before the operator saves; or ""."""
    if event is None or event.pk is None:
        return ""
    checked_in = Booking.objects.filter(event_id=event.pk, status=Booking.Status.ATTENDED).count()
    if not checked_in:
        return ""
    those = "that check-in" if checked_in == 1 else f"those {checked_in} check-ins"
    return (
        f"{counted(checked_in, 'person is', 'people are')} checked in: moving the event to a "
        f"later day returns {those} to booked."
    )


def _form(data, *, event, user) -> BookingSettingsForm:
    """The places part, bound only when its fields were sent.

    A submission without them (a script, an older page) changes nothing here, rather
    than switching the waiting list off because its tick box was absent.
    """
    if data is not None and not any(key.startswith(f"{PREFIX}-") for key in data):
        data = None
    current = selectors.settings_of(event) if event is not None else BookingSettings()
    # Guarded as the settings page is: a page opened before another person's save does
    # not put back their number of places or booking window.
    form = BookingSettingsForm(
        data,
        initial=BookingSettingsForm.initial_for(current),
        prefix=PREFIX,
        guard=event is not None,
    )
    # places.js hides what only matters when places are limited while the number is empty.
    form.fields["capacity"].widget.attrs["data-places-capacity"] = ""
    form.move_warning = move_warning(event)
    form.for_new_event = event is None
    return form


def _save(form: BookingSettingsForm, *, event, by) -> str | None:
    try:
        saved = services.booking_settings_update(
            event=event,
            by=by,
            confirmed_moves=form.confirmed_moves(),
            with_new_event=form.for_new_event,
            **form.changes(),
        )
    except services.PlacesToConfirm as asking:
        # The events page shows the refusal on this part and undoes the whole change.
        form.ask_to_confirm(asking.count, asking.sentence)
        raise
    if not saved.changed:
        return None
    return saved_text(saved.settings, saved.moved)


places_part = EventFormPart(
    form=_form, save=_save, template="bookings/includes/event_form_places.html", order=10
)
