from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_cache_table(sender, using: str = "default", **kwargs) -> None:
    """The database cache's table comes with `migrate`, so no deployment forgets it."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class CoreConfig(AppConfig):
    name = "mycareer.core"
    label = "core"
    verbose_name = "MyCareer core"

    def ready(self) -> None:
        from django_tasks.signals import task_finished, task_started

        from mycareer.core import jobs
        from mycareer.core.logs import log_task_finished, log_task_started
        from mycareer.core.registry import NavItem, register_jobs, register_nav

        register_nav(NavItem("Home", "home", lambda user: True, order=0))
        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="core.cache_table")
        # Every background task leaves a start line and an outcome line with its duration.
        task_started.connect(log_task_started, dispatch_uid="core.log_task_started")
        task_finished.connect(log_task_finished, dispatch_uid="core.log_task_finished")
        # Early, before the day's work: a few seconds on a large SQLite database.
        register_jobs(jobs.JOBS)
