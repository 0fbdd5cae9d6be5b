"""Writes of the insights app: store what the finders found, act on it, dismiss it."""

import datetime
import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from mycareer import audit
from mycareer.core.logs import log_event
from mycareer.insights.finders import find_all, thresholds
from mycareer.insights.models import (
    Audience,
    Dismissal,
    EngagementScore,
    InsightsRun,
    Kind,
    Opportunity,
)
from mycareer.organisations.merging import MergeHandler
from mycareer.organisations.models import KeyContact, Note, Organisation, OrganisationScore
from mycareer.organisations.services import note_create

logger = logging.getLogger(__name__)
User = get_user_model()


@transaction.atomic
def opportunities_refresh(*, today: datetime.date | None = None) -> InsightsRun:
    """Find every opportunity afresh and store it for the pages (a nightly job)."""
    today = today or timezone.localdate()
    run = InsightsRun.objects.create()
    found = find_all(today)
    _add_key_contacts(found)
    position = _alphabetical_positions({item.organisation_id for item in found})
    Opportunity.objects.all().delete()
    rows = Opportunity.objects.bulk_create(
        [
            Opportunity(
                kind=item.kind,
                key=item.key,
                organisation_id=item.organisation_id,
                reason=item.reason,
                figures=item.figures,
                computed_at=run.started_at,
                position=position[item.organisation_id],
            )
            for item in found
        ],
        batch_size=500,
    )
    audiences = []
    for row, item in zip(rows, found, strict=True):
        audiences += [Audience(opportunity=row, person_id=pk) for pk in sorted(item.people)]
        audiences += [Audience(opportunity=row, unit_id=pk) for pk in sorted(item.units)]
        if item.administrators:
            audiences.append(Audience(opportunity=row, administrators=True))
    Audience.objects.bulk_create(audiences, batch_size=500)
    counts: dict[str, int] = {}
    for item in found:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    run.finished_at = timezone.now()
    run.counts = counts
    run.save(update_fields=["finished_at", "counts"])
    log_event(logger, "insights.refreshed", opportunities=len(found), **counts)
    return run


def _alphabetical_positions(organisation_ids: set[int]) -> dict[int, int]:
    """Each organisation's place when they are listed by name, as the pages list them."""
    names = [
        (name.casefold(), pk)
        for pk, name in Organisation.objects.values_list("pk", "name").iterator(chunk_size=5000)
        if pk in organisation_ids
    ]
    return {pk: place for place, (_, pk) in enumerate(sorted(names))}


# Kinds about a key account's own business: its owner acts, no one asks to liaise.
_OWNERS_OWN = {Kind.KEY_ACCOUNT_QUIET, Kind.LIAISON_UNANSWERED}


def _add_key_contacts(found) -> None:
    """A key contact of each organisation, so a row can offer "ask the owner to liaise"."""
    wanted = {item.organisation_id for item in found if item.kind not in _OWNERS_OWN}
    first: dict[int, KeyContact] = {}
    for link in (
        KeyContact.objects.filter(key_account__organisation_id__in=wanted)
        .select_related("key_account__operator")
        .order_by("key_account__organisation_id", "pk")
    ):
        first.setdefault(link.key_account.organisation_id, link)
    for item in found:
        chosen = first.get(item.organisation_id)
        if chosen is not None and item.kind not in _OWNERS_OWN:
            item.figures |= {
                "key_contact": chosen.contact_id,
                "key_owner": chosen.key_account.operator_id,
                "key_owner_name": chosen.key_account.operator.full_name,
            }


def _may_act(by, opportunity: Opportunity) -> None:
    if not by.has_perm("insights.act_on_opportunity", opportunity):
        raise PermissionDenied("Only operators can act on opportunities.")


class AlreadyActedOn(ValidationError):
    """Someone acted on the opportunity first: a button pressed twice, or two colleagues."""


def _claim(opportunity: Opportunity, by) -> None:
    """Lock the opportunity's row and mark it handled; refuse if it was handled already.

    The lock (and SQLite's IMMEDIATE transactions) makes a second press wait for the
    first and then find it done, so one press records one note or one dismissal.
    """
    row = (
        Opportunity.objects.select_for_update(of=("self",))
        .select_related("handled_by")
        .get(pk=opportunity.pk)
    )
    if row.handled_at is not None:
        who = row.handled_by.full_name if row.handled_by else "A colleague"
        when = timezone.localtime(row.handled_at)
        log_event(logger, "insights.already_handled", key=row.key, by=by.pk)
        raise AlreadyActedOn(
            f"{who} already acted on this at {when:%H:%M on %-d %B}; nothing more was recorded."
        )
    opportunity.handled_at = timezone.now()
    opportunity.handled_by = by
    opportunity.save(update_fields=["handled_at", "handled_by"])


@transaction.atomic
def opportunity_follow_up(
    *,
    opportunity: Opportunity,
    by,
    due_on: datetime.date,
    text: str = "",
    assignee=None,
) -> Note:
    """Record a follow-up note (due on `due_on`) and take the opportunity off the lists.

    The note's author owns the follow-up: a follow-up for a colleague is recorded in
    their name, "for" them by `by`, and the audit entry says who did it.
    """
    _may_act(by, opportunity)
    _claim(opportunity, by)
    if due_on < timezone.localdate():
        raise ValidationError({"due_on": "The follow-up date must be today or later."})
    owner = assignee or by
    if not owner.has_perm("organisations.add_note"):
        raise ValidationError(
            {"assignee": f"{owner} cannot record notes, so cannot be given a follow-up."}
        )
    words = text.strip() or f"Follow up: {opportunity.reason}"
    if owner != by:
        words = f"{words}\n\n(Follow-up set by {by.full_name}.)"
    note = note_create(
        organisation=opportunity.organisation,
        by=owner,
        text=words,
        kind=Note.Kind.OTHER,
        follow_up_on=due_on,
    )
    audit.log(
        opportunity.organisation,
        "insights.opportunity.followed_up",
        by=by,
        data={
            "kind": opportunity.kind,
            "key": opportunity.key,
            "note": note.pk,
            "assignee": owner.pk,
            "due_on": due_on.isoformat(),
        },
    )
    log_event(logger, "insights.followed_up", key=opportunity.key, by=by.pk, assignee=owner.pk)
    return note


@transaction.atomic
def opportunity_dismiss(*, opportunity: Opportunity, by, reason: str) -> Dismissal:
    """Set an opportunity aside for DISMISS_DAYS days, with the reason recorded."""
    _may_act(by, opportunity)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why, so colleagues know when it comes back."})
    _claim(opportunity, by)
    until = timezone.localdate() + datetime.timedelta(days=thresholds()["DISMISS_DAYS"])
    dismissal = Dismissal.objects.create(
        key=opportunity.key,
        kind=opportunity.kind,
        organisation=opportunity.organisation,
        reason=reason,
        until=until,
        dismissed_by=by,
    )
    audit.log(
        opportunity.organisation,
        "insights.opportunity.dismissed",
        by=by,
        data={
            "kind": opportunity.kind,
            "key": opportunity.key,
            "reason": reason,
            "until": until.isoformat(),
        },
    )
    log_event(logger, "insights.dismissed", key=opportunity.key, by=by.pk, until=until)
    return dismissal


def _merge_insights(*, survivor, other, outcome) -> None:
    # Everything moves to the survivor; a month scored for both keeps the survivor's score
    # (the next night scores the merged record afresh).
    Opportunity.objects.filter(organisation=other).update(organisation=survivor)
    moved = Dismissal.objects.filter(organisation=other).update(organisation=survivor)
    outcome.moved("dismissed opportunity", "dismissed opportunities", moved)
    scored = EngagementScore.objects.filter(organisation=survivor).values("month")
    for row in EngagementScore.objects.filter(organisation=other, month__in=scored):
        outcome.conflict(
            "insights.engagement_score", kept=survivor.pk, dropped=row.pk, month=str(row.month)
        )
        row.delete()
    EngagementScore.objects.filter(organisation=other).update(organisation=survivor)
    # The survivor keeps its current score until the night; the stub has none to show.
    OrganisationScore.objects.filter(organisation=other).delete()


MERGE_HANDLER = MergeHandler(
    name="insights",
    relations=(
        "insights.Opportunity.organisation",
        "insights.Dismissal.organisation",
        "insights.EngagementScore.organisation",
        "organisations.OrganisationScore.organisation",
    ),
    organisation=_merge_insights,
)
