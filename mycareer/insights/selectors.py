"""Reads of the insights app: the opportunities each page lists, and what is in force."""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from mycareer.accounts.models import Unit
from mycareer.accounts.permissions import can_administer
from mycareer.insights.models import Audience, Dismissal, InsightsRun, Opportunity


def unit_family(unit_ids) -> QuerySet[Unit]:
    """The units and those within them (faculty > school > department)."""
    return Unit.objects.filter(
        Q(pk__in=unit_ids) | Q(parent_id__in=unit_ids) | Q(parent__parent_id__in=unit_ids)
    )


def _open() -> QuerySet[Opportunity]:
    """Opportunities not acted on since the last run, nor dismissed and still hidden."""
    dismissed = Dismissal.objects.filter(key=OuterRef("key"), until__gte=timezone.localdate())
    return (
        Opportunity.objects.filter(handled_at__isnull=True)
        .exclude(Exists(dismissed))
        .select_related("organisation")
        .order_by("kind", "position", "pk")
    )


def opportunities_for_person(user) -> QuerySet[Opportunity]:
    """For me: offered to me, to my units (and those within them), or to administrators."""
    mine = Q(person=user) | Q(unit__in=unit_family(user.memberships.values("unit_id")))
    if can_administer(user):
        mine |= Q(administrators=True)
    return _open().filter(Exists(Audience.objects.filter(mine, opportunity=OuterRef("pk"))))


def opportunities_for_unit(unit: Unit) -> QuerySet[Opportunity]:
    audience = Audience.objects.filter(opportunity=OuterRef("pk"), unit__in=unit_family([unit.pk]))
    return _open().filter(Exists(audience))


def opportunities_everywhere() -> QuerySet[Opportunity]:
    """The Careers Centre's view: every open opportunity in the university."""
    return _open()


def last_run() -> InsightsRun | None:
    return InsightsRun.objects.filter(finished_at__isnull=False).order_by("-started_at").first()


def open_opportunity(pk: int) -> Opportunity:
    return Opportunity.objects.select_related("organisation").get(pk=pk)
