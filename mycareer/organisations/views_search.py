"""The tailored search page, its CSV export and a person's saved searches."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mycareer.core.http import safe_next
from mycareer.core.pagination import Paginator, count_exactly_asked
from mycareer.core.permissions import require
from mycareer.core.spreadsheets import csv_download
from mycareer.organisations import selectors, services
from mycareer.organisations.forms import SavedSearchForm
from mycareer.organisations.models import SavedSearch
from mycareer.organisations.search import (
    SORTS,
    OrganisationQuery,
    OrganisationSearchForm,
    describe_query,
    kept_count_of,
    organisation_rows,
    search_organisations,
)

PER_PAGE = 25


def _render_search(
    request,
    form: OrganisationSearchForm,
    save_form: SavedSearchForm | None = None,
    *,
    status: int = 200,
):
    context = {
        "form": form,
        "saved_searches": selectors.saved_searches_for(request.user),
        "save_form": save_form,
        "can_add": request.user.has_perm("organisations.add_organisation"),
        "can_export_every": request.user.has_perm("organisations.export_every_organisation"),
    }
    if form.is_valid():
        query = form.to_query(viewer=request.user)
        querystring = query.to_querystring()
        context.update(
            query=query,
            querystring=querystring,
            sort_label=SORTS[query.sort],
            page=Paginator(
                # Its rows come from their ids (`page_rows`), without the lists' prefetching.
                lambda: search_organisations(query, lists=False),
                PER_PAGE,
                count_exactly=count_exactly_asked(request),
                in_order=lambda: search_organisations(query, in_name_order=True, lists=False),
                exact_count=lambda: kept_count_of(query),
                page_rows=organisation_rows,
            ).get_page(request.GET.get("page")),
            # Offered once there are filters to save.
            save_form=save_form
            or (SavedSearchForm(initial={"query": querystring}) if querystring else None),
        )
    return render(request, "organisations/search.html", context, status=status)


@require_safe
@require("organisations.view_organisation")
def search(request):
    """Organisations matching the filters, a page at a time, with the person's saved searches."""
    form = OrganisationSearchForm(request.GET, strict=True, known_tags=True)
    return _render_search(request, form)


@require_safe
@require("organisations.export_organisations")
def export(request):
    """Every organisation matching the filters as CSV; the export is audited.

    Empty filters are refused, not read as "everything": `every=1`, on its own, is the
    explicit choice of every organisation that the list page offers administrators.
    """
    params = request.GET.copy()
    every = params.pop("every", [""])[-1] == "1"
    form = OrganisationSearchForm(params, strict=True, known_tags=True)
    if not form.is_valid():
        messages.error(request, "Correct the filters before exporting.")
        return redirect(f"{reverse('organisations:search')}?{params.urlencode()}")
    try:
        rows = services.organisations_export(
            query=form.to_query(viewer=request.user), by=request.user, every=every
        )
    except ValidationError as error:
        # The search page itself, with the message, the filters as given and the choice.
        messages.error(request, " ".join(error.messages))
        return _render_search(request, form, status=400)
    filename = f"organisations-{timezone.localdate():%Y-%m-%d}.csv"
    return csv_download(rows, filename=filename, stream=True)


@require_POST
@require("organisations.save_search")
def saved_search_create(request):
    """Save the search shown on the page under a name; a taken name is a form error."""
    save_form = SavedSearchForm(request.POST)
    form = OrganisationSearchForm(QueryDict(request.POST.get("query", "")))
    if save_form.is_valid() and form.is_valid():
        try:
            saved = services.saved_search_create(
                owner=request.user,
                name=save_form.cleaned_data["name"],
                query=form.to_query(viewer=request.user),
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    save_form.add_error(field if field in save_form.fields else None, errors)
            else:
                save_form.add_error(None, error)
        else:
            messages.success(request, f"Search saved as “{saved.name}”.")
            return redirect(saved)
    return _render_search(request, form, save_form)


@require_http_methods(["GET", "POST"])
@require("organisations.save_search")
def saved_search_delete(request, pk: int):
    """Delete one of the person's own saved searches, after a page that names it and says
    what it finds: one press deleted it."""
    back = safe_next(request, reverse("organisations:search"))
    saved = selectors.saved_searches_for(request.user).filter(pk=pk).first()
    if saved is None:
        if SavedSearch.objects.filter(pk=pk).exists():
            raise Http404("Not one of your saved searches.")  # another person's
        # Pressed twice, or deleted in another tab: nothing is left to delete.
        messages.info(request, "That saved search is already deleted: nothing was changed.")
        return redirect(back)
    if request.method == "POST":
        try:
            services.saved_search_delete(saved_search=saved, by=request.user)
        except ValidationError as error:
            messages.info(request, " ".join(error.messages))
        else:
            messages.success(request, f"The saved search “{saved.name}” is deleted.")
        return redirect(back)
    try:
        finds = describe_query(OrganisationQuery.from_querystring(saved.query))
    except ValidationError:
        finds = ""  # saved before a filter changed; it can still be deleted
    return render(
        request,
        "organisations/saved_search_delete.html",
        {"saved": saved, "finds": finds, "back": back},
    )
