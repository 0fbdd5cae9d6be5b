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


def test_the_demo_has_trends_counted_and_a_fit_by_sector_or_tag(demo):
    from mycareer.insights import trends

    assert trends.counted_at() is not None
    data = trends.trend_data(trends.TrendQuery(measure="notes", dimension="sector"))
    assert sum(data.totals) > 20 and len(data.series) >= 3
    # More than one month has notes: a trend, not a single bar.
    assert sum(1 for n in data.totals if n) >= 3
    fits = [
        item.reason
        for item in Opportunity.objects.filter(kind=Kind.ONE_FACULTY)
        if "other organisation" in item.reason
    ]
    assert fits
