"""The worker's part of an uploaded feed file: checking a large one, and writing it
through the services (so these are jobs, not tasks that only read and email).

A full university's file takes many seconds to check and more to write: longer than a
web request should wait, so both happen here, off the request path.
"""

import logging

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tasks import task

from mycareer.core.logs import log_event, logged_job
from mycareer.people.feed import plan_feed
from mycareer.people.models import FeedImport
from mycareer.people.services import feed_import

# Uploaded files wait here between the check and the write.
STORAGE_DIR = "people-feed"
logger = logging.getLogger(__name__)


def store_file(upload: FeedImport, data: bytes) -> None:
    default_storage.save(f"{STORAGE_DIR}/{upload.stored_file}", ContentFile(data))


def _read(upload: FeedImport) -> bytes:
    with default_storage.open(f"{STORAGE_DIR}/{upload.stored_file}", "rb") as stored:
        return stored.read()


def discard_file(upload: FeedImport) -> None:
    if upload.stored_file:
        default_storage.delete(f"{STORAGE_DIR}/{upload.stored_file}")
        upload.stored_file = ""


def _failed(upload: FeedImport, message: str) -> None:
    discard_file(upload)
    upload.status = FeedImport.Status.FAILED
    upload.error = message
    upload.finished_at = timezone.now()
    upload.save()


def check_stored(upload: FeedImport, data: bytes | None = None) -> None:
    """Dry-run the uploaded file and keep on its record what importing it would do."""
    try:
        plan = plan_feed(data=_read(upload) if data is None else data, filename=upload.filename)
    except ValidationError as error:
        _failed(upload, " ".join(error.messages))
        return
    except FileNotFoundError:
        _failed(upload, "The uploaded file is no longer there: upload it again.")
        return
    record_check(upload, plan)


def record_check(upload: FeedImport, plan) -> None:
    """Keep on the upload's record what importing it would do; drop a file with no work."""
    upload.counts = plan.summary()
    upload.status = FeedImport.Status.CHECKED
    if not plan.has_work:
        discard_file(upload)
    upload.save()


@task()
def check_feed_file(*, import_id: int) -> str:
    """Check a large upload in the worker, never in a web request."""
    upload = FeedImport.objects.filter(pk=import_id, status=FeedImport.Status.CHECKING).first()
    if upload is None:
        log_event(logger, "people.check.gone", import_id=import_id)
        return "gone"
    with logged_job(logger, "people.check", import_id=import_id):
        check_stored(upload)
    return upload.status


@task()
def import_feed_file(*, import_id: int) -> str:
    """Write a confirmed upload (checked again against MyCareer as it is now)."""
    upload = (
        FeedImport.objects.select_related("by")
        .filter(pk=import_id, status=FeedImport.Status.QUEUED)
        .first()
    )
    if upload is None:
        log_event(logger, "people.import.gone", import_id=import_id)
        return "gone"
    try:
        data = _read(upload)
        feed_import(
            data=data,
            filename=upload.filename,
            by=upload.by,
            source=upload.source,
            feed_import=upload,
        )
    except ValidationError as error:
        _failed(upload, " ".join(error.messages))
        return "failed"
    except FileNotFoundError:
        _failed(upload, "The uploaded file is no longer there: upload it again.")
        return "failed"
    except Exception:
        _failed(upload, "Something went wrong while writing, so every change was undone.")
        raise
    discard_file(upload)
    upload.save(update_fields=["stored_file"])
    return "done"


JOBS = ()
