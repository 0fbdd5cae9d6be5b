from django.apps import AppConfig


class UsergroupConfig(AppConfig):
    name = "mycareer.usergroup"
    label = "usergroup"
    verbose_name = "Super User Group"

    def ready(self) -> None:
        from mycareer.accounts.notifications import NotificationKind, register_notification_kind
        from mycareer.accounts.permissions import is_staff_member
        from mycareer.audit.personal_data import register_personal_data
        from mycareer.audit.registry import register_actions
        from mycareer.core.registry import (
            DashboardPanel,
            MediaArea,
            NavItem,
            SeedStep,
            register_media_area,
            register_nav,
            register_panel,
            register_seed,
        )
        from mycareer.usergroup import (
            permissions,  # noqa: F401 (registers rules)
            tasks,
        )
        from mycareer.usergroup.dashboard import announcements_panel
        from mycareer.usergroup.demo import seed_usergroup
        from mycareer.usergroup.privacy import personal_data

        register_actions(
            {
                "usergroup.representative.appointed": "Faculty representative named",
                "usergroup.announcement.published": "Announcement published",
                "usergroup.feedback.logged": "Fault or idea logged",
                "usergroup.feedback.triaged": "Fault or idea triaged",
            }
        )
        register_nav(NavItem("Super User Group", "usergroup:group", is_staff_member, order=85))
        register_panel(
            DashboardPanel(
                "usergroup/panels/announcements.html",
                announcements_panel,
                order=1,
                label="Announcements",
            )
        )
        register_seed(SeedStep("super user group", seed_usergroup, order=80))
        register_personal_data("Super User Group", personal_data)
        # Screenshots attached to faults may show anything on a staff page: staff only.
        register_media_area(MediaArea("feedback/", may_read=is_staff_member))
        for code, label in (
            (tasks.ANNOUNCEMENT, "Announcements to all staff (also on your home page)"),
            (tasks.FEEDBACK_LOGGED, "Faults and ideas logged for your faculty (representatives)"),
            (tasks.FEEDBACK_TRIAGED, "What the Super User Group decided about one you logged"),
        ):
            register_notification_kind(NotificationKind(code, label))
