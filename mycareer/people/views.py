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

from mycareer.core import tables
from mycareer.core.permissions import require
from mycareer.core.spreadsheets import csv_download
from mycareer.people import feed
from mycareer.people.forms import FeedUploadForm
from mycareer.people.jobs import (
    check_feed_file,
    check_stored,
    discard_file,
    import_feed_file,
    store_file,
)
from mycareer.people.models import FeedImport

# Files larger than this are checked by the background worker, not in the web request:
# a whole university's file takes many seconds to read and compare.
INLINE_CHECK_BYTES = 1024 * 1024
# A checked file not confirmed within this time is removed.
CHECK_KEPT = datetime.timedelta(days=1)
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
                check_stored(upload, data)
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
    upload = get_object_or_404(
        FeedImport, pk=import_id, by=request.user, status=FeedImport.Status.CHECKED
    )
    if not upload.counts.get("has_work"):
        messages.error(request, "There is nothing to import from this file.")
        return redirect("people:import")
    with transaction.atomic():
        upload.status = FeedImport.Status.QUEUED
        upload.save(update_fields=["status"])
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
