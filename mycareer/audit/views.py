from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from mycareer.audit.selectors import audit_entries, audit_for_person

ADMINISTER = "mycareer.administer"


def _require_administrator(request):
    if not request.user.is_authenticated:
        return redirect(f"/accounts/login/?next={request.get_full_path()}")
    if not request.user.has_perm(ADMINISTER):
        raise PermissionDenied("Only administrators can read the audit trail.")
    return None


def audit_list(request):
    """The audit trail, filterable by action code and by object."""
    if response := _require_administrator(request):
        return response
    entries = audit_entries()
    action = request.GET.get("action", "").strip()
    if action:
        entries = entries.filter(action__startswith=action)
    ct, object_id = request.GET.get("ct", ""), request.GET.get("id", "")
    subject = None
    if ct.isdigit() and object_id:
        content_type = get_object_or_404(ContentType, pk=int(ct))
        entries = entries.filter(content_type=content_type, object_id=object_id)
        subject = f"{content_type.name} {object_id}"
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "audit/list.html", {"page": page, "action": action, "subject": subject})


def audit_person(request, user_id: int):
    """Everything one person did, and everything done about them."""
    if response := _require_administrator(request):
        return response
    person = get_object_or_404(get_user_model(), pk=user_id)
    page = Paginator(audit_for_person(person), 50).get_page(request.GET.get("page"))
    return render(request, "audit/list.html", {"page": page, "person": person})
