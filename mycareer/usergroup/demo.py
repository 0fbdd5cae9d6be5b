"""The Super User Group: a representative per faculty, announcements, and logged requests."""

from mycareer.usergroup import services
from mycareer.usergroup.models import Feedback, Representative


def seed_usergroup(cast: dict) -> None:
    if Representative.objects.exists():
        return
    admin, staff, units = cast["admin"], cast["staff"], cast["units"]
    helen, grace, rachel = (
        staff["manager@demo.ac.uk"],
        staff["mailer@demo.ac.uk"],
        staff["expiring@demo.ac.uk"],
    )
    for unit, person in (("eps", helen), ("business", grace), ("ahc", rachel)):
        services.representative_appoint(unit=units[unit], user=person, by=admin)
    services.announcement_publish(
        by=admin,
        kind="policy",
        title="Usage policy version 2.1 is in force",
        body=(
            "Version 2.1 of the MyCareer policy asks everyone to record every meaningful "
            "engagement in an organisation's notes and to liaise with the key account operator "
            "before contacting a key contact (marked *). Please accept the updated terms when asked."
        ),
    )
    services.announcement_publish(
        by=helen,
        kind="update",
        title="New: the events calendar checks for clashes",
        body=(
            "Before you publish an event, MyCareer now lists events close in time that target "
            "the same students or involve similar employers, and says why each is a clash."
        ),
    )
    operator, viewer = staff["operator@demo.ac.uk"], staff["viewer@demo.ac.uk"]
    first = services.feedback_log(
        by=operator,
        kind=Feedback.Kind.IMPROVEMENT,
        title="Let me add several contacts to a note at once from the contact list",
        description="When I record a meeting with four people, ticking each is slow on a phone.",
        page="/organisations/",
    )
    services.feedback_vote(feedback=first, by=viewer)
    services.feedback_vote(feedback=first, by=grace)
    second = services.feedback_log(
        by=viewer,
        kind=Feedback.Kind.FAULT,
        title="Calendar week view is hard to read on my phone",
        description="The event titles are cut off in the week view at phone width.",
        page="/events/",
    )
    services.feedback_triage(
        feedback=second,
        status=Feedback.Status.ACCEPTED,
        by=helen,
        comment="Thanks, we can see it too; it is on the list for the next release.",
    )
    services.feedback_log(
        by=grace,
        kind=Feedback.Kind.IMPROVEMENT,
        title="Show how many emails an employer had this term on the profile",
        description="Before a campaign I check the communication chart; a count on the profile would help.",
    )
