"""Retention: each kind of record is kept for a set time, then removed or anonymised.

Apps register their rules; a daily task applies them (with a dry run that lists what
would go) and logs what it did.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet


@dataclass(frozen=True)
class RetentionRule:
    name: str
    keep_for: str  # in words, for the schedule page: "6 years after graduation"
    due: Callable[[], QuerySet]  # the rows whose time is up
    apply: Callable[[QuerySet], int]  # removes or anonymises them; returns how many


_rules: dict[str, RetentionRule] = {}


def register_retention_rule(rule: RetentionRule) -> None:
    _rules[rule.name] = rule


def retention_rules() -> list[RetentionRule]:
    return sorted(_rules.values(), key=lambda r: r.name)


def retention_dry_run() -> list[tuple[RetentionRule, int]]:
    """Each rule with how many rows would go now, changing nothing."""
    return [(rule, rule.due().count()) for rule in retention_rules()]


def retention_apply(*, by=None) -> dict[str, int]:
    """Apply every rule, each in its own transaction, and log what went."""
    from mycareer import audit

    done = {}
    for rule in retention_rules():
        with transaction.atomic():
            count = rule.apply(rule.due())
            if count:
                audit.log(
                    None, "audit.retention.applied", by=by, data={"rule": rule.name, "rows": count}
                )
        done[rule.name] = count
    return done
