from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from mycareer.accounts.models import Unit
from mycareer.core.fields import MultiLineTextField
from mycareer.organisations.models import Organisation


class Kind(models.TextChoices):
    """The kinds of opportunity for relationship development, in the policy's words."""

    LAPSED = "lapsed", "Lapsed relationship"
    ONE_FACULTY = "one_faculty", "One faculty only"
    KEY_ACCOUNT_QUIET = "key_quiet", "Key account going quiet"
    LIAISON_UNANSWERED = "liaison", "Liaison request unanswered"
    VACANCIES_NO_EVENTS = "vacancies_only", "Posts vacancies, never at an event"
    EVENTS_NO_VACANCIES = "events_only", "At events, never posts vacancies"
    TOP_ATTENDANCE = "top_attendance", "Events that draw students: a key account?"
    NEAR_EMAIL_LIMIT = "near_limit", "Near the bulk email limit"
    MANY_UNITS = "many_units", "Contacted by many units"


class InsightsRun(models.Model):
    """One computation of the opportunities: the pages say when it was made."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"Opportunities computed at {self.started_at:%Y-%m-%d %H:%M}"


class Opportunity(models.Model):
    """An opportunity found by the last run, with its reason in words and figures.

    `key` names what it is about ("key_quiet:12" for key account 12), so a dismissal
    and a one-click action keep holding when the next run finds it again.
    """

    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=80)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="opportunities"
    )
    reason = MultiLineTextField()
    figures = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)
    # The organisation's place in alphabetical order when the nightly run found it: the
    # pages list by it, reading a kind's first rows from an index instead of sorting all.
    # db_default too: the running release's code, which knows nothing of the column,
    # can still insert rows while a new one migrates.
    position = models.PositiveIntegerField(default=0, db_default=0)
    # A one-click action (a follow-up recorded) takes it off the lists until the next run.
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["kind", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["key"], name="unique_opportunity_key")]
        indexes = [
            models.Index(fields=["kind", "handled_at"]),
            # A page's first rows of a kind, in order, without sorting the whole kind.
            models.Index(
                fields=["kind", "position"],
                condition=Q(handled_at__isnull=True),
                name="insights_opportunity_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.organisation}"


class Audience(models.Model):
    """Who an opportunity is offered to: a person, a unit, or the administrators."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="audiences")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    administrators = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(
                fields=["person", "opportunity"],
                condition=Q(person__isnull=False),
                name="insights_audience_person_idx",
            ),
            models.Index(
                fields=["unit", "opportunity"],
                condition=Q(unit__isnull=False),
                name="insights_audience_unit_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity} for {self.person or self.unit or 'administrators'}"


class Dismissal(models.Model):
    """Someone set an opportunity aside, with a reason: hidden until `until`, recorded."""

    key = models.CharField(max_length=80, db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="insight_dismissals"
    )
    reason = MultiLineTextField()
    until = models.DateField()
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.organisation} dismissed until {self.until}"


class EngagementScore(models.Model):
    """An organisation's engagement score for a month, with its parts explained.

    The row of the current month is rewritten each night; earlier months stay as they
    were last computed, which is the history the trends and sparklines draw.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="engagement_scores"
    )
    month = models.DateField(help_text="The first day of the month.")
    total = models.PositiveSmallIntegerField()
    # [{"name": "Recency", "points": 20, "of": 30, "why": "last note or event 40 days ago"}, …]
    components = models.JSONField(default=list)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organisation", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "month"], name="one_engagement_score_a_month"
            )
        ]
        indexes = [models.Index(fields=["month", "total"])]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.total} in {self.month:%B %Y}"


class TrendCount(models.Model):
    """A month's count of one measure for one group of a dimension, computed nightly.

    Rows with `whole=True` count across the university (each record once per group);
    the others count per engaging unit, so a unit's trends add up its family's rows.
    A record of several units (a vacancy targeting two schools of one faculty) would
    count once per unit in that sum, so for such measures a unit with units within it
    also has `family=True` rows, counting each record of the family once.
    The "All" column has `dimension="all"` and no group.
    """

    measure = models.CharField(max_length=20)
    dimension = models.CharField(max_length=20)
    month = models.DateField(help_text="The first day of the month.")
    whole = models.BooleanField(default=True)
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    family = models.BooleanField(default=False, db_default=False)
    group_key = models.BigIntegerField(null=True, blank=True)
    group_name = models.CharField(max_length=200, blank=True)
    count = models.PositiveIntegerField()
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["measure", "dimension", "whole", "month"])]

    def __str__(self) -> str:
        return f"{self.measure} by {self.dimension}, {self.month:%b %Y}: {self.count}"
