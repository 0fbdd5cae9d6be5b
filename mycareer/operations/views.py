from django.shortcuts import render
from django.views.decorators.http import require_safe

from mycareer.core.permissions import require
from mycareer.operations import selectors


@require("operations.view_status")
@require_safe
def status(request):
    """Administrators: is the site working? Work queued and failed, jobs, workers, backups."""
    return render(request, "operations/status.html", selectors.status())
