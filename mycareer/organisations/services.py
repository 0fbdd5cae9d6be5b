"""Changes to organisations, contacts, notes and tags. Each is audited in its transaction."""

import datetime
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.formats import date_format
from taggit.models import Tag

from mycareer import audit
from mycareer.accounts.models import Unit, User
from mycareer.accounts.permissions import check_perm
from mycareer.core.logs import log_event
from mycareer.core.text import counted, joined
from mycareer.organisations import keyaccounts, merging, optouts
from mycareer.organisations.erased import (
    check_address_not_erased,
    check_none_erased,
    check_not_erased,
)
from mycareer.organisations.matching import (
    DuplicateCandidate,
    DuplicateFinder,
    domain_from_url,
    name_key,
)
from mycareer.organisations.merging import MergeOutcome
from mycareer.organisations.models import (
    Contact,
    EmailOptOut,
    EmployerInvitation,
    EmployerMembership,
    KeyAccount,
    KeyContact,
    LiaisonRequest,
    MergedContact,
    Note,
    Organisation,
    RegistrationRequest,
    SavedSearch,
    search_document_of,
)
from mycareer.organisations.search import (
    SCORE_HIGHEST,
    SCORE_LOWEST,
    OrganisationQuery,
    OrganisationSearchForm,
    export_rows,
    search_organisations,
    selects_every_organisation,
)
from mycareer.organisations.selectors import administrators_of

logger = logging.getLogger(__name__)

# The fields a person edits on an organisation (and chooses between when merging).
PROFILE_FIELDS = ["name", "website", "sector", "size", "locations", "description", "logo"]
CONTACT_FIELDS = [
    "full_name",
    "job_title",
    "email",
    "phone",
    "visible_to_students",
    "email_consent",
]


class LikelyDuplicate(ValidationError):
    """Creating this organisation needs confirmation: similar records exist."""

    def __init__(self, candidates: list[DuplicateCandidate]):
        self.candidates = candidates
        super().__init__("This organisation may already be in MyCareer.")


def _value(obj: models.Model, name: str):
    value = getattr(obj, name)
    if isinstance(value, models.Model):
        return str(value)
    if hasattr(value, "name") and not isinstance(value, str):  # files
        return value.name or ""
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def apply_changes(obj: models.Model, fields: Iterable[str], data: dict) -> dict:
    """Apply `data` to `obj`; return {field: [old, new]} for what changed."""
    changed = {}
    for name in fields:
        if name not in data:
            continue
        old = _value(obj, name)
        setattr(obj, name, data[name])
        new = _value(obj, name)
        if old != new:
            changed[name] = [old, new]
    return changed


# Duplicates ------------------------------------------------------------------------


def duplicate_finder(*, exclude: Iterable[int] = ()) -> DuplicateFinder:
    """Load every live organisation once, for checking one or many new names."""
    rows = Organisation.objects.filter(merged_into__isnull=True).exclude(pk__in=list(exclude))
    email_domains: dict[int, set[str]] = {}
    for org_id, email in Contact.objects.exclude(email="").values_list("organisation_id", "email"):
        email_domains.setdefault(org_id, set()).add(email.rsplit("@", 1)[-1].lower())
    return DuplicateFinder(rows.values_list("pk", "name", "name_key", "domain"), email_domains)


def organisation_duplicates(
    *, name: str, website: str = "", emails: Iterable[str] = (), exclude: Iterable[int] = ()
) -> list[DuplicateCandidate]:
    """Likely duplicates of an organisation about to be made, each with its reasons."""
    return duplicate_finder(exclude=exclude).find(name=name, website=website, emails=emails)


# Organisations ---------------------------------------------------------------------


def refresh_search_document(organisation: Organisation) -> None:
    """Rebuild the text the substring search index reads (name, description, contacts)."""
    document = search_document_of(
        organisation.name,
        organisation.description,
        organisation.contacts.values_list("full_name", flat=True),
    )
    Organisation.objects.filter(pk=organisation.pk).update(search_document=document)
    organisation.search_document = document


def normalise_tags(names: Iterable[str]) -> list[str]:
    """Reuse an existing tag's spelling whatever the case, so 'nhs' joins 'NHS'."""
    wanted = []
    seen = set()
    for raw in names:
        name = " ".join(str(raw).split())[:100]
        if not name or name.lower() in seen:
            continue
        seen.add(name.lower())
        existing = Tag.objects.filter(name__iexact=name).values_list("name", flat=True).first()
        wanted.append(existing or name)
    return wanted


@transaction.atomic
def organisation_set_tags(
    *, organisation: Organisation, tags: Iterable[str], by: User | None
) -> None:
    """Replace an organisation's tags."""
    new = normalise_tags(tags)
    old = sorted(organisation.tags.names())
    if sorted(new) == old:
        return
    organisation.tags.set(new)
    audit.log(
        organisation,
        "organisations.organisation.tagged",
        by=by,
        data={"from": old, "to": sorted(new)},
    )


@transaction.atomic
def organisation_create(
    *,
    by: User | None,
    name: str,
    unit: Unit | None = None,
    tags: Iterable[str] = (),
    confirm_duplicates: bool = False,
    status: str = Organisation.Status.ACTIVE,
    contact_emails: Iterable[str] = (),
    **fields,
) -> Organisation:
    """Create an organisation, refusing likely duplicates unless the person confirmed."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Give the organisation's name."})
    if not confirm_duplicates:
        candidates = organisation_duplicates(
            name=name, website=fields.get("website", ""), emails=contact_emails
        )
        if candidates:
            raise LikelyDuplicate(candidates)
    organisation = Organisation(name=name, unit=unit, created_by=by, status=status, **fields)
    organisation.full_clean()
    organisation.save()
    if tags:
        organisation.tags.set(normalise_tags(tags))
    refresh_search_document(organisation)
    audit.log(
        organisation,
        "organisations.organisation.created",
        by=by,
        data={"name": name, "duplicates_confirmed": confirm_duplicates, "tags": sorted(tags)},
    )
    return organisation


def check_not_merged(organisation: Organisation) -> None:
    """Refuse to write onto a record merged into another (a page opened before the merge,
    the API): its page redirects to the survivor, so nobody would see what was written.

    Read under the row's lock, in the caller's transaction: unlocked, a write that checked
    while a merge was under way (it locks both records) went onto the merged-away record
    once the merge committed. Filtered on the id alone, as PostgreSQL locks only the rows
    a query returns: filtered on `merged_into` too, it would skip the row, not wait."""
    row = (
        Organisation.objects.select_for_update()
        .filter(pk=organisation.pk)
        .values_list("name", "merged_into")
        .first()
    )
    if row is not None and row[1] is not None:
        name, survivor = row[0], Organisation.objects.get(pk=row[1])
        raise ValidationError(
            f"{name} was merged into {survivor}: add or change anything on {survivor} instead.",
            code="merged",
        )


@transaction.atomic
def organisation_update(
    *, organisation: Organisation, by: User | None, confirm_duplicates: bool = False, **data
) -> dict:
    """Change an organisation's profile; returns what changed.

    A new name or website is checked as a new organisation's are, so a rename cannot make
    the duplicate that creating it would have been refused as, unless the person confirmed.
    """
    check_not_merged(organisation)
    name, website = data.get("name", organisation.name), data.get("website", organisation.website)
    # Compared as the check compares them: a save that only rewrites how the same name or
    # address is written ("example.com" saved as "https://example.com") asks nothing.
    renamed = (name_key(name), domain_from_url(website)) != (
        organisation.name_key,
        organisation.domain,
    )
    if not confirm_duplicates and renamed:
        candidates = organisation_duplicates(name=name, website=website, exclude=[organisation.pk])
        if candidates:
            raise LikelyDuplicate(candidates)
    if "locations" in data:
        # Compared as kept: "Leeds,, London ," typed over "Leeds, London" changes nothing.
        data["locations"] = Organisation.tidy_locations(data["locations"])
    changed = apply_changes(organisation, PROFILE_FIELDS + ["status", "unit"], data)
    if not changed:
        return {}
    organisation.full_clean()
    organisation.save()
    refresh_search_document(organisation)
    audit.log(organisation, "organisations.organisation.changed", by=by, data={"changed": changed})
    return changed


@transaction.atomic
def organisation_archive(*, organisation: Organisation, by: User | None) -> None:
    """Archive an organisation: it leaves searches and student pages but keeps its history."""
    if organisation.status == Organisation.Status.ARCHIVED:
        return
    previous = organisation.status
    organisation.status = Organisation.Status.ARCHIVED
    organisation.save(update_fields=["status", "updated_at"])
    audit.log(
        organisation, "organisations.organisation.archived", by=by, data={"previous": previous}
    )


@transaction.atomic
def organisation_restore(*, organisation: Organisation, by: User | None) -> None:
    if organisation.status != Organisation.Status.ARCHIVED:
        return
    check_not_merged(organisation)
    organisation.status = Organisation.Status.ACTIVE
    organisation.save(update_fields=["status", "updated_at"])
    audit.log(organisation, "organisations.organisation.restored", by=by)


@transaction.atomic
def organisation_delete(*, organisation: Organisation, by: User | None) -> None:
    """Delete an organisation and everything it holds (contacts, notes); audited first."""
    audit.log(
        organisation,
        "organisations.organisation.deleted",
        by=by,
        data={
            "name": organisation.name,
            "contacts": organisation.contacts.count(),
            "notes": organisation.notes.count(),
            "linked": merging.preview(organisation),
        },
    )
    optouts.keep_opt_outs_of(organisation.contacts.all())
    organisation.delete()


# Contacts --------------------------------------------------------------------------


def _check_contact_email(
    organisation: Organisation, email: str, exclude: int | None = None
) -> None:
    if not email:
        return
    clash = organisation.contacts.filter(email__iexact=email)
    if exclude:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise ValidationError({"email": "This organisation already has a contact with this email."})


def _check_shown_to_students(organisation: Organisation, by: User | None) -> None:
    """Staff may not show a contact's details to students for an employer who decides.

    Policy: employers decide whether their details are visible to students. An
    organisation with an administrator who signs in decides through them; staff record
    the choice only for one without (the employer told them), and may always hide.
    """
    if by is not None and by.is_employer:
        return  # their own organisation's, as their permission rules already checked
    names = [str(person) for person in administrators_of(organisation)]
    if names:
        log_event(
            logger,
            "organisations.contact.refused",
            reason="visibility_is_the_employers",
            organisation=organisation.pk,
            by=getattr(by, "pk", None),
        )
        raise ValidationError(
            {
                "visible_to_students": (
                    f"{organisation} decides this itself: ask {joined(names, last='or')}, "
                    "who signs in for it, to let students see this person's details."
                )
            }
        )


# What students see of a contact shown to them: a change to any of it is a new choice.
SHOWN_DETAILS = ("full_name", "email", "phone")


def _details_not_the_employers(contact: Contact, by: User | None, changed: dict) -> bool:
    """Whether staff changed what students see of a contact shown to them, for an
    organisation that decides its visibility itself (`_check_shown_to_students`)."""
    if (by is not None and by.is_employer) or not any(f in changed for f in SHOWN_DETAILS):
        return False
    return bool(administrators_of(contact.organisation))


@transaction.atomic
def contact_create(
    *, organisation: Organisation, by: User | None, refuse_erased: bool = False, **data
) -> Contact:
    """Add a contact; an email already used by a contact of the organisation is refused,
    and with `refuse_erased` (a script: nobody decided) so is an erased person's."""
    check_not_merged(organisation)
    data["email"] = (data.get("email") or "").strip().lower()
    _check_contact_email(organisation, data["email"])
    if refuse_erased:
        check_address_not_erased(data["email"], source="api", by=by)
    contact = Contact(organisation=organisation, **data)
    if contact.visible_to_students:
        _check_shown_to_students(organisation, by)
        contact.visibility_changed_at, contact.visibility_changed_by = timezone.now(), by
    contact.full_clean()
    contact.save()
    refresh_search_document(organisation)
    audit.log(
        contact,
        "organisations.contact.created",
        by=by,
        data={"organisation": organisation.pk, "name": contact.full_name},
    )
    return contact


@transaction.atomic
def contact_update(
    *, contact: Contact, by: User | None, refuse_erased: bool = False, **data
) -> dict:
    """Change a contact's details; an erased person's record is never changed, and with
    `refuse_erased` (a script: nobody decided) no address becomes an erased person's."""
    check_not_erased(contact, action="changed", by=by)
    if "email" in data:
        data["email"] = (data["email"] or "").strip().lower()
        _check_contact_email(contact.organisation, data["email"], exclude=contact.pk)
    was_visible = contact.visible_to_students
    new_address = "email" in data and data["email"] != contact.email.strip().lower()
    if new_address and refuse_erased:
        check_address_not_erased(data["email"], source="api", by=by)
    if new_address:
        # The old address keeps its "no" (the record may now be about someone else);
        # the record keeps its own too, erring on the side of not emailing.
        optouts.keep_opt_outs_of([contact])
    changed = apply_changes(contact, CONTACT_FIELDS, data)
    if not changed:
        return {}
    if changed.get("email_consent") == [True, False]:
        # Withdrawn agreement stops bulk email: unticked alone, it changed nothing sent.
        contact_opt_out(
            contact=contact, purpose=EmailOptOut.Purpose.ALL, method=EmailOptOut.Method.STAFF, by=by
        )
    elif changed.get("email_consent") == [False, True]:
        # Given again, it ends the "no to all" (kinds they turned down one by one stay).
        contact_opt_in(contact=contact, purpose=EmailOptOut.Purpose.ALL, by=by)
    if contact.visible_to_students != was_visible:
        if contact.visible_to_students:
            _check_shown_to_students(contact.organisation, by)
        contact.visibility_changed_at, contact.visibility_changed_by = timezone.now(), by
    elif was_visible and _details_not_the_employers(contact, by, changed):
        # The employer let students see this person's details, not the ones staff typed
        # now (perhaps someone else's): they are hidden until the employer shows them.
        changed["visible_to_students"] = [True, False]
        contact.visible_to_students = False
        contact.visibility_changed_at, contact.visibility_changed_by = timezone.now(), by
    if new_address and contact.email_bounced_at:
        # The bounce was the old address's: kept, it would leave the corrected one out of
        # every bulk email for good.
        changed["email_bounced_at"] = [contact.email_bounced_at.isoformat(), None]
        contact.email_bounced_at = None
    contact.full_clean()
    contact.save()
    refresh_search_document(contact.organisation)
    audit.log(contact, "organisations.contact.changed", by=by, data={"changed": changed})
    return changed


def contact_delete_ends(contact: Contact) -> str:
    """What deleting a key contact ends, in words, said before it is done: the protection
    their key account operators gave them, and every request to liaise about them (agreed
    ones too), which go with the contact."""
    links = list(KeyContact.objects.filter(contact=contact).select_related("key_account__operator"))
    if not links:
        return ""
    owners = joined(sorted({str(link.key_account.operator) for link in links}))
    text = f"{contact.full_name} is a key contact of {owners}: deleting them ends that protection"
    asked = LiaisonRequest.objects.filter(key_contact__in=links).count()
    if asked:
        text += f" and deletes {counted(asked, 'request', 'requests')} to liaise about them"
    return f"{text}."


@transaction.atomic
def contact_delete(*, contact: Contact, by: User | None) -> None:
    """Delete a contact; never an erased person's record, which the erasure kept on purpose
    (the notes, emails and key-contact links that named them keep their history)."""
    # Read afresh, locked: the person may have been erased since the page was opened.
    fresh = Contact.objects.select_for_update().filter(pk=contact.pk).first()
    check_not_erased(fresh or contact, action="deleted", by=by)
    organisation = contact.organisation
    data = {"organisation": organisation.pk, "name": contact.full_name}
    if ends := contact_delete_ends(contact):
        data["ended"] = ends
    audit.log(contact, "organisations.contact.deleted", by=by, data=data)
    optouts.keep_opt_outs_of([contact])
    contact.delete()
    refresh_search_document(organisation)


@transaction.atomic
def contact_remove_by_employer(*, contact: Contact, by: User) -> None:
    """An organisation's administrator removes a person who left (their name, job title,
    email and phone; a "no" to bulk email is kept by the address alone).

    Not a key contact (the university's staff look after that relationship and are asked
    first), nor a colleague who can still sign in for the organisation.
    """
    contact = Contact.objects.select_for_update().select_related("organisation").get(pk=contact.pk)
    check_not_erased(contact, action="deleted", by=by)
    owners = [str(link.key_account.operator) for link in contact.key_links.all()]
    if owners:
        raise ValidationError(
            f"{contact.full_name} is a key contact of {joined(owners)} at the university: "
            "ask them, or the Careers Centre, to remove them."
        )
    if (
        contact.user_id
        and contact.organisation.memberships.filter(
            user_id=contact.user_id, status=EmployerMembership.Status.ACTIVE
        ).exists()
    ):
        raise ValidationError(
            f"{contact.full_name} can still sign in for {contact.organisation}: remove their "
            "sign-in under “Who can sign in” first."
        )
    contact_delete(contact=contact, by=by)


@transaction.atomic
def contact_opt_out(*, contact: Contact, purpose: str, method: str, by: User | None) -> EmailOptOut:
    """Record that a contact does not want a kind of bulk email."""
    opt_out, created = EmailOptOut.objects.get_or_create(
        contact=contact, purpose=purpose, defaults={"method": method, "recorded_by": by}
    )
    if created:
        audit.log(
            contact,
            "organisations.contact.opted_out",
            by=by,
            data={"purpose": purpose, "method": method},
        )
    return opt_out


# The kinds of bulk email a person chooses among (the "all" opt-out covers them all).
CHOSEN_PURPOSES = ("events", "newsletters", "vacancies", "other")


def contact_email_choices(contact: Contact) -> dict[str, bool]:
    """Each kind of bulk email and whether the person receives it: their address's choices,
    whichever of its records (or an earlier, deleted one) made them."""
    opted_out = set(contact.opt_outs.values_list("purpose", flat=True)) | (
        optouts.opt_outs_by_address([contact.email]).get(contact.email.strip().lower(), set())
    )
    every = EmailOptOut.Purpose.ALL in opted_out
    return {purpose: not every and purpose not in opted_out for purpose in CHOSEN_PURPOSES}


@transaction.atomic
def contact_set_email_choices(
    *, contact: Contact, wanted: dict[str, bool], method: str, by: User | None
) -> bool:
    """Record which kinds of bulk email a person receives, as they chose (`method` says
    how: their own form, or staff on their request); whether anything changed."""
    check_not_erased(contact, action="email_choices", by=by)
    before = contact_email_choices(contact)
    if all(bool(wanted.get(p)) == before[p] for p in CHOSEN_PURPOSES):
        return False
    if not any(before.values()) and any(wanted.values()):
        contact_opt_in(contact=contact, purpose=EmailOptOut.Purpose.ALL, by=by)
        before = contact_email_choices(contact)
    for purpose in CHOSEN_PURPOSES:
        want = bool(wanted.get(purpose))
        if want == before[purpose]:
            continue  # saved unchanged, it records nothing
        if want:
            contact_opt_in(contact=contact, purpose=purpose, by=by)
        else:
            contact_opt_out(contact=contact, purpose=purpose, method=method, by=by)
    return True


@transaction.atomic
def contact_opt_in(*, contact: Contact, purpose: str, by: User | None) -> None:
    """The contact takes a kind of bulk email again: at their address, whichever record
    recorded the opt-out (see `optouts`). Never for an erased person: their "no" stays."""
    check_not_erased(contact, action="opted_in", by=by)
    deleted, _ = EmailOptOut.objects.filter(contact=contact, purpose=purpose).delete()
    deleted += optouts.forget_opt_outs_of_address(contact.email, purpose)
    if deleted:
        audit.log(contact, "organisations.contact.opted_in", by=by, data={"purpose": purpose})


# Notes -----------------------------------------------------------------------------


def _check_note_contacts(
    organisation: Organisation,
    contacts: list[Contact],
    by: User | None,
    started_by: str = Note.StartedBy.US,
) -> keyaccounts.Blocked:
    for contact in contacts:
        if contact.organisation_id != organisation.pk:
            raise ValidationError({"contacts": f"{contact} is not a contact of {organisation}."})
    # Key contacts: the author must have liaised with the key account operator first,
    # unless the key contact started the contact (then the owner is told).
    return keyaccounts.check_note_contacts(
        organisation=organisation, contacts=contacts, by=by, started_by=started_by
    )


# Earlier than this, a note's date is a slip of the keyboard (1900, 0024), not a
# conversation anyone recorded here.
NOTE_EARLIEST = datetime.date(2000, 1, 1)
# Further ahead than this, a follow-up's date is a slip too (9999, 2207).
FOLLOW_UP_YEARS = 5


def _check_note_dates(note: Note, changed: Iterable[str] | None = None) -> None:
    """Refuse a note dated to come or absurdly long ago, or followed up before it happened.

    `changed` names the fields a save changes (None: a new note, all of them). Only what
    is changed is checked: a note stored before these rules keeps its dates, and its text
    can still be corrected; a new date must make sense with the other.
    """
    changed = {"date", "follow_up_on"} if changed is None else set(changed)
    errors: dict[str, str] = {}
    today = timezone.localdate()
    if "date" in changed and note.date and note.date > today:
        # A date to come would be the organisation's last engagement, keeping it looking
        # engaged until then.
        errors["date"] = (
            f"A note records what happened: choose today ({_day(today)}) or an earlier day. "
            "For something to come, set a follow-up date."
        )
    elif "date" in changed and note.date and note.date < NOTE_EARLIEST:
        errors["date"] = (
            f"A note cannot be dated before {_day(NOTE_EARLIEST)}: check the year "
            f"({_day(note.date)} was typed)."
        )
    early = note.date and note.follow_up_on and note.follow_up_on < note.date
    if early and changed & {"date", "follow_up_on"} and "date" not in errors:
        errors["follow_up_on"] = (
            f"The follow-up cannot come before the note's date ({_day(note.date)}): "
            "choose that day or a later one, or leave it empty."
        )
    latest = _years_after(today, FOLLOW_UP_YEARS)
    if "follow_up_on" in changed and note.follow_up_on and note.follow_up_on > latest:
        errors.setdefault(
            "follow_up_on",
            f"A follow-up can be set up to {FOLLOW_UP_YEARS} years ahead, to "
            f"{_day(latest)}: check the year ({_day(note.follow_up_on)} was typed).",
        )
    if errors:
        raise ValidationError(errors)


def _years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _day(day: datetime.date) -> str:
    return date_format(day, "j F Y")


@transaction.atomic
def note_create(
    *,
    organisation: Organisation,
    by: User,
    text: str,
    kind: str = Note.Kind.MEETING,
    date: datetime.date | None = None,
    unit: Unit | None = None,
    contacts: Iterable[Contact] = (),
    follow_up_on: datetime.date | None = None,
    started_by: str = Note.StartedBy.US,
) -> Note:
    """Record a meaningful engagement with an organisation."""
    check_not_merged(organisation)
    contacts = list(contacts)
    check_none_erased(contacts, field="contacts", by=by)
    inbound = _check_note_contacts(organisation, contacts, by, started_by)
    if unit is None:
        membership = by.memberships.select_related("unit").first() if by else None
        unit = membership.unit if membership else None
    note = Note(
        organisation=organisation,
        author=by,
        text=text,
        kind=kind,
        started_by=started_by,
        date=date or timezone.localdate(),
        unit=unit,
        follow_up_on=follow_up_on,
    )
    _check_note_dates(note)
    note.full_clean()
    note.save()
    note.contacts.set(contacts)
    organisation.refresh_last_engaged()
    audit.log(
        note,
        "organisations.note.created",
        by=by,
        data={
            "organisation": organisation.pk,
            "kind": kind,
            "started_by": started_by,
            "contacts": [c.pk for c in contacts],
            **({"inbound_key_contacts": [c.pk for c, _ in inbound]} if inbound else {}),
        },
    )
    keyaccounts.inbound_contact_flag(note=note, blocked=inbound)
    return note


@transaction.atomic
def note_update(*, note: Note, by: User, contacts: Iterable[Contact] | None = None, **data) -> dict:
    was_started_by = note.started_by
    changed = apply_changes(
        note, ["kind", "started_by", "date", "unit", "text", "follow_up_on", "follow_up_done"], data
    )
    # A new follow-up date is a follow-up still to do: the one marked done was the old
    # date's, and a done follow-up never shows among those due.
    renewed = "follow_up_on" in changed and note.follow_up_on and "follow_up_done" not in data
    if renewed and note.follow_up_done:
        changed["follow_up_done"] = [True, False]
        note.follow_up_done = False
    before = sorted(note.contacts.values_list("pk", flat=True))
    current = list(note.contacts.all()) if contacts is None else list(contacts)
    after = sorted(c.pk for c in current)
    # A note that named someone before they were erased keeps naming the erased record;
    # nobody is named as them anew.
    check_none_erased([c for c in current if c.pk not in before], field="contacts", by=by)
    # Check the contacts this change names anew: those added, or all of them when the
    # note now says we started the contact.
    if was_started_by == Note.StartedBy.THEM and note.started_by == Note.StartedBy.US:
        to_check = current
    else:
        to_check = [c for c in current if c.pk not in before]
    inbound = _check_note_contacts(note.organisation, to_check, by, note.started_by)
    if before != after:
        note.contacts.set(current)
        changed["contacts"] = [before, after]
    if not changed:
        return {}
    _check_note_dates(note, changed)
    note.full_clean()
    note.save()
    note.organisation.refresh_last_engaged()
    audit.log(note, "organisations.note.changed", by=by, data={"changed": changed})
    keyaccounts.inbound_contact_flag(note=note, blocked=inbound)
    return changed


@transaction.atomic
def note_delete(*, note: Note, by: User) -> None:
    organisation = note.organisation
    audit.log(
        note,
        "organisations.note.deleted",
        by=by,
        data={"organisation": organisation.pk, "text": note.text[:200]},
    )
    note.delete()
    organisation.refresh_last_engaged()


@transaction.atomic
def follow_up_complete(*, note: Note, by: User) -> None:
    if note.follow_up_done:
        return
    note.follow_up_done = True
    note.save(update_fields=["follow_up_done", "updated_at"])
    audit.log(note, "organisations.note.follow_up_done", by=by)


# Merging ---------------------------------------------------------------------------
# Each app moves the rows it owns (see merging.py); these are the organisations app's.

_MEMBERSHIP_STRENGTH: dict[str, int] = {
    EmployerMembership.Status.ACTIVE: 2,
    EmployerMembership.Status.PENDING: 1,
    EmployerMembership.Status.DECLINED: 0,
}


def _merge_key_accounts(*, survivor, other, outcome: MergeOutcome) -> None:
    keyaccounts.merge_key_accounts(survivor=survivor, other=other, outcome=outcome)
    moved = KeyAccount.with_released.filter(organisation=other).update(organisation=survivor)
    outcome.moved("key account", "key accounts", moved)


@dataclass
class ContactPlan:
    """What a merge does with each of the other record's contacts."""

    moving: list[Contact] = field(default_factory=list)
    # (the other record's contact, the survivor's with the same email it is folded into)
    folding: list[tuple[Contact, Contact]] = field(default_factory=list)
    # Contacts of whoever registered a record nobody approved: deleted, they come back
    # when they are approved to join.
    held: list[Contact] = field(default_factory=list)


def merge_contact_plan(survivor: Organisation, other: Organisation) -> ContactPlan:
    """Which of `other`'s contacts move, are folded into the survivor's contact with the
    same email, or wait for their registrant's approval: the merge does what this says,
    and its page says it beforehand."""
    by_email = {c.email.lower(): c for c in survivor.contacts.exclude(email="")}
    # Whoever registered a record nobody approved asks to join the live one: like anyone
    # asking, they become its contact (and reach its bulk email) only when approved.
    registrants = (
        set(
            EmployerMembership.objects.filter(organisation=other)
            .exclude(status=EmployerMembership.Status.DECLINED)
            .values_list("user_id", flat=True)
        )
        if awaiting_approval(survivor, other)
        else set()
    )
    plan = ContactPlan()
    for contact in other.contacts.order_by("pk"):
        twin = by_email.get(contact.email.lower()) if contact.email else None
        if contact.user_id in registrants and not merging.rows_left(contact):
            plan.held.append(contact)
        elif twin is None:
            plan.moving.append(contact)
        else:
            plan.folding.append((contact, twin))
    return plan


def _merge_contacts(*, survivor, other, outcome: MergeOutcome) -> None:
    """Move contacts; one with the same email as a survivor's contact is folded into it."""
    plan = merge_contact_plan(survivor, other)
    for contact in plan.held:
        optouts.keep_opt_outs_of([contact])
        contact.delete()
    for contact in plan.moving:
        contact.organisation = survivor
        contact.save(update_fields=["organisation", "updated_at"])
    for contact, twin in plan.folding:
        merging.fold_contact(keep=twin, fold=contact, outcome=outcome)
        left = merging.rows_left(contact)
        if left:
            raise ValidationError(f"The merge would have lost {left}; nothing was changed.")
        contact.delete()
    moved, folded, held = len(plan.moving), len(plan.folding), len(plan.held)
    outcome.moved("contact moved", "contacts moved", moved)
    outcome.moved("contact merged by email", "contacts merged by email", folded)
    outcome.moved(
        "registrant's contact record left until they are approved",
        "registrants' contact records left until they are approved",
        held,
    )


def _fold_contact(*, keep: Contact, fold: Contact, outcome: MergeOutcome) -> None:
    """The same person at both records: their details, notes, opt-outs and key links."""
    for name in ("job_title", "phone"):
        if not getattr(keep, name) and getattr(fold, name):
            setattr(keep, name, getattr(fold, name))
    keep.email_consent = keep.email_consent or fold.email_consent
    if fold.user_id and not keep.user_id:
        user, fold.user = fold.user, None
        fold.save(update_fields=["user"])
        keep.user = user
    keep.save()
    merging.move_many_to_many(
        Note.contacts.through.objects.filter(contact=fold),
        owner="note",
        side="contact",
        keep=keep,
        fold=fold,
        kind="organisations.note_contact",
        outcome=outcome,
    )
    for opt_out in list(fold.opt_outs.all()):
        twin = keep.opt_outs.filter(purpose=opt_out.purpose).first()
        if twin is None:
            opt_out.contact = keep
            opt_out.save(update_fields=["contact"])
            continue
        # The earlier choice is the one the person made first: keep its date and method.
        first, later = sorted([twin, opt_out], key=lambda o: (o.created_at, o.pk))
        outcome.conflict(
            "organisations.opt_out", kept=first.pk, dropped=later.pk, purpose=opt_out.purpose
        )
        later.delete()
        if first.contact_id != keep.pk:
            first.contact = keep
            first.save(update_fields=["contact"])
    for link in list(KeyContact.with_released.filter(contact=fold)):
        same = KeyContact.with_released.filter(contact=keep, key_account=link.key_account).first()
        if same is None:
            link.contact = keep
            link.save(update_fields=["contact"])
            continue
        # Agreements and requests about the person stay, with the link that stays.
        link.liaison_requests.update(key_contact=same)
        outcome.conflict("organisations.key_contact", kept=same.pk, dropped=link.pk)
        link.delete()
    # Old links to `fold`, and to contacts folded into it before, reach `keep` from now on.
    MergedContact.objects.filter(merged_into=fold).update(merged_into=keep)
    MergedContact.objects.create(id=fold.pk, merged_into=keep)


def awaiting_approval(survivor: Organisation, other: Organisation) -> bool:
    """`other` is a registration nobody has approved, merged into a record that is live."""
    pending = Organisation.Status.PENDING
    return other.status == pending and survivor.status != pending


def _merge_memberships(*, survivor, other, outcome: MergeOutcome) -> None:
    """An employer login at both records keeps one membership, the stronger of the two.

    The person who registered a record nobody has approved administers it only because it
    is theirs and unseen: merged into a live organisation, they ask to join it, as anyone
    else would (their registration moves as a request to join, for staff to decide).
    """
    awaiting = awaiting_approval(survivor, other)
    mine = {m.user_id: m for m in EmployerMembership.objects.filter(organisation=survivor)}
    moved = kept_once = waiting = 0
    for membership in list(EmployerMembership.objects.filter(organisation=other)):
        twin = mine.get(membership.user_id)
        held = awaiting and membership.status != EmployerMembership.Status.DECLINED
        if held:
            membership.status, membership.is_admin = EmployerMembership.Status.PENDING, False
            waiting += 1
        if twin is None:
            membership.organisation = survivor
            membership.save(update_fields=["organisation", "status", "is_admin"])
            moved += 0 if held else 1  # counted once, as waiting
            continue
        twin.is_admin = twin.is_admin or membership.is_admin
        if _MEMBERSHIP_STRENGTH[membership.status] > _MEMBERSHIP_STRENGTH[twin.status]:
            twin.status = membership.status
        twin.created_at = min(twin.created_at, membership.created_at)
        twin.save(update_fields=["is_admin", "status", "created_at"])
        outcome.conflict(
            "organisations.membership",
            kept=twin.pk,
            dropped=membership.pk,
            user=membership.user_id,
            is_admin=twin.is_admin,
            status=twin.status,
        )
        membership.delete()
        kept_once += 1
    outcome.moved("employer login", "employer logins", moved)
    outcome.moved(
        "employer login at both kept once", "employer logins at both kept once", kept_once
    )
    outcome.moved(
        "employer login now waiting for approval to join",
        "employer logins now waiting for approval to join",
        waiting,
    )


def _merge_records(*, survivor, other, outcome: MergeOutcome) -> None:
    """Rows that simply move: notes, registrations, invitations, tags, earlier stubs."""
    # A registration of a new organisation merged into a live one was made a request to
    # join it already (`registration.REGISTRATIONS_MERGE_HANDLER`, which runs first).
    for model, singular, plural in (
        (Note, "note", "notes"),
        (RegistrationRequest, "registration request", "registration requests"),
        (EmployerInvitation, "invitation", "invitations"),
    ):
        moved = model.objects.filter(organisation=other).update(organisation=survivor)
        outcome.moved(singular, plural, moved)
    new_tags = other.tags.exclude(pk__in=survivor.tags.values("pk"))
    outcome.moved("tag", "tags", new_tags.count())
    survivor.tags.add(*other.tags.all())
    other.tags.clear()
    Organisation.objects.filter(merged_into=other).update(merged_into=survivor)


def _merge_organisation_rows(*, survivor, other, outcome: MergeOutcome) -> None:
    # Key accounts first: a contact folded below then finds its key link's account.
    _merge_key_accounts(survivor=survivor, other=other, outcome=outcome)
    _merge_contacts(survivor=survivor, other=other, outcome=outcome)
    _merge_memberships(survivor=survivor, other=other, outcome=outcome)
    _merge_records(survivor=survivor, other=other, outcome=outcome)


def _preview(other) -> dict[str, int]:
    return {
        "contacts": other.contacts.count(),
        "notes": other.notes.count(),
        "tags": other.tags.count(),
        "key accounts": KeyAccount.with_released.filter(organisation=other).count(),
        "employer logins": other.memberships.count(),
    }


MERGE_HANDLER = merging.MergeHandler(
    name="organisations",
    relations=(
        "organisations.Organisation.merged_into",
        "organisations.TaggedOrganisation.content_object",
        "organisations.Contact.organisation",
        "organisations.Note.organisation",
        "organisations.KeyAccount.organisation",
        "organisations.EmployerMembership.organisation",
        "organisations.RegistrationRequest.organisation",
        "organisations.EmployerInvitation.organisation",
        "organisations.Note.contacts",
        "organisations.EmailOptOut.contact",
        "organisations.KeyContact.contact",
        "organisations.MergedContact.merged_into",
    ),
    organisation=_merge_organisation_rows,
    contact=_fold_contact,
    preview=_preview,
    nouns=(
        ("contact", "contacts"),
        ("contact moved", "contacts moved"),
        ("contact merged by email", "contacts merged by email"),
        ("note", "notes"),
        ("tag", "tags"),
        ("key account", "key accounts"),
        ("key account folded into the survivor's", "key accounts folded into the survivor's"),
        ("employer login", "employer logins"),
        ("employer login at both kept once", "employer logins at both kept once"),
        ("registration request", "registration requests"),
        ("invitation", "invitations"),
    ),
    order=10,
)


def organisation_delete_summary(organisation: Organisation) -> str:
    """What deleting it takes with it, or off it, in words: every app's rows linked to it
    ("5 contacts, 29 emails, 7 vacancies and 2 employer logins"), as a merge counts them."""
    return joined(
        counted(count, *merging.NOUNS.get(key, (key, key)))
        for key, count in merging.preview(organisation).items()
    )


def merge_preview_text(survivor: Organisation, other: Organisation) -> str:
    """What merging `other` into `survivor` will do, in words, before anything is done:
    "moves 1 contact and 2 notes here, and combines Jo Reed with Jo Reed of Acme Ltd (the
    same email)". Contacts are counted by the plan the merge follows (`merge_contact_plan`),
    so the page cannot say that one moves when it will be combined."""
    plan = merge_contact_plan(survivor, other)
    counts = {"contacts": len(plan.moving)}
    counts.update((k, v) for k, v in merging.preview(other).items() if k != "contacts")
    moved = [counted(v, *merging.NOUNS.get(k, (k, k))) for k, v in counts.items() if v]
    text = f"moves {joined(moved)} here" if moved else "moves nothing here"
    if plan.folding:
        pairs = joined(f"{fold.full_name} with {keep.full_name}" for fold, keep in plan.folding)
        text += (
            f", and combines {counted(len(plan.folding), 'contact', 'contacts')} with "
            f"{survivor}'s contact of the same email, who stays: {pairs}"
        )
    if plan.held:
        text += (
            f"; {counted(len(plan.held), 'contact record', 'contact records')} of whoever "
            f"registered it {'waits' if len(plan.held) == 1 else 'wait'} until they are "
            "approved to join"
        )
    return text


def merge_summary_text(summary: dict) -> str:
    """What a merge moved, in words: "1 contact moved, 3 notes and 1 vacancy"."""
    parts = [
        counted(value, *merging.NOUNS.get(key, (key, key)))
        for key, value in summary.items()
        if isinstance(value, int) and not isinstance(value, bool) and value
    ]
    return joined(parts) or "nothing else moved"


def check_merge_direction(survivor: Organisation, other: Organisation) -> None:
    """Refuse to keep a registration nobody approved in place of another record: kept, it
    would take that record's contacts, vacancies and history, and its registrant would
    administer them, unchecked. Refuse too to merge a registration into an archived
    record, which nobody would answer."""
    pending = Organisation.Status.PENDING
    if survivor.status == pending and other.status != pending:
        raise ValidationError(
            f"{survivor} is a registration nobody has approved yet: merge it into "
            f"{other} instead (from {other}'s page); their registration then becomes a "
            "request to join it, for you to decide under Registrations."
        )
    if other.status == pending and survivor.status == Organisation.Status.ARCHIVED:
        # Merged, the registrant would wait to join a record nobody works with any more.
        raise ValidationError(
            f"{survivor} is archived, so {other}'s registration would become a request to "
            f"join an organisation MyCareer no longer works with. Restore {survivor} first "
            "(from its page) if they belong to it, or decide the registration on its own."
        )


@transaction.atomic
def contact_address_works_again(*, contact: Contact, by: User) -> int:
    """Record that email to this contact's address works again (the person wrote from
    it, or their mail server was down): bulk email stops leaving it out. A bounce on any
    record holding the address leaves it out, so each such record is cleared; returns
    how many were."""
    check_perm(by, "organisations.change_contact", contact)
    check_not_erased(contact, action="changed", by=by)
    records = list(
        Contact.objects.select_for_update()
        .filter(email__iexact=contact.email, email_bounced_at__isnull=False)
        .exclude(email="")
        .order_by("pk")
    )
    if not records:
        raise ValidationError(
            f"Email to {contact.email or 'this contact'} has not bounced: nothing to clear."
        )
    for record in records:
        bounced_at = record.email_bounced_at.isoformat() if record.email_bounced_at else None
        record.email_bounced_at = None
        record.save(update_fields=["email_bounced_at"])
        audit.log(
            record,
            "organisations.contact.changed",
            by=by,
            data={"changed": {"email_bounced_at": [bounced_at, None]}},
        )
    log_event(
        logger, "organisations.contact.bounce_cleared", contact=contact.pk, records=len(records)
    )
    return len(records)


@transaction.atomic
def organisation_merge(
    *, survivor: Organisation, other: Organisation, keep: dict[str, str], by: User | None
) -> dict:
    """Merge `other` into `survivor`: chosen field values, and every related row, move.

    `keep` maps profile fields to "survivor" or "other". The other record stays as an
    archived stub that redirects to the survivor, so old links keep working.
    """
    if survivor.pk == other.pk:
        raise ValidationError("Choose two different organisations to merge.")
    # Both rows in one query, in id order, as every write that locks several organisations
    # takes them (an event naming both): survivor first, the two waited on each other.
    locked = Organisation.objects.select_for_update().filter(pk__in=[survivor.pk, other.pk])
    rows = {o.pk: o for o in locked.order_by("pk")}
    if len(rows) < 2:
        raise Organisation.DoesNotExist
    survivor, other = rows[survivor.pk], rows[other.pk]
    # Asked of the locked rows: asked of those passed in (a page opened before another
    # merge), a record merged away a moment ago was merged again, into a second survivor.
    if other.merged_into_id:
        raise ValidationError(f"{other} was already merged into another record.")
    if survivor.merged_into_id:
        kept = survivor.merged_into
        raise ValidationError(f"{survivor} was merged into {kept}: merge into {kept} instead.")
    check_merge_direction(survivor, other)
    before = {
        "notes": survivor.notes.count() + other.notes.count(),
        "tags": len(set(survivor.tags.names()) | set(other.tags.names())),
    }
    chosen = {
        name: getattr(other, name)
        for name, side in keep.items()
        if side == "other" and name in PROFILE_FIELDS
    }
    changed = apply_changes(survivor, PROFILE_FIELDS, chosen)
    outcome = merging.MergeOutcome(summary={"fields taken from the other record": sorted(changed)})
    unhandled = merging.unhandled_relations(Organisation) + merging.unhandled_relations(Contact)
    if unhandled:
        log_event(
            logger, "organisations.merge.refused", reason="unhandled", relations=",".join(unhandled)
        )
        raise ValidationError(
            f"MyCareer cannot merge records yet: {', '.join(unhandled)} has no merge handler."
        )
    merging.merge_organisation(survivor=survivor, other=other, outcome=outcome)
    left = merging.rows_left(other)
    if left:
        raise ValidationError(f"The merge would have left {left} behind; nothing was changed.")
    summary = outcome.summary
    survivor.last_engaged_on = max(
        (d for d in (survivor.last_engaged_on, other.last_engaged_on) if d), default=None
    )
    survivor.save()
    refresh_search_document(survivor)
    other.tags.clear()
    other.merged_into = survivor
    other.status = Organisation.Status.ARCHIVED
    other.save()
    # Its contacts moved or were folded: the stub's search text named them still, and
    # erasing one of them later refreshes only the record they are at.
    refresh_search_document(other)
    after = {"notes": survivor.notes.count(), "tags": len(survivor.tags.names())}
    if after["notes"] != before["notes"] or after["tags"] != before["tags"]:
        raise ValidationError("The merge would have lost records; nothing was changed.")
    audit.log(
        survivor,
        "organisations.organisation.merged",
        by=by,
        data={
            "merged": other.pk,
            "merged_name": other.name,
            "summary": summary,
            "changed": changed,
            "conflicts": outcome.conflicts,
        },
    )
    audit.log(other, "organisations.organisation.merged_away", by=by, data={"into": survivor.pk})
    return summary


@transaction.atomic
def organisations_export(
    *, query: OrganisationQuery, by: User, every: bool = False
) -> Iterator[list[str]]:
    """Record one export of the organisations matching `query`; returns the rows to send.

    Empty filters never mean "every organisation": that is an explicit choice (`every`),
    which only administrators may make, as for bulk email to every employer contact.
    """
    try:
        _check_export_choice(query=query, by=by, every=every)
    except (ValidationError, PermissionDenied) as refusal:
        codes = [getattr(e, "code", None) for e in getattr(refusal, "error_list", [refusal])]
        reason = codes[0] or "not_allowed"
        log_event(logger, "organisations.export.refused", reason=reason, by=by.pk)
        raise
    rows = search_organisations(query).count()
    data: dict = {"query": query.to_querystring(), "rows": rows}
    if every:
        data["every"] = True
    audit.log(None, "organisations.organisation.exported", by=by, data=data)
    return export_rows(query)


def check_values_narrow(query: OrganisationQuery) -> None:
    """Refuse a score or engagement date that cannot narrow by its value (a score of at
    least 0, a last engagement on or after 1900): it only leaves out the organisations
    with no score or no engagement yet, so bulk email or an export would reach nearly
    every organisation."""
    label = {name: field.label for name, field in OrganisationSearchForm.base_fields.items()}
    every_scored = "chooses every scored organisation"
    every_engaged = "chooses every organisation with an engagement"
    today = timezone.localdate()
    refused = []
    if query.score_min is not None and query.score_min <= SCORE_LOWEST:
        refused.append(
            f"“{label['score_min']} {query.score_min}” {every_scored}: give a higher score, "
            "or leave it out."
        )
    if query.score_max is not None and query.score_max >= SCORE_HIGHEST:
        refused.append(
            f"“{label['score_max']} {query.score_max}” {every_scored}: give a lower score, "
            "or leave it out."
        )
    # No note is dated before NOTE_EARLIEST, nor after today (`_check_note_dates`),
    # and the last engagement is the latest note's date.
    if query.engaged_after and query.engaged_after <= NOTE_EARLIEST:
        refused.append(
            f"“{label['engaged_after']} {_day(query.engaged_after)}” {every_engaged}: give "
            f"a later day than {_day(NOTE_EARLIEST)}, or leave it out."
        )
    if query.engaged_before and query.engaged_before >= today:
        refused.append(
            f"“{label['engaged_before']} {_day(query.engaged_before)}” {every_engaged}: "
            f"give a day before today ({_day(today)}), or leave it out."
        )
    if refused:
        raise ValidationError(
            [ValidationError(message, code="narrows_nothing") for message in refused]
        )


def _check_export_choice(*, query: OrganisationQuery, by: User, every: bool) -> None:
    if every:
        if query.is_filtered:
            raise ValidationError(
                "Choose either every organisation or a search, not both.", code="both"
            )
        check_perm(by, "organisations.export_every_organisation")
    elif not query.is_filtered:
        raise ValidationError(
            "Choose at least one filter before exporting: an empty search does not mean "
            "every organisation.",
            code="no_filter",
        )
    else:
        check_values_narrow(query)
    if not every and selects_every_organisation(query):
        if by.has_perm("organisations.export_every_organisation"):
            # Telling an administrator that "only an administrator may" gives them no way on.
            how = (
                "To export every organisation, clear the filters and choose "
                "“Export every organisation”."
            )
        else:
            how = (
                "Add a filter that narrows it; only an administrator may export every "
                "organisation, by choosing that on its own."
            )
        raise ValidationError(
            "This search selects every active organisation, so it would export all of them. " + how,
            code="every_organisation",
        )


# Saved searches --------------------------------------------------------------------


@transaction.atomic
def saved_search_create(*, owner: User, name: str, query: OrganisationQuery) -> SavedSearch:
    """Save a search under a name of the owner's choosing, unique among their searches."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Give the search a name."})
    taken = owner.saved_searches.filter(name__iexact=name).values_list("name", flat=True).first()
    if taken:
        raise ValidationError(
            {"name": f"You already have a saved search called “{taken}”: choose another name."}
        )
    saved = SavedSearch(owner=owner, name=name, query=query.to_querystring())
    if not saved.query:
        raise ValidationError("Choose at least one filter or another order before saving a search.")
    longest = SavedSearch._meta.get_field("query").max_length
    if longest is not None and len(saved.query) > longest:
        raise ValidationError("This search is too long to save: remove some filters first.")
    saved.full_clean(validate_constraints=False)
    try:
        # A savepoint, so a twin saved at the same moment fails alone, with a message.
        with transaction.atomic():
            saved.save()
    except IntegrityError as error:
        raise ValidationError(
            {"name": f"You already have a saved search called “{name}”: choose another name."}
        ) from error
    audit.log(saved, "organisations.saved_search.created", by=owner, data={"query": saved.query})
    return saved


@transaction.atomic
def saved_search_delete(*, saved_search: SavedSearch, by: User) -> None:
    """Delete one of the person's own saved searches."""
    if saved_search.owner_id != by.pk:
        raise PermissionDenied("You can only delete your own saved searches.")
    # Read again, locked: a second press, or another tab, may have deleted it already.
    if not SavedSearch.objects.select_for_update().filter(pk=saved_search.pk).exists():
        raise ValidationError(
            f"The saved search “{saved_search.name}” is already deleted: nothing was changed."
        )
    audit.log(
        saved_search,
        "organisations.saved_search.deleted",
        by=by,
        data={"name": saved_search.name, "query": saved_search.query},
    )
    saved_search.delete()
