import copy

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from taggit.models import Tag

from mycareer.accounts.models import User
from mycareer.accounts.permissions import why_not
from mycareer.core.forms import add_validation_error, already_saved, remember_saved
from mycareer.core.http import safe_next, saved
from mycareer.core.permissions import require
from mycareer.core.text import counted, joined
from mycareer.organisations import keyaccounts, selectors, services
from mycareer.organisations.erased import erased_addresses, refused_page
from mycareer.organisations.forms import (
    ConfirmForm,
    ContactForm,
    NoteForm,
    OrganisationForm,
    PreferencesForm,
)
from mycareer.organisations.models import (
    Contact,
    EmailOptOut,
    KeyAccount,
    LiaisonRequest,
    Note,
    Organisation,
)
from mycareer.organisations.permissions import another_organisations
from mycareer.organisations.timeline import (
    profile_actions,
    profile_sections,
    timeline_page,
)


def _organisation(pk: int) -> Organisation:
    try:
        return selectors.organisation_for_profile(pk)
    except Organisation.DoesNotExist as error:
        raise Http404("No such organisation.") from error


def _to_survivor(request, organisation: Organisation, page: str):
    """An old link to a form of a record merged away: opened, the form would take what is
    typed only to refuse it on saving; the same form on the record it lives on now."""
    if request.method != "GET" or not organisation.merged_into_id:
        return None
    target = selectors.organisation_survivor(organisation)
    messages.info(request, f"{organisation.name} was merged into {target.name}.")
    # What the link asked for (the record to merge, a search) is asked of the survivor.
    query = f"?{request.GET.urlencode()}" if request.GET else ""
    return redirect(reverse(page, kwargs={"pk": target.pk}) + query)


# Organisations ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require("organisations.add_organisation")
def organisation_create(request):
    """Create an organisation; likely duplicates are shown first and need confirming."""
    form = OrganisationForm(request.POST or None, request.FILES or None)
    candidates = []
    if request.method == "GET":
        membership = request.user.memberships.first()
        if membership:
            form.initial["unit"] = membership.unit_id
    if request.method == "POST" and form.is_valid():
        if sent_before := already_saved(request, form):
            return sent_before
        data = {k: v for k, v in form.cleaned_data.items() if k != "tags"}
        try:
            organisation = services.organisation_create(
                by=request.user,
                tags=form.cleaned_data["tags"],
                confirm_duplicates=request.POST.get("confirm_duplicates") == "yes",
                **data,
            )
        except services.LikelyDuplicate as duplicate:
            candidates = _with_records(duplicate.candidates)
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(request, f"{organisation} is now in MyCareer.")
            remember_saved(request, form, organisation.get_absolute_url())
            return redirect(organisation)
    return render(
        request,
        "organisations/organisation_form.html",
        {"form": form, "candidates": candidates, "creating": True},
    )


def _with_records(candidates) -> list[tuple[Organisation, object]]:
    """Likely duplicates with their records, for the form to link to each."""
    found = Organisation.objects.in_bulk([c.organisation_id for c in candidates])
    return [(found[c.organisation_id], c) for c in candidates if c.organisation_id in found]


@require_safe
def organisation_detail(request, pk: int):
    """The profile: staff see everything; students and employers the public profile."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    organisation = _organisation(pk)
    if organisation.merged_into_id:
        target = selectors.organisation_survivor(organisation)
        messages.info(request, f"{organisation.name} was merged into {target.name}.")
        return redirect(target)
    if not request.user.has_perm("organisations.view_organisation"):
        if not request.user.has_perm("organisations.view_public_profile", organisation):
            if request.user.kind == User.Kind.EMPLOYER:
                raise another_organisations(request.user, "profile")
            raise Http404("No such organisation.")
        return render(
            request,
            "organisations/public_profile.html",
            {
                "organisation": organisation,
                "contacts": selectors.contacts_shown_to(request.user, organisation),
                "sections": profile_sections(organisation, request.user),
            },
        )
    timeline, entries, more = timeline_page(request, organisation, staff=True)
    can_add_note = request.user.has_perm("organisations.add_note")
    return render(
        request,
        "organisations/organisation_detail.html",
        {
            "organisation": organisation,
            "contacts": organisation.contacts.all(),
            "members": list(selectors.members_of(organisation)) if organisation.has_members else [],
            "tags": organisation.tag_name_list,
            "entries": entries,
            "page": timeline["page"],
            "more": more,
            "timeline": timeline,
            "audit_content_type": ContentType.objects.get_for_model(Organisation).pk,
            "profile_actions": profile_actions(organisation, request.user),
            "sections": profile_sections(organisation, request.user, staff=True),
            # The page only links to the note form: building one cost its queries.
            "can_add_note": can_add_note,
            # Without its buttons the page says why, as a refusal would, and what to do.
            "why_read_only": ""
            if can_add_note
            else why_not(request.user, "organisations.add_note"),
        },
    )


@require_http_methods(["GET", "POST"])
@require("organisations.change_organisation")
def organisation_edit(request, pk: int):
    organisation = _organisation(pk)
    if moved := _to_survivor(request, organisation, "organisations:edit"):
        return moved
    # The form works on a copy: a refused value must not show in the page as if it were saved.
    form = OrganisationForm(
        request.POST or None, request.FILES or None, instance=copy.copy(organisation)
    )
    candidates = []
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "tags"}
        # The ModelForm already set the values on the instance; reload for a true diff.
        fresh = Organisation.objects.get(pk=pk)
        try:
            changed = services.organisation_update(
                organisation=fresh,
                by=request.user,
                confirm_duplicates=request.POST.get("confirm_duplicates") == "yes",
                **data,
            )
            if "tags" in form.changed_data:
                # Untouched, they stay exactly as they are, whatever was saved meanwhile.
                services.organisation_set_tags(
                    organisation=fresh, tags=form.cleaned_data["tags"], by=request.user
                )
                changed["tags"] = True
        except services.LikelyDuplicate as duplicate:
            candidates = _with_records(duplicate.candidates)
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            saved(request, changed, "The profile is saved.")
            return redirect(fresh)
    return render(
        request,
        "organisations/organisation_form.html",
        {"form": form, "organisation": organisation, "creating": False, "candidates": candidates},
    )


@require_http_methods(["GET", "POST"])
@require("organisations.archive_organisation")
def organisation_archive(request, pk: int):
    organisation = get_object_or_404(Organisation, pk=pk)
    if request.method == "POST":
        if organisation.status == Organisation.Status.ARCHIVED:
            try:
                services.organisation_restore(organisation=organisation, by=request.user)
            except ValidationError as refusal:
                messages.error(request, refusal.messages[0])
            else:
                messages.success(request, f"{organisation} is active again.")
        else:
            services.organisation_archive(organisation=organisation, by=request.user)
            messages.success(request, f"{organisation} is archived.")
        return redirect(organisation)
    return render(
        request, "organisations/organisation_archive.html", {"organisation": organisation}
    )


@require_http_methods(["GET", "POST"])
@require("organisations.delete_organisation")
def organisation_delete(request, pk: int):
    organisation = get_object_or_404(Organisation, pk=pk)
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        name = organisation.name
        services.organisation_delete(organisation=organisation, by=request.user)
        messages.success(request, f"{name} and its contacts and notes were deleted.")
        return redirect("organisations:search")
    return render(
        request,
        "organisations/organisation_delete.html",
        {
            "organisation": organisation,
            "form": form,
            "linked": services.organisation_delete_summary(organisation),
        },
    )


MERGE_LABELS = {
    "name": "Name",
    "website": "Website",
    "sector": "Sector",
    "size": "Size",
    "locations": "Locations",
    "description": "Description",
    "logo": "Logo",
}


def _display(organisation: Organisation, field: str) -> str:
    value = getattr(organisation, field)
    if field == "size":
        return organisation.get_size_display()
    if field == "logo":
        return value.name.rsplit("/", 1)[-1] if value else ""
    return str(value or "")


@require_http_methods(["GET", "POST"])
@require("organisations.merge_organisation")
def organisation_merge(request, pk: int):
    """Pick a duplicate, choose field by field what to keep, and merge it into this record."""
    survivor = _organisation(pk)
    if moved := _to_survivor(request, survivor, "organisations:merge"):
        return moved
    if survivor.merged_into_id:
        # The page was opened before this record was merged away: choose again there.
        target = selectors.organisation_survivor(survivor)
        messages.error(
            request,
            f"{survivor.name} was merged into {target.name}: nothing was changed. Merge into "
            f"{target.name} instead.",
        )
        other_id = request.POST.get("other", "")
        query = f"?other={other_id}" if other_id.isdigit() else ""
        return redirect(reverse("organisations:merge", args=[target.pk]) + query)
    other = None
    other_id = request.POST.get("other") or request.GET.get("other")
    if other_id and str(other_id).isdigit():
        other = (
            Organisation.objects.filter(pk=int(other_id), merged_into__isnull=True)
            .exclude(pk=pk)
            .first()
        )
    if other is not None:
        try:
            services.check_merge_direction(survivor, other)
        except ValidationError as error:
            # Said before any choice is offered, not after the person has made them.
            messages.error(request, " ".join(error.messages))
            return redirect("organisations:merge", pk=survivor.pk)
    query = request.GET.get("q", "").strip()
    suggestions = []
    if other is None:
        candidates = services.organisation_duplicates(
            name=survivor.name,
            website=survivor.website,
            emails=[c.email for c in survivor.contacts.all()],
            exclude=[survivor.pk],
        )
        found = Organisation.objects.in_bulk([c.organisation_id for c in candidates])
        suggestions = [
            (found[c.organisation_id], c.reasons) for c in candidates if c.organisation_id in found
        ]
        if query:
            matches = (
                Organisation.objects.filter(name__icontains=query, merged_into__isnull=True)
                .exclude(pk=pk)
                .order_by("name")[:20]
            )
            suggestions += [(o, ["Name matches your search"]) for o in matches]
    rows = []
    if other is not None:
        rows = [
            {
                "field": field,
                "label": label,
                "survivor": _display(survivor, field),
                "other": _display(other, field),
                "choice": request.POST.get(f"keep_{field}")
                or (
                    "other"
                    if not _display(survivor, field) and _display(other, field)
                    else "survivor"
                ),
            }
            for field, label in MERGE_LABELS.items()
        ]
    if request.method == "POST" and other is not None:
        keep = {row["field"]: row["choice"] for row in rows}
        try:
            summary = services.organisation_merge(
                survivor=survivor, other=other, keep=keep, by=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                # "…: 4 contacts moved, 5 notes and 1 vacancy." ("Moved: 4 contacts moved"
                # said it twice.)
                f"{other.name} was merged into {survivor.name}: "
                f"{services.merge_summary_text(summary)}.",
            )
            return redirect(survivor)
    return render(
        request,
        "organisations/organisation_merge.html",
        {
            "organisation": survivor,
            "other": other,
            "rows": rows,
            "suggestions": suggestions,
            "query": query,
            # What each app will move, counted before anything is done.
            "will_move": services.merge_preview_text(survivor, other) if other else "",
        },
    )


@require_safe
@require("organisations.view_organisation")
def tag_suggestions(request):
    """Existing tags that start with (or contain) what was typed, for the tag input."""
    typed = request.GET.get("q", "").strip()
    tags = Tag.objects.all()
    if typed:
        tags = tags.filter(name__icontains=typed)
    names = selectors.starting_first(tags.values_list("name", flat=True)[:200], typed)
    return JsonResponse({"tags": names[:15]})


@require_safe
@require("organisations.view_organisation")
def organisation_suggestions(request):
    """Organisations whose name starts with (or contains) what was typed, for pickers; a
    name that several share comes with each one's number, as the event form reads it."""
    typed = " ".join(request.GET.get("q", "").split())[:200]
    if not typed:
        return JsonResponse({"organisations": []})
    return JsonResponse({"organisations": selectors.organisation_suggestions(typed)})


# Contacts --------------------------------------------------------------------------


def _of_organisation(queryset, pk: int, object_id: int):
    """A contact or note of organisation `pk`, or of the record `pk` was merged into: they
    moved with the merge, and an old link to them (a bookmark, an open tab, the audit
    trail) was a 404."""
    found = queryset.filter(pk=object_id).first()
    if found is not None and found.organisation_id != pk:
        merged = Organisation.objects.filter(pk=pk, merged_into__isnull=False).first()
        if merged is None or selectors.organisation_survivor(merged).pk != found.organisation_id:
            found = None
    if found is None:
        raise Http404("No such record.")
    return found


def _moved(request, found, pk: int, page: str, **ids):
    """The same page under the record `found` lives on now, for an old link opened."""
    if request.method != "GET" or found.organisation_id == pk:
        return None
    return redirect(page, pk=found.organisation_id, **ids)


def _contact(pk: int, contact_id: int) -> Contact:
    return _of_organisation(Contact.objects.select_related("organisation"), pk, contact_id)


def _contact_of(request, pk: int, contact_id: int, queryset=None) -> Contact:
    """A contact of organisation `pk` (see `_of_organisation`); for an old link opened, a
    contact folded into another by a merge (the same email at both records) is the one it
    became: its page was a 404 from old emails, bookmarks and the audit trail."""
    queryset = Contact.objects.select_related("organisation") if queryset is None else queryset
    try:
        return _of_organisation(queryset, pk, contact_id)
    except Http404:
        became = selectors.contact_merged_into(contact_id) if request.method == "GET" else None
        if became is None:
            raise
        return _of_organisation(queryset, pk, became)


def _contact_moved(request, contact: Contact, pk: int, contact_id: int, page: str):
    """The same page of the contact as it is now, for an old link opened: under the record
    it moved to, or of the contact it was combined with."""
    if request.method != "GET" or (contact.organisation_id == pk and contact.pk == contact_id):
        return None
    if contact.pk != contact_id:
        messages.info(
            request,
            f"That contact was combined with {contact.full_name}, who had the same email, "
            f"when two records of {contact.organisation} were merged.",
        )
    return redirect(page, pk=contact.organisation_id, contact_id=contact.pk)


@require_http_methods(["GET", "POST"])
@require("organisations.add_contact")
def contact_create(request, pk: int):
    organisation = get_object_or_404(Organisation, pk=pk)
    if moved := _to_survivor(request, organisation, "organisations:contact_create"):
        return moved
    form = ContactForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        if sent_before := already_saved(request, form):
            return sent_before
        returning = erased_addresses([form.cleaned_data.get("email") or ""])
        try:
            contact = services.contact_create(
                organisation=organisation, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(request, f"{contact} was added.")
            _tell_of_erasure(request, returning)
            remember_saved(request, form, organisation.get_absolute_url())
            return redirect(organisation)
    return render(
        request, "organisations/contact_form.html", {"form": form, "organisation": organisation}
    )


def _tell_of_erasure(request, returning: dict) -> None:
    """By hand a person erased at their request may be added back: said, not refused."""
    for on in returning.values():
        messages.info(
            request,
            f"Their address belonged to a person erased on {date_format(on, 'j F Y')} "
            "at their request: add them only if they have come back to you.",
        )


@require_safe
@require("organisations.view_organisation")
def contact_detail(request, pk: int, contact_id: int):
    contact = _contact_of(
        request, pk, contact_id, selectors.contacts_with_key_links().select_related("organisation")
    )
    if moved := _contact_moved(request, contact, pk, contact_id, "organisations:contact"):
        return moved
    notes = contact.notes.select_related("author", "organisation").order_by("-date")
    may_edit = request.user.has_perm("organisations.add_note")
    blockers = keyaccounts.contact_blockers(contact=contact, user=request.user) if may_edit else []
    # An administrator is not stopped, but their bulk email still leaves the contact out.
    bulk_blockers = (
        blockers or keyaccounts.contact_blockers(contact=contact, user=request.user, bulk=True)
        if may_edit
        else []
    )
    my_account = (
        may_edit and KeyAccount.objects.filter(organisation_id=pk, operator=request.user).exists()
    )
    my_requests = (
        LiaisonRequest.objects.filter(
            requester=request.user, key_contact__contact=contact
        ).order_by("-created_at")[:1]
        if bulk_blockers
        else []
    )
    bounced_at, bounced_records = selectors.address_bounce(contact.email)
    return render(
        request,
        "organisations/contact_detail.html",
        {
            "contact": contact,
            "organisation": contact.organisation,
            "notes": notes,
            "opt_outs": contact.opt_outs.all(),
            "receives": [
                EmailOptOut.Purpose(purpose).label
                for purpose, on in services.contact_email_choices(contact).items()
                if on
            ],
            "bounced_at": bounced_at,
            "bounced_records": bounced_records,
            "may_change": request.user.has_perm("organisations.change_contact", contact),
            "blockers": blockers,
            "bulk_blockers": bulk_blockers,
            "my_account": my_account,
            "my_requests": my_requests,
        },
    )


@require_http_methods(["GET", "POST"])
@require("organisations.change_contact")
def contact_email(request, pk: int, contact_id: int):
    """Record the kinds of bulk email a contact asked staff to send them, or not."""
    contact = _contact_of(request, pk, contact_id)
    if moved := _contact_moved(request, contact, pk, contact_id, "organisations:contact_email"):
        return moved
    if refusal := refused_page(request, contact, action="email_choices"):
        return refusal
    form = PreferencesForm(request.POST or None, contact=contact)
    if request.method == "POST" and form.is_valid():
        wanted = form.save(method=EmailOptOut.Method.STAFF, by=request.user)
        saved(
            request,
            wanted is not None,
            f"Recorded: {contact.full_name} receives {joined(wanted)}."
            if wanted
            else f"Recorded: {contact.full_name} receives no bulk email.",
        )
        return redirect("organisations:contact", pk, contact_id)
    return render(
        request,
        "organisations/contact_email.html",
        {"form": form, "contact": contact, "organisation": contact.organisation},
    )


@require_POST
@require("organisations.change_contact")
def contact_bounce_clear(request, pk: int, contact_id: int):
    """Email to the contact's address works again: bulk email no longer leaves it out."""
    contact = _contact(pk, contact_id)
    try:
        cleared = services.contact_address_works_again(contact=contact, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        records = f" ({counted(cleared, 'record', 'records')})" if cleared > 1 else ""
        messages.success(
            request,
            f"Recorded: email to {contact.email} works again{records}. Bulk email no longer "
            "leaves it out for bouncing.",
        )
    return redirect(contact)


@require_http_methods(["GET", "POST"])
@require("organisations.change_contact")
def contact_edit(request, pk: int, contact_id: int):
    contact = _contact_of(request, pk, contact_id)
    if moved := _contact_moved(request, contact, pk, contact_id, "organisations:contact_edit"):
        return moved
    if refusal := refused_page(request, contact, action="changed"):
        return refusal
    form = ContactForm(  # a copy: see organisation_edit
        request.POST or None, instance=copy.copy(contact), organisation=contact.organisation
    )
    if request.method == "POST" and form.is_valid():
        fresh = Contact.objects.get(pk=contact.pk)
        email = form.cleaned_data.get("email") or ""
        returning = erased_addresses([email]) if email.lower() != fresh.email.lower() else {}
        try:
            changed = services.contact_update(contact=fresh, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            saved(request, changed, f"{fresh} was saved.")
            _tell_of_erasure(request, returning)
            if form.cleaned_data.get("visible_to_students") and not fresh.visible_to_students:
                _tell_hidden(request, fresh)
            return redirect(fresh)
    return render(
        request,
        "organisations/contact_form.html",
        {"form": form, "organisation": contact.organisation, "contact": contact},
    )


def _tell_hidden(request, contact: Contact) -> None:
    """Say why a contact's new details are hidden from students (`contact_update`)."""
    names = joined([str(p) for p in selectors.administrators_of(contact.organisation)], last="or")
    messages.warning(
        request,
        f"Students no longer see {contact}'s details: {contact.organisation} decides what "
        "students see of its people, and has not seen these new details. Ask "
        f"{names}, who signs in for it, to show them again.",
    )


@require_http_methods(["GET", "POST"])
@require("organisations.delete_contact")
def contact_delete(request, pk: int, contact_id: int):
    contact = _contact_of(request, pk, contact_id)
    if contact.pk != contact_id:
        # Combined with another by a merge, what was to be deleted is part of a person
        # kept: their page, not a form to delete them.
        return _contact_moved(request, contact, pk, contact_id, "organisations:contact")
    if refusal := refused_page(request, contact, action="deleted"):
        return refusal
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.contact_delete(contact=contact, by=request.user)
        messages.success(request, f"{contact} was deleted.")
        return redirect(contact.organisation)
    return render(
        request,
        "organisations/contact_delete.html",
        {
            "contact": contact,
            "organisation": contact.organisation,
            "form": form,
            "ends": services.contact_delete_ends(contact),
        },
    )


# Notes -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require("organisations.add_note")
def note_create(request, pk: int):
    organisation = get_object_or_404(Organisation, pk=pk)
    if moved := _to_survivor(request, organisation, "organisations:note_create"):
        return moved
    form = NoteForm(request.POST or None, organisation=organisation, user=request.user)
    blocked = []
    if request.method == "POST" and form.is_valid():
        if sent_before := already_saved(request, form):
            return sent_before
        try:
            note = services.note_create(
                organisation=organisation, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_validation_error(form, error)
            blocked = getattr(error, "blocked", [])
        else:
            messages.success(request, _note_saved("The note is recorded.", note))
            remember_saved(request, form, organisation.get_absolute_url())
            return redirect(organisation)
    return render(
        request,
        "organisations/note_form.html",
        {"form": form, "organisation": organisation, "blocked": blocked},
    )


def _note_saved(text: str, note: Note) -> str:
    """The success message; inbound contact with key contacts says their owners are told."""
    if note.started_by != Note.StartedBy.THEM:
        return text
    owners = sorted(
        {
            str(link.key_account.operator)
            for contact in note.contacts.prefetch_related("key_links__key_account__operator")
            for link in contact.key_links_list
            # One who has left is emailed nothing (as the task skips them).
            if link.key_account.operator_id != note.author_id
            and link.key_account.operator.is_active
        }
    )
    if not owners:
        return text
    return f"{text} {' and '.join(owners)} will be told that their key contact got in touch."


def _note(pk: int, note_id: int) -> Note:
    return _of_organisation(Note.objects.select_related("organisation"), pk, note_id)


def _note_of(request, pk: int, note_id: int) -> Note:
    """The note a permission is asked about (a note's author may change it)."""
    return _note(pk, note_id)


@require_http_methods(["GET", "POST"])
@require("organisations.change_note", obj=_note_of)
def note_edit(request, pk: int, note_id: int):
    note = _note(pk, note_id)
    if moved := _moved(request, note, pk, "organisations:note_edit", note_id=note_id):
        return moved
    form = NoteForm(
        request.POST or None, instance=note, organisation=note.organisation, user=request.user
    )
    blocked = []
    if request.method == "POST" and form.is_valid():
        fresh = Note.objects.get(pk=note.pk)
        data = dict(form.cleaned_data)
        contacts = data.pop("contacts")
        try:
            changed = services.note_update(note=fresh, by=request.user, contacts=contacts, **data)
        except ValidationError as error:
            add_validation_error(form, error)
            blocked = getattr(error, "blocked", [])
        else:
            saved(request, changed, "The note is saved.")
            return redirect(fresh.get_absolute_url())
    return render(
        request,
        "organisations/note_form.html",
        {"form": form, "organisation": note.organisation, "note": note, "blocked": blocked},
    )


@require_http_methods(["GET", "POST"])
@require("organisations.delete_note", obj=_note_of)
def note_delete(request, pk: int, note_id: int):
    note = _note(pk, note_id)
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.note_delete(note=note, by=request.user)
        messages.success(request, "The note was deleted.")
        return redirect(note.organisation)
    return render(
        request,
        "organisations/note_delete.html",
        {"note": note, "organisation": note.organisation, "form": form},
    )


@require_POST
@require("organisations.change_note", obj=_note_of)
def follow_up_done(request, pk: int, note_id: int):
    note = _note(pk, note_id)
    services.follow_up_complete(note=note, by=request.user)
    messages.success(request, f"Follow-up with {note.organisation} marked done.")
    return redirect(safe_next(request, reverse("organisations:my_activity")))


@require_safe
@require("organisations.view_own_activity")
def my_activity(request):
    """A member of staff's own record: notes written, follow-ups due."""
    user: User = request.user
    return render(
        request,
        "organisations/my_activity.html",
        {
            "follow_ups": selectors.follow_ups_due(user, within_days=60),
            "notes": selectors.notes_by(user)[:50],
            "key_accounts": selectors.key_accounts_of(user),
            "agreements": sorted(
                selectors.liaison_agreements_in_force(user).values(),
                key=lambda r: (r.valid_until, r.pk),
            ),
            "waiting": selectors.liaison_requests_for_owner(user).filter(
                status=LiaisonRequest.Status.PENDING
            ),
            "today": timezone.localdate(),
        },
    )
