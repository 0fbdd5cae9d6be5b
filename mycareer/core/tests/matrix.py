"""Shared pieces of the authorisation matrix: personas, URL enumeration, sample objects."""

import datetime

from django.urls import URLPattern, URLResolver, get_resolver

PERSONAS = [
    "anonymous",
    "student",
    "employer_a",
    "employer_b",
    "viewer",
    "untrained",
    "operator",
    "manager",
    "mailer",
    "admin",
]

# Routes owned by third-party packages or Django itself, tested by them.
SKIPPED_PREFIXES = ("admin/", "accounts/")


def url_routes() -> dict[str, str]:
    """Every named route of the site (namespace:name -> pattern), ours only."""
    routes: dict[str, str] = {}

    def walk(patterns, prefix="", namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace
                full = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), full)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield name, prefix + str(pattern.pattern)

    for name, route in walk(get_resolver().url_patterns):
        if route.startswith(SKIPPED_PREFIXES) or name is None:
            continue
        routes[name] = route
    return routes


def sample_objects(persona) -> dict:
    """One of each object the routes take, made for the routes' arguments.

    Employer A (the demo employer) is the contact and admin of Brightwave Digital;
    employer B of Kestrel Games. Tom (operator, Mechanical Engineering) holds
    Northbridge's key account, whose key contact Grace (mailer) asked to contact; Helen
    (manager, Faculty of Engineering) wrote a note there, organises the fair that Aisha
    (student) booked and asked the Business School to open it; Priya (administrator)
    runs the full session Aisha waits for and the public volunteering fair; Tom
    organises a talk for his school. Grace has a draft campaign. Helen and Grace
    represent their faculties in the Super User Group.
    """
    from django.utils import timezone

    from mycareer.accounts.models import Unit, User
    from mycareer.accounts.tests.factories import TrainingSessionFactory
    from mycareer.bookings import services as bookings
    from mycareer.bookings.tests.factories import make_students
    from mycareer.events import services as events
    from mycareer.events.tests.factories import at, far_monday, make_event
    from mycareer.mailing import services as mailing
    from mycareer.mailing.unsubscribe import make_token
    from mycareer.organisations import keyaccounts, services
    from mycareer.organisations.models import (
        EmployerInvitation,
        EmployerMembership,
        RegistrationRequest,
    )
    from mycareer.organisations.registration import employer_register
    from mycareer.organisations.tests.factories import key_account_with_contact
    from mycareer.usergroup import services as usergroup
    from mycareer.vacancies import services as vacancies
    from mycareer.vacancies.tests.factories import vacancy_fields

    tom, helen, grace, priya = (persona(n) for n in ("operator", "manager", "mailer", "admin"))
    aisha, laura = persona("student"), persona("employer@demo-employer.com")
    units = {unit.code: unit for unit in Unit.objects.all()}

    def organisation(name: str, **fields):
        return services.organisation_create(by=tom, name=name, confirm_duplicates=True, **fields)

    brightwave = organisation("Brightwave Digital", website="https://demo-employer.com")
    contact = services.contact_create(
        organisation=brightwave, by=priya, full_name=laura.full_name, email=laura.email
    )
    type(contact).objects.filter(pk=contact.pk).update(user=laura)
    EmployerMembership.objects.create(
        user=laura, organisation=brightwave, is_admin=True, status="active"
    )
    invitation = EmployerInvitation.objects.create(
        organisation=brightwave, email="new@demo-employer.com", token="matrix", invited_by=laura
    )
    # A colleague who signs in for Brightwave too, and sees without changing.
    colleague = EmployerMembership.objects.create(
        user=User.objects.create_user(
            email="ravi@demo-employer.com", full_name="Ravi Patel", kind=User.Kind.EMPLOYER
        ),
        organisation=brightwave,
        status="active",
    )
    organisation("Kestrel Games")  # employer B's
    northbridge = organisation("Northbridge Engineering Ltd")
    note = services.note_create(
        organisation=northbridge, by=helen, text="Met to talk about the advisory board."
    )
    key_contact = services.contact_create(
        organisation=northbridge, by=tom, full_name="David Okoro", email="david@northbridge.example"
    )
    account = key_account_with_contact(
        contact=key_contact, operator=tom, unit=units["mech"], by=priya, guidance="Ask Tom first."
    )
    [liaison] = keyaccounts.liaison_request_create(
        requester=grace,
        contact=key_contact,
        reason="A masterclass speaker.",
        proposed_engagement="An email from me.",
    )
    employer_register(
        full_name="Rita Newcomer",
        email="rita@newcomer.example.com",
        password="a-long-Password-9",
        phone="",
        organisation_name="Newcomer Ltd",
        website="https://newcomer.example.com",
        ip_address="203.0.113.9",
    )
    saved = services.saved_search_create(
        owner=tom, name="Matrix search", query=_query("Placements")
    )
    campaign = mailing.campaign_create(
        sender=grace,
        unit=units["lubs"],
        purpose="events",
        subject="Masterclass",
        body="Dear {{ first_name }}",
        recipient_filters={"text": "Northbridge"},
    )
    # Two of Brightwave's vacancies: one live (to edit), one that ran its course.
    vacancy, _live = (
        vacancies.vacancy_approve(
            vacancy=vacancies.vacancy_create(
                organisation=brightwave, by=laura, submit=True, **vacancy_fields(title=title)
            ),
            by=priya,
        )
        for title in (
            "Spring Internship: Accessibility Testing",
            "Summer Internship: User Research",
        )
    )
    type(vacancy).objects.filter(pk=vacancy.pk).update(
        closing_date=timezone.localdate() - datetime.timedelta(days=3)
    )
    vacancies.vacancies_close_expired(today=timezone.localdate())

    def week(n: int, hour: int = 10):
        return at(far_monday() + datetime.timedelta(weeks=n), hour)

    volunteering = make_event(
        by=priya,
        title="Volunteering fair",
        unit=units["careers"],
        starts_at=week(0),
        open_to_all=True,
        audience_units=[],
        open_to_public=True,
        publish=True,
    )
    talk = make_event(
        by=tom,
        title="Ouse Water Services: sustainability in engineering",
        starts_at=week(1),
        audience_units=[units["mech"]],
        audience_years=[2, 3],
        publish=True,
    )
    bookings.capacity_change(event=talk, capacity=30, by=tom)
    fair = make_event(
        by=helen,
        title="Engineering and technology careers fair",
        unit=units["eps"],
        starts_at=week(2),
        audience_units=[units["eps"]],
        open_to_employers=True,
        publish=True,
    )
    opening = events.opening_request_create(event=fair, unit=units["lubs"], by=helen)
    booking = bookings.booking_create(event=fair, student=aisha, by=aisha)
    full = make_event(
        by=priya,
        title="Interview skills",
        unit=units["careers"],
        starts_at=week(3),
        open_to_all=True,
        audience_units=[],
        publish=True,
    )
    bookings.capacity_change(event=full, capacity=1, by=priya)
    first = make_students(1)[0]
    bookings.booking_create(event=full, student=first, by=first)
    entry = bookings.booking_create(event=full, student=aisha, by=aisha)
    for code, representative in (("eps", helen), ("business", grace)):
        usergroup.representative_appoint(unit=units[code], user=representative, by=priya)
    return {
        "org": brightwave.pk,
        "other_org": northbridge.pk,
        "contact": contact.pk,
        "colleague": colleague.pk,
        "invitation": invitation.pk,
        "invitation_token": invitation.token,
        "note_org": northbridge.pk,
        "note": note.pk,
        "key_org": northbridge.pk,
        "key_account": account.pk,
        "key_contact": key_contact.pk,
        "liaison": liaison.pk,
        "registration": RegistrationRequest.objects.get().pk,
        "session": TrainingSessionFactory().pk,
        "user": User.objects.get(email="viewer@demo.ac.uk").pk,
        "saved_search": saved.pk,
        # Grace Okafor's draft: only she may change or send it.
        "campaign": campaign.pk,
        "public_event": volunteering.uid,
        "feedback": usergroup.feedback_log(
            by=tom, kind="improvement", title="Several contacts at once", description="Slow."
        ).pk,
        "announcement": usergroup.announcement_publish(
            by=priya, kind="policy", title="Policy 2.1", body="In force."
        ).pk,
        "vacancy": vacancy.pk,
        "token": make_token(contact.pk, "events"),
        "event": talk.pk,
        "opening": opening.pk,
        "feed_token": aisha.feed_token,
        "unit_code": "mech",
        "booking": booking.pk,
        "entry": entry.pk,
        "ban": _ban(persona),
        "ticket": "not-a-real-ticket",
        "erasure": _erasure(persona),
        "upload": _upload(),
        "feed_import": _feed_import(persona),
        "api_token": _api_token(aisha),
        "opportunity": _opportunity(northbridge, tom),
    }


def _api_token(student) -> int:
    """Aisha's API token for her calendar app: hers (and administrators') to revoke."""
    from mycareer.api import services as api

    token, _secret = api.token_create(
        owner=student, by=student, name="Calendar app", scopes=["read", "bookings"]
    )
    return token.pk


def _query(tag: str):
    from mycareer.organisations.search import OrganisationQuery

    return OrganisationQuery(tags_any=(tag,))


# route name -> (object key for each URL argument)
ARGUMENTS = {
    "user_id": "user",
    "result_id": None,  # a random id: the page answers 404 to those who may see it
    "token": "token",
    "registration_id": "registration",
    "request_id": "liaison",
    "account_id": "key_account",
    "note_id": "note",
    "entry_id": "erasure",
    "path": "upload",
    "import_id": "feed_import",
}

ROUTE_ARGUMENTS = {
    "accounts:training_session": {"pk": "session"},
    "organisations:saved_search_delete": {"pk": "saved_search"},
    "organisations:note_edit": {"pk": "note_org", "note_id": "note"},
    "organisations:note_delete": {"pk": "note_org", "note_id": "note"},
    "organisations:follow_up_done": {"pk": "note_org", "note_id": "note"},
    "organisations:key_account_reassign": {"pk": "key_org", "account_id": "key_account"},
    "organisations:key_account_remove": {"pk": "key_org", "account_id": "key_account"},
    "organisations:key_contact_mark": {"pk": "key_org", "contact_id": "key_contact"},
    "organisations:key_contact_unmark": {"pk": "key_org", "contact_id": "key_contact"},
    "organisations:liaison_request_create": {"pk": "key_org", "contact_id": "key_contact"},
    "employer:contact_edit": {"contact_id": "contact"},
    "employer:contact_remove": {"contact_id": "contact"},
    "employer:member_role": {"membership_id": "colleague"},
    "employer:invitation_withdraw": {"invitation_id": "invitation"},
    "employer:invitation_accept": {"token": "invitation_token"},
    "employer:member_remove": {"membership_id": "colleague"},
    "organisations:administrator_appoint": {"pk": "org", "membership_id": "colleague"},
    "organisations:administrator_stand_down": {"pk": "org", "membership_id": "colleague"},
    "mailing:campaign": {"pk": "campaign"},
    "mailing:campaign_edit": {"pk": "campaign"},
    "mailing:campaign_preview": {"pk": "campaign"},
    "mailing:campaign_progress": {"pk": "campaign"},
    "mailing:campaign_recipients": {"pk": "campaign"},
    "mailing:campaign_send": {"pk": "campaign"},
    "mailing:campaign_approve": {"pk": "campaign"},
    "mailing:campaign_cancel": {"pk": "campaign"},
    "mailing:campaign_preview_html": {"pk": "campaign"},
    "mailing:campaign_sent_to_csv": {"pk": "campaign"},
    "events:public": {"uid": "public_event"},
    "events:public_ics": {"uid": "public_event"},
    "usergroup:dismiss": {"pk": "announcement"},
    "usergroup:feedback": {"pk": "feedback"},
    "events:opening": {"request_id": "opening"},
    "events:opening_withdraw": {"request_id": "opening"},
    "events:personal_feed": {"token": "feed_token"},
    "events:unit_feed": {"code": "unit_code"},
    "bookings:lift_ban": {"ban_id": "ban"},
    "bookings:scan": {"token": "ticket"},
    "bookings:cancel": {"booking_id": "booking"},
    "bookings:leave": {"entry_id": "entry"},
    "bookings:offer": {"entry_id": "entry"},
    "bookings:move": {"pk": "booking"},
    "bookings:move_entry": {"pk": "entry"},
    # The JSON API: Tom's talk, Aisha's place at Helen's fair, Brightwave's contact, and
    # Northbridge's notes (with Tom's key contact).
    "api:organisation_detail": {"pk": "note_org"},
    "api:organisation_update": {"pk": "note_org"},
    "api:note_list": {"pk": "note_org"},
    "api:note_create": {"pk": "note_org"},
    "api:contact_create": {"pk": "note_org"},
    "api:contact_detail": {"pk": "contact"},
    "api:contact_update": {"pk": "contact"},
    "api:event_detail": {"pk": "event"},
    "api:event_update": {"pk": "event"},
    "api:event_publish": {"pk": "event"},
    "api:booking_list": {"pk": "event"},
    "api:booking_create": {"pk": "event"},
    "api:booking_cancel": {"pk": "booking"},
    "api:attendance_record": {"pk": "booking"},
    "api:waiting_list_accept": {"pk": "entry"},
    "api:waiting_list_leave": {"pk": "entry"},
    "api_pages:revoke": {"pk": "api_token"},
    "insights:follow_up": {"pk": "opportunity"},
    "insights:dismiss": {"pk": "opportunity"},
    "insights:unit": {"code": "unit_code"},
}

# What the matrix POSTs to the API (JSON): enough to pass validation, so the outcome is
# the permission's. Other routes get an empty body.
API_BODIES = {
    "api:organisation_create": {"name": "Matrix Widgets", "confirm_duplicate": True},
    "api:contact_create": {"full_name": "Matrix Person"},
    "api:note_create": {"text": "A call about placements."},
    "api:event_create": {
        "title": "Matrix talk",
        "venue": "Room 1",
        "unit": "UNIT",
        "starts_at": "2030-03-04T10:00:00Z",
        "ends_at": "2030-03-04T11:00:00Z",
        "audience_units": "UNIT",
    },
    "api:event_publish": {"override_reason": "The matrix says so."},
}
# Names of one address share its body: the matrix asks each name with GET and POST.
for _list, _create in (
    ("organisation_list", "organisation_create"),
    ("note_list", "note_create"),
    ("event_list", "event_create"),
):
    API_BODIES[f"api:{_list}"] = API_BODIES[f"api:{_create}"]


def route_kwargs(name: str, route: str, objects: dict) -> dict:
    """The arguments a route needs, from the sample objects."""
    import re
    import uuid

    if name == "api:unknown":
        return {"rest": "no-such-thing"}
    if name in ROUTE_ARGUMENTS:
        return {arg: objects[key] for arg, key in ROUTE_ARGUMENTS[name].items()}
    kwargs = {}
    for arg in re.findall(r"<(?:\w+:)?(\w+)>", route):
        if arg == "pk":
            app = name.split(":")[0]
            key = {"vacancies": "vacancy", "organisations": "org", "events": "event"}.get(
                app, "org"
            )
            kwargs[arg] = objects[key]
        elif arg == "event_id":
            kwargs[arg] = objects["event"]
        elif arg == "contact_id":
            kwargs[arg] = objects["contact"]
        elif arg == "result_id":
            kwargs[arg] = uuid.uuid4()
        else:
            kwargs[arg] = objects[ARGUMENTS[arg]]
    return kwargs


def _ban(persona) -> int:
    """A no-show restriction on a student, for the lift page."""
    import datetime

    from django.utils import timezone

    from mycareer.bookings.models import BookingBan

    ban = BookingBan.objects.create(
        student=persona("student2"),
        reason="Three no-shows this term",
        ends_at=timezone.now() + datetime.timedelta(weeks=4),
    )
    return ban.pk


def _erasure(persona) -> int:
    """An erasure's entry in the audit trail, for its report page."""
    from mycareer.audit import log

    entry = log(
        persona("student6"),
        "audit.personal_data.erased",
        by=persona("admin"),
        data={"records": ["Login (student)"], "changes": [], "total": 1},
    )
    return entry.pk


def _opportunity(organisation, owner) -> int:
    """A key account going quiet, offered to its owner, for the act-on-it pages."""
    from mycareer.insights.models import Audience, Opportunity

    opportunity = Opportunity.objects.create(
        kind="key_quiet", key="key_quiet:matrix", organisation=organisation, reason="Quiet."
    )
    Audience.objects.create(opportunity=opportunity, person=owner)
    return opportunity.pk


def _feed_import(persona) -> int:
    """A student record file the administrator checked and has yet to confirm."""
    from mycareer.people.models import FeedImport

    return FeedImport.objects.create(
        filename="feed.csv",
        source="upload",
        status="checked",
        by=persona("admin"),
        counts={
            **dict.fromkeys(("rows", "created"), 1),
            **dict.fromkeys(("updated", "unchanged", "left", "missing", "skipped"), 0),
            "withdrawn_not_added": 0,
            "has_work": True,
            "unknown_programmes": {},
            "unknown_units": {},
            "problems": [],
            "changes": [],
            "leaving": [],
        },
    ).pk


def _upload() -> str:
    """A screenshot attached to a fault, in MEDIA_ROOT (set to a scratch folder by the test)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    return default_storage.save("feedback/2026/matrix.png", ContentFile(b"\x89PNG\r\n\x1a\n"))
