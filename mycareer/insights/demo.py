"""The demo story's opportunities: histories that make each insight appear for the demo staff.

The other apps' stories already give half-engaged employers, employers near the bulk
email limit, a lapsed relationship and a popular employer without a key account. These
add the rest: Tom's Kirkstall Robotics key account going quiet, Grace's request to
contact a key contact waiting for an answer, a firm working with one school only whose
vacancies target the Business School, and a bank contacted by three units in a month.
"""

import datetime

from django.utils import timezone

from mycareer.insights.finders import months_before
from mycareer.insights.scores import scores_refresh
from mycareer.insights.services import opportunities_refresh
from mycareer.insights.trends import trends_refresh
from mycareer.organisations.models import KeyAccount, LiaisonRequest, Note, Organisation
from mycareer.organisations.services import note_create, organisation_create
from mycareer.vacancies.services import vacancy_create

ONE_FACULTY = "Calverley Precision Engineering"


def _ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def seed_insights(cast: dict) -> None:
    staff, units, programmes = cast["staff"], cast["units"], cast["programmes"]
    tom, helen = staff["operator@demo.ac.uk"], staff["manager@demo.ac.uk"]
    today = timezone.localdate()
    # Tom took on Kirkstall Robotics in the spring and has not recorded a note there since.
    KeyAccount.objects.filter(organisation__name="Kirkstall Robotics", operator=tom).update(
        created_at=_ago(200)
    )
    # Grace asked Tom about Northbridge's key contact over two weeks ago: no answer yet.
    LiaisonRequest.objects.filter(status=LiaisonRequest.Status.PENDING).update(created_at=_ago(16))
    if not Organisation.objects.filter(name=ONE_FACULTY).exists():
        calverley = organisation_create(
            by=tom,
            name=ONE_FACULTY,
            website="https://calverley-precision.example.com",
            unit=units["mech"],
            confirm_duplicates=True,
        )
        for days, text in ((20, "Toured the machine shop."), (75, "Placement review call.")):
            note_create(
                organisation=calverley,
                by=tom,
                text=text,
                kind=Note.Kind.VISIT if days == 20 else Note.Kind.CALL,
                date=today - datetime.timedelta(days=days),
                unit=units["mech"],
            )
        for title in ("Graduate Finance Analyst", "Commercial Placement Year"):
            vacancy_create(
                organisation=calverley,
                by=tom,
                title=title,
                type="graduate_job",
                description="Join the finance team of a growing engineering firm.",
                location="Leeds",
                salary="£27,000 a year",
                closing_date=today + datetime.timedelta(days=45),
                apply_url="https://calverley-precision.example.com/careers",
                target_programmes=[programmes["bsc-acc"]],
            )
        # Atlas Global Bank: the Business School wrote last month; now Mechanical
        # Engineering and the faculty too, each on their own.
        atlas = Organisation.objects.get(name="Atlas Global Bank")
        for by, unit, days in ((tom, units["mech"], 5), (helen, units["eps"], 12)):
            note_create(
                organisation=atlas,
                by=by,
                text="Asked about sponsoring a student prize.",
                kind=Note.Kind.EMAIL,
                date=today - datetime.timedelta(days=days),
                unit=unit,
            )
    _score_history(today)
    opportunities_refresh()
    trends_refresh()


def _score_history(today: datetime.date) -> None:
    """Scores for this month, and two years of monthly history as of each month.

    The history covers the story's organisations (those its staff wrote about), so the
    demo on top of `seed_bench`'s 100,000 organisations scores them once, not 24 times.
    """
    story = Organisation.objects.filter(notes__author__email__endswith="@demo.ac.uk").values("pk")
    for months in range(23, 0, -1):
        scores_refresh(today=months_before(today, months), organisations=story)
    scores_refresh(today=today)
