"""The administrators' upload page for the student record feed: check, then confirm."""

import datetime
import secrets

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mycareer.accounts.selectors import unknown_department_codes
from mycareer.core import tables
from mycareer.core.permissions import require
from mycareer.core.spreadsheets import csv_download
from mycareer.people import feed
from mycareer.people.forms import FeedUploadForm
from mycareer.people.jobs import (
    check_feed_file,
    discard_file,
    import_feed_file,
    record_check,
    store_file,
)
from mycareer.people.models import FeedImport

# Files larger than this are checked by the background worker, not in the web request:
# a whole university's file takes many seconds to read and compare.
INLINE_CHECK_BYTES = 1024 * 1024
# A checked file not confirmed within this time is removed.
CHECK_KEPT = datetime.timedelta(days=1)
# What a confirm press is told when the file is past (or not yet at) being confirmed.
NOT_CONFIRMABLE: dict[str, str] = {
    FeedImport.Status.CHECKING: "is still being checked: confirm it once the check shows.",
    FeedImport.Status.QUEUED: "is already being imported.",
    FeedImport.Status.DONE: "is already imported.",
    FeedImport.Status.FAILED: "could not be checked: correct it and upload it again.",
    FeedImport.Status.EXPIRED: "was not confirmed in time: upload it again.",
}
WAITING = (FeedImport.Status.CHECKING, FeedImport.Status.CHECKED, FeedImport.Status.EXPIRED)


def _expire_unconfirmed() -> None:
    stale = FeedImport.objects.filter(
        status__in=[FeedImport.Status.CHECKING, FeedImport.Status.CHECKED],
        created_at__lt=timezone.now() - CHECK_KEPT,
    )
    for upload in stale:
        discard_file(upload)
    stale.update(status=FeedImport.Status.EXPIRED, stored_file="")


def _upload_page(request, form):
    return render(
        request,
        "people/upload.html",
        {
            "form": form,
            "columns": feed.COLUMNS,
            "recent": FeedImport.objects.select_related("by").exclude(status__in=WAITING)[:10],
            "grace_days": settings.MYCAREER["PEOPLE_LEAVER_GRACE_DAYS"],
            "unknown_departments": unknown_department_codes(),
        },
    )


@require_http_methods(["GET", "POST"])
@require("people.import_people")
def feed_upload(request):
    """Upload a file to see what it would change; nothing is written to people here."""
    form = FeedUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        filename = form.cleaned_data["file"].name[:200]
        try:
            data = tables.read_upload(form.cleaned_data["file"], feed.LIMITS)
            # A small file is checked now, so a file MyCareer cannot read is said at once.
            plan = (
                None
                if len(data) > INLINE_CHECK_BYTES
                else feed.plan_feed(data=data, filename=filename)
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            _expire_unconfirmed()
            upload = FeedImport.objects.create(
                filename=filename,
                source=FeedImport.Source.UPLOAD,
                status=FeedImport.Status.CHECKING,
                by=request.user,
                stored_file=secrets.token_urlsafe(32),
            )
            store_file(upload, data)
            if plan is None:
                transaction.on_commit(lambda: check_feed_file.enqueue(import_id=upload.pk))
            else:
                record_check(upload, plan)
            return redirect("people:check", import_id=upload.pk)
    return _upload_page(request, form)


@require_safe
@require("people.import_people")
def feed_check(request, import_id: int):
    """What an uploaded file would change (once checked), with the button to import it."""
    upload = get_object_or_404(FeedImport, pk=import_id, by=request.user)
    return render(request, "people/check.html", {"upload": upload, "summary": upload.counts})


@require_POST
@require("people.import_people")
def feed_confirm(request, import_id: int):
    """Write a checked file in the background; only the person who checked it may."""
    upload = get_object_or_404(FeedImport, pk=import_id, by=request.user)
    if upload.status != FeedImport.Status.CHECKED:
        # Pressed twice, or come back to: the first press already sent it to be imported.
        messages.info(request, f"{upload.filename} {NOT_CONFIRMABLE[upload.status]}")
        return redirect("people:import")
    if not upload.counts.get("has_work"):
        messages.error(request, "There is nothing to import from this file.")
        return redirect("people:import")
    with transaction.atomic():
        # Only one of two presses at the same moment moves it on, so it is imported once.
        queued = FeedImport.objects.filter(pk=upload.pk, status=FeedImport.Status.CHECKED).update(
            status=FeedImport.Status.QUEUED
        )
        if queued:
            transaction.on_commit(lambda: import_feed_file.enqueue(import_id=upload.pk))
    messages.success(
        request,
        f"{upload.filename} is being imported. The list below shows what it did once it is done.",
    )
    return redirect("people:import")


@require_safe
@require("people.import_people")
def feed_template(request):
    """A CSV with the headings and an example of each kind of person."""
    return csv_download(feed.template_rows(), filename="people-import.csv")
