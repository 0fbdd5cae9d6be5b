"""Vacancies in subject access and erasure: vacancy titles are names, never changed."""

from django.db.models import Q

from mycareer.audit.personal_data import (
    Change,
    LetterEntry,
    PersonalDataHandler,
    TextPlace,
)
from mycareer.organisations.privacy import linked_organisation_ids
from mycareer.vacancies.models import Vacancy


def _applications_to(subject):
    condition = Q(pk__in=[])
    for email in subject.emails:
        condition |= Q(apply_email__iexact=email)
    return Vacancy.objects.filter(condition).select_related("organisation")


def anonymise_vacancies(subject, *, apply: bool, by=None) -> list[Change]:
    rows = _applications_to(subject)
    count = rows.count()
    if not count:
        return []
    if apply:
        rows.update(apply_email="")
    return [Change("Vacancies that gave their address for applications", "address removed", count)]


def vacancy_places(subject):
    yield TextPlace(
        "Vacancies of their organisations",
        Vacancy.objects.filter(
            Q(organisation_id__in=linked_organisation_ids(subject))
            | Q(created_by_id__in=subject.user_ids)
        ).select_related("organisation"),
        ("description", "rejection_reason", "edit_rejection_reason", "pending_changes"),
        lambda vacancy: f"Vacancy “{vacancy.title}” at {vacancy.organisation}",
    )


def protected_names(subject, word: str):
    titles = (
        Vacancy.objects.filter(title__icontains=word).order_by().values_list("title", flat=True)
    )
    for title in titles.distinct():
        yield "vacancy", title


def vacancy_letter(subject):
    posted = Vacancy.objects.filter(created_by_id__in=subject.user_ids).select_related(
        "organisation"
    )
    for vacancy in posted:
        yield LetterEntry(
            "activity",
            f"Vacancy you posted: {vacancy.title} at {vacancy.organisation}",
            [("Posted", vacancy.created_at), ("Status", vacancy.get_status_display())],
            when=vacancy.created_at,
        )
    for vacancy in _applications_to(subject):
        yield LetterEntry(
            "other",
            f"Your email address is where to apply for: {vacancy.title}",
            [("Organisation", str(vacancy.organisation)), ("Closing date", vacancy.closing_date)],
        )


personal_data = PersonalDataHandler(
    anonymise=anonymise_vacancies,
    places=vacancy_places,
    protected=protected_names,
    letter=vacancy_letter,
)
