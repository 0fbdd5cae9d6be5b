"""The public vacancies feed for the university's website: JSON, RSS and Atom.

Vacancies have no public page: students read them signed in. The policy lets employers
decide whether their contact details reach students at all, so a feed anybody can read
carries a signpost to each open vacancy for every student, not the advert: its title,
organisation, type, place, pay and closing date, and a link to MyCareer where students
sign in to read it in full and apply. The description, the email address and the link
to apply stay behind the sign-in (see docs/decisions.md, 2026-12-01). Vacancies aimed
at a faculty, school or programme never appear.
"""

import datetime

from django.utils import timezone

from mycareer.core import public_feeds as feeds
from mycareer.vacancies import selectors
from mycareer.vacancies.models import Vacancy

FORMATS = ("json", "rss", "atom")
FILTERS = (
    feeds.choice("type", {kind.value: kind.value for kind in Vacancy.Type}),
    feeds.choice("remote", {"yes": True, "no": False}, "yes (remote working possible) or no"),
    feeds.LIMIT,
)


def items(filters: feeds.Filters) -> list[Vacancy]:
    """The open vacancies the filters ask for, closing soonest first."""
    vacancies = selectors.public_vacancies()
    if kind := filters.get("type"):
        vacancies = vacancies.filter(type=kind)
    if (remote := filters.get("remote")) is not None:
        vacancies = vacancies.filter(remote=remote)
    return list(vacancies[: filters.get("limit")])


def item_json(vacancy: Vacancy) -> dict:
    """One vacancy in the JSON feed (the shape documented in docs/api.md)."""
    return {
        "id": vacancy.pk,
        "title": vacancy.title,
        "organisation": {"name": vacancy.organisation.name},
        "type": {"code": vacancy.type, "label": vacancy.get_type_display()},
        "location": vacancy.location,
        "remote": vacancy.remote,
        "salary": vacancy.salary,
        "closing_date": vacancy.closing_date.isoformat(),
        "url": feeds.absolute(vacancy.get_absolute_url()),
        "updated_at": vacancy.updated_at.isoformat(),
    }


def _leaves_at(vacancy: Vacancy) -> datetime.datetime:
    """The first moment after the closing date, in the university's time zone (the
    closing date itself for the last date there is, which has no day after it)."""
    day = vacancy.closing_date
    if day < datetime.date.max:
        day += datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


class VacanciesFeed(feeds.PublicFeed):
    """The RSS and Atom forms: each entry says who, what, where and until when."""

    def item_title(self, vacancy: Vacancy) -> str:
        return f"{vacancy.title} at {vacancy.organisation.name}"

    def item_paragraphs(self, vacancy: Vacancy) -> list[str]:
        place = vacancy.location or "Remote"
        if vacancy.location and vacancy.remote:
            place += " (remote working possible)"
        parts = [
            vacancy.get_type_display(),
            f"Where: {place}",
            f"Closing date: {vacancy.closing_date.day} {vacancy.closing_date:%B %Y}",
        ]
        if vacancy.salary:
            parts.append(f"Pay: {vacancy.salary}")
        parts.append("Students of the university sign in to MyCareer to read it and apply.")
        return parts

    def item_link(self, vacancy: Vacancy) -> str:
        return feeds.absolute(vacancy.get_absolute_url())

    def item_guid(self, vacancy: Vacancy) -> str:
        return feeds.absolute(vacancy.get_absolute_url())

    def item_pubdate(self, vacancy: Vacancy):
        return vacancy.decided_at or vacancy.created_at

    def item_updateddate(self, vacancy: Vacancy):
        return vacancy.updated_at

    def item_categories(self, vacancy: Vacancy) -> list[str]:
        return [vacancy.get_type_display()]


SPEC = feeds.FeedSpec(
    kind="vacancies",
    title="Vacancies for students of the university",
    description=(
        "Jobs, internships, placements and volunteering open to every student. "
        "Students sign in to MyCareer to read each vacancy and apply."
    ),
    home="vacancies:list",
    formats=FORMATS,
    filters=FILTERS,
    items=items,
    item_json=item_json,
    syndication=VacanciesFeed,
    leaves_at=_leaves_at,
    changed_at=lambda vacancy: (vacancy.updated_at, vacancy.organisation.updated_at),
)
