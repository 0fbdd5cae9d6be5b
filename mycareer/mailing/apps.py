from django.apps import AppConfig


class MailingConfig(AppConfig):
    name = "mycareer.mailing"
    label = "mailing"
    verbose_name = "Bulk email"

    def ready(self) -> None:
        from mycareer.accounts.permissions import can_send_bulk_email, can_view_staff_pages
        from mycareer.audit.personal_data import register_erasure_handler
        from mycareer.audit.registry import register_actions
        from mycareer.audit.retention import RetentionRule, register_retention_rule
        from mycareer.core.mail import EMAIL_RECORDS_KEPT_IN_WORDS
        from mycareer.core.registry import (
            DashboardPanel,
            NavItem,
            SeedStep,
            register_jobs,
            register_nav,
            register_panel,
            register_seed,
        )
        from mycareer.mailing import (
            dashboard,
            jobs,
            permissions,  # noqa: F401 (registers rules)
        )
        from mycareer.mailing.demo import seed_campaigns
        from mycareer.mailing.privacy import (
            clear_campaign_bodies,
            erase_outbox,
            forget_outbox_addresses,
            old_campaign_bodies_due,
            old_outbox_addresses_due,
        )
        from mycareer.mailing.selectors import email_timeline_source
        from mycareer.mailing.services import MERGE_HANDLER
        from mycareer.organisations.merging import register_merge_handler
        from mycareer.organisations.timeline import register_timeline_source

        register_actions(
            {
                "mailing.campaign.created": "Bulk email drafted",
                "mailing.campaign.changed": "Bulk email draft changed",
                "mailing.campaign.recipients_changed": "Bulk email recipients changed",
                "mailing.campaign.left_out": "Contact left out of a bulk email",
                "mailing.campaign.put_back": "Contact put back into a bulk email",
                "mailing.campaign.returned_to_draft": "Bulk email taken back to change",
                "mailing.campaign.submitted": "Bulk email submitted for approval",
                "mailing.campaign.approved": "Bulk email approved",
                "mailing.campaign.queued": "Bulk email sent",
                "mailing.campaign.cancelled": "Bulk email cancelled",
                "mailing.campaign.tested": "Bulk email test sent",
                "mailing.recipients.exported": "Bulk email recipients downloaded",
            }
        )
        register_nav(NavItem("Bulk email", "mailing:campaigns", can_send_bulk_email, order=50))
        register_nav(NavItem("Email chart", "mailing:chart", can_view_staff_pages, order=51))
        register_panel(
            DashboardPanel(
                "mailing/panels/approval.html",
                dashboard.approval_panel,
                order=24,
                label="Bulk email to approve",
            )
        )
        register_timeline_source("emails", email_timeline_source, staff_only=False)
        register_jobs(jobs.JOBS)
        register_seed(SeedStep("bulk email", seed_campaigns, order=70))
        register_erasure_handler("outbox addresses", erase_outbox)
        kept = f"{EMAIL_RECORDS_KEPT_IN_WORDS} after sending"
        register_retention_rule(
            RetentionRule(
                "Bulk email message bodies", kept, old_campaign_bodies_due, clear_campaign_bodies
            )
        )
        register_retention_rule(
            RetentionRule(
                "Bulk email recipients' addresses",
                kept,
                old_outbox_addresses_due,
                forget_outbox_addresses,
            )
        )
        register_merge_handler(MERGE_HANDLER)
