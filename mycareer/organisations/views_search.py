from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from mycareer.accounts.permissions import Action, require
from mycareer.organisations.models import Organisation


@require_safe
@require(Action.VIEW)
def search(request):
    """Organisations, filtered by name."""
    query = request.GET.get("q", "").strip()
    organisations = Organisation.objects.filter(merged_into__isnull=True).select_related("sector")
    if query:
        organisations = organisations.filter(name__icontains=query)
    page = Paginator(organisations.order_by("name"), 25).get_page(request.GET.get("page"))
    return render(request, "organisations/search.html", {"page": page, "query": query})
