"""The API's endpoints: thin, through the pages' selectors, services and rules.

Each endpoint asks `need(request, scope, rule, object)` first: the token's scope, then
the owner's permission as the pages ask it. Lists are cursor pages; single records
carry an ETag that updates must send back in If-Match.
"""

import datetime
import inspect
import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Path, Query, Schema, Status

from mycareer.accounts.models import DegreeProgramme, Unit
from mycareer.api import schemas as s
from mycareer.api.api import api, get, need
from mycareer.api.errors import NOT_A_FIELD, ApiError, fields_of
from mycareer.api.models import Scope
from mycareer.api.paging import DEFAULT_LIMIT, MAX_LIMIT, check_if_match, etag_for, page
from mycareer.bookings import selectors as booking_selectors
from mycareer.bookings import services as bookings
from mycareer.bookings.models import Booking, WaitlistEntry
from mycareer.core.forms import unknown_filters_message
from mycareer.events import selectors as event_selectors
from mycareer.events import services as events
from mycareer.events.clashes import Clash, ClashesFound, find_clashes
from mycareer.events.models import Event
from mycareer.mailing import chart
from mycareer.organisations import selectors as org_selectors
from mycareer.organisations import services as organisations
from mycareer.organisations.erased import AddressErased, ContactErased
from mycareer.organisations.keyaccounts import KeyContactsNeedLiaison
from mycareer.organisations.models import Contact, Note, Organisation, Sector
from mycareer.organisations.permissions import is_member_of_organisation
from mycareer.organisations.search import FILTER_NAMES, OrganisationQuery, search_organisations
from mycareer.vacancies import selectors as vacancy_selectors
from mycareer.vacancies.models import Vacancy

READ, WRITE_ORGS, WRITE_EVENTS, BOOK = (
    Scope.READ,
    Scope.WRITE_ORGANISATIONS,
    Scope.WRITE_EVENTS,
    Scope.BOOKINGS,
)
MAX_ID = 2**53
PK = Path(..., ge=1, le=MAX_ID)
LIMIT = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
CURSOR = Query(None, max_length=500)
ERRORS = {400, 401, 403, 404, 409, 412, 428, 429}


def _responses(ok, *more: int) -> dict:
    from mycareer.api.errors import Error

    return {ok[0]: ok[1], **dict.fromkeys(sorted(ERRORS | set(more)), Error)}


def _invalid(field: str, message: str, detail: list[str] | None = None) -> ApiError:
    return ApiError(400, "invalid", message, fields={field: detail or [message]})


def refuses_unknown_parameters(view):
    """The endpoint answers 400 to a query parameter it does not take, never ignores it.

    Django Ninja ignores a name an endpoint does not declare, so `/events?untis=3` (a typo
    for `unit`) listed every event as if they were the filtered ones. The names taken are
    the view's own query arguments (not `request`, `response` or a path's `pk`); put this
    under `@get`, on a read. The names are checked once the view has answered, so
    someone the list is refused to (403, 404) hears that first, whatever else the
    address holds, as with the organisation search.
    """
    taken = frozenset(
        name
        for name, parameter in inspect.signature(view).parameters.items()
        if name not in ("request", "response") and parameter.default is not PK
    )

    @wraps(view)
    def checked(request, *args, **kwargs):
        answer = view(request, *args, **kwargs)
        unknown = sorted(set(request.GET) - taken)
        if unknown:
            raise ApiError(
                400,
                "unknown_filter",
                unknown_filters_message(unknown, of="This list"),
                fields={name: ["Not a filter of this list."] for name in unknown},
            )
        return answer

    return checked


def _get(queryset, pk: int):
    return get_object_or_404(queryset, pk=pk)


def _with_etag(response: HttpResponse, data) -> None:
    """The version of the record as a read of it would give it: every write answers with it
    too, so that a token without the `read` scope can send it as If-Match next time."""
    response["ETag"] = etag_for(data)


def _writes(
    ok: int, full: type[Schema], brief: type[Schema] = s.Written, *, more: tuple[int, ...] = ()
) -> dict:
    """The answers a write declares: `full` (the record) or `brief`, as `_answer` chooses."""
    return _responses((ok, full | brief), *more)


def _may_read(request) -> bool:
    return READ in request.auth.scopes


def _answer(request, full: Schema, brief: type[Schema] = s.Written) -> Schema:
    """What a write answers: the record as a read gives it to a token with the `read`
    scope; to one without, only `brief`'s part of it (the id; an event's clashes too).

    A scope that does not include `read` must not become a way to read: a leaked
    write-only token (an import script's) would otherwise show every contact's email and
    phone to anyone who sent an empty change. The ETag header goes to both.
    """
    if _may_read(request):
        return full
    return brief.model_validate(full.model_dump())


def _no_fields(request) -> None:
    """Refuse fields sent to an endpoint that takes none: they would change nothing.

    An empty body, `{}` or `null` is fine; so is a body that is not JSON (a client that
    sends an empty form), as these endpoints never read one.
    """
    if not request.body or request.content_type != "application/json":
        return
    try:
        sent = json.loads(request.body)
    except ValueError:
        raise ApiError(400, "bad_request", "The body is not JSON: send none.") from None
    if sent in ({}, None):
        return
    message = "This request takes no body: send none."
    fields = (
        {name: [NOT_A_FIELD] for name in sorted(sent)}
        if isinstance(sent, dict)
        else {"__all__": [message]}
    )
    raise ApiError(400, "invalid", message, fields=fields)


def _changes(payload, *, may_be_null: tuple[str, ...] = ()) -> dict:
    """The fields an update sends; `null` only where it means "none" (a sector, say).

    Elsewhere a field left out is kept; `null` is no value the record can hold.
    """
    data = payload.dict(exclude_unset=True)
    nulls = sorted(
        name for name, value in data.items() if value is None and name not in may_be_null
    )
    if nulls:
        message = "Send a value, or leave the field out to keep what is there."
        raise ApiError(400, "invalid", message, fields={name: [message] for name in nulls})
    return data


# OpenAPI links: what a client does next with an answer (read what it made, change what it
# read with the ETag it was given). They document the workflows and let the fuzz test
# follow them (schemathesis' stateful phase).
IF_MATCH = {
    "parameters": [
        {
            "name": "If-Match",
            "in": "header",
            "required": True,
            "description": "The ETag of the copy you read: 412 if it changed since.",
            "schema": {"type": "string", "maxLength": 200},
        }
    ]
}
THE_NEW_ONE = "$response.body#/id"
THE_SAME_ONE = "$request.path.pk"


def _link(operation: str, description: str, pk: str, *, if_match: bool = False) -> dict:
    parameters = {"path.pk": pk}
    if if_match:
        parameters["header.If-Match"] = "$response.header.ETag"
    return {
        "operationId": f"mycareer_api_routes_{operation}",
        "description": description,
        "parameters": parameters,
    }


def _then(status: int, **links: dict) -> dict:
    """`openapi_extra` for an operation whose `status` answer leads on to `links`."""
    return {"responses": {status: {"links": links}}}


def _merged(*extras: dict) -> dict:
    merged: dict = {}
    for extra in extras:
        for key, value in extra.items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            else:
                merged[key] = value
    return merged


# Organisations ------------------------------------------------------------------------


def _address(operator) -> str | None:
    """A key account operator's address, or none once they have left (their login is
    closed): nobody reads it, so ask the others, or an administrator to pass it on."""
    return operator.email if operator.is_active else None


def _key_accounts(organisation: Organisation) -> list[dict]:
    return [
        {
            "operator": str(a.operator),
            "operator_email": _address(a.operator),
            "left": not a.operator.is_active,
            "unit": str(a.unit),
        }
        for a in organisation.key_account_list
    ]


def _organisation_item(organisation: Organisation) -> dict:
    return {
        "id": organisation.pk,
        "name": organisation.name,
        "website": organisation.website,
        "sector": str(organisation.sector) if organisation.sector_id else None,
        "size": organisation.size,
        "locations": organisation.location_list,
        "status": organisation.status,
        "unit": str(organisation.unit) if organisation.unit_id else None,
        "multi_touch": organisation.multi_touch,
        "tags": organisation.tag_name_list,
        "key_accounts": _key_accounts(organisation),
        "last_engaged_on": organisation.last_engaged_on,
    }


def _contact(contact: Contact, *, staff: bool, own: bool = False) -> dict:
    """`staff`: with the key-contact * and owners; `own`: the organisation's own people
    reading their colleagues, with whether students may see each (as their page shows)."""
    links = contact.key_links_list if staff else []
    return {
        "id": contact.pk,
        "organisation": contact.organisation_id,
        "display_name": contact.display_name if staff else contact.full_name,
        "full_name": contact.full_name,
        "job_title": contact.job_title,
        "email": contact.email,
        "phone": contact.phone,
        "visible_to_students": contact.visible_to_students if staff or own else None,
        "key_contact": bool(links),
        "owners": [
            {
                "name": str(link.key_account.operator),
                "email": _address(link.key_account.operator),
                "left": not link.key_account.operator.is_active,
                "unit": str(link.key_account.unit),
                "guidance": link.guidance,
            }
            for link in links
        ],
    }


# What only staff read of an organisation (its engagement, tags and key accounts): the
# public profile that students and employers see shows none of it.
STAFF_FIELDS: dict[str, object] = {
    "unit": None,
    "multi_touch": False,
    "tags": [],
    "key_accounts": [],
    "last_engaged_on": None,
}


def _organisation(user, organisation: Organisation) -> s.OrganisationOut:
    """The organisation as the pages show it to `user`: staff see every contact with the
    key-contact * and owner; its own people see every colleague (their contacts page);
    others the public profile, with the contacts the employer let students see."""
    staff = user.has_perm("organisations.view_organisation", organisation)
    own = not staff and is_member_of_organisation(user, organisation)
    if staff or own:
        contacts = list(organisation.contacts.all())
    else:
        contacts = list(
            org_selectors.contacts_shown_to(user, organisation).order_by("full_name", "pk")
        )
    item = _organisation_item(organisation)
    if not staff:
        item.update(STAFF_FIELDS)
    return s.OrganisationOut(
        **item,
        description=organisation.description,
        contacts=[s.ContactOut(**_contact(c, staff=staff, own=own)) for c in contacts],
    )


def _filters(request) -> dict:
    """The search page's filters from the query string; any other name is refused."""
    filters: dict = {}
    for name in request.GET:
        if name in ("cursor", "limit"):
            continue
        values = request.GET.getlist(name)
        filters[name] = values if name in ("sectors", "sizes") or len(values) > 1 else values[0]
    return filters


@get(
    "/organisations",
    response=_responses((200, s.OrganisationPage)),
    tags=["organisations"],
    summary="Search organisations with the search page's filters",
)
def organisation_list(
    request,
    text: str = Query("", max_length=200),
    tags_all: str = Query(
        "",
        max_length=500,
        description="Comma-separated tag names; one that holds a comma in double quotes",
    ),
    tags_any: str = Query("", max_length=500),
    tags_none: str = Query("", max_length=500),
    sectors: list[int] = Query(None, description="Sector ids"),
    sizes: list[str] = Query(None),
    location: str = Query("", max_length=200),
    unit: int | None = Query(None, ge=1, le=MAX_ID),
    engaged_after: datetime.date | None = None,
    engaged_before: datetime.date | None = None,
    include_archived: bool = False,
    key_account: str = Query("", description="yes, no, mine or multi"),
    cursor: str | None = CURSOR,
    limit: int = LIMIT,
):
    user = need(request, READ, "organisations.view_organisation")
    try:
        query = OrganisationQuery.from_filters(_filters(request), viewer=user, known_tags=True)
    except ValidationError as error:
        unknown = sorted(set(_filters(request)) - FILTER_NAMES)
        raise ApiError(
            400,
            "unknown_filter" if unknown else "invalid",
            " ".join(error.messages),
            fields={name: ["Not a filter of the search."] for name in unknown} or fields_of(error),
        ) from None
    return page(search_organisations(query), cursor=cursor, limit=limit, item=_organisation_item)


def _not_merged_away(user, organisation: Organisation) -> None:
    """A record merged into another is 410 naming the survivor (its page redirects there),
    to whoever may read the survivor: answered as it was, it read as a live organisation
    with no contacts, notes or events, all of which moved. Writes to it answer the same:
    as a 400 "invalid" they read as a mistake in the body, and a client that follows the
    survivor on reads could not on writes. (A merge that lands between this check and the
    write is refused by the service, and answered the same: `_merged_meanwhile`.)"""
    if not organisation.merged_into_id:
        return
    survivor = org_selectors.organisation_survivor(organisation)
    if not user.has_perm("organisations.view_public_profile", survivor):
        raise Http404
    raise ApiError(
        410,
        "merged",
        f"{organisation.name} was merged into {survivor.name}: use "
        f"/organisations/{survivor.pk} instead.",
        merged_into=survivor.pk,
    )


@contextmanager
def _merged_meanwhile(user, pk: int) -> Iterator[None]:
    """A merge that landed after `_not_merged_away` looked, refused by the service under
    the record's lock: answered as one that landed before (410 naming the survivor, 404 to
    whoever may not see it), not as a 400 "invalid" that reads as a mistake in the body."""
    try:
        yield
    except ValidationError as refusal:
        if getattr(refusal, "code", None) == "merged":
            _not_merged_away(user, Organisation.objects.get(pk=pk))
        raise


def _organisation_for(user, pk: int) -> Organisation:
    try:
        organisation = org_selectors.organisation_for_profile(pk)
    except Organisation.DoesNotExist:
        raise Http404 from None
    _not_merged_away(user, organisation)
    if not user.has_perm("organisations.view_public_profile", organisation):
        raise Http404
    return organisation


@get(
    "/organisations/{pk}",
    response=_responses((200, s.OrganisationOut), 410),
    tags=["organisations"],
    summary="One organisation with its contacts, as its page shows them to you "
    "(410 naming the survivor if merged into another)",
    openapi_extra=_then(
        200,
        ChangeIt=_link("organisation_update", "Change what was read", THE_SAME_ONE, if_match=True),
        ReadNotes=_link("note_list", "Read its notes", THE_SAME_ONE),
    ),
)
def organisation_detail(request, response: HttpResponse, pk: int = PK):
    user = need(request, READ)
    data = _organisation(user, _organisation_for(user, pk))
    _with_etag(response, data)
    return data


@get(
    "/organisations/{pk}/notes",
    response=_responses((200, s.NotePage), 410),
    tags=["organisations"],
    summary="The organisation's notes (staff only; 410 naming the survivor if merged)",
)
@refuses_unknown_parameters
def note_list(request, pk: int = PK, cursor: str | None = CURSOR, limit: int = LIMIT):
    organisation = _get(Organisation.objects.select_related("merged_into"), pk)
    user = need(request, READ, "organisations.view_organisation", organisation)
    _not_merged_away(user, organisation)
    notes = org_selectors.notes_for_organisation(organisation)
    return page(notes, cursor=cursor, limit=limit, item=_note)


def _note(note: Note) -> dict:
    return {
        "id": note.pk,
        "organisation": note.organisation_id,
        "kind": note.kind,
        "started_by": note.started_by,
        "date": note.date,
        "author": str(note.author) if note.author_id else None,
        "unit": str(note.unit) if note.unit_id else None,
        "contacts": [c.display_name for c in note.contacts.all()],
        "text": note.text,
        "follow_up_on": note.follow_up_on,
    }


def _organisation_fields(payload: dict) -> dict:
    if "sector" in payload:
        sector = payload["sector"]
        payload["sector"] = Sector.objects.filter(pk=sector).first() if sector else None
        if sector and payload["sector"] is None:
            raise ApiError(
                400, "invalid", "No such sector.", fields={"sector": ["No such sector."]}
            )
    return payload


@api.post(
    "/organisations",
    response=_writes(201, s.OrganisationOut),
    tags=["organisations"],
    summary="Create an organisation (409 with likely duplicates unless confirm_duplicate)",
    openapi_extra=_then(
        201,
        ReadIt=_link("organisation_detail", "Read the organisation made", THE_NEW_ONE),
        AddContact=_link("contact_create", "Add a contact to it", THE_NEW_ONE),
        RecordNote=_link("note_create", "Record a note about it", THE_NEW_ONE),
    ),
)
def organisation_create(request, response: HttpResponse, payload: s.OrganisationIn):
    user = need(request, WRITE_ORGS, "organisations.add_organisation")
    data = _organisation_fields(payload.dict())
    confirm, tags = data.pop("confirm_duplicate"), data.pop("tags")
    unit_id = data.pop("unit")
    unit = Unit.objects.filter(pk=unit_id).first() if unit_id else None
    if unit_id and unit is None:
        # Not the sender's own unit instead: the record would be owned by another than asked.
        why = (
            f"No unit has the id {unit_id}: send a unit's id, or leave “unit” out for your "
            "own unit."
        )
        raise ApiError(400, "invalid", why, fields={"unit": [why]})
    if unit is None:
        membership = user.memberships.select_related("unit").first()
        unit = membership.unit if membership else None
    try:
        organisation = organisations.organisation_create(
            by=user, unit=unit, tags=tags, confirm_duplicates=confirm, **data
        )
    except organisations.LikelyDuplicate as duplicate:
        raise _likely_duplicate(request, duplicate.candidates, to="create it") from None
    made = _organisation(user, _organisation_for(user, organisation.pk))
    _with_etag(response, made)
    return Status(201, _answer(request, made))


def _likely_duplicate(request, candidates, *, to: str) -> ApiError:
    """409 with the likely duplicates; to a token without `read`, each one's id and name
    only: its reasons tell its web domain and where its contacts' emails are."""
    may_read = _may_read(request)
    return ApiError(
        409,
        "likely_duplicate",
        "This organisation may already be in MyCareer: check these, then send "
        f"confirm_duplicate: true to {to} anyway.",
        duplicates=[
            {"id": c.organisation_id, "name": c.name}
            | ({"score": c.score, "reasons": c.reasons} if may_read else {})
            for c in candidates
        ],
    )


@api.patch(
    "/organisations/{pk}",
    response=_writes(200, s.OrganisationOut, more=(410,)),
    tags=["organisations"],
    summary="Change an organisation (send If-Match); a likely duplicate's name or website is "
    "409, a record merged into another 410 naming the survivor",
    openapi_extra=_merged(
        IF_MATCH,
        _then(
            200,
            ChangeAgain=_link(
                "organisation_update", "Change it again", THE_SAME_ONE, if_match=True
            ),
        ),
    ),
)
def organisation_update(
    request, response: HttpResponse, payload: s.OrganisationChange, pk: int = PK
):
    organisation = _get(Organisation.objects.select_related("merged_into"), pk)
    user = need(request, WRITE_ORGS, "organisations.change_organisation", organisation)
    _not_merged_away(user, organisation)
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=pk)
        check_if_match(request, etag_for(_organisation(user, _organisation_for(user, pk))))
        data = _organisation_fields(_changes(payload, may_be_null=("sector",)))
        tags = data.pop("tags", None)
        confirm = data.pop("confirm_duplicate", False)
        try:
            organisations.organisation_update(
                organisation=organisation, by=user, confirm_duplicates=confirm, **data
            )
        except organisations.LikelyDuplicate as duplicate:
            raise _likely_duplicate(request, duplicate.candidates, to="save it") from None
        if tags is not None:
            organisations.organisation_set_tags(organisation=organisation, tags=tags, by=user)
    result = _organisation(user, _organisation_for(user, pk))
    _with_etag(response, result)
    return _answer(request, result)


# Contacts -----------------------------------------------------------------------------


def _contact_for(user, pk: int) -> Contact:
    contact = _get(org_selectors.contacts_with_key_links().select_related("organisation"), pk)
    if not user.has_perm("organisations.view_organisation", contact.organisation):
        raise Http404
    return contact


def _contact_out(user, pk: int) -> s.ContactOut:
    return s.ContactOut(**_contact(_contact_for(user, pk), staff=True))


@get(
    "/contacts/{pk}",
    response=_responses((200, s.ContactOut)),
    tags=["organisations"],
    summary="One contact (staff only), with the key-contact * and owner",
    openapi_extra=_then(
        200,
        ChangeIt=_link("contact_update", "Change what was read", THE_SAME_ONE, if_match=True),
    ),
)
def contact_detail(request, response: HttpResponse, pk: int = PK):
    user = need(request, READ)
    data = _contact_out(user, pk)
    _with_etag(response, data)
    return data


@api.post(
    "/organisations/{pk}/contacts",
    response=_writes(201, s.ContactOut, more=(410,)),
    tags=["organisations"],
    summary="Add a contact to an organisation (409 if a person erased at their request; "
    "410 naming the survivor if merged)",
    openapi_extra=_then(201, ReadIt=_link("contact_detail", "Read the contact added", THE_NEW_ONE)),
)
def contact_create(request, response: HttpResponse, payload: s.ContactIn, pk: int = PK):
    organisation = _get(Organisation.objects.select_related("merged_into"), pk)
    user = need(request, WRITE_ORGS, "organisations.add_contact", organisation)
    _not_merged_away(user, organisation)
    try:
        with _merged_meanwhile(user, pk):
            contact = organisations.contact_create(
                organisation=organisation, by=user, refuse_erased=True, **payload.dict()
            )
    except AddressErased as refusal:
        # Not a mistake in what was sent: only a person adding them by hand may.
        raise ApiError(409, "erased", refusal.messages[0], fields=fields_of(refusal)) from None
    data = _contact_out(user, contact.pk)
    _with_etag(response, data)
    return Status(201, _answer(request, data))


@api.patch(
    "/contacts/{pk}",
    response=_writes(200, s.ContactOut),
    tags=["organisations"],
    summary="Change a contact (send If-Match with its ETag; 409 if erased at their request)",
    openapi_extra=IF_MATCH,
)
def contact_update(request, response: HttpResponse, payload: s.ContactChange, pk: int = PK):
    contact = _get(Contact.objects.select_related("organisation"), pk)
    user = need(request, WRITE_ORGS, "organisations.change_contact", contact.organisation)
    with transaction.atomic():
        contact = Contact.objects.select_for_update().select_related("organisation").get(pk=pk)
        check_if_match(request, etag_for(_contact_out(user, pk)))
        try:
            organisations.contact_update(
                contact=contact, by=user, refuse_erased=True, **_changes(payload)
            )
        except ContactErased as refusal:
            # Not a mistake in what was sent: this record can take no change at all.
            raise ApiError(409, "erased", refusal.messages[0]) from None
        except AddressErased as refusal:
            # Not a mistake in what was sent: only a person adding them by hand may.
            raise ApiError(409, "erased", refusal.messages[0], fields=fields_of(refusal)) from None
    data = _contact_out(user, pk)
    _with_etag(response, data)
    return _answer(request, data)


# Notes --------------------------------------------------------------------------------


@api.post(
    "/organisations/{pk}/notes",
    response=_writes(201, s.NoteOut, more=(410,)),
    tags=["organisations"],
    summary="Record a note (key contacts need their owner's agreement first: 403 says who; "
    "410 naming the survivor if merged)",
)
def note_create(request, payload: s.NoteIn, pk: int = PK):
    organisation = _get(Organisation.objects.select_related("merged_into"), pk)
    user = need(request, WRITE_ORGS, "organisations.add_note", organisation)
    _not_merged_away(user, organisation)
    data = payload.dict()
    wanted = set(data.pop("contacts"))
    contacts = list(org_selectors.contacts_with_key_links().filter(pk__in=wanted))
    if len(contacts) != len(wanted):
        raise ApiError(
            400, "invalid", "Some contacts do not exist.", fields={"contacts": ["No such contact."]}
        )
    try:
        with _merged_meanwhile(user, pk):
            note = organisations.note_create(
                organisation=organisation, by=user, contacts=contacts, **data
            )
    except KeyContactsNeedLiaison as refusal:
        raise ApiError(
            403,
            "liaison_needed",
            " ".join(m for messages in fields_of(refusal).values() for m in messages),
            fields=fields_of(refusal),
            ask=[
                {
                    "contact": contact.pk,
                    "owners": [
                        {
                            "name": str(link.key_account.operator),
                            "email": _address(link.key_account.operator),
                            "left": not link.key_account.operator.is_active,
                        }
                        for link in links
                    ],
                }
                for contact, links in refusal.blocked
            ],
        ) from None
    made = s.NoteOut(**_note(org_selectors.notes_for_organisation(organisation).get(pk=note.pk)))
    return Status(201, _answer(request, made))


# Events -------------------------------------------------------------------------------


def _events(queryset):
    return queryset.select_related("unit", "audience").prefetch_related(
        "organisations", "audience__units", "audience__programmes"
    )


def _online_url(event: Event, user) -> str:
    # Asked only where the answers differ: the rule costs queries, and a list has many.
    if event.join_url or not event.online_url:
        return event.join_url
    return event.online_url if user.has_perm("events.change_event", event) else ""


def _event(event: Event, user) -> dict:
    """An event as `user` may read it: its online link as its page gives it, none once it
    is cancelled, except to those who may change it (the link is kept for their edits)."""
    audience = event.audience
    return {
        "id": event.pk,
        "uid": str(event.uid),
        "title": event.title,
        "type": event.type,
        "status": event.status,
        "unit": {"id": event.unit_id, "name": event.unit.name},
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "venue": event.venue,
        "online_url": _online_url(event, user),
        "description": event.description,
        "organisations": [{"id": o.pk, "name": o.name} for o in event.organisations.all()],
        "audience": {
            "open_to_all": audience.open_to_all,
            "units": [u.name for u in audience.units.all()],
            "programmes": [p.name for p in audience.programmes.all()],
            "years": audience.year_list,
            "open_to_employers": audience.open_to_employers,
            "open_to_public": audience.open_to_public,
        },
    }


def _clashes(clashes: list[Clash]) -> list[s.ClashOut]:
    return [
        s.ClashOut(
            event=c.other.pk,
            title=c.other.title,
            starts_at=c.other.starts_at,
            score=c.score,
            reasons=c.reasons,
        )
        for c in clashes
    ]


def _clash_refusal(found: ClashesFound) -> ApiError:
    return ApiError(
        409,
        "clashes",
        found.messages[0],
        fields={"override_reason": ["Give a reason to go ahead despite these clashes."]},
        clashes=[c.model_dump(mode="json") for c in _clashes(found.clashes)],
    )


@get(
    "/events",
    response=_responses((200, s.EventPage)),
    tags=["events"],
    summary="Events you may see, with the calendar's filters, in order of start",
)
@refuses_unknown_parameters
def event_list(
    request,
    unit: int | None = Query(None, ge=1, le=MAX_ID),
    type: str = Query("", max_length=30),
    organisation: str = Query("", max_length=200),
    programme: int | None = Query(None, ge=1, le=MAX_ID),
    year: int | None = Query(None, ge=1, le=7),
    starts_after: s.LocalDateTime | None = None,
    starts_before: s.LocalDateTime | None = None,
    cursor: str | None = CURSOR,
    limit: int = LIMIT,
):
    user = need(request, READ)
    if type and type not in Event.Type.values:
        raise ApiError(
            400, "invalid", "No such type of event.", fields={"type": list(Event.Type.values)}
        )
    filters: dict = {"type": type, "organisation": organisation, "year": year}
    if unit is not None:
        filters["unit"] = get_object_or_404(Unit, pk=unit)
    if programme is not None:
        filters["programme"] = get_object_or_404(DegreeProgramme, pk=programme)
    found = event_selectors.apply_filters(event_selectors.visible_events(user), filters)
    if starts_after:
        found = found.filter(starts_at__gte=starts_after)
    if starts_before:
        found = found.filter(starts_at__lt=starts_before)
    return page(
        _events(found),
        cursor=cursor,
        limit=limit,
        order=(("starts_at", datetime.datetime), ("pk", int)),
        item=lambda event: _event(event, user),
    )


def _event_for(user, pk: int) -> Event:
    event = _get(_events(Event.objects.all()), pk)
    if not user.has_perm("events.view_event", event):
        raise Http404
    return event


@get(
    "/events/{pk}",
    response=_responses((200, s.EventOut)),
    tags=["events"],
    summary="One event you may see",
    openapi_extra=_then(
        200,
        ChangeIt=_link("event_update", "Change what was read", THE_SAME_ONE, if_match=True),
    ),
)
def event_detail(request, response: HttpResponse, pk: int = PK):
    user = need(request, READ)
    data = s.EventOut(**_event(_event_for(user, pk), user))
    _with_etag(response, data)
    return data


def _relations(model, ids, field: str) -> list:
    found = list(model.objects.filter(pk__in=set(ids)))
    if len(found) != len(set(ids)):
        raise ApiError(
            400, "invalid", f"Some {field} do not exist.", fields={field: ["Not found."]}
        )
    return found


def _event_relations(data: dict) -> dict:
    for field, model in (
        ("organisations", Organisation),
        ("audience_units", Unit),
        ("audience_programmes", DegreeProgramme),
    ):
        if data.get(field) is not None:
            data[field] = _relations(model, data[field], field)
    if "type" in data and data["type"] not in Event.Type.values:
        raise ApiError(
            400, "invalid", "No such type of event.", fields={"type": list(Event.Type.values)}
        )
    return data


@api.post(
    "/events",
    response=_writes(201, s.EventWithClashes, s.EventWritten),
    tags=["events"],
    summary="Create a draft event; the answer lists the clashes publishing would meet",
    openapi_extra=_then(
        201,
        ReadIt=_link("event_detail", "Read the draft made", THE_NEW_ONE),
        PublishIt=_link("event_publish", "Publish it", THE_NEW_ONE),
    ),
)
def event_create(request, response: HttpResponse, payload: s.EventIn):
    user = need(request, WRITE_EVENTS, "events.add_event")
    data = _event_relations(payload.dict())
    unit = _get(Unit.objects.all(), data.pop("unit"))
    with transaction.atomic():
        event = events.event_create(by=user, unit=unit, **data)
        if not user.has_perm("events.change_event", event):
            raise ApiError(403, "forbidden", f"You do not organise events for {unit}.")
    event = _event_for(user, event.pk)
    made = s.EventOut(**_event(event, user))
    _with_etag(response, made)
    made_with = s.EventWithClashes(**made.dict(), clashes=_clashes(find_clashes(event)))
    return Status(201, _answer(request, made_with, s.EventWritten))


@api.patch(
    "/events/{pk}",
    response=_writes(200, s.EventWithClashes, s.EventWritten),
    tags=["events"],
    summary="Change an event (send If-Match); a published one that now clashes needs a reason",
    openapi_extra=IF_MATCH,
)
def event_update(request, response: HttpResponse, payload: s.EventChange, pk: int = PK):
    event = _event_for(need(request, WRITE_EVENTS), pk)
    user = need(request, WRITE_EVENTS, "events.change_event", event)
    data = _event_relations(_changes(payload))
    reason = data.pop("override_reason", "")
    with transaction.atomic():
        check_if_match(request, etag_for(s.EventOut(**_event(_event_for(user, pk), user))))
        try:
            events.event_update(event=event, by=user, override_reason=reason, **data)
        except ClashesFound as found:
            raise _clash_refusal(found) from None
    event = _event_for(user, pk)
    current = s.EventOut(**_event(event, user))
    _with_etag(response, current)
    result = s.EventWithClashes(**current.dict(), clashes=_clashes(find_clashes(event)))
    return _answer(request, result, s.EventWritten)


@api.post(
    "/events/{pk}/publish",
    response=_writes(200, s.EventWithClashes, s.EventWritten),
    tags=["events"],
    summary="Publish a draft still to come (400 once it has started); with clashes, 409 "
    "unless override_reason says why",
)
def event_publish(request, response: HttpResponse, payload: s.PublishIn, pk: int = PK):
    event = _event_for(need(request, WRITE_EVENTS), pk)
    user = need(request, WRITE_EVENTS, "events.publish_event", event)
    try:
        overridden = events.event_publish(
            event=event, by=user, override_reason=payload.override_reason
        )
    except ClashesFound as found:
        raise _clash_refusal(found) from None
    except ValidationError as error:
        # One built from a list or a dict has no code of its own.
        if getattr(error, "code", None) != "started":
            raise
        raise ApiError(
            400, "started", error.messages[0], fields={"starts_at": error.messages}
        ) from None
    published = _event(_event_for(user, pk), user)
    # Publishing changes the event: the next change sends this version.
    _with_etag(response, s.EventOut(**published))
    result = s.EventWithClashes(**published, clashes=_clashes(overridden))
    return _answer(request, result, s.EventWritten)


# Bookings and attendance --------------------------------------------------------------


def _booking(booking: Booking) -> dict:
    return {
        "id": booking.pk,
        "event": booking.event_id,
        "student": str(booking.student),
        "status": booking.status,
        "source": booking.source,
        "booked_at": booking.booked_at,
        "checked_in_at": booking.checked_in_at,
    }


def _waiting(entry: WaitlistEntry) -> dict:
    """A place in the queue; its position from `with_positions` (`ahead`) where a list
    asked for it, else counted."""
    position = None
    if entry.status == WaitlistEntry.Status.WAITING:
        ahead = getattr(entry, "ahead", None)
        position = ahead + 1 if ahead is not None else booking_selectors.waitlist_position(entry)
    return {
        "id": entry.pk,
        "event": entry.event_id,
        "status": entry.status,
        "position": position,
        "joined_at": entry.joined_at,
        "offered_at": entry.offered_at,
        "offer_expires_at": entry.offer_expires_at,
    }


@get(
    "/events/{pk}/bookings",
    response=_responses((200, s.BookingPage)),
    tags=["bookings"],
    summary="Bookings and attendance for an event (its organisers only)",
)
@refuses_unknown_parameters
def booking_list(request, pk: int = PK, cursor: str | None = CURSOR, limit: int = LIMIT):
    event = _event_for(need(request, READ), pk)
    need(request, READ, "bookings.run_event", event)
    rows = booking_selectors.event_bookings(event)
    counts = dict(Booking.objects.filter(event=event).values_list("status").annotate(n=Count("pk")))
    result = page(rows, cursor=cursor, limit=limit, item=_booking)
    result["counts"] = {status: counts.get(status, 0) for status in Booking.Status.values}
    return result


@api.post(
    "/events/{pk}/bookings",
    response=_writes(201, s.PlaceOut, s.Placed),
    tags=["bookings"],
    summary="Book yourself a place (students' own tokens), or join the waiting list",
)
def booking_create(request, pk: int = PK):
    _no_fields(request)
    event = _event_for(need(request, BOOK), pk)
    user = need(request, BOOK, "bookings.book", event)
    place = bookings.booking_create(event=event, student=user, by=user)
    if isinstance(place, Booking):
        answer = s.PlaceOut(
            event=event.pk,
            outcome="booked",
            booking=place.pk,
            waiting_list=None,
            message=f"You have a place at {event.title}.",
        )
    else:
        # Its id is how the student leaves it again (`waiting_list_leave`).
        queued = s.WaitingOut(**_waiting(place))
        answer = s.PlaceOut(
            event=event.pk,
            outcome="waiting_list",
            booking=None,
            waiting_list=queued,
            message=f"{event.title} is full: you are number {queued.position} on the waiting list.",
        )
    # The outcome is the answer to the writer's question; the message names the event.
    return Status(201, _answer(request, answer, s.Placed))


@api.delete(
    "/bookings/{pk}",
    response=_writes(200, s.BookingOut),
    tags=["bookings"],
    summary="Cancel your own booking before the event starts",
)
def booking_cancel(request, pk: int = PK):
    _no_fields(request)
    user = need(request, BOOK, "bookings.book")
    booking = _get(Booking.objects.filter(student=user).select_related("student"), pk)
    bookings.booking_cancel(booking=booking, by=user)
    booking.refresh_from_db()
    return _answer(request, s.BookingOut(**_booking(booking)))


@get(
    "/waiting-list",
    response=_responses((200, s.WaitingPage)),
    tags=["bookings"],
    summary="Your places on waiting lists of events still to come, and the places offered "
    "to you from them (as My events lists them)",
)
@refuses_unknown_parameters
def waiting_list(request, cursor: str | None = CURSOR, limit: int = LIMIT):
    user = need(request, READ, "bookings.book")
    now = timezone.now()
    queued = booking_selectors.my_waitlist(user).filter(event__starts_at__gt=now)
    # An offer whose time ran out passes on at the next change: it is no longer theirs.
    open_ = queued.exclude(status=WaitlistEntry.Status.OFFERED, offer_expires_at__lte=now)
    return page(open_, cursor=cursor, limit=limit, item=_waiting)


@api.delete(
    "/waiting-list/{pk}",
    response=_writes(200, s.WaitingOut),
    tags=["bookings"],
    summary="Leave a waiting list, or decline the place it offered you, before the event starts",
)
def waiting_list_leave(request, pk: int = PK):
    _no_fields(request)
    user = need(request, BOOK, "bookings.book")
    # Another student's place is not found, as a booking of theirs is: never whose it is.
    entry = _get(WaitlistEntry.objects.filter(student=user).select_related("event"), pk)
    bookings.waitlist_leave(entry=entry, by=user)
    entry.refresh_from_db()
    return _answer(request, s.WaitingOut(**_waiting(entry)))


@api.post(
    "/waiting-list/{pk}/accept",
    response=_writes(201, s.PlaceOut, s.Placed),
    tags=["bookings"],
    summary="Take up the place a waiting list offered you, while the offer is open, as the "
    "offer's page does",
)
def waiting_list_accept(request, pk: int = PK):
    _no_fields(request)
    user = need(request, BOOK, "bookings.book")
    # Another student's offer is not found, as a place nobody holds: never whose it is.
    entry = _get(WaitlistEntry.objects.filter(student=user).select_related("event"), pk)
    # Refused (no offer, run out, taken up already, the event started) with the page's
    # reason; pressed twice, the second finds it taken up: one booking, one email.
    booking = bookings.offer_accept(entry=entry, by=user)
    answer = s.PlaceOut(
        event=booking.event_id,
        outcome="booked",
        booking=booking.pk,
        waiting_list=None,
        message=f"You have a place at {entry.event.title}. A confirmation is on its way.",
    )
    return Status(201, _answer(request, answer, s.Placed))


@api.post(
    "/bookings/{pk}/attendance",
    response=_writes(200, s.BookingOut),
    tags=["bookings"],
    summary="Record that the person attended (from two hours before the start)",
)
def attendance_record(request, pk: int = PK):
    _no_fields(request)
    user = need(request, WRITE_EVENTS)
    booking = _get(Booking.objects.select_related("event", "student"), pk)
    if not user.has_perm("events.view_event", booking.event):
        raise Http404
    need(request, WRITE_EVENTS, "bookings.run_event", booking.event)
    booking, _changed = bookings.check_in(booking=booking, by=user)
    return _answer(request, s.BookingOut(**_booking(booking)))


# Vacancies and figures ----------------------------------------------------------------


def _vacancy(vacancy) -> dict:
    return {
        "id": vacancy.pk,
        "title": vacancy.title,
        "type": vacancy.type,
        "organisation": {"id": vacancy.organisation_id, "name": vacancy.organisation.name},
        "location": vacancy.location,
        "remote": vacancy.remote,
        "salary": vacancy.salary,
        "closing_date": vacancy.closing_date,
        "apply_url": vacancy.apply_url,
        "apply_email": vacancy.apply_email,
        # Closed from midnight after its closing date, as its pages say, not from when
        # the morning job marks it so.
        "status": Vacancy.Status.CLOSED if vacancy.has_closed else vacancy.status,
        "for_you": bool(getattr(vacancy, "for_you", False)),
    }


@get(
    "/vacancies",
    response=_responses((200, s.VacancyPage)),
    tags=["vacancies"],
    summary="Open vacancies you may see; an employer's token, their organisation's in any state",
)
@refuses_unknown_parameters
def vacancy_list(request, cursor: str | None = CURSOR, limit: int = LIMIT):
    user = need(request, READ)
    if user.is_employer:
        # As their "Your vacancies" page: their own, drafts and closed ones too.
        found = vacancy_selectors.vacancies_of_employer(user)
    else:
        found = vacancy_selectors.vacancies_for(user)
    return page(found, cursor=cursor, limit=limit, item=_vacancy)


@get(
    "/communication-chart",
    response=_responses((200, s.ChartOut)),
    tags=["figures"],
    summary="The communication time chart's figures: bulk emails sent per period and unit",
)
@refuses_unknown_parameters
def communication_chart(
    request,
    period: str = Query("month", pattern="^(week|month)$"),
    unit: int | None = Query(None, ge=1, le=MAX_ID),
    organisation: int | None = Query(None, ge=1, le=MAX_ID),
    months: int = Query(12, ge=1, le=36),
):
    need(request, READ, "mailing.view_chart")
    data = chart.chart_data(
        chart.ChartQuery(period=period, unit=unit, organisation=organisation, months=months)
    )
    return {"period": period, "periods": data.periods, "series": data.series, "totals": data.totals}
