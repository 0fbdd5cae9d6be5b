from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OrganisationsConfig(AppConfig):
    name = "mycareer.organisations"
    label = "organisations"
    verbose_name = "Organisations, contacts and notes"

    def ready(self) -> None:
        from mycareer.accounts.notifications import NotificationKind, register_notification_kind
        from mycareer.accounts.permissions import (
            can_edit_records,
            can_view_staff_pages,
            is_student,
        )
        from mycareer.audit.personal_data import register_personal_data
        from mycareer.audit.registry import (
            register_actions,
            register_details,
            registered_actions,
        )
        from mycareer.audit.retention import RetentionRule, register_retention_rule
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
        from mycareer.organisations import (
            audit_details,
            jobs,
            kept_counts,
            permissions,  # noqa: F401 (registers rules)
            tasks,
        )
        from mycareer.organisations.dashboard import (
            employer_panel,
            follow_ups_panel,
            registrations_panel,
        )
        from mycareer.organisations.demo import (
            seed_key_accounts,
            seed_logos,
            seed_organisations,
            seed_privacy_requests,
            seed_registrations,
        )
        from mycareer.organisations.merging import register_merge_handler
        from mycareer.organisations.permissions import (
            has_a_contact_record,
            signs_in_for_an_organisation,
        )
        from mycareer.organisations.privacy import (
            declined_registrations_due,
            forget_declined_registrations,
            personal_data,
        )
        from mycareer.organisations.registration import REGISTRATIONS_MERGE_HANDLER
        from mycareer.organisations.search_index import repair_after_migrate
        from mycareer.organisations.selectors import note_timeline_source
        from mycareer.organisations.services import MERGE_HANDLER
        from mycareer.organisations.timeline import register_timeline_source

        register_actions(
            {
                "organisations.organisation.created": "Organisation created",
                "organisations.organisation.changed": "Organisation changed",
                "organisations.organisation.tagged": "Organisation tags changed",
                "organisations.organisation.archived": "Organisation archived",
                "organisations.organisation.restored": "Organisation restored",
                "organisations.organisation.deleted": "Organisation deleted",
                "organisations.organisation.merged": "Organisations merged",
                "organisations.organisation.merged_away": "Merged into another record",
                "organisations.organisation.exported": "Organisations exported",
                "organisations.organisation.imported": "Organisations imported",
                "organisations.contact.created": "Contact added",
                "organisations.contact.changed": "Contact changed",
                "organisations.contact.deleted": "Contact deleted",
                "organisations.contact.opted_out": "Contact opted out of email",
                "organisations.contact.opted_in": "Contact opted back in to email",
                "organisations.note.created": "Note recorded",
                "organisations.note.changed": "Note changed",
                "organisations.note.deleted": "Note deleted",
                "organisations.note.follow_up_done": "Follow-up done",
                "organisations.organisation.multi_touch": "Multi-touch status changed",
                "organisations.key_account.created": "Key account created",
                "organisations.key_account.reassigned": "Key account reassigned",
                "organisations.key_account.deleted": "Key account ended",
                "organisations.key_contact.marked": "Key contact marked",
                "organisations.key_contact.changed": "Key contact guidance changed",
                "organisations.key_contact.unmarked": "Key contact released",
                "organisations.liaison.requested": "Liaison requested",
                "organisations.liaison.approved": "Liaison agreed",
                "organisations.liaison.declined": "Liaison declined",
                "organisations.liaison.withdrawn": "Liaison request withdrawn",
                "organisations.registration.created": "Employer registered",
                "organisations.registration.approved": "Registration approved",
                "organisations.registration.declined": "Registration declined",
                "organisations.registration.withdrawn": "Registration withdrawn",
                "organisations.invitation.created": "Colleague invited",
                "organisations.invitation.accepted": "Invitation accepted",
                "organisations.invitation.withdrawn": "Invitation withdrawn",
                "organisations.membership.admin_granted": "Made an administrator",
                "organisations.membership.admin_removed": "No longer an administrator",
                "organisations.membership.ended": "Membership ended",
                "organisations.membership.erased_last_administrator": (
                    "Left with no administrator by an erasure"
                ),
                "organisations.saved_search.created": "Search saved",
                "organisations.saved_search.deleted": "Saved search deleted",
            }
        )
        # What its entries record by id (organisations, contacts) reads by name.
        register_details(
            [action for action in registered_actions() if action.startswith("organisations.")],
            audit_details.audit_details,
        )
        register_nav(
            NavItem("Organisations", "organisations:search", can_view_staff_pages, order=10)
        )
        register_nav(
            NavItem("My activity", "organisations:my_activity", can_edit_records, order=70)
        )
        register_panel(
            DashboardPanel(
                "organisations/panels/follow_ups.html",
                follow_ups_panel,
                order=20,
                label="Your follow-ups",
            )
        )
        register_panel(
            DashboardPanel(
                "organisations/panels/employer.html",
                employer_panel,
                order=5,
                label="Your organisation",
            )
        )
        register_panel(
            DashboardPanel(
                "organisations/panels/registrations.html",
                registrations_panel,
                order=25,
                label="Employer registrations",
            )
        )
        register_nav(
            NavItem("Registrations", "organisations:registrations", can_edit_records, order=60)
        )
        register_nav(NavItem("Employers", "directory:list", is_student, order=25))
        # Only for those who sign in for an organisation now: a colleague who was removed, or
        # one whose request to join waits, was offered pages that refused them.
        for label, url_name, order in (
            ("Our profile", "employer:profile", 10),
            ("Our people", "employer:contacts", 11),
            ("Our activity", "employer:activity", 12),
        ):
            register_nav(NavItem(label, url_name, signs_in_for_an_organisation, order=order))
        register_nav(
            NavItem("Email preferences", "employer:preferences", has_a_contact_record, order=13)
        )
        register_timeline_source("notes", note_timeline_source, staff_only=True)
        register_seed(SeedStep("organisations", seed_organisations, order=20))
        register_seed(SeedStep("logos", seed_logos, order=21))
        register_seed(SeedStep("key accounts", seed_key_accounts, order=25))
        register_seed(SeedStep("employer registrations", seed_registrations, order=26))
        register_seed(SeedStep("personal data requests", seed_privacy_requests, order=27))
        post_migrate.connect(
            repair_after_migrate, sender=self, dispatch_uid="organisations.search_index"
        )
        post_migrate.connect(
            kept_counts.repair_after_migrate, sender=self, dispatch_uid="organisations.kept_counts"
        )
        register_jobs(jobs.JOBS)
        register_personal_data("contact records", personal_data)
        # Logos are public: shown on profiles that anyone may see.
        register_media_area(MediaArea("logos/"))
        for code, label in (
            (tasks.LIAISON_REQUEST, "Requests from colleagues to contact your key contacts"),
            (tasks.LIAISON_DECISION, "Answers to your requests to contact a key contact"),
            (tasks.INBOUND_CONTACT, "Your key contacts getting in touch with a colleague"),
            (tasks.MULTI_TOUCH, "Your key accounts released or restored by multi-touch"),
        ):
            register_notification_kind(NotificationKind(code, label))
        register_retention_rule(
            RetentionRule(
                "Declined employer registrations",
                "1 year after the decision",
                declined_registrations_due,
                forget_declined_registrations,
            )
        )
        register_merge_handler(MERGE_HANDLER)
        register_merge_handler(REGISTRATIONS_MERGE_HANDLER)
