"""Bulk email pages: choose recipients, write, check, confirm with the number, watch.

Every step keeps who receives the campaign in view: the choice in words, the number
included and left out. Nothing widens the recipients except the page that changes them,
and nothing is sent without the sender typing the number it goes to.
"""

import copy

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.text import slugify
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from mycareer.accounts.models import Unit
from mycareer.core.forms import add_validation_error, unknown_filters_message
from mycareer.core.http import figures_refused, saved
from mycareer.core.pagination import Paginator
from mycareer.core.permissions import require
from mycareer.core.spreadsheets import csv_download
from mycareer.mailing import chart, selectors, services
from mycareer.mailing.content import render_for
from mycareer.mailing.crosspromotion import (
    events_for,
    events_to_offer,
    no_longer_promoted,
    suggested_event_ids,
)
from mycareer.mailing.forms import (
    CampaignForm,
    ChartForm,
    ChosenRecipientsForm,
    ConfirmForm,
    LeaveOutForm,
    PreviewForm,
)
from mycareer.mailing.models import Campaign, OutboxMessage
from mycareer.mailing.recipients import GONE_CHOICE, Why, campaign_query, search_problem
from mycareer.mailing.sending import campaign_progress, cancellation_in_words
from mycareer.mailing.unsubscribe import read_token, unsubscribe_url
from mycareer.organisations import keyaccounts, optouts
from mycareer.organisations.models import Contact, EmailOptOut, Organisation
from mycareer.organisations.optouts import address_digest
from mycareer.organisations.search import FILTER_NAMES, OrganisationQuery, OrganisationSearchForm

# Parameters of the search page that are not filters and do not change who is chosen.
HARMLESS_PARAMETERS = {"sort", "page"}


def _campaign(pk: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related("sender", "unit", "approved_by", "cancelled_by"), pk=pk
    )


def _search_url(campaign_or_filters) -> str:
    """The organisation search that selects the same organisations, to open and check."""
    filters = getattr(campaign_or_filters, "recipient_filters", campaign_or_filters)
    query = OrganisationQuery.from_filters(filters)
    return f"{reverse('organisations:search')}?{query.to_querystring()}"


def _recipients_summary(campaign: Campaign) -> dict:
    """The recipients in words and numbers, or the reason the stored search is not valid."""
    summary = {"words": services.recipients_in_words(campaign), "error": "", "list": None}
    try:
        summary["list"] = services.campaign_recipients(campaign)
    except ValidationError as error:
        summary["error"] = " ".join(error.messages)
    else:
        if campaign.recipient_filters:
            summary["search_url"] = _search_url(campaign)
    return summary


def _left_out_with_requests(excluded, user) -> list:
    """Each contact left out, with the liaison request `user` still waits on about them: the
    list says so rather than offer "Ask to contact" again, which could only be refused."""
    waiting = keyaccounts.liaisons_waiting(
        requester=user, contacts=[e.contact for e in excluded if e.kind == Why.KEY_CONTACT]
    )
    return [
        (
            exclusion,
            waiting.get(exclusion.contact.pk) if exclusion.kind == Why.KEY_CONTACT else None,
        )
        for exclusion in excluded
    ]


def _chosen_from_request(request) -> tuple[dict | None, bool, list[str]]:
    """The recipients a search step asks for, checked: (filters, everyone, errors).

    Unknown parameters are refused by name, never ignored; so are an empty search and
    "every employer contact" from anyone but an administrator.
    """
    filters, everyone, errors = _parse_search(request)
    if errors:
        return None, everyone, errors
    try:
        filters = services.checked_recipients(filters=filters, everyone=everyone, by=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages_ = error.messages if isinstance(error, ValidationError) else [str(error)]
        return None, everyone, messages_
    return filters, everyone, []


def _parse_search(request) -> tuple[dict | None, bool, list[str]]:
    everyone = request.GET.get("everyone") == "1"
    names = set(request.GET) - HARMLESS_PARAMETERS - {"everyone", "preview"}
    unknown = sorted(names - FILTER_NAMES)
    if unknown:
        return (
            None,
            everyone,
            [unknown_filters_message(unknown)],
        )
    form = OrganisationSearchForm(request.GET, known_tags=True)
    if not form.is_valid():
        errors = []
        for name, field_errors in form.errors.as_data().items():
            label = str(form.fields[name].label) if name in form.fields else name
            for error in field_errors:
                if error.code in GONE_CHOICE:
                    # A value typed into a link, or a link or saved search made before a
                    # sector (say) was removed: either way not in MyCareer now.
                    problems = [(label, error.code or "")]
                    errors.append(f"This search {search_problem(problems, stored=False)}")
                else:
                    errors.append(f"{label}: {' '.join(error.messages)}")
        return None, everyone, errors
    query = form.to_query(viewer=request.user)
    return query.to_filters(), everyone, []


def _draft_of(campaign: Campaign, *, chosen: dict, everyone: bool) -> Campaign:
    """An unsaved copy of the campaign with other recipients, to count them."""
    return Campaign(
        pk=campaign.pk,
        sender=campaign.sender,
        unit_id=campaign.unit_id,
        purpose=campaign.purpose,
        recipient_filters=chosen,
        recipients_everyone=everyone,
    )


@require_safe
@require("mailing.send_campaign")
def campaigns(request):
    return render(
        request,
        "mailing/campaigns.html",
        {"campaigns": selectors.campaign_list()},
    )


def _choose_page(request, *, campaign, errors, template, search_data=None, extra=None):
    """The search step: the organisation search's own form, saved searches, counts."""
    form = OrganisationSearchForm(search_data if search_data is not None else request.GET or None)
    form.is_valid()
    context = {
        "campaign": campaign,
        "search_form": form,
        "errors": errors,
        "saved_searches": request.user.saved_searches.order_by("name"),
        "is_administrator": request.user.has_perm("mailing.email_every_contact"),
        "everyone_count": Contact.objects.filter(
            organisation__status=Organisation.Status.ACTIVE
        ).count(),
        **(extra or {}),
    }
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@require("mailing.send_campaign")
def campaign_create(request):
    """Write a campaign for the recipients chosen: a search first, then the words."""
    if request.method == "POST":
        chosen_form = ChosenRecipientsForm(request.POST)
        chosen_form.is_valid()
        filters = chosen_form.cleaned_data.get("recipient_filters") or {}
        everyone = bool(chosen_form.cleaned_data.get("recipients_everyone"))
        if not filters and not everyone:
            errors = ["Choose who receives it: a search with at least one filter."]
            return _choose_page(
                request, campaign=None, errors=errors, template="mailing/campaign_choose.html"
            )
    else:
        wants = set(request.GET) - HARMLESS_PARAMETERS
        if not wants:
            return _choose_page(
                request, campaign=None, errors=[], template="mailing/campaign_choose.html"
            )
        filters, everyone, errors = _chosen_from_request(request)
        if errors:
            return _choose_page(
                request, campaign=None, errors=errors, template="mailing/campaign_choose.html"
            )
        chosen_form = ChosenRecipientsForm(
            initial={"recipient_filters": filters, "recipients_everyone": everyone}
        )
    draft = Campaign(
        sender=request.user,
        recipient_filters=filters,
        recipients_everyone=everyone,
        purpose=request.POST.get("purpose") or Campaign.Purpose.EVENTS,
    )
    events = events_to_offer()
    form = CampaignForm(
        request.POST or None,
        user=request.user,
        events=events,
        suggested=suggested_event_ids(draft, events),
    )
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(
                sender=request.user,
                recipient_filters=filters,
                recipients_everyone=everyone,
                **form.content(),
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(
                request, "The draft is saved. Check who will receive it before sending."
            )
            return redirect(campaign)
    return render(
        request,
        "mailing/campaign_form.html",
        {
            "form": form,
            "campaign": None,
            "chosen_form": chosen_form,
            "recipients": _recipients_summary(draft),
            "change_url": _choose_again_url(filters),
        },
    )


def _choose_again_url(filters: dict) -> str:
    """The search step again, with the search chosen when it can still be read: one that
    no longer can (its sector removed while the form was open) starts afresh, and the
    form, keeping what was typed, says why it cannot be saved."""
    url = reverse("mailing:campaign_create")
    try:
        return f"{url}?{OrganisationQuery.from_filters(filters).to_querystring()}"
    except ValidationError:
        return url


@require_http_methods(["GET", "POST"])
@require("mailing.send_campaign")
def campaign_edit(request, pk: int):
    """Change a draft's words, kind and promoted events; its recipient search is not on
    this form, but a change of kind changes who is left out, and the page says so."""
    campaign = _campaign(pk)
    if campaign.status != Campaign.Status.DRAFT:
        messages.error(request, "Only a draft can be changed.")
        return redirect(campaign)
    services.require_own(campaign, request.user, doing="change")
    events = events_to_offer(campaign)
    try:
        suggested = suggested_event_ids(campaign, events)
    except ValidationError:
        suggested = set()
    form = CampaignForm(
        request.POST or None,
        # A copy: checking the form fills its instance with what was typed, and a refused
        # form's page (its heading, recipients, promoted events) is the saved campaign's.
        instance=copy.copy(campaign),
        user=request.user,
        events=events,
        suggested=suggested,
    )
    if request.method == "POST" and form.is_valid():
        try:
            result = services.campaign_update(campaign=campaign, by=request.user, **form.content())
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            if result.counts is None or result.counts[0] == result.counts[1]:
                text = "The draft is saved. Its recipients are as they were."
                saved(request, result.changed, text)
            else:
                before, after = result.counts
                messages.warning(
                    request,
                    "The draft is saved. People who opted out of its new kind are left out: "
                    f"{before} {pluralize(before, 'recipient,recipients')} before, {after} "
                    "now. Check the list before sending.",
                )
            return redirect(campaign)
    return render(
        request,
        "mailing/campaign_form.html",
        {
            "form": form,
            "campaign": campaign,
            "recipients": _recipients_summary(campaign),
            "no_longer_promoted": no_longer_promoted(campaign),
        },
    )


@require_http_methods(["GET", "POST"])
@require("mailing.send_campaign")
def campaign_recipients(request, pk: int):
    """Choose a draft's recipients again, seeing the number before and after."""
    campaign = _campaign(pk)
    if campaign.status != Campaign.Status.DRAFT:
        messages.error(request, "Only a draft's recipients can be changed.")
        return redirect(campaign)
    services.require_own(campaign, request.user, doing="change")
    now = _recipients_summary(campaign)
    if request.method == "POST":
        chosen_form = ChosenRecipientsForm(request.POST)
        chosen_form.is_valid()
        try:
            result = services.campaign_recipients_change(
                campaign=campaign,
                by=request.user,
                recipient_filters=chosen_form.cleaned_data.get("recipient_filters") or {},
                recipients_everyone=bool(chosen_form.cleaned_data.get("recipients_everyone")),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("mailing:campaign_recipients", pk=campaign.pk)
        saved(
            request,
            result.changed,
            f"Recipients changed: {result.before} before, {result.after} now. "
            "Check the list before sending.",
        )
        return redirect(campaign)
    if "preview" not in request.GET:
        # Start from the search the campaign has now.
        query = campaign_query_or_none(campaign)
        return _choose_page(
            request,
            campaign=campaign,
            errors=[],
            template="mailing/campaign_recipients.html",
            search_data=QueryDict(query.to_querystring()) if query else None,
            extra={"now": now},
        )
    filters, everyone, errors = _chosen_from_request(request)
    if errors:
        return _choose_page(
            request,
            campaign=campaign,
            errors=errors,
            template="mailing/campaign_recipients.html",
            extra={"now": now},
        )
    proposed = _draft_of(campaign, chosen=filters, everyone=everyone)
    return _choose_page(
        request,
        campaign=campaign,
        errors=[],
        template="mailing/campaign_recipients.html",
        extra={
            "now": now,
            "proposed": _recipients_summary(proposed),
            "chosen_form": ChosenRecipientsForm(
                initial={"recipient_filters": filters, "recipients_everyone": everyone}
            ),
        },
    )


def campaign_query_or_none(campaign: Campaign) -> OrganisationQuery | None:
    try:
        return campaign_query(campaign)
    except ValidationError:
        return None


@require_http_methods(["GET", "POST"])
@require("mailing.send_campaign")
def campaign_detail(request, pk: int):
    """The exact recipient list with reasons, progress while sending, and the actions."""
    campaign = _campaign(pk)
    leave_out_form = None
    if request.method == "POST":
        action = request.POST.get("do")
        try:
            if action == "test":
                services.campaign_send_test(campaign=campaign, by=request.user)
                messages.success(request, f"A test copy was sent to {request.user.email}.")
            elif action == "leave_out":
                leave_out_form = LeaveOutForm(request.POST)
                if leave_out_form.is_valid():
                    contact = get_object_or_404(Contact, pk=leave_out_form.cleaned_data["contact"])
                    services.campaign_leave_out(
                        campaign=campaign,
                        contact=contact,
                        reason=leave_out_form.cleaned_data["reason"],
                        by=request.user,
                    )
                    messages.success(request, f"{contact.full_name} is left out of this campaign.")
                else:
                    messages.error(request, "Say why this person is left out.")
            elif action == "put_back":
                contact = get_object_or_404(Contact, pk=request.POST.get("contact") or 0)
                services.campaign_put_back(campaign=campaign, contact=contact, by=request.user)
                messages.success(request, f"{contact.full_name} is back on the list.")
            elif action == "return_to_draft":
                services.campaign_return_to_draft(campaign=campaign, by=request.user)
                messages.success(request, "The campaign is a draft again; change it and send.")
            else:
                messages.error(request, "That action is not known.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect(campaign)
    summary = _recipients_summary(campaign) if campaign.status == Campaign.Status.DRAFT else None
    is_sender = campaign.sender_id == request.user.pk
    if summary and summary["list"]:
        excluded = summary["list"].excluded
        # Who is left out is worked out for the sender: another reader's own requests
        # to liaise change nothing here, so they are neither shown nor offered.
        summary["left_out"] = (
            _left_out_with_requests(excluded, request.user)
            if is_sender
            else [(exclusion, None) for exclusion in excluded]
        )
    progress = campaign_progress(campaign)
    outcome = request.GET.get("outcome", "")
    if outcome and outcome not in selectors.OUTCOMES:
        messages.error(request, selectors.unknown_outcome(outcome))
        return redirect(campaign)
    return render(
        request,
        "mailing/campaign_detail.html",
        {
            "sent_to": _sent_to(request, campaign, outcome) if campaign.queued_at else None,
            "campaign": campaign,
            "recipients_words": services.recipients_in_words(campaign),
            "summary": summary,
            "key_contact_kind": Why.KEY_CONTACT,
            "by_sender_kind": Why.BY_SENDER,
            "is_sender": is_sender,
            "may_cancel": request.user.has_perm("mailing.cancel_campaign", campaign),
            "progress": progress,
            "cancellation": cancellation_in_words(campaign, progress),
            "events": events_for(campaign),
            # Said where the sender checks a draft before sending, not only on its form.
            "no_longer_promoted": (
                no_longer_promoted(campaign) if campaign.status in _NOT_YET_SENT else []
            ),
            "failures": _failures(request.user, campaign),
            "stopped": [
                selectors.recipient_row(message)
                for message in campaign.messages.filter(status=OutboxMessage.Status.STOPPED)
                .select_related("contact__organisation")
                .order_by("pk")[:50]
            ],
        },
    )


_NOT_YET_SENT = {Campaign.Status.DRAFT, Campaign.Status.AWAITING_APPROVAL}


def _failures(user, campaign: Campaign) -> list[dict]:
    """The first failed messages, each with why and, where the server refused the
    address, whether this reader may correct it on the contact's record."""
    failed = campaign.messages.filter(status=OutboxMessage.Status.FAILED)
    rows = [
        selectors.failure_row(message)
        for message in failed.select_related("contact__organisation").order_by("pk")[:50]
    ]
    for row in rows:
        contact = row["message"].contact
        row["may_correct"] = bool(
            row["refused"] and user.has_perm("organisations.change_contact", contact)
        )
    return rows


# Recipients shown on a page of a sent campaign's list.
SENT_TO_PAGE = 50


def _sent_to(request, campaign: Campaign, outcome: str) -> dict:
    """Who a queued campaign went to, a page at a time, and how many had each outcome."""
    page = Paginator(selectors.campaign_sent_to(campaign, outcome=outcome), SENT_TO_PAGE).get_page(
        request.GET.get("page")
    )
    counts = selectors.outcome_counts(campaign)
    return {
        "page": page,
        "rows": [selectors.recipient_row(message) for message in page],
        "outcome": outcome,
        # The one chosen stays listed, with its 0, so the menu still says what is shown.
        "outcomes": [
            (key, label, counts[key])
            for key, (label, _statuses) in selectors.OUTCOMES.items()
            if counts[key] or key == outcome
        ],
        "total": sum(counts.values()),
        "shown": counts[outcome] if outcome else sum(counts.values()),
        # Named nowhere, so said where the list would have them: all, or the cancelled.
        "unlisted": selectors.dropped_unlisted(campaign, counts)
        if outcome in ("", "cancelled")
        else 0,
        "querystring": urlencode({"outcome": outcome}) if outcome else "",
    }


@require_safe
@require("mailing.send_campaign")
def campaign_sent_to_csv(request, pk: int):
    """Who a queued campaign went to, and what happened, as a spreadsheet (audited)."""
    campaign = _campaign(pk)
    outcome = request.GET.get("outcome", "")
    if outcome and outcome not in selectors.OUTCOMES:
        messages.error(request, selectors.unknown_outcome(outcome))
        return redirect(campaign)
    try:
        rows = services.campaign_recipients_export(
            campaign=campaign, by=request.user, outcome=outcome
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(campaign)
    suffix = f"-{outcome}" if outcome else ""
    return csv_download(
        rows, filename=f"campaign-{campaign.pk}-recipients{suffix}.csv", stream=True
    )


# Why a campaign's send (or approve) page is not shown: Send pressed twice, or the page
# reloaded or opened from history after the campaign went.
_NOT_WAITING = {
    Campaign.Status.DRAFT: "This campaign is not waiting for approval: its sender has not sent it.",
    Campaign.Status.AWAITING_APPROVAL: (
        "This campaign was sent for approval already: another designated sender approves it."
    ),
    Campaign.Status.QUEUED: "This campaign is already on its way: nothing more was sent.",
    Campaign.Status.SENDING: "This campaign is already on its way: nothing more was sent.",
    Campaign.Status.SENT: "This campaign has already been sent: nothing more was sent.",
    Campaign.Status.CANCELLED: "This campaign was cancelled: it cannot be sent.",
}


@require_http_methods(["GET", "POST"])
@require("mailing.send_campaign")
def campaign_confirm(request, pk: int, approving: bool = False):
    """Send (or approve): repeat what goes to whom, and take the typed number."""
    campaign = _campaign(pk)
    wanted = Campaign.Status.AWAITING_APPROVAL if approving else Campaign.Status.DRAFT
    if campaign.status != wanted:
        messages.error(request, _NOT_WAITING[Campaign.Status(campaign.status)])
        return redirect(campaign)
    if not approving:
        services.require_own(campaign, request.user, doing="send")
    else:
        try:
            services.check_approver(campaign, request.user)
        except ValidationError as error:
            # Not a form that takes the number and only then says no.
            messages.error(request, " ".join(error.messages))
            return redirect(campaign)
    summary = _recipients_summary(campaign)
    if summary["error"]:
        messages.error(request, summary["error"])
        return redirect(campaign)
    count = len(summary["list"].included)
    if not count:
        # Nothing to confirm: the page would ask to type 0 for an email to nobody.
        messages.error(
            request, "Nobody would receive this campaign now: see why each contact is left out."
        )
        return redirect(campaign)
    shown = {"expected": count, "fingerprint": summary["list"].fingerprint}
    form = ConfirmForm(request.POST or None, initial=shown)
    if request.method == "POST" and form.is_valid():
        send = services.campaign_approve if approving else services.campaign_send
        try:
            send(
                campaign=campaign,
                by=request.user,
                confirmed=form.cleaned_data["confirmed"],
                fingerprint=form.cleaned_data["fingerprint"],
            )
        except services.RecipientsChanged as error:
            messages.error(request, error.messages[0])
            form = ConfirmForm(initial=shown)
        except ValidationError as error:
            campaign.refresh_from_db()
            if campaign.status != wanted:
                # Sent (or approved) from another tab a moment before: its page, not a
                # send button for a campaign already on its way.
                messages.error(request, " ".join(error.messages))
                return redirect(campaign)
            add_validation_error(form, error)
        else:
            campaign.refresh_from_db()
            if campaign.status == Campaign.Status.AWAITING_APPROVAL:
                messages.success(request, "Submitted: another designated sender must approve it.")
            else:
                messages.success(
                    request,
                    ngettext(
                        "The campaign is on its way to %(n)d recipient; this page shows its "
                        "progress.",
                        "The campaign is on its way to %(n)d recipients; this page shows its "
                        "progress.",
                        count,
                    )
                    % {"n": count},
                )
            return redirect(campaign)
    elif form.errors.keys() & {"expected", "fingerprint"}:
        # Hidden fields nobody can mend: the page posted was not this one (or is older).
        messages.error(request, "That page was out of date: check who receives it now.")
        form = ConfirmForm(initial=shown)
    return render(
        request,
        "mailing/campaign_confirm.html",
        {
            "campaign": campaign,
            "summary": summary,
            "count": count,
            "form": form,
            "approving": approving,
            "events": events_for(campaign),
            "no_longer_promoted": no_longer_promoted(campaign),
        },
    )


@require_http_methods(["GET", "POST"])
@require("mailing.send_campaign")
def campaign_cancel(request, pk: int):
    """Stop a campaign, after saying how many messages will not be sent."""
    campaign = _campaign(pk)
    if campaign.status == Campaign.Status.CANCELLED:
        # Cancel pressed twice, or a page left open: what happened is on its page.
        messages.info(request, "This campaign is already cancelled.")
        return redirect(campaign)
    if campaign.status == Campaign.Status.SENT:
        messages.error(request, "This campaign has been sent: nothing is left to cancel.")
        return redirect(campaign)
    if request.method == "POST":
        try:
            dropped = services.campaign_cancel(campaign=campaign, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                "Cancelled while it waited for approval: nothing was sent."
                if campaign.queued_at is None
                else ngettext(
                    "Cancelled; %(n)d message not sent.",
                    "Cancelled; %(n)d messages not sent.",
                    dropped,
                )
                % {"n": dropped},
            )
        return redirect(campaign)
    if not request.user.has_perm("mailing.cancel_campaign", campaign):
        services.require_own(campaign, request.user, doing="cancel")
    return render(
        request,
        "mailing/campaign_cancel.html",
        {"campaign": campaign, "progress": campaign_progress(campaign)},
    )


@require_safe
@require("mailing.send_campaign")
def campaign_progress_json(request, pk: int):
    campaign = _campaign(pk)
    return JsonResponse({"status": campaign.status, **campaign_progress(campaign)})


def _preview_contact(request, campaign: Campaign):
    preview = services.preview_contacts(campaign)
    shown = preview.contacts
    form = PreviewForm(request.GET or None, contacts=[c for c in shown[:500] if c.pk])
    contact = None
    if form.is_valid():
        contact = next((c for c in shown if str(c.pk) == form.cleaned_data["contact"]), None)
    return form, contact or shown[0], preview.nobody_why


def _content(campaign: Campaign, contact: Contact) -> dict:
    # A sample unsubscribe link: the sender may press it to see the page, harmlessly.
    return render_for(
        campaign,
        contact,
        events=events_for(campaign),
        unsubscribe_url=unsubscribe_url(contact.pk, campaign.purpose, sample=True),
    )


@require_safe
@require("mailing.send_campaign")
def campaign_preview(request, pk: int):
    """The campaign rendered for a chosen recipient, exactly as they will see it."""
    campaign = _campaign(pk)
    try:
        form, contact, nobody_why = _preview_contact(request, campaign)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(campaign)
    return render(
        request,
        "mailing/campaign_preview.html",
        {
            "campaign": campaign,
            "form": form,
            "contact": contact,
            "nobody_why": nobody_why,
            "content": _content(campaign, contact),
        },
    )


@require_safe
@require("mailing.send_campaign")
@xframe_options_sameorigin
def campaign_preview_html(request, pk: int):
    """The HTML part alone, for the preview's frame: the email as a mail program shows it.

    Served on its own, sandboxed: no script runs, and its inline styles (which mail
    programs need) apply only inside the frame.
    """
    campaign = _campaign(pk)
    try:
        _form, contact, _nobody_why = _preview_contact(request, campaign)
    except ValidationError:
        contact = None
    html = _content(campaign, contact)["html"] if contact else "<p>Nobody to preview.</p>"
    response = HttpResponse(html)
    response["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'self'"
    )
    return response


# The query flag of the page a press leads to. Only shown, never acted on: the page says
# what holds now, in the words of a press that just took effect.
_DONE = "done"


@csrf_exempt  # RFC 8058 one-click POSTs come from mail providers; the signed token is the key.
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows a button (link scanners must not unsubscribe anyone); POST opts out at once.

    A contact already out of this kind of email (by this link before, by a colleague's
    record, or out of all bulk email) is told so, and since when, instead of being asked
    again as if the first press had done nothing. Unsubscribed by mistake, they take it
    back on the same page (`undo`), except out of all bulk email or erased.

    A press in a browser is answered with a redirect to a page that only shows what holds
    now (`?done=1`): a reload, or Back to it after an undo, must not unsubscribe them
    again. A mail program's one-click POST follows no redirect, so it gets the page.
    """
    try:
        contact_id, purpose, sample, address = read_token(token)
    except signing.BadSignature:
        return render(request, "mailing/unsubscribe_invalid.html", status=400)
    contact = Contact.objects.filter(pk=contact_id).select_related("organisation").first()
    if purpose not in EmailOptOut.Purpose.values:
        return render(request, "mailing/unsubscribe_invalid.html", status=400)
    label = EmailOptOut.Purpose(purpose).label.lower()
    if address and not sample and (contact is None or address_digest(contact.email) != address):
        # The record was deleted or erased, or holds another address now: the address the
        # email went to leaves, whoever the record is about today.
        return _unsubscribe_address(request, address, purpose, label, token)
    if sample:
        # Also with no contact: a preview of a draft whose search finds nobody.
        return render(
            request, "mailing/unsubscribe_sample.html", {"contact": contact, "label": label}
        )
    if contact is None:
        return render(request, "mailing/unsubscribe_invalid.html", status=400)
    if request.method == "GET":
        done = _DONE in request.GET
        return _unsubscribe_page(request, contact, purpose, address, label, token, done=done)
    undo = request.POST.get("undo") == "yes"
    if undo:
        # Unsubscribed by mistake: back in, by their own press on their own link.
        done = services.resubscribe(contact=contact, purpose=purpose, address=address)
        # Pressed twice, or back and pressed again: in already, and told so.
        done = done or selectors.standing_opt_out(contact, purpose) is None
    else:
        done = selectors.standing_opt_out(contact, purpose) is None
        if done:
            services.unsubscribe(contact=contact, purpose=purpose)
    if _one_click(request):
        return _unsubscribe_page(request, contact, purpose, address, label, token, done=done)
    return _show_outcome(token, done=done)


def _one_click(request) -> bool:
    """Whether a POST is a mail program's one-click unsubscribe (RFC 8058), not a form."""
    return request.POST.get("List-Unsubscribe") == "One-Click"


def _show_outcome(token: str, *, done: bool) -> HttpResponseRedirect:
    """Post/Redirect/Get: a press in a browser leads to a page a reload cannot repeat."""
    url = reverse("mailing:unsubscribe", args=[token])
    return HttpResponseRedirect(f"{url}?{_DONE}=1" if done else url, status=303)


def _unsubscribe_page(request, contact, purpose, address, label, token, *, done: bool):
    """What holds now for the contact's address and this kind of email; changes nothing.

    `done`: a press just took effect, so it says so rather than "since" when.
    """
    context = {"contact": contact, "label": label}
    already = selectors.standing_opt_out(contact, purpose)
    if already is None:
        if done:
            return render(request, "mailing/unsubscribe_undone.html", context)
        return render(request, "mailing/unsubscribe.html", {**context, "token": token})
    # Offered only where this link's own press may be taken back (`may_resubscribe`).
    context["may_undo"] = services.may_resubscribe(contact, purpose, address)
    if not done:
        context["already"] = already
    return render(request, "mailing/unsubscribe_done.html", context)


def _unsubscribe_address(request, digest: str, purpose: str, label: str, token: str):
    context = {"contact": None, "label": label, "token": token}
    if request.method == "POST":
        done = optouts.kept_opt_out(digest, purpose) is None
        if done:
            services.unsubscribe_address(digest=digest, purpose=purpose)
        if not _one_click(request):
            return _show_outcome(token, done=done)
    else:
        done = _DONE in request.GET
    already = optouts.kept_opt_out(digest, purpose)
    if already is None:
        return render(request, "mailing/unsubscribe.html", context)
    if not done:
        context["already"] = already
    return render(request, "mailing/unsubscribe_done.html", context)


def _chart_query(request) -> tuple[ChartForm, chart.ChartQuery | None]:
    """The chart asked for, or None while a filter is wrong or unknown: never every
    organisation's figures under a name that matched none (the page says why instead)."""
    form = ChartForm(request.GET, strict=True)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    return form, chart.ChartQuery(
        period=data["period"],
        unit=data["unit"].pk if data.get("unit") else None,
        organisation=data.get("organisation"),
        months=data["months"],
    )


def _chart_title(query: chart.ChartQuery) -> str:
    parts = ["Bulk emails received by employers"]
    if query.organisation:
        organisation = Organisation.objects.filter(pk=query.organisation).first()
        if organisation:
            parts.append(f"at {organisation.name}")
    return " ".join(parts)


def _chart_params(query: chart.ChartQuery) -> str:
    params = {"period": query.period, "months": query.months}
    if query.unit:
        params["unit"] = query.unit
    if query.organisation:
        params["organisation"] = query.organisation
    return urlencode(params)


@require_safe
@require("mailing.view_chart")
def chart_page(request):
    form, query = _chart_query(request)
    if query is None:
        return render(
            request,
            "mailing/chart.html",
            {"form": form, "title": _chart_title(chart.ChartQuery())},
            status=400,
        )
    data = chart.chart_data(query)
    return render(
        request,
        "mailing/chart.html",
        {
            "form": form,
            "data": data,
            "query": query,
            "title": _chart_title(query),
            "labels": [chart.period_label(p, query.period) for p in data.periods],
            "caption": f"Emails received per {query.period} and sending unit",
            "params": _chart_params(query),
            "organisation": Organisation.objects.filter(pk=query.organisation).first()
            if query.organisation
            else None,
        },
    )


@require_safe
@require("mailing.view_chart")
def chart_png(request):
    form, query = _chart_query(request)
    if query is None:
        return figures_refused(request, form, page="mailing:chart")
    data = chart.chart_data(query)
    response = HttpResponse(
        chart.render_png(data, period=query.period, title=_chart_title(query)),
        content_type="image/png",
    )
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_safe
@require("mailing.view_chart")
def chart_csv(request):
    form, query = _chart_query(request)
    if query is None:
        return figures_refused(request, form, page="mailing:chart")
    data = chart.chart_data(query)
    header = ["period", *data.series.keys(), "total"]
    rows = [header] + [
        [chart.period_label(row["period"], query.period), *row["counts"], row["total"]]
        for row in data.rows
    ]
    return csv_download(rows, filename=_chart_filename(query))


def _chart_filename(query: chart.ChartQuery) -> str:
    """The figures' file named for what they count: one organisation's weekly figures
    saved as "mycareer-email-chart.csv" read later as the whole university's."""
    parts = ["mycareer-email-chart"]
    if query.organisation:
        organisation = Organisation.objects.filter(pk=query.organisation).first()
        if organisation:
            parts.append(slugify(organisation.name)[:60] or str(organisation.pk))
    if query.unit:
        unit = Unit.objects.filter(pk=query.unit).first()
        if unit:
            parts.append(f"from-{slugify(unit.name)[:60] or unit.pk}")
    parts.append(f"by-{query.period}-{query.months}-months")
    return "-".join(parts) + ".csv"
