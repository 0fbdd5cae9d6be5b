import datetime
import re
from collections import Counter
from collections.abc import Iterable

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from mycareer.core.aggregates import joined, split
from mycareer.organisations.matching import name_key
from mycareer.organisations.models import (
    Contact,
    EmployerMembership,
    KeyAccount,
    KeyContact,
    LiaisonRequest,
    MergedContact,
    Note,
    Organisation,
    SavedSearch,
)
from mycareer.organisations.permissions import is_member_of_organisation
from mycareer.organisations.search import TRIGRAM, filter_by_text, tag_names, with_key_accounts
from mycareer.organisations.timeline import TimelineEntry, as_datetime

# A contact's key-account links in force, each with its operator and unit: one query.
# (Spelt as a path, "key_links__key_account__operator", it took four.)
KEY_LINKS = (
    Prefetch(
        "key_links",
        queryset=KeyContact.objects.select_related("key_account__operator", "key_account__unit"),
    ),
)


def contacts_with_key_links() -> QuerySet[Contact]:
    """Contacts with what `display_name` and the key-contact notice need, prefetched."""
    return Contact.objects.order_by("full_name").prefetch_related(*KEY_LINKS)


def address_bounce(email: str) -> tuple[datetime.datetime | None, int]:
    """When email to this address last bounced, on any record that holds it, and how many
    records carry the bounce, in one query.

    Bulk email leaves an address out for a bounce on any of its records, so a page that
    explains why must look at all of them; clearing the bounce clears it on each
    (`services.contact_address_works_again`).
    """
    if not email:
        return None, 0
    found = Contact.objects.filter(email__iexact=email, email_bounced_at__isnull=False).aggregate(
        last=Max("email_bounced_at"), records=Count("pk")
    )
    return found["last"], found["records"]


def organisation_survivor(organisation: Organisation) -> Organisation:
    """The record a merged-away organisation now lives on (the last of a chain of merges);
    the organisation itself if it was never merged."""
    survivor = organisation
    while survivor.merged_into is not None:
        survivor = survivor.merged_into
    return survivor


def contact_merged_into(contact_id: int) -> int | None:
    """The number of the contact that `contact_id` was folded into by a merge (the same
    person at both records), or None if it never was."""
    return MergedContact.objects.filter(pk=contact_id).values_list("merged_into", flat=True).first()


def organisation_for_profile(pk: int) -> Organisation:
    """One organisation with what its profile shows, in a handful of queries.

    Its tag names come in the same query (`Organisation.tag_name_list` reads them), not
    as a prefetch: for one organisation, a subquery costs less than a query more. So
    does whether anyone signs in for it (`has_members`): most organisations have nobody,
    and their page then reads no memberships.
    """
    return (
        with_key_accounts(
            Organisation.objects.select_related("sector", "unit", "created_by", "merged_into")
        )
        .annotate(
            tag_names=tag_names(),
            has_members=Exists(
                EmployerMembership.objects.filter(
                    organisation_id=OuterRef("pk"), status=EmployerMembership.Status.ACTIVE
                )
            ),
        )
        .prefetch_related(
            Prefetch("contacts", queryset=contacts_with_key_links().annotate(**SIGNS_IN))
        )
        .get(pk=pk)
    )


# Each contact's sign-in for its organisation, in the contacts' own query: True for an
# administrator, False for a member, None for a contact who does not sign in.
SIGNS_IN = {
    "signs_in_as_admin": Subquery(
        EmployerMembership.objects.filter(
            user_id=OuterRef("user_id"),
            organisation_id=OuterRef("organisation_id"),
            status=EmployerMembership.Status.ACTIVE,
        ).values("is_admin")[:1]
    )
}


def notes_for_organisation(organisation: Organisation) -> QuerySet[Note]:
    return (
        organisation.notes.select_related("author", "unit")
        .prefetch_related(Prefetch("contacts", queryset=contacts_with_key_links()))
        .order_by("-date", "-created_at")
    )


def follow_ups_due(user, *, within_days: int = 14) -> QuerySet[Note]:
    """A member of staff's open follow-ups, due within `within_days` or overdue."""
    horizon = timezone.localdate() + datetime.timedelta(days=within_days)
    return (
        Note.objects.filter(author=user, follow_up_done=False, follow_up_on__lte=horizon)
        .select_related("organisation")
        .order_by("follow_up_on")
    )


def notes_by(user) -> QuerySet[Note]:
    return (
        Note.objects.filter(author=user)
        .select_related("organisation", "unit")
        .prefetch_related(Prefetch("contacts", queryset=contacts_with_key_links()))
        .order_by("-date", "-created_at")
    )


def key_accounts_of(user) -> QuerySet[KeyAccount]:
    return (
        KeyAccount.objects.filter(operator=user)
        .select_related("organisation", "unit")
        .prefetch_related("key_contacts__contact")
        .order_by("organisation__name")
    )


def liaison_requests_for_owner(user) -> QuerySet[LiaisonRequest]:
    """Requests to contact this person's key contacts, those waiting first."""
    return (
        LiaisonRequest.objects.filter(key_contact__key_account__operator=user)
        .select_related(
            "requester", "key_contact__contact", "key_contact__key_account__organisation"
        )
        # The contact's links give the * of a key contact (`display_name`).
        .prefetch_related("key_contact__contact__key_links")
        .order_by("status", "-created_at")
    )


def liaison_requests_by(user) -> QuerySet[LiaisonRequest]:
    return (
        LiaisonRequest.objects.filter(requester=user)
        .select_related(
            "decided_by",
            "key_contact__contact",
            "key_contact__key_account__operator",
            "key_contact__key_account__organisation",
        )
        .prefetch_related("key_contact__contact__key_links")
        .order_by("-created_at")
    )


def liaison_agreements_in_force(user) -> dict[int, LiaisonRequest]:
    """The person's liaison agreements in force today, by key-contact link.

    One query per request however many contacts a page shows: the answer is kept on
    the user object, which lives as long as the request.
    """
    if not getattr(user, "is_authenticated", False):
        return {}
    cached = getattr(user, "_liaison_agreements", None)
    if cached is None:
        requests = (
            LiaisonRequest.objects.filter(
                requester=user,
                status=LiaisonRequest.Status.APPROVED,
                valid_until__gte=timezone.localdate(),
                key_contact__key_account__released_at__isnull=True,
            )
            .select_related(
                "decided_by",
                "key_contact__contact__organisation",
                "key_contact__key_account__operator",
            )
            .order_by("valid_until", "pk")
        )
        cached = {}
        for request in requests:
            # The longest agreement for a link counts.
            cached[request.key_contact_id] = request
        user._liaison_agreements = cached
    return cached


def inbound_contacts_for_owner(user, *, limit: int = 20) -> list[Note]:
    """Notes of contact a key contact started with a colleague, for the contact's owner."""
    notes = (
        Note.objects.filter(
            started_by=Note.StartedBy.THEM,
            contacts__key_links__key_account__operator=user,
            contacts__key_links__key_account__released_at__isnull=True,
        )
        .exclude(author=user)
        .distinct()
        .select_related("author", "organisation")
        .prefetch_related(Prefetch("contacts", queryset=contacts_with_key_links()))
        .order_by("-date", "-created_at")[:limit]
    )
    rows = list(notes)
    for note in rows:
        note.owners_contacts = [
            c
            for c in note.contacts.all()
            if any(link.key_account.operator_id == user.pk for link in c.key_links_list)
        ]
    return rows


def _people_met(organisation: Organisation, notes: list[Note]) -> dict[int, list[Contact]]:
    """Each note's contacts, by note, from the ids its query brought (`contact_ids`) and
    the contacts the profile has already loaded: no query more where it has."""
    links = [
        (note.pk, int(pk)) for note in notes for pk in split(getattr(note, "contact_ids", None))
    ]
    if not links:
        return {}
    wanted = {contact_id for _, contact_id in links}
    loaded = getattr(organisation, "_prefetched_objects_cache", {}).get("contacts")
    known = {c.pk: c for c in loaded if c.pk in wanted} if loaded is not None else {}
    if wanted - set(known):
        known |= {c.pk: c for c in contacts_with_key_links().filter(pk__in=wanted - set(known))}
    met: dict[int, list[Contact]] = {}
    for note_id, contact_id in links:
        met.setdefault(note_id, []).append(known[contact_id])
    for people in met.values():
        people.sort(key=lambda c: (c.full_name, c.pk))
    return met


def note_timeline_source(organisation, *, viewer, limit: int) -> list[TimelineEntry]:
    notes = list(
        organisation.notes.select_related("author", "unit")
        .annotate(
            contact_ids=joined(
                Note.contacts.through.objects.all(), link="note_id", value="contact_id"
            )
        )
        .order_by("-date", "-created_at")[:limit]
    )
    met = _people_met(organisation, notes)
    return [
        TimelineEntry(
            when=as_datetime(note.date),
            kind=f"Note: {note.get_kind_display()}",
            title=f"{note.get_kind_display()} recorded by {note.author or 'former staff'}",
            text=note.text,
            actor=str(note.author or ""),
            details=[
                *(
                    [f"With {', '.join(c.display_name for c in met[note.pk])}"]
                    if note.pk in met
                    else []
                ),
                *(["They contacted us"] if note.started_by == Note.StartedBy.THEM else []),
            ],
            anchor=f"note-{note.pk}",
            edit_url=(
                reverse("organisations:note_edit", args=[organisation.pk, note.pk])
                if viewer.has_perm("organisations.change_note", note)
                else ""
            ),
        )
        for note in notes
    ]


def saved_searches_for(user) -> QuerySet[SavedSearch]:
    """A person's own saved searches; nobody sees another's."""
    return SavedSearch.objects.filter(owner=user).order_by("name")


# Contact details outside the university (policy 3: employers decide) ----------------------


def administrators_of(organisation: Organisation) -> list:
    """The people who sign in to change the organisation's profile and people, by name."""
    return [
        m.user
        for m in organisation.memberships.filter(
            status=EmployerMembership.Status.ACTIVE, is_admin=True, user__is_active=True
        )
        .select_related("user")
        .order_by("user__full_name")
    ]


def members_of(organisation: Organisation) -> QuerySet[EmployerMembership]:
    """Who signs in for the organisation, its administrators first, then by name."""
    return (
        organisation.memberships.filter(status=EmployerMembership.Status.ACTIVE)
        .select_related("user")
        .order_by("-is_admin", "user__full_name", "pk")
    )


def administrators_besides(
    organisations, *, besides: EmployerMembership | None = None
) -> QuerySet[EmployerMembership]:
    """The administrators who sign in for these organisations (one, or a queryset of
    them), leaving out `besides`: "is anyone there to ask, or to invite them again?"."""
    found = EmployerMembership.objects.filter(
        status=EmployerMembership.Status.ACTIVE, is_admin=True
    )
    if isinstance(organisations, Organisation):
        found = found.filter(organisation=organisations)
    else:
        found = found.filter(organisation__in=organisations)
    return found.exclude(pk=besides.pk) if besides is not None else found


def contacts_students_may_reach(organisation: Organisation) -> QuerySet[Contact]:
    """The organisation's contacts whose email and phone students may see: those the
    employer allowed (hidden by default)."""
    return organisation.contacts.filter(visible_to_students=True)


def contacts_shown_to(user, organisation: Organisation) -> QuerySet[Contact]:
    """The contacts whose details `user` sees on the organisation's public profile.

    The one rule for every page that shows contacts to students or employers: students
    and the organisation's own people see those students may reach; other employers, and
    anyone else outside the university, see none.
    """
    if not (getattr(user, "is_student", False) or is_member_of_organisation(user, organisation)):
        return Contact.objects.none()
    return contacts_students_may_reach(organisation)


def employer_directory(
    *, text: str = "", sector=None, location: str = "", among: QuerySet | None = None
) -> QuerySet[Organisation]:
    """Live organisations for students to browse, by name, sector and location, and
    `among` the ids given (those recruiting the student's course, say).

    Text matches names only: the search index also holds contact names, which students
    must not be able to search for.
    """
    organisations = Organisation.objects.filter(
        status=Organisation.Status.ACTIVE, merged_into__isnull=True
    )
    if among is not None:
        organisations = organisations.filter(pk__in=among)
    for word in text.split():
        organisations = organisations.filter(name__icontains=word)
    if sector is not None:
        organisations = organisations.filter(sector=sector)
    if location:
        organisations = organisations.filter(locations__icontains=location)
    return (
        organisations.select_related("sector")
        .only("name", "logo", "locations", "description", "sector__name", "website", "domain")
        .order_by(Lower("name"), "pk")
    )


# Naming organisations (events' "organisations taking part", imports) ---------------------

SUGGESTION_CUTOFF = 70


def organisations_by_name(names: list[str]) -> tuple[list[Organisation], dict[str, list[str]]]:
    """The live organisations `names` name, and for each name that names none, close names.

    A name matches its organisation's name whatever the case, or its reduced form (legal
    words, "&", punctuation ignored: "Northbridge Engineering" names "Northbridge
    Engineering Ltd") when that names exactly one. Otherwise the closest names are
    offered ("Did you mean …"): several alike, or similar ones.
    """

    live = Organisation.objects.filter(merged_into__isnull=True)
    found: list[Organisation] = []
    missing: dict[str, list[str]] = {}
    for name in names:
        exact = list(live.annotate(lname=Lower("name")).filter(lname=name.lower())[:1])
        alike = (
            [] if exact else list(live.filter(name_key=name_key(name)).order_by("name", "pk")[:6])
        )
        chosen = exact or (alike if len(alike) == 1 else [])
        if chosen:
            if chosen[0] not in found:
                found.append(chosen[0])
            continue
        missing[name] = _told_apart(alike) if alike else _close_names(live, name)
    return found, missing


def _told_apart(organisations: list[Organisation]) -> list[str]:
    """Their names to offer, numbered where two of them share one (`numbered_name`):
    "Did you mean Acme Ltd or Acme Ltd?" offered nothing that could be written."""
    seen = Counter(o.name.lower() for o in organisations)
    return [numbered_name(o) if seen[o.name.lower()] > 1 else o.name for o in organisations]


# A numbered name read back: "Acme Ltd (no. 42)", whatever the spacing and case of "no.".
# Fields of names write one for a name more than one organisation has: the CRM allows
# two "Acme Ltd", and a name alone would pick one of them.
NUMBERED_NAME = re.compile(r"^(?P<name>.*\S)\s*\(no\.\s*(?P<pk>\d{1,18})\)$", re.IGNORECASE)


def numbered_name(organisation: Organisation) -> str:
    """ "Acme Ltd (no. 42)": an organisation named with its number in MyCareer (its page is
    /organisations/42/), as the event form writes one whose name another live
    organisation has too, and reads it back (`NUMBERED_NAME`)."""
    return f"{organisation.name} (no. {organisation.pk})"


def organisation_suggestions(typed: str, *, limit: int = 15) -> list[dict[str, object]]:
    """Live organisations whose name starts with (or contains) `typed`, for the pickers.

    Each has its `id`, `name` and `value`, what to write in a field of names to name it:
    its name, or for a name another live organisation has too its numbered name, with
    `about` (web address, sector) to tell the namesakes apart. A bare name that several
    have names none of them in the event form, which asks which one is meant.
    """
    live = Organisation.objects.filter(merged_into__isnull=True)
    namesakes = (
        live.exclude(pk=OuterRef("pk"))
        .alias(lname=Lower("name"))
        .filter(lname=Lower(OuterRef("name")))
    )
    found = (
        live.filter(name__icontains=typed)
        .annotate(shared=Exists(namesakes))
        .select_related("sector")
        .order_by("name", "pk")[:200]
    )
    typed = typed.lower()
    ranked = sorted(found, key=lambda o: (not o.name.lower().startswith(typed), o.name, o.pk))
    suggestions: list[dict[str, object]] = []
    for organisation in ranked[:limit]:
        item: dict[str, object] = {
            "id": organisation.pk,
            "name": organisation.name,
            "value": organisation.name,
        }
        if organisation.shared:
            details = [d for d in (organisation.domain, str(organisation.sector or "")) if d]
            item["value"] = numbered_name(organisation)
            item["about"] = ", ".join(details) or "no website or sector recorded"
        suggestions.append(item)
    return suggestions


# Organisations sharing a word with an unknown name, at most, that the closest are picked
# from: the substring index finds them in milliseconds, where comparing the name with
# every organisation took half a second at 100,000 (docs/decisions.md).
CLOSE_NAME_CANDIDATES = 2000


def _close_names(live: QuerySet[Organisation], name: str) -> list[str]:
    """The names of up to three organisations most like `name`, for "Did you mean …"."""
    from rapidfuzz import fuzz, process

    key = name_key(name)
    candidates: dict[str, str] = {}
    for word in {w for w in key.split() if len(w) >= TRIGRAM}:
        rows = filter_by_text(live, word).values_list("name_key", "name")
        candidates.update(rows[:CLOSE_NAME_CANDIDATES])
    if not candidates:
        return []
    keys = list(candidates)
    close = process.extract(key, keys, scorer=fuzz.WRatio, limit=3, score_cutoff=SUGGESTION_CUTOFF)
    return [candidates[keys[index]] for _, _, index in close]


def starting_first(names: Iterable[str], typed: str) -> list[str]:
    """Names in alphabetical order, those that start with what was typed first."""
    typed = typed.lower()
    return sorted(names, key=lambda n: (not n.lower().startswith(typed), n.lower()))
