from django.apps import AppConfig
from django.conf import settings


class BookingsConfig(AppConfig):
    name = "mycareer.bookings"
    label = "bookings"
    verbose_name = "Bookings, waiting lists and attendance"

    def ready(self) -> None:
        from mycareer.accounts.permissions import can_edit_records, is_student
        from mycareer.audit.personal_data import register_personal_data
        from mycareer.audit.registry import (
            register_actions,
            register_details,
            registered_actions,
        )
        from mycareer.audit.retention import RetentionRule, register_retention_rule
        from mycareer.bookings import (
            audit_details,
            jobs,
            permissions,  # noqa: F401 (registers rules)
        )
        from mycareer.bookings.dashboard import staff_panel, student_panel
        from mycareer.bookings.demo import seed_bookings
        from mycareer.bookings.event_form import places_part
        from mycareer.bookings.privacy import (
            bans_after_graduation_due,
            bookings_after_graduation_due,
            personal_data,
            remove_rows,
            waitlist_after_graduation_due,
        )
        from mycareer.bookings.selectors import (
            booked_events_for_feed,
            bookings_timeline_source,
            cancellation_figures,
            events_with_a_place_of,
            people_at,
        )
        from mycareer.bookings.services import (
            MERGE_HANDLER,
            booking_opening,
            end_with_event,
            follow_new_times,
        )
        from mycareer.bookings.tickets import downloaded_sequence
        from mycareer.core.registry import (
            DashboardPanel,
            NavItem,
            SeedStep,
            register_jobs,
            register_nav,
            register_panel,
            register_seed,
        )
        from mycareer.core.text import counted
        from mycareer.events.registry import (
            CancellationHandler,
            register_cancellation_handler,
            register_event_form_part,
            register_move_handler,
            register_people_source,
            register_personal_feed_source,
            register_places_source,
            register_sequence_source,
            register_start_bound,
        )
        from mycareer.organisations.merging import register_merge_handler
        from mycareer.organisations.timeline import register_timeline_source

        register_actions(
            {
                "bookings.booking.created": "Place booked",
                "bookings.booking.promoted": "Booked from the waiting list",
                "bookings.booking.cancelled": "Booking cancelled",
                "bookings.booking.ended_with_event": "Place ended: the event was cancelled",
                "bookings.booking.moved": "Booking moved to another event",
                "bookings.booking.checked_in": "Checked in",
                "bookings.booking.check_in_undone": (
                    "Check-in undone: the event moved to a later start"
                ),
                "bookings.booking.check_in_reversed": "Check-in undone by staff",
                "bookings.booking.walk_in": "Walk-in checked in",
                "bookings.booking.restriction_overridden": (
                    "Place given by staff despite a restriction on booking (no-shows)"
                ),
                "bookings.waitlist.joined": "Joined the waiting list",
                "bookings.waitlist.offered": "Offered a place from the waiting list",
                "bookings.waitlist.accepted": "Offer of a place accepted",
                "bookings.waitlist.expired": "Offer of a place not taken up",
                "bookings.waitlist.offer_withdrawn": (
                    "Offer of a place taken back: the student cannot book (no-shows); "
                    "their turn kept"
                ),
                "bookings.waitlist.offer_shortened": (
                    "Offer of a place shortened: the event moved earlier"
                ),
                "bookings.waitlist.left": "Left the waiting list",
                "bookings.waitlist.restored": (
                    "Waiting-list place given back: the walk-in it was used for was undone"
                ),
                "bookings.waitlist.moved": "Waiting-list place moved to another event",
                "bookings.waitlist.ended_with_event": (
                    "Waiting-list place ended: the event was cancelled"
                ),
                "bookings.settings.changed": "Booking settings changed",
                "bookings.settings.set": "Booking settings set with the event",
                "bookings.attendance.closed": "Attendance closed",
                "bookings.followup.sent": "No-shows emailed",
                "bookings.report.exported": "Attendance report downloaded",
                "bookings.report.sent": "Attendance report sent to employers",
                "bookings.policy.changed": "No-show policy changed",
                "bookings.ban.started": "Booking restriction started (no-shows)",
                "bookings.ban.lifted": "Booking restriction lifted",
            }
        )
        register_details(
            [action for action in registered_actions() if action.startswith("bookings.")],
            audit_details.audit_details,
        )
        register_nav(NavItem("My events", "bookings:my_events", is_student, order=20))
        register_nav(NavItem("Bookings", "bookings:overview", can_edit_records, order=30))
        register_panel(
            DashboardPanel(
                "bookings/panels/student.html", student_panel, order=12, label="Your bookings"
            )
        )
        register_panel(
            DashboardPanel(
                "bookings/panels/staff.html", staff_panel, order=15, label="Your events this week"
            )
        )
        register_timeline_source("bookings", bookings_timeline_source, staff_only=False)
        register_personal_feed_source(booked_events_for_feed, name="bookings")
        register_places_source(events_with_a_place_of, name="bookings")
        register_cancellation_handler(
            CancellationHandler(describe=cancellation_figures, end=end_with_event),
            name="bookings",
        )
        register_people_source(people_at, name="bookings")
        register_sequence_source(downloaded_sequence, name="bookings")
        register_start_bound(booking_opening, name="bookings")
        register_move_handler(follow_new_times, name="bookings")
        register_event_form_part(places_part, name="bookings")
        register_jobs(jobs.JOBS)
        register_seed(SeedStep("bookings", seed_bookings, order=60))
        register_personal_data("bookings", personal_data)
        years = settings.MYCAREER["BOOKINGS_KEPT_YEARS_AFTER_GRADUATION"]
        kept = (
            f"{counted(years, 'year', 'years')} after the student's expected graduation"
            " (events that ended)"
        )
        register_retention_rule(
            RetentionRule("Bookings", kept, bookings_after_graduation_due, remove_rows)
        )
        register_retention_rule(
            RetentionRule("Waiting-list places", kept, waitlist_after_graduation_due, remove_rows)
        )
        register_retention_rule(
            RetentionRule(
                "Booking restrictions",
                f"{counted(years, 'year', 'years')} after the student's expected graduation"
                " (restrictions that ended)",
                bans_after_graduation_due,
                remove_rows,
            )
        )
        register_merge_handler(MERGE_HANDLER)
