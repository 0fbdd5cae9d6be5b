"""The students' employer directory."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from mycareer.core.pagination import Paginator, count_exactly_asked
from mycareer.core.permissions import require
from mycareer.organisations import selectors
from mycareer.organisations.forms import DirectorySearchForm

PER_PAGE = 24


@require_safe
@require("organisations.browse_directory")
def directory(request):
    """Employers the university works with, searchable by name, sector and location."""
    form = DirectorySearchForm(request.GET or None, strict=True)
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
