"""A merge where every relation to an organisation (and to a merged contact) exists on
both sides: each app's merge handler resolves its own conflicts, nothing is lost, and the
conflicts it resolved are in the audit trail.

The relations are read from the app registry, so a new model pointing at Organisation
or Contact makes these tests fail until it has a merge handler and a row below.
"""

import datetime

import pytest
from django.apps import apps
from django.utils import timezone

from mycareer.accounts.models import Unit
from mycareer.audit.models import AuditEntry
from mycareer.bookings.models import EmployerReport
from mycareer.events.tests.factories import EventFactory
from mycareer.mailing.models import Campaign, LeftOut, OutboxMessage
from mycareer.organisations import merging, services
from mycareer.organisations.models import (
    Contact,
    EmailOptOut,
    EmployerInvitation,
    EmployerMembership,
    KeyAccount,
    KeyContact,
    LiaisonRequest,
    MergedContact,
    Note,
    Organisation,
    RegistrationRequest,
)
from mycareer.vacancies.models import Vacancy

pytestmark = pytest.mark.django_db


def relations_to(target) -> list[tuple[type, str]]:
    """Every (model, field) in the project whose foreign key or many-to-many names `target`.

    Unmanaged models are tables the database keeps itself (the organisations' text
    index, fed by triggers from each organisation's own row): they hold nothing to move.
    """
    found = []
    for model in apps.get_models():
        if not model._meta.managed:
            continue
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model is target:
                found.append((model, field.name))
    return sorted(found, key=lambda pair: (pair[0]._meta.label, pair[1]))


def rows(model, field, obj) -> int:
    if model is Organisation and field == "merged_into":
        return Organisation.objects.filter(merged_into=obj).count()
    manager = getattr(model, "with_released", model._base_manager)
    return manager.filter(**{field: obj}).count()


@pytest.fixture
def both_sides(persona):
    """Two records of one employer, each with a row of every kind, clashing where it can."""
    tom, admin, laura = persona("operator"), persona("admin"), persona("employer")
    unit = Unit.objects.get(code="mech")
    survivor = Organisation.objects.create(name="Harbour Wind Ltd", status="active")
    other = Organisation.objects.create(name="Harbour Wind Limited", status="active")
    older = Organisation.objects.create(name="Harbour Wind (old)", merged_into=other)
    survivor.tags.add("Energy")
    other.tags.add("Energy", "Placements")
    student = persona("student")
    event = EventFactory(title="Offshore careers")
    event.organisations.add(survivor, other)
    lone_event = EventFactory(title="Turbine tour")
    lone_event.organisations.add(other)
    campaign = Campaign.objects.create(sender=tom, unit=unit, subject="Fair", body="Hello")
    later = Campaign.objects.create(sender=tom, unit=unit, subject="Again", body="Hello")
    report = EmployerReport.objects.create(event=event, sent_by=tom)
    made = {}
    for side, org in (("survivor", survivor), ("other", other)):
        # The same person at both: folded into one contact.
        jo = Contact.objects.create(
            organisation=org,
            full_name="Jo Reed",
            email="jo@harbourwind.example" if side == "survivor" else "JO@harbourwind.example",
            phone="" if side == "survivor" else "0113 496 0000",
        )
        own = Contact.objects.create(
            organisation=org, full_name=f"Sam {side}", email=f"sam.{side}@harbourwind.example"
        )
        EmailOptOut.objects.create(contact=jo, purpose="events", method="staff")
        # A contact folded into Jo by an earlier merge, whose old links reach Jo.
        MergedContact.objects.create(id=10_000_000 + jo.pk, merged_into=jo)
        note = Note.objects.create(organisation=org, author=tom, text=f"Call ({side})")
        note.contacts.add(jo, own)
        account = KeyAccount.objects.create(organisation=org, operator=tom, unit=unit)
        link = KeyContact.objects.create(contact=jo, key_account=account)
        LiaisonRequest.objects.create(
            requester=admin, key_contact=link, reason="Fair", proposed_engagement="Email"
        )
        EmployerMembership.objects.create(
            user=laura, organisation=org, status="active", is_admin=side == "other"
        )
        RegistrationRequest.objects.create(user=laura, organisation=org, kind="join")
        EmployerInvitation.objects.create(
            organisation=org,
            email=f"{side}@harbourwind.example",
            token=f"t-{side}",
            invited_by=laura,
        )
        Vacancy.objects.create(
            organisation=org,
            title=f"Technician ({side})",
            type="graduate_job",
            description="Turbines",
            closing_date=timezone.localdate() + datetime.timedelta(days=30),
        )
        report.contacts.add(jo)
        LeftOut.objects.create(campaign=campaign, contact=jo, reason="Asked", by=tom)
        OutboxMessage.objects.create(
            campaign=campaign if side == "survivor" else later,
            contact=jo,
            organisation_id_at_send=org.pk,
            email=jo.email.lower(),
            status="sent",
            sent_at=timezone.now(),
        )
        _insights_rows(org, side, tom)
        made[side] = {"jo": jo, "own": own}
    LeftOut.objects.create(campaign=later, contact=made["other"]["own"], reason="Away", by=tom)
    del student
    return {
        "survivor": survivor,
        "other": other,
        "older": older,
        "event": event,
        "lone_event": lone_event,
        "made": made,
        "laura": laura,
        "by": tom,
    }


def _insights_rows(org, side: str, by) -> None:
    """An opportunity, a dismissal, this month's engagement score (the same month at both)
    and the current score."""
    from mycareer.insights.models import Dismissal, EngagementScore, Opportunity
    from mycareer.organisations.models import OrganisationScore

    Opportunity.objects.create(
        kind="lapsed", key=f"lapsed:{org.pk}", organisation=org, reason=f"Quiet ({side})"
    )
    Dismissal.objects.create(
        key=f"lapsed:{org.pk}",
        kind="lapsed",
        organisation=org,
        reason="Known",
        until=timezone.localdate(),
        dismissed_by=by,
    )
    EngagementScore.objects.create(
        organisation=org, month=timezone.localdate().replace(day=1), total=10
    )
    OrganisationScore.objects.create(organisation=org, score=10)


def test_the_fixture_has_a_row_on_both_sides_of_every_relation(both_sides):
    survivor, other = both_sides["survivor"], both_sides["other"]
    missing = [
        f"{model._meta.label}.{field}"
        for model, field in relations_to(Organisation)
        if not (rows(model, field, survivor) or model is Organisation)
        or not rows(model, field, other)
    ]
    jo_kept, jo_folded = both_sides["made"]["survivor"]["jo"], both_sides["made"]["other"]["jo"]
    missing += [
        f"{model._meta.label}.{field}"
        for model, field in relations_to(Contact)
        if not rows(model, field, jo_kept) or not rows(model, field, jo_folded)
    ]
    assert missing == [], "add a row on both sides (and a merge handler) for each of these"


def test_every_relation_to_an_organisation_or_a_contact_has_a_merge_handler():
    handled = merging.handled_relations()
    unhandled = [
        f"{model._meta.label}.{field}"
        for target in (Organisation, Contact)
        for model, field in relations_to(target)
        if (model._meta.label, field) not in handled
    ]
    assert unhandled == []


def test_a_merge_with_everything_on_both_sides_moves_it_all_and_loses_nothing(both_sides):
    survivor, other, laura = both_sides["survivor"], both_sides["other"], both_sides["laura"]
    before = {
        (model._meta.label, field): rows(model, field, survivor) + rows(model, field, other)
        for model, field in relations_to(Organisation)
    }

    summary = services.organisation_merge(
        survivor=survivor, other=other, keep={}, by=both_sides["by"]
    )

    # Nothing points at the merged-away record any more (but the stub's own redirect).
    left_behind = {
        f"{model._meta.label}.{field}": rows(model, field, other)
        for model, field in relations_to(Organisation)
        if rows(model, field, other)
    }
    assert left_behind == {}
    after = {
        (model._meta.label, field): rows(model, field, survivor)
        for model, field in relations_to(Organisation)
    }
    # What each handler had to fold, and nothing else, is fewer.
    folded = {
        ("organisations.Contact", "organisation"): 1,  # Jo, the same email at both
        ("organisations.EmployerMembership", "organisation"): 1,  # Laura at both
        ("organisations.KeyAccount", "organisation"): 1,  # one per unit
        ("organisations.TaggedOrganisation", "content_object"): 1,  # "Energy" at both
        ("events.Event", "organisations"): 1,  # the event naming both
        ("insights.EngagementScore", "organisation"): 1,  # this month scored at both
        # The stub's current score goes; the survivor keeps its own until the night.
        ("organisations.OrganisationScore", "organisation"): 1,
    }
    # The stub of the other record (and what was merged into it) now points here.
    gained = {("organisations.Organisation", "merged_into"): 1}
    for key, count in before.items():
        assert after[key] == count - folded.get(key, 0) + gained.get(key, 0), key

    jo = survivor.contacts.get(email__iexact="jo@harbourwind.example")
    assert jo.phone == "0113 496 0000"
    assert jo.notes.count() == 2
    assert jo.opt_outs.count() == 1
    # Both earlier foldings, and the other record's Jo, now lead to the Jo that stays.
    folded_jo = both_sides["made"]["other"]["jo"].pk
    assert set(jo.merged_from.values_list("pk", flat=True)) >= {folded_jo}
    assert jo.merged_from.count() == 3
    assert KeyContact.with_released.filter(contact=jo).count() == 1
    assert LiaisonRequest.objects.filter(key_contact__contact=jo).count() == 2
    assert EmployerReport.objects.get().contacts.count() == 1
    assert LeftOut.objects.filter(contact=jo).count() == 1
    assert OutboxMessage.objects.filter(contact=jo).count() == 2
    # The email history of both records is the survivor's now (timeline, time chart).
    assert OutboxMessage.objects.filter(organisation_id_at_send=survivor.pk).count() == 2
    membership = EmployerMembership.objects.get(user=laura, organisation=survivor)
    assert membership.is_admin and membership.status == "active"
    assert Vacancy.objects.filter(organisation=survivor).count() == 2
    assert both_sides["lone_event"].organisations.get() == survivor
    assert sorted(survivor.tags.names()) == ["Energy", "Placements"]
    assert Organisation.objects.get(pk=both_sides["older"].pk).merged_into == survivor

    assert summary["employer logins at both kept once"] == 1
    entry = AuditEntry.objects.get(action="organisations.organisation.merged")
    conflicts = entry.data["conflicts"]
    assert {c["kind"] for c in conflicts} >= {
        "organisations.membership",
        "events.event_link",
        "bookings.employer_report_contact",
        "mailing.left_out",
        "organisations.opt_out",
    }
