"""The unit tree (faculty > school > department) loaded once, for audience arithmetic."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Value

from mycareer.accounts.models import StaffMembership, Unit


@dataclass(frozen=True)
class UnitTree:
    parent: dict[int, int | None]
    kind: dict[int, str]
    name: dict[int, str]

    @classmethod
    def load(cls) -> "UnitTree":
        """Every unit in one query (a university has tens or hundreds, not millions)."""
        return cls.load_for(None)[0]

    @classmethod
    def load_for(cls, user) -> tuple["UnitTree", list[tuple[int, str]]]:
        """The tree, and the units `user` belongs to as (id, name) by name: one query."""
        rows = Unit.objects.order_by("name", "pk")
        if user is not None:
            rows = rows.annotate(
                mine=Exists(StaffMembership.objects.filter(user=user, unit=OuterRef("pk")))
            )
        else:
            rows = rows.annotate(mine=Value(False))
        parent: dict[int, int | None] = {}
        kind: dict[int, str] = {}
        name: dict[int, str] = {}
        mine: list[tuple[int, str]] = []
        for pk, parent_id, unit_kind, unit_name, member in rows.values_list(
            "pk", "parent_id", "kind", "name", "mine"
        ):
            parent[pk], kind[pk], name[pk] = parent_id, unit_kind, unit_name
            if member:
                mine.append((pk, unit_name))
        return cls(parent=parent, kind=kind, name=name), mine

    def chain(self, unit_id: int | None) -> list[int]:
        """The unit and its ancestors, nearest first."""
        chain: list[int] = []
        while unit_id is not None and unit_id not in chain:
            chain.append(unit_id)
            unit_id = self.parent.get(unit_id)
        return chain

    def covers(self, outer: int, inner: int | None) -> bool:
        """True when `inner` is `outer` or lies below it."""
        return outer in self.chain(inner)

    def home(self, unit_id: int | None) -> int | None:
        """The school an event of this unit belongs to (else its faculty, else the top of
        its branch), whose students its organisers reach without asking anyone; None for
        a central service, whose events are for every student."""
        chain = self.chain(unit_id)
        for kind in (Unit.Kind.SCHOOL, Unit.Kind.FACULTY):
            for pk in chain:
                if self.kind[pk] == kind:
                    return pk
        if any(self.kind[pk] == Unit.Kind.SERVICE for pk in chain):
            return None
        return chain[-1] if chain else None

    def descendants(self, unit_id: int) -> set[int]:
        """The unit and every unit below it."""
        return {pk for pk in self.parent if self.covers(unit_id, pk)}

    def below_any(self, unit_ids) -> set[int]:
        found: set[int] = set()
        for unit_id in unit_ids:
            found |= self.descendants(unit_id)
        return found
