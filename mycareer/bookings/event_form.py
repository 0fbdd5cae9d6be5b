"""Places and the waiting list on the event form itself (a part the events app shows)."""

from django.utils.translation import ngettext

from mycareer.bookings import selectors, services
from mycareer.bookings.forms import BookingSettingsForm
from mycareer.bookings.models import BookingSettings, WaitlistEntry
from mycareer.events.registry import EventFormPart

PREFIX = "places"


def moved_text(moved: list) -> str:
    """What raising the number of places did for the people waiting, or ""."""
    if not moved:
        return ""
    if isinstance(moved[0], WaitlistEntry):
        text = ngettext(
            "%(count)d person from the waiting list was offered a place.",
            "%(count)d people from the waiting list were offered a place.",
            len(moved),
        )
    else:
        text = ngettext(
            "%(count)d person from the waiting list was booked.",
            "%(count)d people from the waiting list were booked.",
            len(moved),
        )
    return text % {"count": len(moved)}


def _form(data, *, event, user) -> BookingSettingsForm:
    """The places part, bound only when its fields were sent.

    A submission without them (a script, an older page) changes nothing here, rather
    than switching the waiting list off because its tick box was absent.
    """
    if data is not None and not any(key.startswith(f"{PREFIX}-") for key in data):
        data = None
    current = selectors.settings_of(event) if event is not None else BookingSettings()
    form = BookingSettingsForm(
        data, initial=BookingSettingsForm.initial_for(current), prefix=PREFIX
    )
    # places.js hides what only matters when places are limited while the number is empty.
    form.fields["capacity"].widget.attrs["data-places-capacity"] = ""
    return form


def _save(form: BookingSettingsForm, *, event, by) -> str:
    _, moved = services.booking_settings_update(event=event, by=by, **form.cleaned_data)
    return moved_text(moved)


places_part = EventFormPart(
    form=_form, save=_save, template="bookings/includes/event_form_places.html", order=10
)
