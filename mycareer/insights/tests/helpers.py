"""Hand-built histories for the insights tests, made through the services."""

import datetime

from django.utils import timezone

from mycareer.accounts.models import Unit
from mycareer.organisations.models import Note
from mycareer.organisations.services import note_create
from mycareer.organisations.tests.factories import make_organisation


def unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


def notes(organisation, by, dates, *, unit_code: str = "mech", kind=Note.Kind.MEETING):
    for day in dates:
        note_create(
            organisation=organisation,
            by=by,
            text="Talked.",
            date=day,
            unit=unit(unit_code),
            kind=kind,
        )


def organisation(name: str, **fields):
    return make_organisation(name, **fields)


def aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
