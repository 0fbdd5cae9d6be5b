from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OrganisationsConfig(AppConfig):
    name = "mycareer.organisations"
    label = "organisations"
    verbose_name = "Organisations, contacts and notes"

    def ready(self) -> None:
        from mycareer.accounts.permissions import can_edit_records, can_view_staff_pages
        from mycareer.audit.registry import register_actions
        from mycareer.core.registry import (
            DashboardPanel,
            NavItem,
            SeedStep,
            register_nav,
            register_panel,
            register_seed,
        )
        from mycareer.organisations import permissions  # noqa: F401 (registers rules)
        from mycareer.organisations.dashboard import follow_ups_panel
        from mycareer.organisations.demo import seed_organisations
        from mycareer.organisations.search_index import repair_after_migrate
        from mycareer.organisations.selectors import note_timeline_source
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
                "organisations.saved_search.created": "Search saved",
                "organisations.saved_search.deleted": "Saved search deleted",
            }
        )
        register_nav(
            NavItem("Organisations", "organisations:search", can_view_staff_pages, order=10)
        )
        register_nav(
            NavItem("My activity", "organisations:my_activity", can_edit_records, order=70)
        )
        register_panel(
            DashboardPanel("organisations/panels/follow_ups.html", follow_ups_panel, order=20)
        )
        register_timeline_source("notes", note_timeline_source, staff_only=True)
        register_seed(SeedStep("organisations", seed_organisations, order=20))
        post_migrate.connect(
            repair_after_migrate, sender=self, dispatch_uid="organisations.search_index"
        )
