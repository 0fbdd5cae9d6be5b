import datetime
import json
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_safe

from mycareer.audit.erasure import StaleReview, review_erasure
from mycareer.audit.forms import AuditFilterForm, RetentionConfirmForm
from mycareer.audit.models import SENSITIVE_SUFFIXES, AuditEntry
from mycareer.audit.personal_data import find_subjects, subject_from_ids
from mycareer.audit.selectors import (
    ERASED,
    audit_entries,
    audit_for_person,
    erasure_of,
    with_details,
)
from mycareer.audit.services import personal_data_erase, personal_data_letter
from mycareer.core.logs import log_event
from mycareer.core.pagination import Paginator, count_exactly_asked
from mycareer.core.permissions import require
from mycareer.operations.backups import backups_taken_before, is_before_restore

ADMINISTER = "mycareer.administer"
# A person is rarely more than a login and a few contact records; more is a mistake.
MOST_RECORDS = 20
# Mentions ticked on the review page; far above any real review, well below a flood.
MOST_MENTIONS = 20000

logger = logging.getLogger(__name__)


def _filtered(form: AuditFilterForm):
    entries = audit_entries()
    data = form.cleaned_data
    if data["person"]:
        word = data["person"]
        entries = entries.filter(
            Q(actor__full_name__icontains=word)
            | Q(actor__email__icontains=word)
            | Q(person__full_name__icontains=word)
            | Q(person__email__icontains=word)
            | Q(object_repr__icontains=word)
        )
    if data["action"]:
        entries = (
            entries.filter(action__startswith=data["action"])
            if data["action"].endswith(".")
            else entries.filter(action=data["action"])
        )
    zone = timezone.get_current_timezone()
    if data["date_from"]:
        start = datetime.datetime.combine(data["date_from"], datetime.time.min, zone)
        entries = entries.filter(at__gte=start)
    if data["date_to"]:
        end = datetime.datetime.combine(data["date_to"], datetime.time.min, zone)
        entries = entries.filter(at__lt=end + datetime.timedelta(days=1))
    if data["sensitive"]:
        condition = Q()
        for suffix in SENSITIVE_SUFFIXES:
            condition |= Q(action__endswith=suffix)
        entries = entries.filter(condition)
    return entries


@require_safe
@require(ADMINISTER)
def audit_list(request):
    """The audit trail, filterable by person, kind of action and dates, or by one record."""
    form = AuditFilterForm(request.GET or None, strict=True)
    subject = None
    if form.is_bound and not form.is_valid():
        entries = AuditEntry.objects.none()
    else:
        entries = _filtered(form) if form.is_bound else audit_entries()
    ct, object_id = request.GET.get("ct", ""), request.GET.get("id", "")[:64]
    if ct or object_id:
        content_type = (
            ContentType.objects.filter(pk=int(ct)).first()
            if ct.isdigit() and len(ct) < 10 and object_id
            else None
        )
        if content_type is None:
            # A half or mistyped record link showed the whole trail as if it were its own.
            form.add_error(
                None,
                "That link to one record's trail is incomplete or wrong: open the trail "
                "from the record's own page.",
            )
            entries = AuditEntry.objects.none()
        else:
            entries = entries.filter(content_type=content_type, object_id=object_id)
            subject = f"{content_type.name} {object_id}"
    page = Paginator(entries, 50, count_exactly=count_exactly_asked(request)).get_page(
        request.GET.get("page")
    )
    page.object_list = with_details(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {"page": page, "form": form, "subject": subject, "querystring": query.urlencode()},
    )


@require_safe
@require(ADMINISTER)
def audit_person(request, user_id: int):
    """Everything one person did, and everything done about them."""
    person = get_object_or_404(get_user_model(), pk=user_id)
    page = Paginator(audit_for_person(person), 50).get_page(request.GET.get("page"))
    page.object_list = with_details(page.object_list)
    return render(request, "audit/list.html", {"page": page, "person": person})


@require_http_methods(["GET", "POST"])
@require(ADMINISTER)
def privacy(request):
    """Find a person, then write their subject access letter or review their erasure.

    The name or email is sent in the body, never in the address: an address stays in
    the web server's access log, after the person it names has been erased.
    """
    query = request.POST.get("q", "").strip()[:150] if request.method == "POST" else ""
    then = request.POST.get("then") if request.method == "POST" else None
    if then in ("letter", "erase"):
        # The records ticked go on in the address; the name stays in the body. With
        # none ticked, the search and its results stay, not an empty search box.
        subject = _subject(request, request.POST)
        if subject is not None:
            return redirect(f"{reverse(f'audit:{then}')}?{_records_query(subject)}")
    users, contacts = find_subjects(query) if query else ([], [])
    if request.method == "POST" and then is None and not query:
        # Only spaces: a search for nobody, said so rather than a page that looks unsent.
        messages.error(request, "Type a name or an email address to find the person.")
    return render(
        request,
        "audit/privacy.html",
        {"query": query, "users": users, "contacts": contacts},
    )


def _ids(values: list[str]) -> list[int] | None:
    """Record ids from a form or link; None when one is not an id or there are too many."""
    if len(values) > MOST_RECORDS:
        return None
    ids = []
    for value in values:
        value = value.strip()
        if not value.isdigit() or len(value) > 18:
            return None
        ids.append(int(value))
    return ids


def _subject(request, data):
    """The person chosen on the personal data page; None (and a message) if there is none."""
    users, contacts = _ids(data.getlist("user")), _ids(data.getlist("contact"))
    if users is None or contacts is None:
        messages.error(request, "That choice of records is not valid: find the person again.")
        return None
    subject = subject_from_ids(users, contacts)
    if not subject:
        messages.error(request, "Tick at least one record of the person.")
        return None
    return subject


def _erased_already(request, subject):
    """The report of the person's erasure, once every record chosen is erased (the same
    erasure confirmed again, in a second tab or by pressing twice); None until then."""
    done = erasure_of(subject)
    if done is None:
        return None
    messages.info(
        request,
        f"This person was erased on {date_format(timezone.localtime(done.at), 'j F Y')} at "
        f"{date_format(timezone.localtime(done.at), 'H:i')}: there is nothing more to do. "
        "This is the report.",
    )
    return redirect(reverse("audit:erasure_report", args=[done.pk]))


def _records_query(subject) -> str:
    return urlencode(
        [("user", pk) for pk in subject.user_ids] + [("contact", pk) for pk in subject.contact_ids]
    )


def _letter(request, *, machine: bool):
    """The chosen person's letter, audited and logged; None (with a message) if none is chosen."""
    subject = _subject(request, request.GET)
    if subject is None:
        return None, None
    letter = personal_data_letter(subject=subject, by=request.user, machine=machine)
    log_event(
        logger,
        "audit.personal_data.exported",
        format="json" if machine else "letter",
        records=len(subject.people),
        entries=letter.entry_count,
        redacted=letter.redacted_passages,
        by=request.user.pk,
    )
    return subject, letter


@require_safe
@require(ADMINISTER)
def subject_access_letter(request):
    """The subject access letter, ready to print or save as PDF; the export is audited.

    Above it, for the administrator only, what was redacted and where, to check first."""
    subject, letter = _letter(request, machine=False)
    if subject is None:
        return redirect("audit:privacy")
    return render(
        request,
        "audit/letter.html",
        {"letter": letter, "subject": subject, "records_query": _records_query(subject)},
    )


@require_safe
@require(ADMINISTER)
def subject_access_json(request):
    """The same letter as JSON, for machines (dates in ISO 8601); the export is audited."""
    subject, letter = _letter(request, machine=True)
    if subject is None:
        return redirect("audit:privacy")
    response = HttpResponse(
        json.dumps(letter.as_json(), indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="subject-access.json"'
    return response


def _review_page(request, subject, review, *, ticked=None, status=200):
    ticked = review.default_selection() if ticked is None else ticked
    return render(
        request,
        "audit/erase_review.html",
        {
            "subject": subject,
            "review": review,
            "ticked": ticked,
            "records_query": _records_query(subject),
        },
        status=status,
    )


def _confirm_page(request, subject, review, ticked, *, error=""):
    removed = len(ticked)
    # A mention the review left unticked with its reason was not unticked by the
    # administrator: the page says which is which.
    cautioned = sum(1 for m in review.matches if m.caution and m.id not in ticked)
    return render(
        request,
        "audit/erase_confirm.html",
        {
            "subject": subject,
            "review": review,
            "ticked": sorted(ticked),
            "removed": removed,
            "left": len(review.matches) - removed - cautioned,
            "cautioned": cautioned,
            "total": review.total(ticked),
            "record_changes": review.removals,
            "error": error,
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
@require(ADMINISTER)
def erasure(request):
    """Review every change erasure would make, untick false matches, confirm, erase."""
    data = request.POST if request.method == "POST" else request.GET
    subject = _subject(request, data)
    if subject is None:
        return redirect("audit:privacy")
    if request.user.pk in subject.user_ids:
        log_event(
            logger, "audit.personal_data.erasure_refused", reason="own-login", by=request.user.pk
        )
        messages.error(
            request, "You cannot erase your own login: ask another administrator to do it."
        )
        return redirect("audit:privacy")
    if erased := _erased_already(request, subject):
        return erased
    review = review_erasure(subject)
    if request.method == "GET":
        return _review_page(request, subject, review)
    known = {m.id for m in review.matches}
    ticked = set(request.POST.getlist("match")[:MOST_MENTIONS]) & known
    if request.POST.get("digest") != review.digest:
        if erased := _erased_already(request, subject):
            return erased  # "Erase" pressed twice: the first press erased them meanwhile
        messages.warning(
            request,
            "Something changed since you started the review: check the mentions again.",
        )
        return _review_page(request, subject, review, ticked=ticked, status=409)
    step = request.POST.get("step")
    if step == "confirm":
        return _confirm_page(request, subject, review, ticked)
    if step != "erase":
        return _review_page(request, subject, review, ticked=ticked)
    if request.POST.get("confirm", "").strip().upper() != "ERASE":
        return _confirm_page(
            request,
            subject,
            review,
            ticked,
            error="Type ERASE to confirm: erasure cannot be undone.",
        )
    try:
        report, entries = personal_data_erase(
            subject=subject, by=request.user, selected=ticked, digest=review.digest
        )
    except StaleReview:
        if erased := _erased_already(request, subject):
            return erased  # "Erase" pressed twice: the first press erased them meanwhile
        messages.warning(
            request, "Something changed while you confirmed: check the mentions again."
        )
        return _review_page(request, subject, review_erasure(subject), status=409)
    log_event(
        logger,
        "audit.personal_data.erased",
        records=len(report["records"]),
        changes=report["total"],
        mentions_left=len(report["left"]),
        by=request.user.pk,
    )
    messages.success(
        request,
        ngettext("Erased: %(n)d change made.", "Erased: %(n)d changes made.", report["total"])
        % {"n": report["total"]},
    )
    return redirect(reverse("audit:erasure_report", args=[entries[0].pk]))


@require_safe
@require(ADMINISTER)
def erasure_report(request, entry_id: int):
    """What an erasure changed and kept, as recorded in the audit trail (no erased values)."""
    entry = get_object_or_404(
        AuditEntry.objects.select_related("actor"), pk=entry_id, action=ERASED
    )
    held = backups_taken_before(entry.at)
    restore_copies = sum(map(is_before_restore, held))
    return render(
        request,
        "audit/erasure_report.html",
        {
            "entry": entry,
            "report": entry.data,
            "backups": {
                "dated": len(held) - restore_copies,
                "restore_copies": restore_copies,
                "keep": settings.MYCAREER["BACKUP_KEEP"],
            },
        },
    )


@require_http_methods(["GET", "POST"])
@require(ADMINISTER)
def retention(request):
    """The retention schedule with what each rule would remove or anonymise now, and the
    total; administrators apply it now by typing that total."""
    from mycareer.audit.retention import RetentionChanged, retention_apply, retention_dry_run

    plan = retention_dry_run()
    total = sum(count for _, count in plan)
    form = RetentionConfirmForm(request.POST or None, total=total)
    if request.method == "POST" and total == 0:
        messages.info(request, "Nothing is due now, so nothing was removed or anonymised.")
        return redirect("audit:retention")
    if request.method == "POST" and form.is_valid():
        try:
            done = retention_apply(by=request.user, confirmed=form.cleaned_data["confirmed"])
        except RetentionChanged as error:
            messages.error(request, error.messages[0])
            return redirect("audit:retention")
        applied = sum(done.values())
        log_event(
            logger,
            "audit.retention.applied_now",
            by=request.user.pk,
            confirmed=total,
            done=applied,
            rules=sum(1 for count in done.values() if count),
        )
        messages.success(request, _retention_done(done))
        return redirect("audit:retention")
    return render(request, "audit/retention.html", {"rules": plan, "total": total, "form": form})


def _retention_done(done: dict[str, int]) -> str:
    applied = sum(done.values())
    if not applied:
        return "Applied the schedule: nothing was due by then, so nothing changed."
    parts = "; ".join(f"{name}: {count:,}" for name, count in done.items() if count)
    return ngettext(
        "Applied the schedule: %(n)s record removed or anonymised (%(parts)s).",
        "Applied the schedule: %(n)s records removed or anonymised (%(parts)s).",
        applied,
    ) % {"n": f"{applied:,}", "parts": parts}
