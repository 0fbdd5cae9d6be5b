from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render

from mycareer.audit.models import SENSITIVE_SUFFIXES
from mycareer.audit.selectors import audit_entries, audit_for_person
from mycareer.core.forms import bounded_ids

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
    sensitive = request.GET.get("sensitive") == "1"
    if sensitive:
        condition = Q()
        for suffix in SENSITIVE_SUFFIXES:
            condition |= Q(action__endswith=suffix)
        entries = entries.filter(condition)
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


def _subjects(request):
    from django.contrib.auth import get_user_model

    from mycareer.audit.personal_data import contact_model

    users = list(get_user_model().objects.filter(pk__in=bounded_ids(request.POST.getlist("user"))))
    contacts = list(
        contact_model().objects.filter(pk__in=bounded_ids(request.POST.getlist("contact")))
    )
    return users, contacts


def privacy(request):
    """Find a person, then export everything held about them or erase them."""
    import json

    from django.contrib import messages
    from django.http import HttpResponse

    from mycareer.audit.personal_data import find_subjects
    from mycareer.audit.services import personal_data_erase, personal_data_export

    if response := _require_administrator(request):
        return response
    query = request.GET.get("q", "").strip()
    users, contacts = find_subjects(query) if query else ([], [])
    if request.method == "POST":
        chosen_users, chosen_contacts = _subjects(request)
        if not chosen_users and not chosen_contacts:
            messages.error(request, "Tick at least one person.")
        elif request.POST.get("do") in ("export", "summary"):
            document = personal_data_export(
                users=chosen_users, contacts=chosen_contacts, by=request.user
            )
            if request.POST.get("do") == "summary":
                return render(
                    request,
                    "audit/privacy_summary.html",
                    {"document": document, "users": chosen_users, "contacts": chosen_contacts},
                )
            response = HttpResponse(
                json.dumps(document, indent=2, default=str), content_type="application/json"
            )
            response["Content-Disposition"] = 'attachment; filename="mycareer-personal-data.json"'
            return response
        elif request.POST.get("do") == "erase":
            if request.POST.get("confirm", "").strip().upper() != "ERASE":
                messages.error(request, "Type ERASE to confirm: erasure cannot be undone.")
            else:
                counts = personal_data_erase(
                    users=chosen_users, contacts=chosen_contacts, by=request.user
                )
                messages.success(
                    request,
                    "Erased. " + ", ".join(f"{name}: {n}" for name, n in counts.items()) + ".",
                )
                return redirect("audit:privacy")
    return render(
        request,
        "audit/privacy.html",
        {"query": query, "users": users, "contacts": contacts},
    )


def retention(request):
    """The retention schedule, with what would go today; administrators can apply it now."""
    from django.contrib import messages

    from mycareer.audit.retention import retention_apply, retention_dry_run

    if response := _require_administrator(request):
        return response
    if request.method == "POST":
        done = retention_apply(by=request.user)
        messages.success(
            request, "Applied: " + ", ".join(f"{k}: {v}" for k, v in done.items()) + "."
        )
        return redirect("audit:retention")
    return render(request, "audit/retention.html", {"rules": retention_dry_run()})
