from django.apps import AppConfig


class VacanciesConfig(AppConfig):
    name = "mycareer.vacancies"
    label = "vacancies"
    verbose_name = "Vacancies and their moderation"

    def ready(self) -> None:
        from mycareer.audit.registry import register_actions
        from mycareer.core.registry import DailyJob, SeedStep, register_daily_job, register_seed
        from mycareer.vacancies import permissions, tasks  # noqa: F401 (registers rules)
        from mycareer.vacancies.demo import seed_vacancies

        register_actions(
            {
                "vacancies.vacancy.created": "Vacancy drafted",
                "vacancies.vacancy.posted": "Vacancy posted by staff for the employer",
                "vacancies.vacancy.changed": "Vacancy changed",
                "vacancies.vacancy.submitted": "Vacancy sent for moderation",
                "vacancies.vacancy.approved": "Vacancy approved",
                "vacancies.vacancy.rejected": "Vacancy not approved",
                "vacancies.vacancy.edit_proposed": "Changes to a live vacancy sent for moderation",
                "vacancies.vacancy.edit_cancelled": "Changes to a live vacancy cancelled",
                "vacancies.vacancy.edit_approved": "Changes to a vacancy approved",
                "vacancies.vacancy.edit_rejected": "Changes to a vacancy not approved",
                "vacancies.vacancy.withdrawn": "Vacancy withdrawn",
                "vacancies.vacancy.closed": "Vacancy closed after its closing date",
            }
        )
        # Early, before people start work. Students stop seeing a vacancy at midnight
        # anyway (the lists compare closing dates with today); the job records it.
        register_daily_job(
            DailyJob("close-expired-vacancies", tasks.close_expired_vacancies, hour=5)
        )
        register_seed(SeedStep("vacancies", seed_vacancies, order=50))
