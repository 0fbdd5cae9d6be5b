"""Work the organisations app gives the worker that writes through its services: imports."""

from django_tasks import task

from mycareer.organisations import imports


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


JOBS = ()
