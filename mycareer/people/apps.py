from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "mycareer.people"
    label = "people"
    verbose_name = "People from the student record system"

    def ready(self) -> None:
        from mycareer.audit.personal_data import register_personal_data
        from mycareer.audit.registry import register_actions
        from mycareer.core.registry import NavItem, SeedStep, register_nav, register_seed
        from mycareer.people import permissions
        from mycareer.people.demo import seed_feed
        from mycareer.people.privacy import personal_data

        register_actions(
            {
                "people.person.created": "Added from the student record system",
                "people.person.updated": "Updated from the student record system",
                "people.person.left": "Left: no longer in the student record system",
                "people.person.returned": "Back in the student record system",
                "people.feed.imported": "Student record file imported",
            }
        )
        register_nav(NavItem("People feed", "people:import", permissions.can_import, order=92))
        register_personal_data("student record system", personal_data)
        # After the university's people (10, 11), before anything that reads them.
        register_seed(SeedStep("student record feed", seed_feed, order=12))
