"""The students' employer directory."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from mycareer.core.pagination import Paginator, count_exactly_asked
from mycareer.core.permissions import require
from mycareer.organisations import selectors
from mycareer.organisations.forms import DirectorySearchForm
from mycareer.vacancies.selectors import aimed_at, audience_of

PER_PAGE = 24


@require_safe
@require("organisations.browse_directory")
def directory(request):
    """Employers the university works with, searchable by name, sector and location; a
    student may keep to those with vacancies aimed at their course."""
    audience = audience_of(request.user)
    form = DirectorySearchForm(
        request.GET or None, strict=True, for_a_student=bool(audience.unit_ids)
    )
    if form.is_bound and not form.is_valid():
        # A wrong or unknown filter: the page says which rather than listing everyone.
        return render(
            request, "organisations/directory.html", {"form": form, "page": None, "searching": True}
        )
    filters = form.cleaned_data if form.is_bound else {}
    organisations = selectors.employer_directory(
        text=filters.get("q", ""),
        sector=filters.get("sector"),
        location=filters.get("location", ""),
        among=(aimed_at(audience).values("organisation_id") if filters.get("for_you") else None),
    )
    page = Paginator(organisations, PER_PAGE, count_exactly=count_exactly_asked(request)).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "organisations/directory.html",
        {
            "form": form,
            "page": page,
            "querystring": query.urlencode(),
            "searching": any(filters.values()),
        },
    )
