from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "mycareer.operations"
    label = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django_tasks.signals import task_finished

        from mycareer.accounts.notifications import NotificationKind, register_notification_kind
        from mycareer.core.registry import register_jobs
        from mycareer.core.retry import on_given_up
        from mycareer.operations import (
            alerts,
            jobs,
            permissions,  # noqa: F401 (registers rules)
        )

        register_jobs(jobs.JOBS)
        register_notification_kind(
            NotificationKind(
                alerts.TASK_FAILED, "Background tasks that failed", optional=False, at_once=True
            )
        )
        # A task that raised, and an email task given up after its retries (which the
        # worker records as finished): either one alerts the administrators.
        task_finished.connect(alerts.on_task_finished, dispatch_uid="operations.task_failed")
        on_given_up(alerts.on_email_task_given_up)
