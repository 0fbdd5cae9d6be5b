from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from mycareer.accounts.permissions import Action, require
from mycareer.core.forms import add_validation_error
from mycareer.mailing import chart, services
from mycareer.mailing.content import render_for
from mycareer.mailing.crosspromotion import events_for, suggested_event_ids, upcoming_events
from mycareer.mailing.forms import CampaignForm, ChartForm, PreviewForm
from mycareer.mailing.models import Campaign
from mycareer.mailing.sending import campaign_progress
from mycareer.mailing.unsubscribe import read_token, unsubscribe_url
from mycareer.organisations.models import Contact, EmailOptOut, Organisation


def _campaign(request, pk: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related("sender", "unit", "approved_by"), pk=pk
    )


@require_safe
@require(Action.BULK_EMAIL)
def campaigns(request):
    return render(
        request,
        "mailing/campaigns.html",
        {"campaigns": Campaign.objects.select_related("sender", "unit")[:100]},
    )


@require_http_methods(["GET", "POST"])
@require(Action.BULK_EMAIL)
def campaign_form(request, pk: int | None = None):
    """Write or change a draft campaign; recipients come from an organisation search."""
    campaign = _campaign(request, pk) if pk else None
    if campaign and campaign.status != Campaign.Status.DRAFT:
        messages.error(request, "Only a draft can be changed.")
        return redirect(campaign)
    initial = {"recipient_query": request.GET.get("query", "")}
    query = request.POST.get("recipient_query") or (
        campaign.recipient_query if campaign else initial["recipient_query"]
    )
    events = upcoming_events()
    form = CampaignForm(
        request.POST or None,
        instance=campaign,
        initial=initial,
        user=request.user,
        events=events,
        suggested=suggested_event_ids(query, events),
    )
    if request.method == "POST" and form.is_valid():
        data = {
            name: form.cleaned_data[name]
            for name in ("subject", "purpose", "unit", "body", "recipient_query", "promoted_events")
        }
        try:
            if campaign is None:
                campaign = services.campaign_create(sender=request.user, **data)
            else:
                services.campaign_update(campaign=campaign, by=request.user, **data)
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(
                request, "The draft is saved. Check who will receive it before sending."
            )
            return redirect(campaign)
    return render(request, "mailing/campaign_form.html", {"form": form, "campaign": campaign})


@require_http_methods(["GET", "POST"])
@require(Action.BULK_EMAIL)
def campaign_detail(request, pk: int):
    """The exact recipient list with reasons, progress while sending, and the actions."""
    campaign = _campaign(request, pk)
    if request.method == "POST":
        action = request.POST.get("do")
        try:
            if action == "send":
                services.campaign_send(campaign=campaign, by=request.user)
                messages.success(
                    request, "The campaign is on its way; this page shows its progress."
                )
            elif action == "approve":
                services.campaign_approve(campaign=campaign, by=request.user)
                messages.success(request, "Approved: the campaign is on its way.")
            elif action == "cancel":
                dropped = services.campaign_cancel(campaign=campaign, by=request.user)
                messages.success(
                    request, f"Cancelled; {dropped} message{'s' if dropped != 1 else ''} not sent."
                )
            elif action == "test":
                services.campaign_send_test(campaign=campaign, by=request.user)
                messages.success(request, f"A test copy was sent to {request.user.email}.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect(campaign)
    recipients = None
    if campaign.status == Campaign.Status.DRAFT:
        recipients = services.campaign_recipients(campaign)
    return render(
        request,
        "mailing/campaign_detail.html",
        {
            "campaign": campaign,
            "recipients": recipients,
            "progress": campaign_progress(campaign),
            "events": events_for(campaign),
            "failures": campaign.messages.filter(status="failed").select_related("contact")[:50],
        },
    )


@require_safe
@require(Action.BULK_EMAIL)
def campaign_progress_json(request, pk: int):
    return JsonResponse(
        {"status": _campaign(request, pk).status, **campaign_progress(_campaign(request, pk))}
    )


@require_safe
@require(Action.BULK_EMAIL)
def campaign_preview(request, pk: int):
    """The campaign rendered for a chosen recipient, exactly as they will see it."""
    campaign = _campaign(request, pk)
    included = services.campaign_recipients(campaign).included
    form = PreviewForm(request.GET or None, contacts=included[:500])
    contact = None
    if form.is_valid():
        contact = next((c for c in included if str(c.pk) == form.cleaned_data["contact"]), None)
    contact = contact or (included[0] if included else None)
    content = None
    if contact is not None:
        content = render_for(
            campaign,
            contact,
            events=events_for(campaign),
            unsubscribe_url=unsubscribe_url(contact.pk, campaign.purpose),
        )
    return render(
        request,
        "mailing/campaign_preview.html",
        {"campaign": campaign, "form": form, "contact": contact, "content": content},
    )


@csrf_exempt  # RFC 8058 one-click POSTs come from mail providers; the signed token is the key.
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows a button (link scanners must not unsubscribe anyone); POST opts out at once."""
    try:
        contact_id, purpose = read_token(token)
    except signing.BadSignature:
        return render(request, "mailing/unsubscribe_invalid.html", status=400)
    contact = Contact.objects.filter(pk=contact_id).select_related("organisation").first()
    if contact is None or purpose not in EmailOptOut.Purpose.values:
        return render(request, "mailing/unsubscribe_invalid.html", status=400)
    label = EmailOptOut.Purpose(purpose).label.lower()
    if request.method == "POST":
        services.unsubscribe(contact=contact, purpose=purpose)
        return render(
            request, "mailing/unsubscribe_done.html", {"contact": contact, "label": label}
        )
    return render(
        request, "mailing/unsubscribe.html", {"contact": contact, "label": label, "token": token}
    )


def _chart_query(request) -> tuple[ChartForm, chart.ChartQuery]:
    form = ChartForm(request.GET or None)
    query = chart.ChartQuery()
    if form.is_valid():
        data = form.cleaned_data
        query = chart.ChartQuery(
            period=data.get("period") or "month",
            unit=data["unit"].pk if data.get("unit") else None,
            organisation=data.get("organisation"),
            months=data.get("months") or 12,
        )
    return form, query


def _chart_title(query: chart.ChartQuery) -> str:
    parts = ["Bulk emails received by employers"]
    if query.organisation:
        organisation = Organisation.objects.filter(pk=query.organisation).first()
        if organisation:
            parts.append(f"at {organisation.name}")
    return " ".join(parts)


@require_safe
@require(Action.VIEW)
def chart_page(request):
    form, query = _chart_query(request)
    data = chart.chart_data(query)
    params = {
        k: v for k, v in request.GET.items() if k in {"period", "unit", "organisation", "months"}
    }
    return render(
        request,
        "mailing/chart.html",
        {
            "form": form,
            "data": data,
            "query": query,
            "title": _chart_title(query),
            "labels": [chart.period_label(p, query.period) for p in data.periods],
            "params": urlencode(params),
            "organisation": Organisation.objects.filter(pk=query.organisation).first()
            if query.organisation
            else None,
        },
    )


@require_safe
@require(Action.VIEW)
def chart_png(request):
    form, query = _chart_query(request)
    data = chart.chart_data(query)
    response = HttpResponse(
        chart.render_png(data, period=query.period, title=_chart_title(query)),
        content_type="image/png",
    )
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_safe
@require(Action.VIEW)
def chart_csv(request):
    import csv

    form, query = _chart_query(request)
    data = chart.chart_data(query)

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())
    header = ["period", *data.series.keys(), "total"]
    rows = [header] + [
        [chart.period_label(row["period"], query.period), *row["counts"], row["total"]]
        for row in data.rows
    ]
    response = StreamingHttpResponse((writer.writerow(r) for r in rows), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="mycareer-email-chart.csv"'
    return response
