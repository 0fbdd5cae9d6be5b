"""The administrators' upload page for the student record feed: check, then confirm."""

import datetime
import secrets

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mycareer.core import tables
from mycareer.core.permissions import require
from mycareer.core.spreadsheets import csv_download
from mycareer.people import feed
from mycareer.people.forms import FeedUploadForm
from mycareer.people.models import FeedImport
from mycareer.people.tasks import STORAGE_DIR, import_feed_file

# How many rows of each list the check page shows (the summary counts them all).
SHOWN = 200
# A checked file not confirmed within this time is removed.
CHECK_KEPT = datetime.timedelta(days=1)


def _expire_unconfirmed() -> None:
    stale = FeedImport.objects.filter(
        status=FeedImport.Status.CHECKED, created_at__lt=timezone.now() - CHECK_KEPT
    )
    for upload in stale:
        default_storage.delete(f"{STORAGE_DIR}/{upload.stored_file}")
    stale.update(status=FeedImport.Status.EXPIRED, stored_file="")


def _upload_page(request, form):
    recent = FeedImport.objects.select_related("by").exclude(status=FeedImport.Status.CHECKED)
    return render(
        request,
        "people/upload.html",
        {
            "form": form,
            "columns": feed.COLUMNS,
            "recent": recent[:10],
            "grace_days": settings.MYCAREER["PEOPLE_LEAVER_GRACE_DAYS"],
        },
    )


@require_http_methods(["GET", "POST"])
@require("people.import_people")
def feed_upload(request):
    """Upload a file and see what it would change; nothing is written here."""
    form = FeedUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        filename = upload.name[:200]
        try:
            data = tables.read_upload(upload, feed.LIMITS)
            plan = feed.plan_feed(data=data, filename=filename)
        except ValidationError as error:
            form.add_error("file", error)
        else:
            _expire_unconfirmed()
            checked = None
            summary = plan.summary()
            if plan.has_work:
                stored = secrets.token_urlsafe(32)
                default_storage.save(f"{STORAGE_DIR}/{stored}", ContentFile(data))
                checked = FeedImport.objects.create(
                    filename=filename,
                    source=FeedImport.Source.UPLOAD,
                    status=FeedImport.Status.CHECKED,
                    by=request.user,
                    stored_file=stored,
                    counts=summary,
                )
            return render(
                request,
                "people/check.html",
                {
                    "plan": plan,
                    "counts": summary,
                    "checked": checked,
                    "changed": plan.changed[:SHOWN],
                    "leavers": [x for x in plan.leavers if x.action != "waiting"][:SHOWN],
                    "problems": plan.problems[:SHOWN],
                    "shown": SHOWN,
                },
            )
    return _upload_page(request, form)


@require_POST
@require("people.import_people")
def feed_confirm(request, import_id: int):
    """Write a checked file in the background; only the person who checked it may."""
    upload = get_object_or_404(
        FeedImport, pk=import_id, by=request.user, status=FeedImport.Status.CHECKED
    )
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
