"""The worker's part of an uploaded feed file: writing it, off the request path."""

import logging

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tasks import task

from mycareer.core.logs import log_event
from mycareer.people.models import FeedImport
from mycareer.people.services import feed_import

# Uploaded files wait here between the check and the write.
STORAGE_DIR = "people-feed"
logger = logging.getLogger(__name__)


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
    path = f"{STORAGE_DIR}/{upload.stored_file}"
    try:
        with default_storage.open(path, "rb") as stored:
            data = stored.read()
        feed_import(
            data=data,
            filename=upload.filename,
            by=upload.by,
            source=upload.source,
            feed_import=upload,
        )
    except (ValidationError, FileNotFoundError) as error:
        messages = getattr(error, "messages", ["The uploaded file is no longer there."])
        FeedImport.objects.filter(pk=upload.pk).update(
            status=FeedImport.Status.FAILED, error=" ".join(messages), finished_at=timezone.now()
        )
        return "failed"
    except Exception:
        FeedImport.objects.filter(pk=upload.pk).update(
            status=FeedImport.Status.FAILED,
            error="Something went wrong while writing, so every change was undone.",
            finished_at=timezone.now(),
        )
        raise
    finally:
        default_storage.delete(path)
    return "done"
