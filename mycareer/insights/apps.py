from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "mycareer.insights"
    label = "insights"
    verbose_name = "Opportunities for relationship development"

    def ready(self) -> None:
        from mycareer.accounts.notifications import NotificationKind, register_notification_kind
        from mycareer.accounts.permissions import can_view_staff_pages
        from mycareer.audit.personal_data import register_personal_data
        from mycareer.audit.registry import register_actions
        from mycareer.core.registry import (
            NavItem,
            SeedStep,
            register_jobs,
            register_nav,
            register_seed,
        )
        from mycareer.insights import (
            jobs,
            permissions,  # noqa: F401 (registers rules)
        )
        from mycareer.insights.demo import seed_insights
        from mycareer.insights.digest import WEEKLY
        from mycareer.insights.privacy import personal_data
        from mycareer.insights.profile import score_section
        from mycareer.insights.services import MERGE_HANDLER
        from mycareer.organisations.merging import register_merge_handler
        from mycareer.organisations.timeline import ProfileSection, register_profile_section

        register_jobs(jobs.JOBS)
        register_notification_kind(
            NotificationKind(
                WEEKLY,
                "Weekly: follow-ups due, key accounts going quiet, opportunities for your units",
            )
        )
        register_profile_section(
            "engagement score",
            ProfileSection("insights/includes/score_section.html", score_section, 30, staff=True),
        )
        register_merge_handler(MERGE_HANDLER)
        register_personal_data("insights", personal_data)
        register_actions(
            {
                "insights.opportunity.followed_up": "Follow-up recorded from an opportunity",
                "insights.opportunity.dismissed": "Opportunity dismissed",
            }
        )
        register_nav(NavItem("Opportunities", "insights:mine", can_view_staff_pages, order=65))
        register_seed(SeedStep("insights", seed_insights, order=90))
