"""Opportunities for relationship development: for me, for a unit, for the Careers Centre."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_safe

from mycareer.accounts.models import Unit
from mycareer.accounts.permissions import why_not
from mycareer.core.forms import add_validation_error
from mycareer.core.http import figures_refused, safe_next
from mycareer.core.pagination import Paginator
from mycareer.core.permissions import require
from mycareer.core.spreadsheets import csv_download
from mycareer.insights import selectors, services, trends
from mycareer.insights.finders import thresholds
from mycareer.insights.forms import DismissForm, FollowUpForm, TrendForm
from mycareer.insights.models import Kind, Opportunity
from mycareer.mailing import chart

# The overview shows the first few of each kind; "See all" pages through one kind.
PREVIEW = 10
PER_PAGE = 25


def _grouped(opportunities) -> list[dict]:
    """The opportunities by kind, in the order of `Kind`, each kind with its count.

    One count per kind, then the first PREVIEW of each kind present: a fixed number of
    queries, however many thousands the Careers Centre's view holds, and a page short
    enough to read (and to render quickly) at any size.
    """
    counts = dict(
        opportunities.order_by()
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    return [
        {
            "kind": kind,
            "label": label,
            "items": list(opportunities.filter(kind=kind)[:PREVIEW]),
            "count": counts[kind],
        }
        for kind, label in Kind.choices
        if counts.get(kind)
    ]


def _one_kind(request, opportunities, kind: str) -> tuple[list[dict], object]:
    """Every opportunity of one kind, a page at a time (the "See all" link)."""
    page = Paginator(opportunities.filter(kind=kind), PER_PAGE).get_page(request.GET.get("page"))
    group = {
        "kind": kind,
        "label": Kind(kind).label,
        "items": list(page.object_list),
        "count": page.paginator.count,
        "page": page,
    }
    return ([group] if group["count"] else []), page


def _page(request, *, title: str, intro: str, opportunities, scope: str, unit=None):
    user = request.user
    can_act = user.has_perm("insights.act_on_opportunity")
    kind = request.GET.get("kind")
    if kind in Kind.values:
        groups, page = _one_kind(request, opportunities, kind)
    else:
        if kind:  # a link typed or cut short: said, not quietly taken for every kind
            kinds = ", ".join(f"“{label}”" for label in Kind.labels)
            messages.warning(
                request,
                f"“{kind}” is not a kind of opportunity ({kinds}): every kind is shown.",
            )
        kind, groups, page = None, _grouped(opportunities), None
    return render(
        request,
        "insights/opportunities.html",
        {
            "title": title,
            "intro": intro,
            "scope": scope,
            "groups": groups,
            "kind": kind,
            "page": page,
            "querystring": urlencode({"kind": kind}) if kind else "",
            "run": selectors.last_run(),
            "thresholds": thresholds(),
            "can_act": can_act,
            # Why not in the person's own case: a level too low, or training that lapsed.
            "why_not_act": "" if can_act else why_not(user, "insights.act_on_opportunity"),
            "can_email": user.has_perm("mailing.send_campaign"),
            "follow_up_form": FollowUpForm(user=user) if can_act else None,
            "my_units": list(Unit.objects.filter(memberships__user=user).order_by("name")),
            "unit": unit,
        },
    )


@require_safe
@require("insights.view_opportunities")
def mine(request):
    return _page(
        request,
        title="Opportunities for me",
        intro="Offered to you, to your units and, for administrators, to the Careers Centre.",
        opportunities=selectors.opportunities_for_person(request.user),
        scope="mine",
    )


@require_safe
@require("insights.view_opportunities")
def unit(request, code: str):
    chosen = get_object_or_404(Unit, code=code)
    return _page(
        request,
        title=f"Opportunities for {chosen}",
        intro=f"Offered to {chosen} and the units within it.",
        opportunities=selectors.opportunities_for_unit(chosen),
        scope="unit",
        unit=chosen,
    )


@require_safe
@require("insights.view_opportunities")
def everywhere(request):
    return _page(
        request,
        title="Opportunities across the university",
        intro="The Careers Centre's view: every opportunity, whoever it is offered to.",
        opportunities=selectors.opportunities_everywhere(),
        scope="everywhere",
    )


def _opportunity(request, pk: int) -> Opportunity:
    try:
        return selectors.open_opportunity(pk)
    except Opportunity.DoesNotExist:
        raise Http404("This opportunity is no longer listed: the list was found afresh.") from None


def _opportunity_arg(request, pk: int) -> Opportunity:
    return _opportunity(request, pk)


def _act(request, opportunity: Opportunity, form, *, template: str, act, extra=None):
    """An action's page: on a valid POST, `act(data)` says what was done; back to the list.

    A refusal by the service shows on the form (400), with what was typed kept.
    """
    back = safe_next(request, reverse("insights:mine"))
    if request.method == "POST" and form.is_valid():
        try:
            done = act(form.cleaned_data)
        except services.AlreadyActedOn as error:
            messages.info(request, error.message)
            return redirect(back)
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(request, done)
            return redirect(back)
    return render(
        request,
        template,
        {"opportunity": opportunity, "form": form, "next": back, **(extra or {})},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@require("insights.act_on_opportunity", _opportunity_arg)
def follow_up(request, pk: int):
    """Record a follow-up for an opportunity: a note due on a date, for me or a colleague."""
    opportunity = _opportunity(request, pk)

    def act(data) -> str:
        note = services.opportunity_follow_up(
            opportunity=opportunity,
            by=request.user,
            due_on=data["due_on"],
            assignee=data["assignee"],
        )
        return (
            f"Follow-up with {opportunity.organisation} recorded for {note.author}, due "
            f"{note.follow_up_on:%-d %B %Y}. It has left the list."
        )

    form = FollowUpForm(request.POST or None, user=request.user)
    return _act(request, opportunity, form, template="insights/follow_up.html", act=act)


@require_http_methods(["GET", "POST"])
@require("insights.act_on_opportunity", _opportunity_arg)
def dismiss(request, pk: int):
    """Set an opportunity aside, with a reason, for the days the settings say."""
    opportunity = _opportunity(request, pk)

    def act(data) -> str:
        dismissal = services.opportunity_dismiss(
            opportunity=opportunity, by=request.user, reason=data["reason"]
        )
        return (
            f"{opportunity.get_kind_display()} for {opportunity.organisation} set aside "
            f"until {dismissal.until:%-d %B %Y}."
        )

    form = DismissForm(request.POST or None)
    days = thresholds()["DISMISS_DAYS"]
    return _act(
        request,
        opportunity,
        form,
        template="insights/dismiss.html",
        act=act,
        extra={"days": days},
    )


def _trend(request) -> tuple[TrendForm, trends.TrendQuery | None]:
    form = TrendForm(request.GET, strict=True)
    return form, form.query()


@require_safe
@require("insights.view_trends")
def trends_page(request):
    """Engagement over time: a chart, the same figures as a table, and a CSV of them."""
    form, query = _trend(request)
    my_units = list(Unit.objects.filter(memberships__user=request.user).order_by("name"))
    if query is None:
        return render(
            request, "insights/trends.html", {"form": form, "my_units": my_units}, status=400
        )
    unit_name = str(form.cleaned_data["unit"]) if query.unit else None
    data, title = trends.trend_data(query), trends.title(query, unit_name)
    chosen = {name: form.data[name] for name in TrendForm.base_fields if form.data.get(name)}
    others = urlencode({name: value for name, value in chosen.items() if name != "unit"})
    return render(
        request,
        "insights/trends.html",
        {
            "form": form,
            "query": query,
            "data": data,
            "title": title,
            "measure": trends.MEASURES[query.measure],
            "dimension": trends.DIMENSIONS[query.dimension],
            "most": trends.MOST_SERIES,
            "overlaps": trends.overlaps(query),
            "counted_at": trends.counted_at(),
            "caption": f"{title} per {query.period}",
            "params": urlencode(chosen),
            "others": others,
            "my_units": my_units,
        },
    )


@require_safe
@require("insights.view_trends")
def trends_png(request):
    form, query = _trend(request)
    if query is None:
        return figures_refused(request, form, page="insights:trends")
    unit_name = str(form.cleaned_data["unit"]) if query.unit else None
    measure = trends.MEASURES[query.measure]
    response = HttpResponse(
        chart.render_png(
            trends.trend_data(query),
            period=query.period,
            title=trends.title(query, unit_name),
            ylabel=measure.counted.capitalize(),
            stacked=not trends.overlaps(query),
        ),
        content_type="image/png",
    )
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_safe
@require("insights.view_trends")
def trends_csv(request):
    form, query = _trend(request)
    if query is None:
        return figures_refused(request, form, page="insights:trends")
    return csv_download(
        trends.csv_rows(trends.trend_data(query), query, chart.period_label),
        filename=_trends_filename(query),
    )


def _trends_filename(query: trends.TrendQuery) -> str:
    """The figures' file named for what they count, as the email chart's is: a faculty's
    figures were saved under the same name as the whole university's."""
    parts = [f"mycareer-trends-{query.measure}-by-{query.dimension}"]
    if query.unit:
        unit = Unit.objects.filter(pk=query.unit).first()
        if unit:
            parts.append(f"of-{slugify(unit.name)[:60] or unit.pk}")
    parts.append(f"per-{query.period}-{query.months}-months")
    return "-".join(parts) + ".csv"
