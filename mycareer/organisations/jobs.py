"""Work the organisations app gives the worker: imports, and the night's folding of the
kept counts of organisations."""

from django_tasks import task

from mycareer.core.registry import DailyJob
from mycareer.organisations import imports, kept_counts


@task()
def check_import(*, user_id: int, file: str, filename: str) -> dict:
    """Read and check a large uploaded file in the worker, never in a web request."""
    return imports.check_pending(user_id=user_id, file=file, filename=filename)


@task()
def import_organisations(
    *, user_id: int, file: str, filename: str, fingerprint: str, create_anyway: list[int]
) -> dict:
    """Write a large confirmed import in the worker: every row, or none."""
    return imports.run_pending(
        user_id=user_id,
        file=file,
        filename=filename,
        fingerprint=fingerprint,
        create_anyway=create_anyway,
    )


@task()
def compact_kept_counts() -> dict[str, int]:
    """Nightly: fold each kept count's rows into one (`organisations.kept_counts.compact`)."""
    return kept_counts.compact()


JOBS = (DailyJob("kept counts", compact_kept_counts, hour=4),)
