"""A booking's entries in the audit trail name the event, not its id."""

import pytest

from mycareer.audit.models import AuditEntry
from mycareer.events.tests.factories import at, far_monday, make_event

pytestmark = pytest.mark.django_db


def test_an_event_recorded_by_id_alone_reads_as_its_title(persona):
    event = make_event(by=persona("operator"), title="Robots", starts_at=at(far_monday(), 10))
    offered = AuditEntry(
        action="bookings.waitlist.offered", data={"event": event.pk, "was": "waiting"}
    )
    gone = AuditEntry(action="bookings.booking.checked_in", data={"event": 999999})
    titled = AuditEntry(
        action="bookings.booking.created", data={"event": event.pk, "title": "Robots"}
    )
    assert offered.details == [("event", "Robots"), ("was", "waiting")]
    assert gone.details == [("event", "(removed, number 999999)")]
    assert titled.details == [("title", "Robots")]
