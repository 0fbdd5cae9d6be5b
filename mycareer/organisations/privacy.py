"""Employer contacts and organisations in subject access, erasure and retention.

Erasing a contact keeps the record (notes, emails sent and events keep their counts and
history) without the person: no name, job title, email or phone, no login. The places
where the person may be named are their organisations: notes, the profile, key contact
guidance, liaison requests and registrations; and, by full name, email or phone only,
the notes about any other organisation.
"""

import datetime
import logging
from urllib.parse import parse_qsl, urlencode

from django.db.models import Count, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from mycareer import audit
from mycareer.audit.erasure import typed_words_erased
from mycareer.audit.personal_data import (
    ERASED_CONTACT,
    Change,
    LetterEntry,
    PersonalDataHandler,
    TextPlace,
    in_words,
)
from mycareer.audit.selectors import audit_for_object
from mycareer.core.logs import log_event
from mycareer.organisations.models import (
    Contact,
    EmailOptOut,
    EmployerInvitation,
    EmployerMembership,
    KeyAccount,
    KeyContact,
    LiaisonRequest,
    Note,
    Organisation,
    RegistrationRequest,
    SavedSearch,
    Sector,
)
from mycareer.organisations.registration import no_administrator_text

logger = logging.getLogger(__name__)


def linked_organisation_ids(subject) -> set[int]:
    """Organisations the person is linked to: as a contact, a member, a key account owner."""
    ids = {c.organisation_id for c in subject.contacts}
    users = subject.user_ids
    if users:
        ids |= set(
            Contact.objects.filter(user_id__in=users).values_list("organisation_id", flat=True)
        )
        ids |= set(
            EmployerMembership.objects.filter(user_id__in=users).values_list(
                "organisation_id", flat=True
            )
        )
        ids |= set(
            RegistrationRequest.objects.filter(user_id__in=users).values_list(
                "organisation_id", flat=True
            )
        )
        ids |= set(
            KeyAccount.objects.filter(operator_id__in=users).values_list(
                "organisation_id", flat=True
            )
        )
    return ids


def _left_without_an_administrator(users: list[int]) -> list[tuple[Organisation, int]]:
    """The organisations these logins are the only administrators of, each with how many
    other people sign in for it."""
    active = EmployerMembership.objects.filter(status=EmployerMembership.Status.ACTIVE)
    theirs = active.filter(user_id__in=users, is_admin=True).values("organisation_id")
    others = active.exclude(user_id__in=users)
    organisations = (
        Organisation.objects.filter(pk__in=theirs)
        .exclude(pk__in=others.filter(is_admin=True).values("organisation_id"))
        .annotate(
            others=Count(
                "memberships",
                filter=Q(memberships__status=EmployerMembership.Status.ACTIVE)
                & ~Q(memberships__user_id__in=users),
            )
        )
        .order_by("name")
    )
    return [(organisation, organisation.others) for organisation in organisations]


def _invitations(subject):
    emails = subject.emails
    if not emails:
        return EmployerInvitation.objects.none()
    condition = Q()
    for email in emails:
        condition |= Q(email__iexact=email)
    return EmployerInvitation.objects.filter(condition).select_related("organisation")


def _searches_for(subject, *, apply: bool) -> list[Change]:
    """Saved searches, anyone's, that look for the person by name or address: the search
    text is stored URL-encoded ("text=Jane+Doe"), where no search for mentions reads it.
    The words go, the rest of each search stays."""
    erased = typed_words_erased(subject)
    changed = 0
    for pk, query in SavedSearch.objects.filter(query__contains="text=").values_list("pk", "query"):
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(name, erased(value) if name == "text" else value) for name, value in pairs]
        if kept != pairs:
            changed += 1
            if apply:
                SavedSearch.objects.filter(pk=pk).update(query=urlencode(kept))
    if not changed:
        return []
    return [
        Change(
            "Saved searches for them by name or address",
            "the words replaced by “[name erased]” (or the address by “[email erased]”); "
            "the rest of each search kept",
            changed,
        )
    ]


def anonymise_contacts(subject, *, apply: bool, by=None) -> list[Change]:
    """Plan or make the changes to the person's contact records, memberships, registrations."""
    from mycareer.organisations.erased import erased_addresses_remember
    from mycareer.organisations.optouts import keep_opt_outs_of
    from mycareer.organisations.services import refresh_search_document

    changes: list[Change] = []
    contacts = Contact.objects.filter(pk__in=subject.contact_ids).select_related("organisation")
    for contact in contacts:
        changes.append(
            Change(
                f"Contact record at {contact.organisation}",
                "name, job title, email address and phone removed; hidden from students; "
                "no longer linked to a login; it can no longer be changed",
            )
        )
    kept = (
        EmailOptOut.objects.filter(contact_id__in=subject.contact_ids).count()
        + KeyContact.objects.filter(contact_id__in=subject.contact_ids).count()
    )
    if kept:
        changes.append(
            Change(
                "Email choices and key contact links",
                f"kept under “{ERASED_CONTACT}”: they name no one; a choice to leave bulk "
                "email is also kept against a one-way digest of the address, so that it "
                "holds if the address is added again",
                kept,
                kept=True,
            )
        )
    if any(contact.email for contact in contacts):
        changes.append(
            Change(
                "Email address of the contact record, as a keyed hash",
                "kept, unreadable, so that an import or the API does not add the person "
                "again; a colleague may still add them by hand if they come back",
                kept=True,
            )
        )
    accounts = KeyAccount.objects.filter(operator_id__in=subject.user_ids).count()
    if accounts:
        changes.append(
            Change(
                "Key accounts they look after",
                "kept, with the owner shown as erased: reassign them to a colleague",
                accounts,
                kept=True,
            )
        )
    memberships = EmployerMembership.objects.filter(user_id__in=subject.user_ids)
    registrations = RegistrationRequest.objects.filter(
        user_id__in=subject.user_ids, ip_address__isnull=False
    )
    invitations = _invitations(subject)
    stranded = _left_without_an_administrator(subject.user_ids)
    for organisation, left in stranded:
        # Said before the erasure is confirmed: nobody there can change anything after it.
        text = no_administrator_text(organisation, left=left).rstrip(".")
        changes.append(Change(f"Membership of {organisation}", f"removed; {text}"))
    for rows, what, how in (
        (
            memberships.exclude(organisation__in=[o for o, _ in stranded]),
            "Memberships of an employer's organisation",
            "removed",
        ),
        (registrations, "Registration requests", "network address removed"),
        (invitations, "Invitations sent to their address", "address removed"),
    ):
        count = rows.count()
        if count:
            changes.append(Change(what, how, count))
    changes += _searches_for(subject, apply=apply)
    if apply:
        organisations = list(Organisation.objects.filter(contacts__in=contacts).distinct())
        # Their "no" to bulk email outlives their name and address, as a digest alone.
        keep_opt_outs_of(contacts)
        # And the address itself, keyed and hashed, so that no file or script adds them again.
        erased_addresses_remember(contacts)
        contacts.update(
            full_name=ERASED_CONTACT,
            job_title="",
            email="",
            phone="",
            user=None,
            visible_to_students=False,
            email_consent=False,
            # Kept as a fact: nobody may type a person onto the record afterwards. A record
            # erased again keeps the day its person was first erased.
            erased_at=Coalesce("erased_at", Value(timezone.now())),
        )
        memberships.delete()
        for organisation, left in stranded:
            # On the organisation's own record: why nobody there can change anything now.
            # The erased person is not named.
            audit.log(
                organisation,
                "organisations.membership.erased_last_administrator",
                by=by,
                data={"left_without_an_administrator": left},
            )
            log_event(
                logger,
                "organisations.membership.erased_last_administrator",
                organisation=organisation.pk,
                left=left,
            )
        registrations.update(ip_address=None)
        for invitation in invitations:
            EmployerInvitation.objects.filter(pk=invitation.pk).update(
                email=f"erased-invitation-{invitation.pk}@erased.invalid"
            )
        for organisation in organisations:
            refresh_search_document(organisation)
    return changes


def _note(note: Note) -> str:
    return f"{note.get_kind_display()} note of {in_words(note.date)} about {note.organisation}"


def organisation_places(subject):
    """Notes and records of the organisations the person is linked to, and their own notes."""
    organisations = linked_organisation_ids(subject)
    users = subject.user_ids
    notes = Note.objects.select_related("organisation")
    yield TextPlace(
        "Notes about their organisations",
        notes.filter(organisation_id__in=organisations),
        ("text",),
        _note,
    )
    yield TextPlace("Notes they recorded", notes.filter(author_id__in=users), ("text",), _note)
    # A note about another organisation may name them too ("Grace Lee of Chapel Allerton
    # recommended them"): there only their full name, email and phone are looked for,
    # never a first name or surname alone, in the notes whose text holds one of them.
    naming = _naming_notes(subject)
    if naming is not None:
        yield TextPlace(
            "Notes about other organisations",
            notes.filter(naming)
            .exclude(organisation_id__in=organisations)
            .exclude(author_id__in=users),
            ("text",),
            _note,
            in_context=False,
        )
    yield TextPlace(
        "Profiles of their organisations",
        Organisation.objects.filter(pk__in=organisations),
        ("description",),
        lambda organisation: f"Profile of {organisation}",
    )
    yield TextPlace(
        "Key contacts of their organisations",
        KeyContact.objects.filter(contact__organisation_id__in=organisations).select_related(
            "contact__organisation"
        ),
        ("guidance",),
        lambda link: f"Guidance for a key contact at {link.contact.organisation}",
    )
    yield TextPlace(
        "Liaison requests",
        LiaisonRequest.objects.filter(
            Q(key_contact__contact__organisation_id__in=organisations)
            | Q(requester_id__in=users)
            | Q(decided_by_id__in=users)
        ).select_related("key_contact__contact__organisation"),
        ("reason", "proposed_engagement", "comment"),
        lambda request: (
            f"Liaison request of {in_words(request.created_at)} "
            f"about a contact at {request.key_contact.contact.organisation}"
        ),
    )
    yield TextPlace(
        "Employer registrations",
        RegistrationRequest.objects.filter(
            Q(user_id__in=users) | Q(organisation_id__in=organisations)
        ).select_related("organisation"),
        ("decision_reason", "risk_reasons"),
        lambda registration: (
            f"Registration of {in_words(registration.created_at)} for {registration.organisation}"
        ),
    )
    yield TextPlace(
        "Saved searches",
        SavedSearch.objects.filter(owner_id__in=users),
        ("name",),
        lambda search: f"A saved search made on {in_words(search.created_at)}",
    )
    # A colleague's search for them ("Jane Doe at Northbridge") is named after them: its
    # words are erased from the search itself, and its name is proposed here.
    naming = _naming_notes(subject, field="name")
    if naming is not None:
        yield TextPlace(
            "Saved searches named after them",
            SavedSearch.objects.filter(naming).exclude(owner_id__in=users),
            ("name",),
            lambda search: f"A colleague's saved search made on {in_words(search.created_at)}",
            in_context=False,
        )
    # No free text, but their audit trail holds the address they were sent to.
    yield TextPlace("Invitations", _invitations(subject), (), str)


def _naming_notes(subject, *, field: str = "text") -> Q | None:
    """Rows whose `field` (a note's text) holds one of the person's full names, emails or
    phones."""
    words = {name for name in subject.names if len(name.split()) > 1} | subject.emails
    words |= {
        phone
        for person in subject.people
        if len(phone := (getattr(person, "phone", "") or "").strip()) >= 7
    }
    if not words:
        return None
    naming = Q(pk__in=[])
    for word in words:
        naming |= Q(**{f"{field}__icontains": word})
    return naming


def protected_names(subject, word: str):
    """Organisations, sectors and other contacts whose names contain `word`."""
    organisations = Organisation.objects.filter(name__icontains=word)
    for name in organisations.order_by().values_list("name", flat=True).distinct():
        yield "organisation", name
    for name in Sector.objects.filter(name__icontains=word).values_list("name", flat=True):
        yield "sector", name
    others = Contact.objects.filter(full_name__icontains=word).exclude(pk__in=subject.contact_ids)
    for name in others.order_by().values_list("full_name", flat=True).distinct():
        yield "person", name


def _origin(contact: Contact) -> str:
    created = (
        audit_for_object(contact)
        .filter(action="organisations.contact.created")
        .order_by("at")
        .first()
    )
    if created is None:
        return "Recorded by the university's staff"
    if created.actor_id and created.actor_id == contact.user_id:
        return f"From you, when you registered on {in_words(created.at)}"
    if created.actor is not None and created.actor.is_employer:
        return f"From a colleague at {contact.organisation} on {in_words(created.at)}"
    if created.actor is not None:
        return f"Recorded by {created.actor} of the university on {in_words(created.at)}"
    return f"Imported by the university's staff on {in_words(created.at)}"


def contact_letter(subject):
    """Contact records, email choices, notes that name them, and their work as staff."""
    contacts = Contact.objects.filter(pk__in=subject.contact_ids).select_related(
        "organisation", "user"
    )
    for contact in contacts:
        yield LetterEntry(
            "profile",
            f"Your contact record at {contact.organisation}",
            [
                ("Name", contact.full_name),
                ("Job title", contact.job_title),
                ("Email address", contact.email),
                ("Phone", contact.phone),
                ("Recorded", contact.created_at),
                ("Last changed", contact.updated_at),
            ],
            when=contact.created_at,
            origin=_origin(contact),
            key=f"organisations.Contact:{contact.pk}",
        )
        visible = (
            "Yes: students can see your email address and phone"
            if contact.visible_to_students
            else "No: students cannot see your email address or phone"
        )
        yield LetterEntry(
            "consent",
            f"Your choices as a contact at {contact.organisation}",
            [
                ("You agreed to receive email from the university", contact.email_consent),
                ("Shown to students", visible),
                ("Shown to students since", contact.visibility_changed_at),
            ],
        )
        for opt_out in contact.opt_outs.order_by("created_at"):
            yield LetterEntry(
                "consent",
                f"You opted out of: {opt_out.get_purpose_display()}",
                [("How", opt_out.get_method_display()), ("When", opt_out.created_at)],
                when=opt_out.created_at,
            )
        for link in contact.key_links.select_related("key_account__operator", "key_account__unit"):
            account = link.key_account
            yield LetterEntry(
                "other",
                f"You are a key contact of the {account.unit}",
                [
                    ("Who looks after the relationship", str(account.operator)),
                    ("Since", link.created_at),
                ],
                text=link.guidance,
                key=f"organisations.KeyContact:{link.pk}",
            )
            for request in link.liaison_requests.select_related("requester"):
                yield LetterEntry(
                    "other",
                    f"A colleague asked to contact you: {request.get_status_display()}",
                    [("Asked by", str(request.requester)), ("Asked", request.created_at)],
                    text=request.reason,
                    when=request.created_at,
                    key=f"organisations.LiaisonRequest:{request.pk}",
                )
    notes = (
        Note.objects.filter(contacts__in=subject.contact_ids)
        .select_related("organisation", "author")
        .distinct()
        .order_by("-date")
    )
    for note in notes:
        yield LetterEntry(
            "notes",
            _note(note),
            [("Recorded by", str(note.author or "")), ("Date", note.date)],
            text=note.text,
            when=note.date,
            key=f"organisations.Note:{note.pk}",
        )
    users = subject.user_ids
    memberships = EmployerMembership.objects.filter(user_id__in=users).select_related(
        "organisation"
    )
    for membership in memberships:
        yield LetterEntry(
            "profile",
            f"Your membership of {membership.organisation}",
            [
                ("Status", membership.get_status_display()),
                ("You manage its profile and people", membership.is_admin),
                ("Since", membership.created_at),
            ],
        )
    registrations = RegistrationRequest.objects.filter(user_id__in=users).select_related(
        "organisation"
    )
    for registration in registrations:
        yield LetterEntry(
            "other",
            f"Your registration for {registration.organisation}",
            [
                ("Registered", registration.created_at),
                ("Kind", registration.get_kind_display()),
                ("Decision", registration.get_status_display()),
                ("Reason given", registration.decision_reason),
                ("Checks we made", "; ".join(registration.risk_reasons or [])),
                ("Network address you registered from", registration.ip_address or ""),
            ],
            when=registration.created_at,
            origin="From you, when you registered",
            key=f"organisations.RegistrationRequest:{registration.pk}",
            quoted=("Reason given", "Checks we made"),
        )
    for invitation in _invitations(subject):
        yield LetterEntry(
            "other",
            f"An invitation to join {invitation.organisation}",
            [("Sent", invitation.created_at), ("Accepted", invitation.accepted_at)],
            origin="From a colleague at your organisation",
        )
    if users:
        yield from _staff_work(users)


def _staff_work(users: list[int]):
    written = Note.objects.filter(author_id__in=users).count()
    if written:
        yield LetterEntry("activity", "Notes you recorded", [("Notes", written)])
    for account in KeyAccount.objects.filter(operator_id__in=users).select_related(
        "organisation", "unit"
    ):
        yield LetterEntry(
            "activity",
            f"Key account you look after: {account.organisation}",
            [("For", str(account.unit)), ("Since", account.created_at)],
        )
    asked = LiaisonRequest.objects.filter(requester_id__in=users).count()
    if asked:
        yield LetterEntry("activity", "Liaison requests you made", [("Requests", asked)])
    for search in SavedSearch.objects.filter(owner_id__in=users):
        yield LetterEntry(
            "activity", f"Your saved search “{search.name}”", [("Saved", search.created_at)]
        )


personal_data = PersonalDataHandler(
    anonymise=anonymise_contacts,
    places=organisation_places,
    protected=protected_names,
    letter=contact_letter,
    covers=(
        "organisations.Contact.user",
        "organisations.EmailOptOut.contact",
        "organisations.Note.author",
        "organisations.Note.contacts",
        "organisations.SavedSearch.owner",
        "organisations.KeyAccount.operator",
        "organisations.KeyContact.contact",
        # A contact a merge folded into theirs (the same email at both records) and
        # deleted: its number, the contact it became, and when. The audit app reads these
        # rows (`Subject.former_contact_ids`): the folded contact's audit trail is the
        # person's history, told in their letter and anonymised with theirs, and a name it
        # held finds the contact it became. Erasure keeps the rows: they hold numbers only,
        # old links keep reaching the record erasure anonymised, and the folded contact's
        # entries stay tied to the person for a later letter or erasure. Contacts folded
        # before these rows were kept (migration 0024) left no trace of what they became:
        # their audit entries are found by name, in an erasure's review, not by number.
        "organisations.MergedContact.merged_into",
        "organisations.LiaisonRequest.requester",
        "organisations.EmployerMembership.user",
        "organisations.RegistrationRequest.user",
    ),
)


def declined_registrations_due():
    cutoff = timezone.now() - datetime.timedelta(days=365)
    return RegistrationRequest.objects.filter(
        status=RegistrationRequest.Status.DECLINED, decided_at__lt=cutoff
    )


def forget_declined_registrations(rows) -> int:
    """A declined registration's person is erased and the request deleted."""
    from mycareer.audit.erasure import erase
    from mycareer.audit.personal_data import subject_from_ids

    count = 0
    for registration in rows.select_related("user"):
        erase(subject_from_ids([registration.user_id], []), by=None)
        registration.delete()
        count += 1
    return count
