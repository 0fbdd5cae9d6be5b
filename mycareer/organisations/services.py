"""Changes to organisations, contacts, notes and tags. Each is audited in its transaction."""

import datetime
from collections.abc import Iterable, Iterator

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone
from taggit.models import Tag

from mycareer import audit
from mycareer.accounts.models import Unit, User
from mycareer.core.text import counted, joined
from mycareer.organisations import keyaccounts
from mycareer.organisations.matching import DuplicateCandidate, DuplicateFinder
from mycareer.organisations.models import (
    Contact,
    EmailOptOut,
    KeyContact,
    Note,
    Organisation,
    SavedSearch,
    TaggedOrganisation,
)
from mycareer.organisations.search import OrganisationQuery, export_rows, search_organisations

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
    names = " ".join(organisation.contacts.values_list("full_name", flat=True))
    document = " ".join(
        part for part in (organisation.name, organisation.description, names) if part
    )
    Organisation.objects.filter(pk=organisation.pk).update(search_document=document)
    organisation.search_document = document


def refresh_last_engaged(organisation: Organisation) -> None:
    latest = organisation.notes.aggregate(latest=Max("date"))["latest"]
    Organisation.objects.filter(pk=organisation.pk).update(last_engaged_on=latest)
    organisation.last_engaged_on = latest


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


@transaction.atomic
def organisation_update(*, organisation: Organisation, by: User | None, **data) -> dict:
    """Change an organisation's profile; returns what changed."""
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
        },
    )
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


@transaction.atomic
def contact_create(*, organisation: Organisation, by: User | None, **data) -> Contact:
    """Add a contact; an email already used by a contact of the organisation is refused."""
    data["email"] = (data.get("email") or "").strip().lower()
    _check_contact_email(organisation, data["email"])
    contact = Contact(organisation=organisation, **data)
    if contact.visible_to_students:
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
def contact_update(*, contact: Contact, by: User | None, **data) -> dict:
    if "email" in data:
        data["email"] = (data["email"] or "").strip().lower()
        _check_contact_email(contact.organisation, data["email"], exclude=contact.pk)
    was_visible = contact.visible_to_students
    changed = apply_changes(contact, CONTACT_FIELDS, data)
    if not changed:
        return {}
    if contact.visible_to_students != was_visible:
        contact.visibility_changed_at, contact.visibility_changed_by = timezone.now(), by
    contact.full_clean()
    contact.save()
    refresh_search_document(contact.organisation)
    audit.log(contact, "organisations.contact.changed", by=by, data={"changed": changed})
    return changed


@transaction.atomic
def contact_delete(*, contact: Contact, by: User | None) -> None:
    organisation = contact.organisation
    audit.log(
        contact,
        "organisations.contact.deleted",
        by=by,
        data={"organisation": organisation.pk, "name": contact.full_name},
    )
    contact.delete()
    refresh_search_document(organisation)


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


@transaction.atomic
def contact_opt_in(*, contact: Contact, purpose: str, by: User | None) -> None:
    deleted, _ = EmailOptOut.objects.filter(contact=contact, purpose=purpose).delete()
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
    contacts = list(contacts)
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
    note.full_clean()
    note.save()
    note.contacts.set(contacts)
    refresh_last_engaged(organisation)
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
    before = sorted(note.contacts.values_list("pk", flat=True))
    current = list(note.contacts.all()) if contacts is None else list(contacts)
    after = sorted(c.pk for c in current)
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
    note.full_clean()
    note.save()
    refresh_last_engaged(note.organisation)
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
    refresh_last_engaged(organisation)


@transaction.atomic
def follow_up_complete(*, note: Note, by: User) -> None:
    if note.follow_up_done:
        return
    note.follow_up_done = True
    note.save(update_fields=["follow_up_done", "updated_at"])
    audit.log(note, "organisations.note.follow_up_done", by=by)


# Merging ---------------------------------------------------------------------------

# Other apps may need to move rows that a plain foreign-key update cannot (unique
# constraints); each hook is called as hook(survivor=..., other=...) before the
# generic move and returns a {label: count} summary.
MERGE_HOOKS: list = []


def _move_contacts(survivor: Organisation, other: Organisation) -> dict:
    """Move contacts; one with the same email as a survivor's contact is folded into it."""
    by_email = {c.email.lower(): c for c in survivor.contacts.exclude(email="")}
    moved = folded = 0
    for contact in list(other.contacts.all()):
        twin = by_email.get(contact.email.lower()) if contact.email else None
        if twin is None:
            contact.organisation = survivor
            contact.save(update_fields=["organisation", "updated_at"])
            moved += 1
            continue
        for name in ("job_title", "phone"):
            if not getattr(twin, name) and getattr(contact, name):
                setattr(twin, name, getattr(contact, name))
        twin.email_consent = twin.email_consent or contact.email_consent
        twin.save()
        for note in contact.notes.all():
            note.contacts.add(twin)
        for opt_out in contact.opt_outs.all():
            EmailOptOut.objects.get_or_create(
                contact=twin,
                purpose=opt_out.purpose,
                defaults={"method": opt_out.method, "recorded_by": opt_out.recorded_by},
            )
        contact.opt_outs.all().delete()
        # The twin may already be a key contact of the same account.
        KeyContact.with_released.filter(
            contact=contact, key_account__key_contacts__contact=twin
        ).delete()
        _move_generic_relations(Contact, contact, twin)
        contact.delete()
        folded += 1
    return {"contacts moved": moved, "contacts merged by email": folded}


def _move_generic_relations(model, old, new) -> dict:
    """Point every foreign key and many-to-many row that refers to `old` at `new`."""
    summary = {}
    for relation in model._meta.related_objects:
        if relation.related_model is TaggedOrganisation:
            continue
        if relation.one_to_one:
            continue
        if relation.many_to_many:
            through = relation.through
            source = relation.field.m2m_reverse_field_name()
            target = relation.field.m2m_field_name()
            rows = through.objects.filter(**{source: old})
            count = 0
            for row in list(rows):
                already = through.objects.filter(
                    **{source: new, target: getattr(row, f"{target}_id")}
                ).exists()
                if already:
                    row.delete()
                else:
                    setattr(row, source, new)
                    row.save()
                count += 1
            if count:
                summary[relation.name] = count
        elif relation.one_to_many and relation.field.model is not model:
            if relation.related_model is model:
                continue
            count = relation.related_model._base_manager.filter(
                **{relation.field.name: old}
            ).update(**{relation.field.name: new})
            if count:
                summary[relation.name] = count
    return summary


# Labels of merge summaries that are not simply a related model's name.
_SUMMARY_NOUNS = {
    "contacts moved": ("contact moved", "contacts moved"),
    "contacts merged by email": ("contact merged by email", "contacts merged by email"),
    "key accounts folded into the survivor's": (
        "key account folded into the survivor's",
        "key accounts folded into the survivor's",
    ),
}


def _summary_nouns(key: str) -> tuple[str, str]:
    if key in _SUMMARY_NOUNS:
        return _SUMMARY_NOUNS[key]
    for relation in Organisation._meta.related_objects:
        if relation.name == key:
            meta = relation.related_model._meta
            return str(meta.verbose_name), str(meta.verbose_name_plural)
    return key, key


def merge_summary_text(summary: dict) -> str:
    """What a merge moved, in words: "1 contact moved, 3 notes and 1 vacancy"."""
    parts = [
        counted(value, *_summary_nouns(key))
        for key, value in summary.items()
        if isinstance(value, int) and not isinstance(value, bool) and value
    ]
    return joined(parts) or "nothing else"


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
    if other.merged_into_id:
        raise ValidationError(f"{other} was already merged into another record.")
    survivor = Organisation.objects.select_for_update().get(pk=survivor.pk)
    other = Organisation.objects.select_for_update().get(pk=other.pk)
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
    summary: dict = {"fields taken from the other record": sorted(changed)}
    summary.update(keyaccounts.merge_key_accounts(survivor=survivor, other=other))
    for hook in MERGE_HOOKS:
        summary.update(hook(survivor=survivor, other=other) or {})
    summary.update(_move_contacts(survivor, other))
    survivor.tags.add(*other.tags.all())
    summary.update(_move_generic_relations(Organisation, other, survivor))
    survivor.last_engaged_on = max(
        (d for d in (survivor.last_engaged_on, other.last_engaged_on) if d), default=None
    )
    if (
        survivor.status == Organisation.Status.PENDING
        and other.status == Organisation.Status.ACTIVE
    ):
        survivor.status = Organisation.Status.ACTIVE
    survivor.save()
    refresh_search_document(survivor)
    other.tags.clear()
    other.merged_into = survivor
    other.status = Organisation.Status.ARCHIVED
    other.save()
    Organisation.objects.filter(merged_into=other).update(merged_into=survivor)
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
        },
    )
    audit.log(other, "organisations.organisation.merged_away", by=by, data={"into": survivor.pk})
    return summary


@transaction.atomic
def organisations_export(*, query: OrganisationQuery, by: User) -> Iterator[list[str]]:
    """Record one export of the organisations matching `query`; returns the rows to send."""
    rows = search_organisations(query).count()
    audit.log(
        None,
        "organisations.organisation.exported",
        by=by,
        data={"query": query.to_querystring(), "rows": rows},
    )
    return export_rows(query)


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
    audit.log(
        saved_search,
        "organisations.saved_search.deleted",
        by=by,
        data={"name": saved_search.name, "query": saved_search.query},
    )
    saved_search.delete()
