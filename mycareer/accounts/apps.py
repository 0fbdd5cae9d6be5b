from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mycareer.accounts"
    label = "accounts"
    verbose_name = "People, units, access and training"

    def ready(self) -> None:
        from mycareer.accounts import checks, jobs, permissions, tasks  # noqa: F401 (checks)
        from mycareer.accounts.audit_details import profile_details, training_details
        from mycareer.accounts.dashboard import access_panel, student_panel
        from mycareer.accounts.demo import seed_staff_profiles, seed_university
        from mycareer.accounts.notifications import NotificationKind, register_notification_kind
        from mycareer.accounts.privacy import (
            old_failed_emails_due,
            old_sent_markers_due,
            personal_data,
            remove_email_records,
        )
        from mycareer.audit.personal_data import register_personal_data
        from mycareer.audit.registry import register_actions, register_details
        from mycareer.audit.retention import RetentionRule, register_retention_rule
        from mycareer.core.mail import EMAIL_RECORDS_KEPT_IN_WORDS
        from mycareer.core.registry import (
            DashboardPanel,
            MediaArea,
            NavItem,
            SeedStep,
            register_jobs,
            register_media_area,
            register_nav,
            register_panel,
            register_seed,
        )

        register_actions(
            {
                "accounts.access.granted": "Access level granted",
                "accounts.access.revoked": "Access revoked",
                "accounts.training_session.created": "Training session scheduled",
                "accounts.training.booked": "Booked onto training",
                "accounts.training.cancelled": "Training booking cancelled",
                "accounts.training.recorded": "Training attendance recorded",
                "accounts.terms.published": "New terms of use published",
                "accounts.terms.accepted": "Terms of use accepted",
                "accounts.signin.unlocked": "Failed sign-ins cleared by an administrator",
                "accounts.signin.unlocked_by_reset": "Failed sign-ins cleared by a password reset",
                "core.task.retried": "Failed email tried again",
                "accounts.profile.changed": "Staff profile changed",
                "accounts.sso.created": "First sign-in through the university",
                "accounts.sso.updated": "Details changed at the university's sign-in",
            }
        )
        register_details(["accounts.profile.changed"], profile_details)
        register_details(
            ["accounts.training.booked", "accounts.training.cancelled"], training_details
        )
        register_nav(
            NavItem("My access", "accounts:my_access", permissions.is_staff_member, order=80)
        )
        register_nav(
            NavItem("Access", "accounts:access_list", permissions.can_administer, order=90)
        )
        register_panel(
            DashboardPanel(
                "accounts/panels/access.html", access_panel, order=90, label="Your access"
            )
        )
        register_panel(
            DashboardPanel(
                "accounts/panels/student.html", student_panel, order=10, label="Your studies"
            )
        )
        register_seed(SeedStep("university", seed_university, order=10))
        register_seed(SeedStep("staff profiles", seed_staff_profiles, order=11))
        register_jobs(jobs.JOBS)
        register_personal_data("logins", personal_data)
        register_retention_rule(
            RetentionRule(
                "Records of emails sent (to whom each list went)",
                f"{EMAIL_RECORDS_KEPT_IN_WORDS} after sending",
                old_sent_markers_due,
                remove_email_records,
            )
        )
        register_retention_rule(
            RetentionRule(
                "Emails that failed for good",
                f"{EMAIL_RECORDS_KEPT_IN_WORDS} after failing",
                old_failed_emails_due,
                remove_email_records,
            )
        )
        register_notification_kind(
            NotificationKind(tasks.TRAINING_EXPIRY, "Your own training running out", optional=False)
        )
        # Staff photos are shown to colleagues only (key accounts, liaison requests).
        register_media_area(MediaArea("people/", may_read=permissions.is_staff_member))

        from allauth.account.signals import password_reset

        from mycareer.accounts.signin import unlock_after_password_reset

        password_reset.connect(unlock_after_password_reset, dispatch_uid="mycareer-signin-reset")

        from allauth.mfa.signals import authentication_failed

        from mycareer.accounts.signin import second_factor_failed

        authentication_failed.connect(second_factor_failed, dispatch_uid="mycareer-signin-code")
