from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "mycareer.events"
    label = "events"
    verbose_name = "Events calendar"

    def ready(self) -> None:
        from mycareer.accounts.notifications import NotificationKind, register_notification_kind
        from mycareer.audit.personal_data import register_personal_data
        from mycareer.audit.registry import (
            register_actions,
            register_details,
            registered_actions,
        )
        from mycareer.core.registry import (
            DashboardPanel,
            NavItem,
            SeedStep,
            register_nav,
            register_panel,
            register_seed,
        )
        from mycareer.events import (
            audit_details,
            permissions,  # noqa: F401 (registers rules)
            tasks,
        )
        from mycareer.events.dashboard import staff_panel, student_panel
        from mycareer.events.demo import seed_events
        from mycareer.events.privacy import personal_data
        from mycareer.events.selectors import event_timeline_source, profile_section
        from mycareer.events.services import MERGE_HANDLER
        from mycareer.organisations.merging import register_merge_handler
        from mycareer.organisations.timeline import (
            ProfileSection,
            register_profile_section,
            register_timeline_source,
        )

        register_actions(
            {
                "events.event.created": "Event created",
                "events.event.changed": "Event changed",
                "events.event.changed_despite_clash": "Event changed despite a clash",
                "events.event.published": "Event published",
                "events.event.published_despite_clash": "Event published despite a clash",
                "events.event.clash_overridden": "Another event went ahead despite a clash",
                "events.event.cancelled": "Event cancelled",
                "events.opening.requested": "Asked to open the event to another unit",
                "events.opening.accepted": "Event opened to another unit",
                "events.opening.declined": "Opening to another unit declined",
                "events.opening.withdrawn": "Request to open the event to another unit withdrawn",
                "events.feed_token.reset": "Private calendar address reset",
            }
        )
        register_details(
            [action for action in registered_actions() if action.startswith("events.")],
            audit_details.audit_details,
        )
        register_nav(
            NavItem("Events", "events:month", lambda user: user.is_authenticated, order=30)
        )
        register_panel(
            DashboardPanel(
                "events/panels/student.html", student_panel, order=15, label="Events for you"
            )
        )
        register_panel(
            DashboardPanel(
                "events/panels/staff.html", staff_panel, order=25, label="Your units' events"
            )
        )
        register_timeline_source("events", event_timeline_source, staff_only=False)
        for code, label in (
            (tasks.CLASH_OVERRIDE, "Events that go ahead despite clashing with yours"),
            (tasks.OPENING_REQUEST, "Requests to open an event to your unit's students"),
            (tasks.OPENING_DECISION, "Answers to your requests to open an event to a unit"),
        ):
            register_notification_kind(NotificationKind(code, label))
        # The people told reply to the organiser: they hear of it first, whatever they chose.
        register_notification_kind(
            NotificationKind(
                tasks.CANCELLED_BY_COLLEAGUE,
                "Your events cancelled by a colleague",
                optional=False,
                at_once=True,
            )
        )
        register_notification_kind(  # As above: they are asked to reply to the organiser.
            NotificationKind(
                tasks.CHANGED_BY_COLLEAGUE,
                "Your events' time or place changed by a colleague",
                optional=False,
                at_once=True,
            )
        )
        register_profile_section(
            "events", ProfileSection("events/includes/profile_section.html", profile_section, 20)
        )
        register_seed(SeedStep("events", seed_events, order=40))
        register_personal_data("events", personal_data)
        register_merge_handler(MERGE_HANDLER)
        # The public feed shows events, their audiences' sharing, units, organisations
        # and topics: a change to any of them is a change to the feed.
        from mycareer.accounts.models import Unit
        from mycareer.core.public_feeds import register_feed, watch
        from mycareer.events.models import Audience, Event, Topic
        from mycareer.events.public_feeds import SPEC as PUBLIC_FEED
        from mycareer.organisations.models import Organisation

        watch(
            "events",
            Event,
            Audience,
            Topic,
            Unit,
            Organisation,
            m2m=[Event.organisations.through, Event.topics.through],
        )
        register_feed(PUBLIC_FEED)
