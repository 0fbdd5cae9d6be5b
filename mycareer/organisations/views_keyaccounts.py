"""Pages for key accounts, key contacts and liaison requests."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from mycareer.accounts.permissions import check_perm
from mycareer.core.forms import add_validation_error
from mycareer.core.http import safe_next, saved
from mycareer.core.permissions import require
from mycareer.core.text import joined
from mycareer.organisations import keyaccounts, selectors
from mycareer.organisations.erased import refused_page
from mycareer.organisations.forms import (
    KeyAccountForm,
    KeyContactForm,
    LiaisonDecisionForm,
    LiaisonRequestForm,
    MultiTouchForm,
    ReassignForm,
)
from mycareer.organisations.models import (
    Contact,
    KeyAccount,
    KeyContact,
    LiaisonRequest,
    Organisation,
)
from mycareer.organisations.views import _contact_moved, _contact_of, _to_survivor


def _errors(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


@require_http_methods(["GET", "POST"])
@require("organisations.hold_key_account")
def key_account_add(request, pk: int):
    organisation = get_object_or_404(Organisation, pk=pk)
    if moved := _to_survivor(request, organisation, "organisations:key_account_add"):
        return moved
    administrator = request.user.has_perm("organisations.manage_any_key_account")
    form = KeyAccountForm(request.POST or None, user=request.user, administrator=administrator)
    if request.method == "POST" and form.is_valid():
        operator = form.cleaned_data.get("operator") or request.user
        try:
            keyaccounts.key_account_create(
                organisation=organisation,
                operator=operator,
                unit=form.cleaned_data["unit"],
                by=request.user,
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(
                request, f"{operator} is now a key account operator for {organisation}."
            )
            return redirect(organisation)
    return render(
        request, "organisations/key_account_form.html", {"organisation": organisation, "form": form}
    )


@require_http_methods(["GET", "POST"])
@require("organisations.manage_any_key_account")
def key_account_reassign(request, pk: int, account_id: int):
    account = get_object_or_404(
        KeyAccount.objects.select_related("organisation", "operator", "unit"),
        pk=account_id,
        organisation_id=pk,
    )
    form = ReassignForm(request.POST or None, initial={"operator": account.operator_id})
    if request.method == "POST" and form.is_valid():
        previous = account.operator_id
        try:
            keyaccounts.key_account_reassign(
                account=account, operator=form.cleaned_data["operator"], by=request.user
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            changed = account.operator_id != previous
            saved(request, changed, f"The key account now belongs to {account.operator}.")
            return redirect(account.organisation)
    return render(
        request, "organisations/key_account_reassign.html", {"account": account, "form": form}
    )


@require_http_methods(["GET", "POST"])
@require("organisations.hold_key_account")
def key_account_remove(request, pk: int, account_id: int):
    """End a key account, after a page that names the contacts it stops protecting and
    the liaison requests that go with it: none of it comes back."""
    account = (
        KeyAccount.objects.select_related("organisation", "operator", "unit")
        .filter(pk=account_id, organisation_id=pk)
        .first()
    )
    if account is None:
        # Pressed twice, or a page left open: the account is gone, the organisation is not.
        organisation = get_object_or_404(Organisation, pk=pk)
        check_perm(request.user, "organisations.view_organisation", organisation)
        messages.info(request, "This key account was already ended: nothing was changed.")
        return redirect(organisation)
    check_perm(request.user, "organisations.change_key_account", account)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            told = keyaccounts.key_account_delete(account=account, by=request.user)
        except ValidationError as error:
            _errors(request, error)
        else:
            text = "The key account was ended; its contacts are no longer protected."
            if told:
                text += (
                    f" {_count(told, 'colleague')} whose request was waiting"
                    f" {'is' if told == 1 else 'are'} told by email that no answer will come."
                )
            messages.success(request, text)
        return redirect(account.organisation)
    account, requests, waiting = keyaccounts.key_account_ending(account)
    return render(
        request,
        "organisations/key_account_end.html",
        {"account": account, "requests": requests, "waiting": waiting},
    )


@require_http_methods(["GET", "POST"])
@require("organisations.manage_any_key_account")
def multi_touch(request, pk: int):
    """Confirm, with what will be released or restored, then change multi-touch status."""
    organisation = get_object_or_404(Organisation, pk=pk)
    if moved := _to_survivor(request, organisation, "organisations:multi_touch"):
        return moved
    accounts = keyaccounts.multi_touch_change(organisation)
    wanted = not organisation.multi_touch
    form = MultiTouchForm(request.POST or None, marking=wanted)
    if request.method == "POST" and form.is_valid():
        try:
            changed = keyaccounts.organisation_set_multi_touch(
                organisation=organisation, multi_touch=wanted, by=request.user
            )
        except ValidationError as error:
            # Merged away since the page opened: nothing changed; the survivor's page.
            messages.error(request, " ".join(error.messages))
            organisation.refresh_from_db()
            return redirect(organisation.merged_into or organisation)
        links = sum(len(a.contact_links) for a in changed)
        if wanted:
            text = f"{organisation} is multi-touch: none of its contacts is protected."
            if changed:
                text += (
                    f" {_count(len(changed), 'key account')} and {_count(links, 'key contact')}"
                    " released and kept; their owners are told by email."
                )
        else:
            text = f"{organisation} is no longer multi-touch."
            if changed:
                text += (
                    f" {_count(len(changed), 'key account')} and {_count(links, 'key contact')}"
                    " restored, with their guidance; their owners are told by email."
                )
        messages.success(request, text)
        return redirect(organisation)
    return render(
        request,
        "organisations/multi_touch.html",
        {
            "organisation": organisation,
            "accounts": accounts,
            "links": sum(len(a.contact_links) for a in accounts),
            "marking": wanted,
            "form": form,
        },
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{pluralize(n)}"


def _contact(request, pk: int, contact_id: int) -> Contact:
    """The contact, also by an old link: under a record merged away, or folded into
    another contact by a merge (see `views._contact_of`)."""
    queryset = selectors.contacts_with_key_links().select_related("organisation")
    return _contact_of(request, pk, contact_id, queryset)


def _key_account(request, contact: Contact) -> KeyAccount:
    """The key account whose key contacts the person manages at this organisation: their
    own, or for administrators the one that protects `contact` (else the first), so that
    an administrator reaches the key contact of whichever operator holds it."""
    accounts = KeyAccount.objects.filter(organisation_id=contact.organisation_id).select_related(
        "unit", "operator", "organisation"
    )
    if not request.user.has_perm("organisations.manage_any_key_account"):
        accounts = accounts.filter(operator=request.user)
    account = accounts.filter(key_contacts__contact=contact).first() or accounts.first()
    if account is None:
        raise Http404("You hold no key account with this organisation.")
    check_perm(request.user, "organisations.change_key_account", account)
    return account


@require_http_methods(["GET", "POST"])
@require("organisations.hold_key_account")
def key_contact_mark(request, pk: int, contact_id: int):
    """The key account operator protects a contact and writes how to approach them."""
    contact = _contact(request, pk, contact_id)
    if moved := _contact_moved(request, contact, pk, contact_id, "organisations:key_contact_mark"):
        return moved
    account = _key_account(request, contact)
    if request.method == "POST" and request.POST.get("do") == "unmark":
        # A page left open from before removing asked first: its button still sends
        # this. Ask now, rather than save its empty guidance.
        return redirect("organisations:key_contact_unmark", pk, contact.pk)
    if refusal := refused_page(request, contact, action="marked"):
        return refusal
    existing = KeyContact.objects.filter(contact=contact, key_account=account).first()
    form = KeyContactForm(
        request.POST or None, initial={"guidance": existing.guidance if existing else ""}
    )
    if request.method == "POST" and form.is_valid():
        guidance = form.cleaned_data["guidance"]
        try:
            keyaccounts.key_contact_mark(
                account=account, contact=contact, guidance=guidance, by=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            saved(
                request,
                existing is None or existing.guidance != guidance,
                f"{contact.full_name} is your key contact: colleagues will liaise with you first.",
            )
            return redirect(contact.get_absolute_url())
    return render(
        request,
        "organisations/key_contact_form.html",
        {
            "contact": contact,
            "organisation": contact.organisation,
            "account": account,
            "existing": existing,
            "form": form,
        },
    )


@require_http_methods(["GET", "POST"])
@require("organisations.hold_key_account")
def key_contact_unmark(request, pk: int, contact_id: int):
    """Stop protecting a key contact, after a page that says how many liaison requests
    close with it and who is told: one press closed them all without a word."""
    contact = _contact(request, pk, contact_id)
    if moved := _contact_moved(
        request, contact, pk, contact_id, "organisations:key_contact_unmark"
    ):
        return moved
    account = _key_account(request, contact)
    link = (
        KeyContact.objects.filter(contact=contact, key_account=account)
        .select_related("contact", "key_account__operator", "key_account__unit")
        .first()
    )
    if link is None:
        # Pressed twice, or a page left open: nothing is left to remove.
        messages.info(
            request, f"{contact.full_name} is already no longer a key contact: nothing was changed."
        )
        return redirect(contact.get_absolute_url())
    if refusal := refused_page(request, contact, action="unmarked"):
        return refusal
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            told = keyaccounts.key_contact_unmark(link=link, by=request.user)
        except ValidationError as error:
            _errors(request, error)
        else:
            text = f"{contact.full_name} is no longer a key contact."
            if told:
                text += (
                    f" {_count(told, 'colleague')} whose request was waiting"
                    f" {pluralize(told, 'is,are')} told by email that no answer will come."
                )
            messages.success(request, text)
        return redirect(contact.get_absolute_url())
    return render(
        request,
        "organisations/key_contact_unmark.html",
        {
            "contact": contact,
            "organisation": contact.organisation,
            "link": link,
            "others": [
                other for other in contact.key_links_list if other.key_account_id != account.pk
            ],
            "closing": keyaccounts.key_contact_unmarking(link=link, by=request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@require("organisations.request_liaison")
def liaison_request_create(request, pk: int, contact_id: int):
    contact = _contact(request, pk, contact_id)
    if moved := _contact_moved(
        request, contact, pk, contact_id, "organisations:liaison_request_create"
    ):
        return moved
    # Asked from elsewhere (a campaign's left-out list), the person goes back there.
    back = safe_next(request, contact.get_absolute_url())
    if refusal := refused_page(request, contact, action="liaison_requested", back=back):
        return refusal
    blockers = keyaccounts.contact_blockers(contact=contact, user=request.user, bulk=True)
    # An owner who has left cannot answer: said before anything is typed.
    left = keyaccounts.owners_who_left(blockers)
    askable = [link for link in blockers if link not in left]
    # Already asked and not yet answered: said before anything is typed, not after.
    waiting = keyaccounts.liaison_waiting(
        requester=request.user, contact=contact, blockers=blockers
    )
    form = LiaisonRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sent = keyaccounts.liaison_request_create(
                requester=request.user, contact=contact, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            owners = joined(dict.fromkeys(str(r.key_contact.key_account.operator) for r in sent))
            text = f"Your request was sent to {owners}. You will get an email with the answer."
            if left:
                text += " " + keyaccounts.owners_left_note(contact, left)
            messages.success(request, text)
            return redirect(back)
    return render(
        request,
        "organisations/liaison_request_form.html",
        {
            "contact": contact,
            "organisation": contact.organisation,
            "blockers": blockers,
            "askable": askable,
            "left": left,
            "left_message": _left_message(contact, left, askable),
            "form": form,
            "back": back,
            "waiting": waiting,
            "already_asked": keyaccounts.already_asked(waiting) if waiting else "",
        },
    )


def _left_message(contact: Contact, left: list[KeyContact], askable: list[KeyContact]) -> str:
    if not left:
        return ""
    if askable:
        return keyaccounts.owners_left_note(contact, left)
    return keyaccounts.owners_left_message(contact, left)


@require_safe
@require("organisations.request_liaison")
def liaison_inbox(request):
    return render(
        request,
        "organisations/liaison_inbox.html",
        {
            "to_me": selectors.liaison_requests_for_owner(request.user),
            "mine": selectors.liaison_requests_by(request.user),
            "inbound": selectors.inbound_contacts_for_owner(request.user),
            "today": timezone.localdate(),
        },
    )


@require_http_methods(["GET", "POST"])
@require("organisations.request_liaison")
def liaison_request_detail(request, request_id: int):
    """The owner answers; the requester can withdraw; nobody else sees the request."""
    liaison = get_object_or_404(
        LiaisonRequest.objects.select_related(
            "requester",
            "decided_by",
            "key_contact__contact__organisation",
            "key_contact__key_account__operator",
            "key_contact__key_account__unit",
        ),
        pk=request_id,
    )
    owner = liaison.key_contact.key_account.operator
    administrator = request.user.has_perm("organisations.manage_any_key_account")
    if request.user not in (owner, liaison.requester) and not administrator:
        raise Http404("No such request.")
    can_decide = (
        request.user == owner or administrator
    ) and liaison.status == LiaisonRequest.Status.PENDING
    form = LiaisonDecisionForm(request.POST or None) if can_decide else None
    if request.method == "POST":
        if request.POST.get("do") == "withdraw":
            try:
                keyaccounts.liaison_request_withdraw(request=liaison, by=request.user)
            except ValidationError as error:
                _errors(request, error)
            else:
                messages.success(request, "Your request was withdrawn.")
            return redirect("organisations:liaison_inbox")
        if form is None and (request.user == owner or administrator):
            # Answered meanwhile (in another tab, or by an administrator): said, not a
            # page showing an answer other than the one just given.
            messages.error(
                request,
                "This request was already answered: your answer was not sent. "
                "The answer it has is shown below.",
            )
            return redirect("organisations:liaison_request", request_id=liaison.pk)
        if form is not None and form.is_valid():
            try:
                keyaccounts.liaison_request_decide(
                    request=liaison,
                    approve=form.cleaned_data["decision"] == "approve",
                    by=request.user,
                    comment=form.cleaned_data["comment"],
                    valid_days=form.cleaned_data["valid_days"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                # Not a note (an answer between colleagues is no engagement with the
                # employer): the request keeps it, where the colleague who asked reads it.
                messages.success(
                    request,
                    f"Your answer was sent to {liaison.requester}, who also reads it on "
                    "the request's page.",
                )
                return redirect("organisations:liaison_inbox")
    return render(
        request,
        "organisations/liaison_request_detail.html",
        {
            "liaison": liaison,
            "owner": owner,
            "form": form,
            # Nobody will answer unless the key account is passed on (or an administrator
            # answers): said here as in the requester's list.
            "owner_left": liaison.status == LiaisonRequest.Status.PENDING and not owner.is_active,
            "administrator": administrator,
        },
    )
