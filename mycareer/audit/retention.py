"""Retention: each kind of record is kept for a set time, then removed or anonymised.

Apps register their rules; a daily task applies them (with a dry run that lists what
would go) and logs what it did.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import ngettext


@dataclass(frozen=True)
class RetentionRule:
    name: str
    keep_for: str  # in words, for the schedule page: "6 years after graduation"
    due: Callable[[], QuerySet]  # the rows whose time is up
    # Removes or anonymises them. What it returns is how many rows it changed in all,
    # rows removed with them included (Django's delete() counts those): kept for the audit
    # trail, not reported as the rule's number (see retention_apply).
    apply: Callable[[QuerySet], int]


_rules: dict[str, RetentionRule] = {}


def register_retention_rule(rule: RetentionRule) -> None:
    _rules[rule.name] = rule


def retention_rules() -> list[RetentionRule]:
    return sorted(_rules.values(), key=lambda r: r.name)


def retention_dry_run() -> list[tuple[RetentionRule, int]]:
    """Each rule with how many rows `retention_apply` would remove or anonymise now (the
    same `due()` it applies), changing nothing."""
    return [(rule, rule.due().count()) for rule in retention_rules()]


def retention_due_total() -> int:
    """How many rows the schedule would remove or anonymise now, all rules together."""
    return sum(count for _, count in retention_dry_run())


def audit_entries_unnamed(rows: QuerySet, *, described: str) -> int:
    """The audit entries of rows a rule removes keep what was done, by whom and when, but
    no longer whom it was about: the row's description ("Ava Shah at Old fair") and the
    person go with the row. Call before removing them; returns how many changed."""
    from mycareer.audit.models import AuditEntry

    ids = [str(pk) for pk in rows.values_list("pk", flat=True)]
    entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(rows.model), object_id__in=ids
    )
    return entries.update(person=None, object_repr=described)


class RetentionChanged(ValidationError):
    """The number of records due is not the number the administrator confirmed."""

    def __init__(self, *, confirmed: int, now: int):
        self.confirmed, self.now = confirmed, now
        super().__init__(
            ngettext(
                "%(now)d record is due now (you confirmed %(confirmed)d): nothing was "
                "removed. Check the schedule and confirm again.",
                "%(now)d records are due now (you confirmed %(confirmed)d): nothing was "
                "removed. Check the schedule and confirm again.",
                now,
            )
            % {"now": now, "confirmed": confirmed},
            code="retention_changed",
        )


def retention_apply(*, by=None, confirmed: int | None = None) -> dict[str, int]:
    """Apply every rule, each in its own transaction, and log what went.

    Returns, rule by rule, how many of the rule's own rows were removed or anonymised:
    the rows the dry run counts, so the numbers after agree with those shown before
    (rows removed with them, such as an attendance report's list of contacts, are not
    counted; the audit trail records them).

    An administrator's press passes the total they were shown as `confirmed`: if more or
    fewer are due now, nothing is applied. The daily task, which nobody confirms, leaves
    it out.
    """
    from mycareer import audit

    if confirmed is not None:
        due = retention_due_total()
        if due != confirmed:
            raise RetentionChanged(confirmed=confirmed, now=due)
    done = {}
    for rule in retention_rules():
        with transaction.atomic():
            rows = rule.due()
            before = rows.count()
            changed = rule.apply(rows) if before else 0
            # The same query again (a fresh copy, not `rows` as apply may have read it):
            # what it no longer finds was removed or anonymised.
            count = before - rows.all().count() if before else 0
            if count:
                data = {"rule": rule.name, "rows": count}
                if changed > count:
                    data["rows_in_all"] = changed
                audit.log(None, "audit.retention.applied", by=by, data=data)
        done[rule.name] = count
    if any(done.values()):
        from mycareer.operations.jobs import wipe_removed_soon

        wipe_removed_soon()
    return done
