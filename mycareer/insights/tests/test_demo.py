from mycareer.insights import selectors
from mycareer.insights.models import Kind, Opportunity


def test_the_demo_story_shows_each_insight_to_the_demo_staff(demo, persona):
    assert set(Opportunity.objects.values_list("kind", flat=True)) == set(Kind.values)
    toms = {item.kind for item in selectors.opportunities_for_person(persona("operator"))}
    assert {Kind.KEY_ACCOUNT_QUIET, Kind.LIAISON_UNANSWERED, Kind.MANY_UNITS} <= toms
    priyas = {item.kind for item in selectors.opportunities_for_person(persona("admin"))}
    assert {Kind.LAPSED, Kind.NEAR_EMAIL_LIMIT, Kind.LIAISON_UNANSWERED} <= priyas
    graces = {item.kind for item in selectors.opportunities_for_person(persona("mailer"))}
    assert Kind.ONE_FACULTY in graces
