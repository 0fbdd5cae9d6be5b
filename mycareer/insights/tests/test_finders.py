"""Each finder, with a hand-built history around its threshold: who appears, and why."""

import datetime

import pytest

from mycareer.bookings.models import Booking
from mycareer.events.tests.factories import EventFactory
from mycareer.insights import finders
from mycareer.insights.tests.helpers import aware, notes, organisation, unit
from mycareer.mailing.models import Campaign, OutboxMessage
from mycareer.organisations import keyaccounts
from mycareer.organisations.models import KeyAccount, LiaisonRequest
from mycareer.organisations.tests.factories import ContactFactory, key_account_with_contact
from mycareer.vacancies.tests.factories import VacancyFactory

pytestmark = pytest.mark.django_db


def names(found):
    from mycareer.organisations.models import Organisation

    return sorted(Organisation.objects.get(pk=f.organisation_id).name for f in found)


def test_months_before_keeps_the_day_or_the_months_last():
    assert finders.months_before(datetime.date(2026, 12, 1), 6) == datetime.date(2026, 6, 1)
    assert finders.months_before(datetime.date(2026, 3, 31), 1) == datetime.date(2026, 2, 28)
    assert finders.months_before(datetime.date(2026, 1, 15), 13) == datetime.date(2024, 12, 15)


class TestLapsed:
    def test_three_engagements_before_the_quiet_months_and_none_since(
        self, persona, today, days_ago
    ):
        tom = persona("operator")
        quiet_from = finders.months_before(today, 6)
        lapsed = organisation("Kirkstall Robotics")
        notes(lapsed, tom, [quiet_from - datetime.timedelta(days=d) for d in (1, 60, 200)])
        too_few = organisation("Two Times Ltd")
        notes(too_few, tom, [quiet_from - datetime.timedelta(days=d) for d in (1, 60)])
        too_recent = organisation("Recent Ltd")
        notes(too_recent, tom, [quiet_from - datetime.timedelta(days=d) for d in (1, 60, 200)])
        notes(too_recent, tom, [quiet_from])  # one day too recent: engaged since

        found = finders.lapsed(today)

        assert names(found) == ["Kirkstall Robotics"]
        [item] = found
        assert item.figures["engagements"] == 3
        assert item.figures["last_by"] == "Tom Bennett"
        assert "engaged 3 times" in item.reason
        assert "with no note of an engagement since." in item.reason
        assert "though" not in item.reason  # no event since, none to come
        assert "meeting by Tom Bennett (School of Mechanical Engineering)" in item.reason
        assert item.people == {tom.pk}
        assert item.units == {unit("mech").pk}

    def test_an_event_since_or_to_come_is_named_not_denied(self, persona, today, days_ago):
        """Northbridge, with no note since, was "engaged … and not since", though it gave
        a talk last week and is at the careers fair next week. Only notes count (the
        decision), so it stays listed, and the reason says what it counts and names them."""
        tom = persona("operator")
        quiet_from = finders.months_before(today, 6)
        org = organisation("Northbridge Engineering Ltd")
        notes(org, tom, [quiet_from - datetime.timedelta(days=d) for d in (1, 60, 200)])
        before = EventFactory(title="Old talk", starts_at=aware(quiet_from - datetime.timedelta(1)))
        talk = EventFactory(title="Northbridge talk", starts_at=aware(days_ago(6)))
        fair = EventFactory(
            title="Winter careers fair", starts_at=aware(today + datetime.timedelta(5))
        )
        later = EventFactory(title="Spring fair", starts_at=aware(today + datetime.timedelta(90)))
        gone = EventFactory(title="Called off", starts_at=aware(days_ago(2)), status="cancelled")
        draft = EventFactory(title="Maybe", starts_at=aware(today + datetime.timedelta(2)))
        draft.status = "draft"
        draft.save(update_fields=["status"])
        for event in (before, talk, fair, later, gone, draft):
            event.organisations.add(org)

        [item] = finders.lapsed(today)

        talk_on = finders._day(days_ago(6))
        fair_on = finders._day(today + datetime.timedelta(5))
        assert (
            f"with no note of an engagement since, though it was at “Northbridge talk” on "
            f"{talk_on} and has “Winter careers fair” on {fair_on}. Last note: meeting by"
        ) in item.reason
        assert "not since" not in item.reason
        assert item.figures["event_since_on"] == days_ago(6).isoformat()
        assert item.figures["event_next_on"] == (today + datetime.timedelta(5)).isoformat()

    def test_engagements_older_than_the_window_do_not_count(self, persona, today):
        tom = persona("operator")
        window_from = finders.months_before(finders.months_before(today, 6), 12)
        old = organisation("Long Ago Ltd")
        notes(
            old,
            tom,
            [
                window_from - datetime.timedelta(days=1),
                window_from + datetime.timedelta(days=1),
                window_from + datetime.timedelta(days=2),
            ],
        )
        assert finders.lapsed(today) == []


class TestOneFaculty:
    def test_one_faculty_with_vacancies_for_another(self, persona, cast, today, days_ago):
        tom = persona("operator")
        robotics = organisation("Kirkstall Robotics")
        notes(robotics, tom, [days_ago(10), days_ago(40)], unit_code="mech")
        notes(robotics, tom, [days_ago(20)], unit_code="mech-design")  # the same faculty
        for _ in range(2):
            VacancyFactory(organisation=robotics).target_programmes.set(
                [cast["programmes"]["bsc-cs"]]
            )
        two_faculties = organisation("Two Faculties Ltd")
        notes(two_faculties, tom, [days_ago(10)], unit_code="mech")
        notes(two_faculties, tom, [days_ago(11)], unit_code="lubs")
        VacancyFactory(organisation=two_faculties).target_programmes.set(
            [cast["programmes"]["bsc-acc"]]
        )
        own_faculty = organisation("Own Faculty Ltd")
        notes(own_faculty, tom, [days_ago(10)], unit_code="mech")
        VacancyFactory(organisation=own_faculty).target_programmes.set(
            [cast["programmes"]["bsc-cs"]]  # Computing is in the same faculty as Mech
        )
        business = organisation("Business Only Ltd")
        notes(business, tom, [days_ago(10)], unit_code="lubs")
        VacancyFactory(organisation=business).target_units.set([unit("english")])

        found = finders.one_faculty(today)

        assert names(found) == ["Business Only Ltd"]
        [item] = found
        assert item.reason.startswith(
            "Business Only Ltd works only with Business School; 1 vacancy"
        )
        assert "targeted School of English" in item.reason
        assert item.units == {unit("english").pk}

    def test_vacancies_for_another_faculty(self, persona, cast, today, days_ago):
        tom = persona("operator")
        robotics = organisation("Kirkstall Robotics")
        notes(robotics, tom, [days_ago(10)], unit_code="mech")
        for _ in range(2):
            VacancyFactory(organisation=robotics).target_programmes.set(
                [cast["programmes"]["ba-mgmt"]]
            )
        [item] = finders.one_faculty(today)
        assert item.figures == {
            "works_with": ["School of Mechanical Engineering"],
            "vacancies": 2,
            "targeted": ["Department of Management"],
        }

    def test_a_sector_or_a_tag_other_faculties_engage(self, persona, today, days_ago):
        """A faculty fits an organisation's sector (or tag) when it engaged at least
        ONE_FACULTY_FIT_MIN other organisations of that sector (or with that tag)."""
        tom = persona("operator")
        engineering, finance = "Engineering and manufacturing", "Finance and accounting"
        # Computing (faculty EPS) engaged three engineering firms, and three tagged fintech.
        for n in range(3):
            notes(
                organisation(f"Engineering {n}", sector=engineering),
                tom,
                [days_ago(5)],
                unit_code="computing",
            )
            notes(
                organisation(f"Fintech {n}", tags=["fintech"]),
                tom,
                [days_ago(5)],
                unit_code="computing",
            )
        # The Business School (faculty of Business) engaged two finance firms: too few.
        for n in range(2):
            notes(
                organisation(f"Finance {n}", sector=finance), tom, [days_ago(5)], unit_code="lubs"
            )
        # The Careers Centre engaged three too, but it serves every faculty: no fit.
        for n in range(3):
            notes(
                organisation(f"Careers Engineering {n}", sector=engineering),
                tom,
                [days_ago(5)],
                unit_code="careers",
            )
        # …and the Department of Accounting one more: three in the faculty, but a unit
        # fits by what it engaged itself.
        notes(organisation("Finance 2", sector=finance), tom, [days_ago(5)], unit_code="accounting")
        # Business-only organisations: one in engineering, one tagged fintech.
        works = organisation("Works Ltd", sector=engineering)
        notes(works, tom, [days_ago(10)], unit_code="lubs")
        tagged = organisation("Tagged Ltd", tags=["fintech", "retail"])
        notes(tagged, tom, [days_ago(10)], unit_code="accounting")
        # Near misses: a finance firm engaged by Mechanical Engineering alone (the
        # Business School engaged only two of them); an engineering firm engaged by
        # Chemistry alone (Computing is in the same faculty); an engineering firm the
        # Business School engaged before the look-back.
        notes(organisation("Money Ltd", sector=finance), tom, [days_ago(10)], unit_code="mech")
        notes(
            organisation("Chem Ltd", sector=engineering), tom, [days_ago(10)], unit_code="chemistry"
        )
        old = organisation("Old Ltd", sector=engineering)
        notes(old, tom, [days_ago(400)], unit_code="lubs")

        found = {names([f])[0]: f for f in finders.one_faculty(today)}

        # The Careers Centre's own engineering firms fit Computing, like Works Ltd.
        careers_only = {f"Careers Engineering {n}" for n in range(3)}
        assert set(found) == {"Works Ltd", "Tagged Ltd", *careers_only}
        assert found["Works Ltd"].reason == (
            "Works Ltd works only with Business School; School of Computing engaged 3 other "
            "organisations in Engineering and manufacturing in the last 12 months."
        )
        assert found["Works Ltd"].units == {unit("computing").pk}
        assert found["Works Ltd"].figures["sectors"] == {"School of Computing": 3}
        assert found["Tagged Ltd"].reason == (
            "Tagged Ltd works only with Department of Accounting and Finance; School of "
            "Computing engaged 3 other organisations tagged fintech in the last 12 months."
        )
        assert found["Tagged Ltd"].units == {unit("computing").pk}
        assert found["Tagged Ltd"].figures["tags"] == {"fintech": {"School of Computing": 3}}

    def test_a_reason_names_the_two_strongest_fits(self, persona, today, days_ago):
        tom = persona("operator")
        for code, count in (("computing", 5), ("chemistry", 4), ("mech", 3)):
            for n in range(count):
                notes(
                    organisation(f"{code} {n}", tags=["robots"]), tom, [days_ago(5)], unit_code=code
                )
        robots = organisation("Robots Ltd", tags=["robots"])
        notes(robots, tom, [days_ago(5)], unit_code="lubs")
        [item] = [f for f in finders.one_faculty(today) if f.organisation_id == robots.pk]
        assert item.reason == (
            "Robots Ltd works only with Business School; School of Computing engaged 5 other "
            "organisations tagged robots in the last 12 months; School of Chemistry engaged "
            "4 other organisations tagged robots in the last 12 months; and 1 more fit."
        )
        assert item.units == {unit(c).pk for c in ("computing", "chemistry", "mech")}

    def test_the_fit_threshold_is_a_setting(self, persona, today, days_ago, settings):
        settings.MYCAREER = {
            **settings.MYCAREER,
            "INSIGHTS": {**settings.MYCAREER["INSIGHTS"], "ONE_FACULTY_FIT_MIN": 2},
        }
        tom = persona("operator")
        finance = "Finance and accounting"
        for n in range(2):
            notes(
                organisation(f"Finance {n}", sector=finance), tom, [days_ago(5)], unit_code="lubs"
            )
        notes(organisation("Money Ltd", sector=finance), tom, [days_ago(10)], unit_code="mech")
        [item] = finders.one_faculty(today)
        assert "Business School engaged 2 other organisations in Finance" in item.reason


class TestKeyAccountsQuiet:
    def _account(self, persona, name, *, held_days):
        tom, priya = persona("operator"), persona("admin")
        contact = ContactFactory(organisation=organisation(name))
        account = key_account_with_contact(
            contact=contact, operator=tom, unit=unit("mech"), by=priya
        )
        KeyAccount.objects.filter(pk=account.pk).update(
            created_at=aware(account.created_at.date() - datetime.timedelta(days=held_days))
        )
        return account

    def test_no_note_by_the_owner_in_90_days(self, persona, today, days_ago):
        tom, helen = persona("operator"), persona("manager")
        quiet = self._account(persona, "Quiet Ltd", held_days=400)
        notes(quiet.organisation, tom, [days_ago(90)])
        notes(quiet.organisation, helen, [days_ago(3)])  # a colleague's note is not the owner's
        recent = self._account(persona, "Recent Ltd", held_days=400)
        notes(recent.organisation, tom, [days_ago(89)])
        self._account(persona, "New Account Ltd", held_days=89)
        never = self._account(persona, "Never Ltd", held_days=120)

        found = finders.key_accounts_quiet(today)

        assert names(found) == ["Never Ltd", "Quiet Ltd"]
        by_name = dict(
            zip(
                names(found),
                sorted(found, key=lambda f: f.key != f"key_quiet:{never.pk}"),
                strict=True,
            )
        )
        item = by_name["Quiet Ltd"]
        assert item.figures["days"] == 90
        assert "no note by Tom Bennett since" in item.reason
        assert "(90 days; the threshold is 90)" in item.reason
        assert item.people == {tom.pk}
        assert "since it became a key account" in by_name["Never Ltd"].reason

    def test_a_key_account_whose_owner_has_left_goes_to_the_administrators_at_once(
        self, persona, today, days_ago
    ):
        tom = persona("operator")
        account = self._account(persona, "Left Ltd", held_days=400)
        notes(account.organisation, tom, [days_ago(3)])
        assert finders.key_accounts_quiet(today) == []
        tom.is_active = False
        tom.save(update_fields=["is_active"])

        [item] = finders.key_accounts_quiet(today)

        assert "held by Tom Bennett, who has left" in item.reason
        assert item.administrators and item.figures["left"]
        # Not the quiet account's key: a dismissal of it as quiet must not hide this.
        assert item.key == f"key_left:{account.pk}"
        assert "threshold" not in item.reason


class TestLiaisonUnanswered:
    def test_seven_days_to_the_owner_fourteen_to_administrators(self, persona, today):
        tom, grace = persona("operator"), persona("mailer")
        found_at = {}
        for name, days in (("Six Ltd", 6), ("Seven Ltd", 7), ("Fourteen Ltd", 14)):
            contact = ContactFactory(organisation=organisation(name))
            key_account_with_contact(
                contact=contact, operator=tom, unit=unit("mech"), by=persona("admin")
            )
            [request] = keyaccounts.liaison_request_create(
                requester=grace, contact=contact, reason="A talk.", proposed_engagement="Email."
            )
            LiaisonRequest.objects.filter(pk=request.pk).update(
                created_at=aware(today - datetime.timedelta(days=days))
            )
            found_at[name] = request

        found = finders.liaison_unanswered(today)

        assert names(found) == ["Fourteen Ltd", "Seven Ltd"]
        by_key = {f.key: f for f in found}
        seven = by_key[f"liaison:{found_at['Seven Ltd'].pk}"]
        fourteen = by_key[f"liaison:{found_at['Fourteen Ltd'].pk}"]
        assert "Grace Okafor asked Tom Bennett 7 days ago" in seven.reason
        assert seven.people == {tom.pk} and not seven.administrators
        assert fourteen.administrators

    def test_a_request_waiting_on_someone_who_has_left_goes_to_administrators_at_once(
        self, persona, today
    ):
        tom, grace = persona("operator"), persona("mailer")
        contact = ContactFactory(organisation=organisation("Left Ltd"))
        key_account_with_contact(
            contact=contact, operator=tom, unit=unit("mech"), by=persona("admin")
        )
        [request] = keyaccounts.liaison_request_create(
            requester=grace, contact=contact, reason="A talk.", proposed_engagement="Email."
        )
        LiaisonRequest.objects.filter(pk=request.pk).update(
            created_at=aware(today - datetime.timedelta(days=1))
        )
        assert finders.liaison_unanswered(today) == []
        tom.is_active = False
        tom.save(update_fields=["is_active"])

        [item] = finders.liaison_unanswered(today)

        assert item.administrators and item.figures["left"]
        assert item.people == set()  # never offered to the leaver
        assert "Grace Okafor asked Tom Bennett 1 day ago" in item.reason
        assert "Tom Bennett has left and cannot answer" in item.reason


class TestHalfEngaged:
    def test_vacancies_without_events_and_events_without_vacancies(self, persona, today, days_ago):
        vacancies_only = organisation("Vacancies Only Ltd")
        VacancyFactory(organisation=vacancies_only)
        VacancyFactory(organisation=organisation("Draft Only Ltd"), status="draft")
        both = organisation("Both Ltd")
        VacancyFactory(organisation=both)
        EventFactory(starts_at=aware(days_ago(30))).organisations.add(both)
        events_only = organisation("Events Only Ltd")
        EventFactory(starts_at=aware(days_ago(30))).organisations.add(events_only)
        cancelled = organisation("Cancelled Event Ltd")
        EventFactory(starts_at=aware(days_ago(30)), status="cancelled").organisations.add(cancelled)

        found = finders.half_engaged(today)

        assert {(f.kind, names([f])[0]) for f in found} == {
            ("vacancies_only", "Vacancies Only Ltd"),
            ("events_only", "Events Only Ltd"),
        }
        reasons = {f.kind: f.reason for f in found}
        assert reasons["vacancies_only"] == (
            "Vacancies Only Ltd posted 1 vacancy in the last 12 months "
            "but has never been at an event."
        )
        assert "took part in 1 event" in reasons["events_only"]

    def test_top_attendance_without_a_key_account(self, persona, cast, today, days_ago, settings):
        settings.MYCAREER = {
            **settings.MYCAREER,
            "INSIGHTS": {**settings.MYCAREER["INSIGHTS"], "TOP_ATTENDANCE": 1},
        }
        students = list(cast["students"].values())
        popular, less = organisation("Popular Ltd"), organisation("Less Ltd")
        for org, attended in ((popular, 3), (less, 2)):
            event = EventFactory(starts_at=aware(days_ago(20)))
            event.organisations.add(org)
            for student in students[:attended]:
                Booking.objects.create(
                    event=event, student=student, checked_in_at=aware(days_ago(20))
                )
        found = finders.top_attendance(today)
        assert names(found) == ["Popular Ltd"]
        assert found[0].reason.startswith("3 students attended events with Popular Ltd")


class TestOverContacted:
    def test_contacts_at_the_bulk_email_limit(self, persona, today):
        from django.utils import timezone

        grace = persona("mailer")
        at_limit, below = organisation("At Limit Ltd"), organisation("Below Ltd")
        campaigns = [
            Campaign.objects.create(
                sender=grace, unit=unit("lubs"), subject=f"Hello {n}", body="Hi", purpose="events"
            )
            for n in range(2)
        ]
        for org, sent in ((at_limit, 2), (below, 1)):
            contact = ContactFactory(organisation=org)
            for campaign in campaigns[:sent]:
                OutboxMessage.objects.create(
                    campaign=campaign,
                    contact=contact,
                    email=contact.email,
                    status=OutboxMessage.Status.SENT,
                    sent_at=timezone.now(),
                )
        found = finders.near_email_limit(today)
        assert names(found) == ["At Limit Ltd"]
        assert (
            "1 contact at At Limit Ltd has had 2 bulk emails in the last 14 days" in found[0].reason
        )

    def test_three_units_within_thirty_days(self, persona, today, days_ago):
        tom = persona("operator")
        busy, near = organisation("Busy Ltd"), organisation("Near Miss Ltd")
        for code in ("mech", "lubs", "english"):
            notes(busy, tom, [days_ago(29)], unit_code=code)
        notes(near, tom, [days_ago(30)], unit_code="mech")  # one day too early
        for code in ("lubs", "english"):
            notes(near, tom, [days_ago(2)], unit_code=code)
        found = finders.many_units(today)
        assert names(found) == ["Busy Ltd"]
        assert found[0].reason.startswith("Busy Ltd was contacted by 3 units in the last 30 days:")
        assert found[0].units == {unit(c).pk for c in ("mech", "lubs", "english")}
