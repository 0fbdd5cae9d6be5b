"""Merge handlers: each app moves the rows it owns when two organisations become one.

A merge moves everything that points at the merged-away organisation, and at each of
its contacts that is folded into the survivor's contact with the same email. Only the
app that owns a model knows its unique constraints and which of two clashing rows to
keep, so each app registers a `MergeHandler` in its `AppConfig.ready()` naming the
relations it looks after ("vacancies.Vacancy.organisation"), with a function for the
organisation and/or one for a folded contact. Nothing is moved by reflection: after the
handlers ran, a row still pointing at the other record stops the merge (nothing is
changed), and a test enumerates every relation to Organisation and Contact and fails
while one has no handler.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps


@dataclass
class MergeOutcome:
    """What the handlers of one merge did: counts for people, conflicts for the audit trail."""

    summary: dict[str, Any] = field(default_factory=dict)
    conflicts: list[dict] = field(default_factory=list)

    def moved(self, singular: str, plural: str, count: int) -> None:
        """Count `count` rows under a phrase ("vacancy", "vacancies") in the summary."""
        if count:
            NOUNS[plural] = (singular, plural)
            self.summary[plural] = self.summary.get(plural, 0) + count

    def conflict(self, kind: str, *, kept: int, dropped: int, **data) -> None:
        """Two rows that could not both stay: which was kept, which folded into it."""
        self.conflicts.append({"kind": kind, "kept": kept, "dropped": dropped, **data})


# Plural phrase -> (singular, plural), for saying what a merge moved in words.
NOUNS: dict[str, tuple[str, str]] = {}


@dataclass(frozen=True)
class MergeHandler:
    name: str
    # "app_label.Model.field" for each foreign key or many-to-many it looks after.
    relations: tuple[str, ...]
    # (survivor=, other=, outcome=): move the rows pointing at the other organisation.
    organisation: Callable[..., None] | None = None
    # (keep=, fold=, outcome=): move the rows pointing at a contact folded into `keep`.
    contact: Callable[..., None] | None = None
    # (other) -> {plural phrase: count}: what the merge page says will move.
    preview: Callable[[Any], dict[str, int]] | None = None
    # (singular, plural) of each phrase it counts under, to say them in words.
    nouns: tuple[tuple[str, str], ...] = ()
    order: int = 100


_handlers: dict[str, MergeHandler] = {}


def register_merge_handler(handler: MergeHandler) -> None:
    _handlers[handler.name] = handler
    for singular, plural in handler.nouns:
        NOUNS[plural] = (singular, plural)


def merge_handlers() -> list[MergeHandler]:
    return sorted(_handlers.values(), key=lambda h: h.order)


def handled_relations() -> set[tuple[str, str]]:
    """(model label, field name) of every relation a registered handler looks after."""
    pairs = (r.rsplit(".", 1) for h in _handlers.values() for r in h.relations)
    return {(label, name) for label, name in pairs}


def _relations_to(target, names: set[tuple[str, str]]):
    for label, name in sorted(names):
        model = apps.get_model(label)
        if model._meta.get_field(name).related_model is target:
            yield model, name


def rows_left(obj) -> dict[str, int]:
    """Rows of handled relations still pointing at `obj` (none after a complete merge)."""
    found = {}
    for model, name in _relations_to(type(obj), handled_relations()):
        manager = getattr(model, "with_released", model._base_manager)
        count = manager.filter(**{name: obj}).count()
        if count:
            found[f"{model._meta.label}.{name}"] = count
    return found


def unhandled_relations(target) -> list[str]:
    """Relations to `target` (a model) that no handler looks after.

    Tables the database keeps itself (unmanaged models: the organisations' text index,
    fed by triggers from each organisation's own row) hold nothing to move.
    """
    handled = handled_relations()
    return [
        f"{model._meta.label}.{f.name}"
        for model in apps.get_models()
        if model._meta.managed
        for f in model._meta.get_fields()
        if f.is_relation
        and f.concrete
        and f.related_model is target
        and (model._meta.label, f.name) not in handled
    ]


def fold_contact(*, keep, fold, outcome: MergeOutcome) -> None:
    """Every app moves what points at `fold` to `keep` (the same person at the survivor)."""
    for handler in merge_handlers():
        if handler.contact is not None:
            handler.contact(keep=keep, fold=fold, outcome=outcome)


def merge_organisation(*, survivor, other, outcome: MergeOutcome) -> None:
    for handler in merge_handlers():
        if handler.organisation is not None:
            handler.organisation(survivor=survivor, other=other, outcome=outcome)


def preview(other) -> dict[str, int]:
    """What merging `other` away will move, per kind of row, before anything is done."""
    counts: dict[str, int] = {}
    for handler in merge_handlers():
        if handler.preview is not None:
            for phrase, count in handler.preview(other).items():
                if count:
                    counts[phrase] = counts.get(phrase, 0) + count
    return counts


def move_many_to_many(rows, *, owner: str, side: str, keep, fold, kind: str, outcome) -> int:
    """Point through-rows at `keep` instead of `fold`; where the owner already links to
    `keep`, drop the row (recorded as a conflict). Returns the rows handled."""
    count = 0
    for row in list(rows):
        owner_id = getattr(row, f"{owner}_id")
        twin = type(row).objects.filter(**{owner: owner_id, side: keep}).first()
        if twin is None:
            setattr(row, side, keep)
            row.save()
        else:
            outcome.conflict(kind, kept=twin.pk, dropped=row.pk, **{owner: owner_id})
            row.delete()
        count += 1
    return count
