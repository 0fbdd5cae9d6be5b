"""Shared pieces of the authorisation matrix: personas, URL enumeration, sample objects."""

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
    """Objects for the routes' arguments; employer A's organisation is Brightwave Digital."""
    from mycareer.accounts.models import TrainingSession, User
    from mycareer.bookings.models import Booking, WaitlistEntry
    from mycareer.events.models import Event, OpeningRequest
    from mycareer.mailing.models import Campaign
    from mycareer.mailing.unsubscribe import make_token
    from mycareer.organisations import services
    from mycareer.organisations.models import (
        KeyAccount,
        LiaisonRequest,
        Organisation,
        RegistrationRequest,
    )
    from mycareer.usergroup.models import Announcement, Feedback
    from mycareer.vacancies.models import Vacancy

    brightwave = Organisation.objects.get(name="Brightwave Digital")
    northbridge = Organisation.objects.get(name="Northbridge Engineering Ltd")
    account = KeyAccount.objects.select_related("organisation").first()
    key_contact = account.key_contacts.select_related("contact").first().contact
    # A note someone other than the operator wrote (the operator may change their own).
    note = northbridge.notes.exclude(author__email="operator@demo.ac.uk").first()
    saved = services.saved_search_create(
        owner=persona("operator"), name="Matrix search", query=_query("Placements")
    )
    return {
        "org": brightwave.pk,
        "other_org": northbridge.pk,
        "contact": brightwave.contacts.first().pk,
        "note_org": northbridge.pk,
        "note": note.pk,
        "key_org": account.organisation_id,
        "key_account": account.pk,
        "key_contact": key_contact.pk,
        "liaison": LiaisonRequest.objects.first().pk,
        "registration": RegistrationRequest.objects.first().pk,
        "session": TrainingSession.objects.first().pk,
        "user": User.objects.get(email="viewer@demo.ac.uk").pk,
        "saved_search": saved.pk,
        # Grace Okafor's draft: only she may change or send it.
        "campaign": Campaign.objects.get(status="draft", sender__email="mailer@demo.ac.uk").pk,
        "public_event": Event.objects.get(title="Volunteering fair").uid,
        "feedback": Feedback.objects.first().pk,
        "announcement": Announcement.objects.first().pk,
        "vacancy": Vacancy.objects.filter(organisation=brightwave).first().pk,
        "token": make_token(brightwave.contacts.first().pk, "events"),
        "event": Event.objects.get(title="Ouse Water Services: sustainability in engineering").pk,
        "opening": OpeningRequest.objects.filter(status="pending").first().pk,
        "feed_token": persona("student").feed_token,
        "unit_code": "mech",
        "booking": Booking.objects.filter(student__email="student@demo.ac.uk", status="confirmed")
        .first()
        .pk,
        "entry": WaitlistEntry.objects.filter(student__email="student@demo.ac.uk").first().pk,
        "ban": _ban(persona),
        "ticket": "not-a-real-ticket",
        "erasure": _erasure(persona),
        "upload": _upload(),
        "feed_import": _feed_import(persona),
    }


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
    "organisations:liaison_request_create": {"pk": "key_org", "contact_id": "key_contact"},
    "employer:contact_edit": {"contact_id": "contact"},
    "mailing:campaign": {"pk": "campaign"},
    "mailing:campaign_edit": {"pk": "campaign"},
    "mailing:campaign_preview": {"pk": "campaign"},
    "mailing:campaign_progress": {"pk": "campaign"},
    "mailing:campaign_recipients": {"pk": "campaign"},
    "mailing:campaign_send": {"pk": "campaign"},
    "mailing:campaign_approve": {"pk": "campaign"},
    "mailing:campaign_cancel": {"pk": "campaign"},
    "mailing:campaign_preview_html": {"pk": "campaign"},
    "events:public": {"uid": "public_event"},
    "events:public_ics": {"uid": "public_event"},
    "usergroup:dismiss": {"pk": "announcement"},
    "usergroup:feedback": {"pk": "feedback"},
    "events:opening": {"request_id": "opening"},
    "events:personal_feed": {"token": "feed_token"},
    "events:unit_feed": {"code": "unit_code"},
    "bookings:lift_ban": {"ban_id": "ban"},
    "bookings:scan": {"token": "ticket"},
    "bookings:cancel": {"booking_id": "booking"},
    "bookings:leave": {"entry_id": "entry"},
    "bookings:offer": {"entry_id": "entry"},
    "bookings:move": {"pk": "booking"},
    "bookings:move_entry": {"pk": "entry"},
}


def route_kwargs(name: str, route: str, objects: dict) -> dict:
    """The arguments a route needs, from the sample objects."""
    import re
    import uuid

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
