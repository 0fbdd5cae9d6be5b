from django.apps import AppConfig


class VacanciesConfig(AppConfig):
    name = "mycareer.vacancies"
    label = "vacancies"
    verbose_name = "Vacancies and their moderation"

    def ready(self) -> None:
        from django.urls import reverse

        from mycareer.accounts.permissions import can_edit_records, is_employer, is_student
        from mycareer.audit.personal_data import register_personal_data
        from mycareer.audit.registry import register_actions, register_details
        from mycareer.core.registry import (
            DashboardPanel,
            NavItem,
            SeedStep,
            register_jobs,
            register_nav,
            register_panel,
            register_seed,
        )
        from mycareer.organisations.merging import register_merge_handler
        from mycareer.organisations.timeline import (
            ProfileAction,
            ProfileSection,
            register_profile_action,
            register_profile_section,
            register_timeline_source,
        )
        from mycareer.vacancies import (
            dashboard,
            jobs,
            permissions,  # noqa: F401 (registers rules)
            selectors,
        )
        from mycareer.vacancies.demo import seed_vacancies
        from mycareer.vacancies.forms import may_post_for
        from mycareer.vacancies.privacy import personal_data
        from mycareer.vacancies.services import MERGE_HANDLER

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
        register_details(selectors.DETAILED_ACTIONS, selectors.audit_details)
        # Early, before people start work. Students stop seeing a vacancy at midnight
        # anyway (the lists compare closing dates with today); the job records it.
        register_jobs(jobs.JOBS)
        register_nav(NavItem("Vacancies", "vacancies:list", is_student, order=30))
        register_nav(NavItem("Vacancies", "vacancies:mine", is_employer, order=30))
        register_nav(
            NavItem("Vacancy moderation", "vacancies:moderation", can_edit_records, order=40)
        )
        register_panel(
            DashboardPanel(
                "vacancies/panels/student.html",
                dashboard.student_panel,
                order=15,
                label="Vacancies for you",
            )
        )
        register_panel(
            DashboardPanel(
                "vacancies/panels/employer.html",
                dashboard.employer_panel,
                order=15,
                label="Your vacancies",
            )
        )
        register_panel(
            DashboardPanel(
                "vacancies/panels/moderation.html",
                dashboard.moderation_panel,
                order=25,
                label="Vacancy moderation",
            )
        )
        # Not staff-only: the employer's own activity view shows their vacancies' story too.
        register_timeline_source("vacancies", selectors.vacancy_timeline_source, staff_only=False)
        register_seed(SeedStep("vacancies", seed_vacancies, order=50))
        register_profile_section(
            "vacancies",
            ProfileSection(
                "vacancies/includes/profile_section.html", selectors.profile_section, 10
            ),
        )
        register_profile_action(
            "post-vacancy",
            ProfileAction(
                "Post a vacancy",
                lambda organisation: f"{reverse('vacancies:post')}?organisation={organisation.pk}",
                can_edit_records,
                # The form offers no archived record: the link opened it with none chosen.
                may_post_for,
            ),
        )
        register_personal_data("vacancies", personal_data)
        register_merge_handler(MERGE_HANDLER)
        # The public feed shows vacancies and their organisations' names.
        from mycareer.core.public_feeds import register_feed, watch
        from mycareer.organisations.models import Organisation
        from mycareer.vacancies.models import Vacancy
        from mycareer.vacancies.public_feeds import SPEC as PUBLIC_FEED

        watch(
            "vacancies",
            Vacancy,
            Organisation,
            m2m=[Vacancy.target_units.through, Vacancy.target_programmes.through],
        )
        register_feed(PUBLIC_FEED)
