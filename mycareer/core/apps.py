from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mycareer.core"
    label = "core"
    verbose_name = "MyCareer core"

    def ready(self) -> None:
        from mycareer.core import tasks
        from mycareer.core.registry import DailyJob, NavItem, register_daily_job, register_nav

        register_nav(NavItem("Home", "home", lambda user: True, order=0))
        # Early, before the day's work: a few seconds on a large SQLite database.
        register_daily_job(
            DailyJob("database-statistics", tasks.refresh_database_statistics, hour=3)
        )
        register_daily_job(DailyJob("prune-old-work", tasks.prune_old_work, hour=3))
