"""Insights in subject access and erasure: what was said about a person, and by them."""

import datetime

import pytest

from mycareer.audit.letter import letter_for
from mycareer.audit.personal_data import subject_from_ids
from mycareer.audit.services import personal_data_erase
from mycareer.insights import services
from mycareer.insights.models import Audience, Dismissal, Opportunity
from mycareer.insights.tests.test_views import quiet_accounts

pytestmark = pytest.mark.django_db


def entries(letter) -> dict[str, object]:
    return {entry.title: entry for section in letter.held for entry in section.entries}


def test_the_letter_has_dismissals_follow_ups_and_opportunities_about_the_person(
    persona, days_ago, today
):
    tom, helen = persona("operator"), persona("manager")
    first, second = quiet_accounts(persona, days_ago, 2)
    services.opportunities_refresh()
    one, two = Opportunity.objects.order_by("organisation__name")
    services.opportunity_dismiss(opportunity=one, by=tom, reason="Tom is meeting them in May.")
    services.opportunity_follow_up(
        opportunity=two, by=helen, due_on=today + datetime.timedelta(days=3), assignee=tom
    )

    toms = entries(letter_for(subject_from_ids([tom.pk], [])))

    dismissed = toms["Opportunity you set aside: Key account going quiet at Quiet 0 Ltd"]
    assert dismissed.category == "activity"
    assert dismissed.text == "Tom is meeting them in May."
    assert ("Hidden until", Dismissal.objects.get().until) in dismissed.facts
    follow_up = toms["Follow-up given to you: Quiet 1 Ltd"]
    assert ("Due", today + datetime.timedelta(days=3)) in follow_up.facts
    assert ("Set by", "Helen Marsh") in follow_up.facts
    assert "no note by Tom Bennett" in follow_up.text
    offered = toms["Opportunity about you: Key account going quiet at Quiet 0 Ltd"]
    assert "no note by Tom Bennett since" in offered.text
    # Helen's letter has none of Tom's.
    helens = entries(letter_for(subject_from_ids([helen.pk], [])))
    assert not [title for title in helens if "Quiet" in title and "you set aside" in title]
    assert not [title for title in helens if title.startswith("Follow-up given to you")]


def test_erasure_takes_the_person_out_of_opportunities_and_reasons(persona, days_ago):
    tom, priya = persona("operator"), persona("admin")
    quiet_accounts(persona, days_ago, 1)
    services.opportunities_refresh()
    item = Opportunity.objects.get()
    services.opportunity_dismiss(
        opportunity=item, by=priya, reason="Asked Tom Bennett; he says not yet."
    )
    assert Audience.objects.filter(person=tom).exists()

    personal_data_erase(subject=subject_from_ids([tom.pk], []), by=priya)

    assert not Audience.objects.filter(person=tom).exists()
    assert "Tom Bennett" not in Dismissal.objects.get().reason
    item.refresh_from_db()
    assert "Tom Bennett" not in item.reason
    assert "Tom Bennett" not in str(item.figures)
