from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "mycareer.events"
    label = "events"
    verbose_name = "Events calendar"

    def ready(self) -> None:
        from mycareer.audit.registry import register_actions
        from mycareer.core.registry import SeedStep, register_seed
        from mycareer.events import permissions  # noqa: F401 (registers rules)
        from mycareer.events.demo import seed_events

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
                "events.feed_token.reset": "Private calendar address reset",
            }
        )
        register_seed(SeedStep("events", seed_events, order=40))
