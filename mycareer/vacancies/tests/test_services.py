"""The vacancy state machine, who may do what, and what students see."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from mycareer.audit.models import AuditEntry
from mycareer.organisations import services as organisation_services
from mycareer.organisations.models import EmployerMembership, Organisation
from mycareer.vacancies import selectors, services
from mycareer.vacancies.models import Vacancy
from mycareer.vacancies.tests.factories import (
    MembershipFactory,
    VacancyFactory,
    in_days,
    vacancy_fields,
)

pytestmark = pytest.mark.django_db

Status = Vacancy.Status


def actions(vacancy: Vacancy) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_id=str(vacancy.pk), action__startswith="vacancies.")
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )


def seen_by(user) -> list[str]:
    return list(selectors.vacancies_for(user).values_list("title", flat=True))


# Creating --------------------------------------------------------------------------


def test_an_employer_admin_drafts_and_nothing_is_visible_yet(draft, employer_a, persona):
    assert draft.status == Status.DRAFT
    assert draft.created_by == employer_a
    assert not draft.posted_by_staff
    assert actions(draft) == ["vacancies.vacancy.created"]
    assert "Junior Tester" not in seen_by(persona("student"))


def test_staff_posting_for_an_employer_publish_at_once(brightwave, moderator, persona):
    vacancy = services.vacancy_create(
        organisation=brightwave, by=moderator, **vacancy_fields(title="Posted For Them")
    )
    assert vacancy.status == Status.APPROVED
    assert vacancy.posted_by_staff
    assert vacancy.decided_by == moderator
    assert actions(vacancy) == ["vacancies.vacancy.posted"]
    assert "Posted For Them" in seen_by(persona("student"))


@pytest.mark.parametrize("name", ["student", "viewer", "untrained"])
def test_people_who_are_neither_admins_nor_operators_cannot_create(brightwave, persona, name):
    with pytest.raises(PermissionDenied):
        services.vacancy_create(organisation=brightwave, by=persona(name), **vacancy_fields())


def test_an_employer_cannot_create_for_another_organisation(brightwave, employer_b):
    with pytest.raises(PermissionDenied):
        services.vacancy_create(organisation=brightwave, by=employer_b, **vacancy_fields())


def test_a_member_who_is_not_an_admin_cannot_create(brightwave):
    member = MembershipFactory(organisation=brightwave, is_admin=False).user
    with pytest.raises(PermissionDenied):
        services.vacancy_create(organisation=brightwave, by=member, **vacancy_fields())


def test_a_way_to_apply_and_a_place_are_required(brightwave, employer_a):
    with pytest.raises(ValidationError) as raised:
        services.vacancy_create(
            organisation=brightwave,
            by=employer_a,
            **vacancy_fields(apply_url="", apply_email="", location="", remote=False),
        )
    assert "Say how to apply" in str(raised.value.message_dict["apply_url"])
    assert "remote working possible" in str(raised.value.message_dict["location"])
    # An email address alone, and remote working alone, are enough.
    vacancy = services.vacancy_create(
        organisation=brightwave,
        by=employer_a,
        **vacancy_fields(
            apply_url="", apply_email="jobs@demo-employer.com", location="", remote=True
        ),
    )
    assert vacancy.pk


def test_only_web_links_are_accepted_for_applying(brightwave, employer_a):
    with pytest.raises(ValidationError) as raised:
        services.vacancy_create(
            organisation=brightwave,
            by=employer_a,
            **vacancy_fields(apply_url="javascript:alert(1)"),
        )
    assert "apply_url" in raised.value.message_dict


def test_a_closing_date_in_the_past_is_refused(brightwave, employer_a):
    with pytest.raises(ValidationError) as raised:
        services.vacancy_create(
            organisation=brightwave, by=employer_a, **vacancy_fields(closing_date=in_days(-1))
        )
    assert "closing date has passed" in str(raised.value.message_dict["closing_date"])


def test_a_closing_date_more_than_two_years_away_is_refused(brightwave, employer_a):
    latest = timezone.localdate() + services.LATEST_CLOSING
    services.vacancy_create(
        organisation=brightwave, by=employer_a, **vacancy_fields(closing_date=latest)
    )
    for slip in (latest + datetime.timedelta(days=1), datetime.date.max):
        with pytest.raises(ValidationError) as raised:
            services.vacancy_create(
                organisation=brightwave, by=employer_a, **vacancy_fields(closing_date=slip)
            )
        assert "more than two years away" in str(raised.value.message_dict["closing_date"])


def test_an_archived_organisation_cannot_advertise(brightwave, persona):
    organisation_services.organisation_archive(organisation=brightwave, by=persona("manager"))
    with pytest.raises(ValidationError):
        services.vacancy_create(organisation=brightwave, by=persona("operator"), **vacancy_fields())


def test_a_vacancy_sent_for_a_record_merged_away_since_is_refused_under_its_lock(
    brightwave, persona
):
    """Checked on the object the page had fetched, a vacancy sent after (or while) the
    organisation was merged away went onto the merged-away record, which nobody sees."""
    from mycareer.core.tests.concurrency import row_locks

    operator = persona("operator")
    as_fetched = Organisation.objects.get(pk=brightwave.pk)
    other = organisation_services.organisation_create(
        by=operator, name="Brightwave Group", confirm_duplicates=True
    )
    organisation_services.organisation_merge(
        survivor=other, other=brightwave, keep={}, by=persona("manager")
    )
    with row_locks() as asked, pytest.raises(ValidationError, match="cannot advertise"):
        services.vacancy_create(organisation=as_fetched, by=operator, **vacancy_fields())
    assert Organisation in asked
    assert not Vacancy.objects.filter(
        organisation_id=brightwave.pk, title="Graduate Developer"
    ).exists()


# The state machine -----------------------------------------------------------------


def test_draft_submitted_approved_is_seen_by_students(draft, employer_a, moderator, persona):
    submitted = services.vacancy_submit(vacancy=draft, by=employer_a)
    assert submitted.status == Status.SUBMITTED and submitted.submitted_at
    assert "Junior Tester" not in seen_by(persona("student"))
    approved = services.vacancy_approve(vacancy=submitted, by=moderator)
    assert approved.status == Status.APPROVED
    assert approved.decided_by == moderator and approved.decided_at
    assert "Junior Tester" in seen_by(persona("student"))
    assert actions(draft) == [
        "vacancies.vacancy.created",
        "vacancies.vacancy.submitted",
        "vacancies.vacancy.approved",
    ]


def test_rejected_needs_a_reason_and_an_edit_sends_it_back(submitted, employer_a, moderator):
    with pytest.raises(ValidationError) as raised:
        services.vacancy_reject(vacancy=submitted, by=moderator, reason="  ")
    assert "Give a reason" in str(raised.value)
    rejected = services.vacancy_reject(
        vacancy=submitted, by=moderator, reason="Please give the salary."
    )
    assert rejected.status == Status.REJECTED
    assert rejected.rejection_reason == "Please give the salary."
    # Submitting again without changing anything is not the way back…
    with pytest.raises(ValidationError) as raised:
        services.vacancy_submit(vacancy=rejected, by=employer_a)
    assert "not approved" in str(raised.value)
    # …nor is saving its edit form unchanged, which kept nothing but lost the reason…
    with pytest.raises(ValidationError, match="Nothing was changed since the Careers Centre"):
        services.vacancy_update(vacancy=rejected, by=employer_a, salary="£28,000 a year")
    rejected.refresh_from_db()
    assert rejected.status == Status.REJECTED
    assert rejected.rejection_reason == "Please give the salary."
    # …editing it is.
    changed = services.vacancy_update(vacancy=rejected, by=employer_a, salary="£29,000 a year")
    assert changed == {"salary": ["£28,000 a year", "£29,000 a year"]}
    rejected.refresh_from_db()
    assert rejected.status == Status.SUBMITTED
    assert rejected.rejection_reason == ""
    assert actions(rejected)[-3:] == [
        "vacancies.vacancy.rejected",
        "vacancies.vacancy.changed",
        "vacancies.vacancy.submitted",
    ]


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ("vacancy_approve", "Only a vacancy waiting for moderation can be approved"),
        ("vacancy_reject", "Only a vacancy waiting for moderation can be rejected"),
    ],
)
def test_only_submitted_vacancies_are_decided(draft, moderator, service, message):
    extra = {"reason": "No"} if service == "vacancy_reject" else {}
    with pytest.raises(ValidationError) as raised:
        getattr(services, service)(vacancy=draft, by=moderator, **extra)
    assert message in str(raised.value)
    assert "this one is draft" in str(raised.value)


def test_a_decision_on_a_stale_copy_does_not_cross_another(submitted, moderator, persona):
    stale = Vacancy.objects.get(pk=submitted.pk)
    services.vacancy_approve(vacancy=submitted, by=moderator)
    # The second moderator's page was loaded before the first decided.
    with pytest.raises(ValidationError):
        services.vacancy_reject(vacancy=stale, by=persona("manager"), reason="Too late")
    submitted.refresh_from_db()
    assert submitted.status == Status.APPROVED


def test_a_decision_on_a_version_changed_since_it_was_read_is_refused(
    submitted, employer_a, moderator
):
    read = submitted.updated_at
    services.vacancy_update(vacancy=submitted, by=employer_a, title="Something else")
    with pytest.raises(ValidationError, match="changed this vacancy after you opened it"):
        services.vacancy_approve(vacancy=submitted, by=moderator, seen=read)
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    services.vacancy_approve(vacancy=submitted, by=moderator, seen=submitted.updated_at)


def test_viewers_and_employers_cannot_moderate(submitted, persona, employer_a):
    for person in (persona("viewer"), employer_a, persona("student")):
        with pytest.raises(PermissionDenied):
            services.vacancy_approve(vacancy=submitted, by=person)


def test_a_submitted_vacancy_past_its_closing_date_cannot_be_approved(submitted, moderator):
    Vacancy.objects.filter(pk=submitted.pk).update(closing_date=in_days(-1))
    with pytest.raises(ValidationError) as raised:
        services.vacancy_approve(vacancy=submitted, by=moderator)
    assert "closing date has passed" in str(raised.value)


def test_editing_a_draft_or_a_submitted_vacancy_changes_it_in_place(submitted, employer_a):
    services.vacancy_update(vacancy=submitted, by=employer_a, title="Junior Test Engineer")
    submitted.refresh_from_db()
    assert submitted.title == "Junior Test Engineer"
    assert submitted.status == Status.SUBMITTED
    assert submitted.pending_changes is None
    assert (
        services.vacancy_update(vacancy=submitted, by=employer_a, title="Junior Test Engineer")
        == {}
    )


def test_saving_a_draft_can_send_it_for_moderation_in_one_step(draft, employer_a, brightwave):
    services.vacancy_update(vacancy=draft, by=employer_a, submit=True)
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED
    created = services.vacancy_create(
        organisation=brightwave, by=employer_a, submit=True, **vacancy_fields(title="At Once")
    )
    assert created.status == Status.SUBMITTED
    assert actions(created) == ["vacancies.vacancy.created", "vacancies.vacancy.submitted"]


# Re-moderation of edits ------------------------------------------------------------


def test_an_edit_of_a_live_vacancy_waits_and_the_approved_version_stays_live(
    live, employer_a, moderator, persona, cast
):
    student = persona("student")
    computing = cast["units"]["computing"]
    changes = services.vacancy_update(
        vacancy=live,
        by=employer_a,
        **vacancy_fields(title="Senior Tester", salary="£35,000 a year"),
        target_units=[computing],
    )
    assert changes == {
        "title": ["Junior Tester", "Senior Tester"],
        "salary": ["£28,000 a year", "£35,000 a year"],
        "target_units": [[], [computing.pk]],
    }
    live.refresh_from_db()
    assert live.title == "Junior Tester"  # the live field is untouched
    assert live.status == Status.APPROVED
    assert live.has_pending_edit
    assert live.pending_changes == {
        "title": "Senior Tester",
        "salary": "£35,000 a year",
        "target_units": [computing.pk],
    }
    assert "Junior Tester" in seen_by(student)
    assert live in selectors.moderation_queue()
    [diff] = selectors.pending_diffs([live]).values()
    assert [(c.label, c.live, c.proposed) for c in diff] == [
        ("Title", "Junior Tester", "Senior Tester"),
        ("Salary", "£28,000 a year", "£35,000 a year"),
        ("Faculties and schools", "Every student", "School of Computing"),
    ]

    approved = services.vacancy_approve_edit(vacancy=live, by=moderator)
    assert approved.title == "Senior Tester"
    assert approved.salary == "£35,000 a year"
    assert list(approved.target_units.all()) == [computing]
    assert not approved.has_pending_edit
    assert live not in selectors.moderation_queue()
    # Now aimed at the School of Computing: a mechanical engineering student no longer sees it.
    assert "Senior Tester" not in seen_by(student)
    assert "Senior Tester" in seen_by(persona("student2"))
    assert actions(live)[-2:] == [
        "vacancies.vacancy.edit_proposed",
        "vacancies.vacancy.edit_approved",
    ]


def test_an_edit_that_clears_every_target_says_every_student(live, employer_a, moderator, cast):
    computing, cs = cast["units"]["computing"], cast["programmes"]["bsc-cs"]
    services.vacancy_update(
        vacancy=live, by=moderator, target_units=[computing], target_programmes=[cs]
    )
    services.vacancy_update(vacancy=live, by=employer_a, target_units=[], target_programmes=[])
    live.refresh_from_db()
    [diff] = selectors.pending_diffs([live]).values()
    assert [(c.label, c.live, c.proposed) for c in diff] == [
        ("Faculties and schools", "School of Computing", "Every student"),
        ("Degree programmes", cs.name, "Every student"),
    ]


def test_an_edit_that_clears_one_kind_of_target_names_what_is_left(
    live, employer_a, moderator, cast
):
    computing, cs = cast["units"]["computing"], cast["programmes"]["bsc-cs"]
    services.vacancy_update(vacancy=live, by=moderator, target_units=[computing])
    services.vacancy_update(vacancy=live, by=employer_a, target_units=[], target_programmes=[cs])
    live.refresh_from_db()
    [diff] = selectors.pending_diffs([live]).values()
    assert [(c.label, c.live, c.proposed) for c in diff] == [
        ("Faculties and schools", "School of Computing", "No faculty or school"),
        ("Degree programmes", "No degree programme", cs.name),
    ]


def _recorded(vacancy: Vacancy, action: str) -> dict:
    entry = AuditEntry.objects.filter(object_id=str(vacancy.pk), action=action).latest("pk")
    return entry.data


def test_a_change_of_one_kind_of_target_records_both(live, moderator, cast):
    # Clearing the units alone reads "every student" only if no programme is chosen: the
    # entry keeps the other kind as it was, as the trail cannot look it up later.
    computing, cs = cast["units"]["computing"], cast["programmes"]["bsc-cs"]
    services.vacancy_update(
        vacancy=live, by=moderator, target_units=[computing], target_programmes=[cs]
    )
    services.vacancy_update(vacancy=live, by=moderator, target_units=[])
    assert _recorded(live, "vacancies.vacancy.changed") == {
        "changed": {
            "target_units": [[computing.pk], []],
            "target_programmes": [[cs.pk], [cs.pk]],
        }
    }
    services.vacancy_update(vacancy=live, by=moderator, salary="£30,000 a year")
    assert _recorded(live, "vacancies.vacancy.changed") == {
        "changed": {"salary": ["£28,000 a year", "£30,000 a year"]}
    }


def test_a_proposed_and_approved_change_of_targets_records_both(live, employer_a, moderator, cast):
    cs = cast["programmes"]["bsc-cs"]
    services.vacancy_update(vacancy=live, by=moderator, target_programmes=[cs])
    services.vacancy_update(vacancy=live, by=employer_a, target_programmes=[])
    expected = {"target_programmes": [[cs.pk], []], "target_units": [[], []]}
    assert _recorded(live, "vacancies.vacancy.edit_proposed") == {"changes": expected}
    services.vacancy_approve_edit(vacancy=live, by=moderator)
    assert _recorded(live, "vacancies.vacancy.edit_approved") == {"changes": expected}
    # What changed, as the page tells the employer, is still only what changed.
    assert services.vacancy_update(vacancy=live, by=employer_a, target_programmes=[cs]) == {
        "target_programmes": [[], [cs.pk]]
    }


def test_a_rejected_edit_is_dropped_with_its_reason(live, employer_a, moderator):
    services.vacancy_update(vacancy=live, by=employer_a, salary="Commission only")
    with pytest.raises(ValidationError):
        services.vacancy_reject_edit(vacancy=live, by=moderator, reason="")
    services.vacancy_reject_edit(vacancy=live, by=moderator, reason="Give a basic salary.")
    live.refresh_from_db()
    assert live.salary == "£28,000 a year"
    assert live.status == Status.APPROVED
    assert not live.has_pending_edit and live.pending_changes is None
    assert live.edit_rejection_reason == "Give a basic salary."
    entry = AuditEntry.objects.get(action="vacancies.vacancy.edit_rejected")
    assert entry.data == {
        "reason": "Give a basic salary.",
        "changes": {"salary": "Commission only"},
    }
    with pytest.raises(ValidationError) as raised:
        services.vacancy_approve_edit(vacancy=live, by=moderator)
    assert "no changes" in str(raised.value)


def test_a_second_edit_replaces_the_first_and_keeps_its_place(live, employer_a):
    services.vacancy_update(vacancy=live, by=employer_a, salary="£30,000 a year")
    live.refresh_from_db()
    first_since = live.pending_since
    services.vacancy_update(vacancy=live, by=employer_a, location="York")
    live.refresh_from_db()
    assert live.pending_changes == {"salary": "£30,000 a year", "location": "York"}
    assert live.pending_since == first_since
    # Putting everything back as it is live cancels the edit.
    services.vacancy_update(vacancy=live, by=employer_a, salary="£28,000 a year", location="Leeds")
    live.refresh_from_db()
    assert not live.has_pending_edit
    assert actions(live)[-1] == "vacancies.vacancy.edit_cancelled"
    # The employer's history says so, not only that changes were sent.
    [latest, *_] = selectors.vacancy_story(live, viewer=employer_a)
    assert latest.title == "Changes to a live vacancy cancelled"


def test_an_invalid_edit_of_a_live_vacancy_is_refused(live, employer_a):
    with pytest.raises(ValidationError):
        services.vacancy_update(vacancy=live, by=employer_a, apply_url="")
    with pytest.raises(ValidationError):
        services.vacancy_update(vacancy=live, by=employer_a, closing_date=in_days(-2))
    live.refresh_from_db()
    assert not live.has_pending_edit


def test_a_staff_edit_of_a_live_vacancy_applies_at_once(live, moderator):
    services.vacancy_update(vacancy=live, by=moderator, title="Corrected Title")
    live.refresh_from_db()
    assert live.title == "Corrected Title"
    assert not live.has_pending_edit


def test_a_change_that_applies_at_once_is_in_the_vacancy_s_history(live, moderator, employer_a):
    """Staff correcting a live advert changed what students read with no word on the
    employer's page, and an employer's change while waiting was missing for moderators."""
    services.vacancy_update(vacancy=live, by=moderator, salary="£29,000 a year", title="Tester")
    [latest, *_] = selectors.vacancy_story(live, viewer=employer_a)
    assert (latest.title, latest.actor) == ("Vacancy changed", "University careers staff")
    assert latest.text == "Changed: Title, Salary"


def test_a_vacancy_past_its_closing_date_is_closed_before_the_morning_job_runs(
    live, employer_a, moderator
):
    """From midnight to the 05:00 job, a vacancy whose page read "Closed" could still be
    changed, and an approved edit moving its date on reopened it."""
    import time_machine

    later = live.closing_date + datetime.timedelta(days=60)
    services.vacancy_update(vacancy=live, by=employer_a, closing_date=later)
    day_after = live.closing_date + datetime.timedelta(days=1)
    past_midnight = timezone.make_aware(datetime.datetime.combine(day_after, datetime.time(0, 5)))
    with time_machine.travel(past_midnight, tick=False):
        live.refresh_from_db()
        assert live.status == Status.APPROVED  # the job has not run yet
        assert live.stage == ("Closed", "bad")  # as the pages say
        assert live not in selectors.moderation_queue()
        for attempt, says in (
            (lambda: services.vacancy_approve_edit(vacancy=live, by=moderator), "has closed"),
            (
                lambda: services.vacancy_reject_edit(vacancy=live, by=moderator, reason="No"),
                "has closed",
            ),
            (
                lambda: services.vacancy_update(vacancy=live, by=employer_a, title="Again"),
                "is closed, so it can no longer be changed",
            ),
            (
                lambda: services.vacancy_update(vacancy=live, by=moderator, closing_date=later),
                "is closed, so it can no longer be changed",
            ),
            (
                lambda: services.vacancy_withdraw(vacancy=live, by=employer_a),
                "already closed",
            ),
        ):
            with pytest.raises(ValidationError) as refused:
                attempt()
            assert says in " ".join(refused.value.messages)
        live.refresh_from_db()
        assert live.status == Status.APPROVED and live.closing_date < day_after
        assert live.pending_changes == {"closing_date": later.isoformat()}
        # The job, when it runs, closes it as before and drops the edit.
        assert services.vacancies_close_expired() == 1
        live.refresh_from_db()
        assert live.status == Status.CLOSED and live.pending_changes is None


def test_many_saved_edits_keep_the_creation_and_the_decisions_in_the_history(
    draft, employer_a, moderator, persona, django_assert_max_num_queries
):
    """Every saved edit is a change in the history: sixty saves after a rejection pushed
    the rejection and the creation out of the fifty entries shown, and out of the
    organisation's timeline. A run of changes by one person shows as its latest."""
    for n in range(5):
        services.vacancy_update(vacancy=draft, by=employer_a, salary=f"£2{n},000 a year")
    services.vacancy_submit(vacancy=draft, by=employer_a)
    services.vacancy_reject(vacancy=draft, by=moderator, reason="Add the salary band.")
    for n in range(60):
        services.vacancy_update(vacancy=draft, by=employer_a, title=f"Junior Tester {n}")
        if n == 29:  # a correction by staff in the middle is its own entry
            services.vacancy_update(vacancy=draft, by=moderator, location="York")
    with django_assert_max_num_queries(3):  # however many runs and changes there are
        story = selectors.vacancy_story(draft, viewer=employer_a)
    assert [(e.title, e.text) for e in story] == [
        ("Vacancy changed", "Changed 30 times; the latest: Title"),
        ("Vacancy changed", "Changed: Location"),
        ("Vacancy changed", "Changed 29 times; the latest: Title"),
        ("Vacancy sent for moderation", ""),
        ("Vacancy changed", "Changed: Title"),
        ("Vacancy not approved", "Reason: Add the salary band."),
        ("Vacancy sent for moderation", ""),
        ("Vacancy changed", "Changed 5 times; the latest: Salary"),
        ("Vacancy drafted", ""),
    ]
    assert story[1].actor == "University careers staff"
    timeline = selectors.vacancy_timeline_source(
        draft.organisation, viewer=persona("viewer"), limit=50
    )
    assert [e.title for e in timeline] == [f"{e.title}: Junior Tester 59" for e in story]
    # What a page is cut at counts the runs as one, as the timeline's paging expects.
    assert len(selectors.vacancy_story(draft, viewer=employer_a, limit=3)) == 3


def test_your_vacancies_lists_one_past_its_closing_date_with_the_finished_ones(
    brightwave, employer_a, moderator
):
    """From midnight to the 05:00 job, "Your vacancies" listed a vacancy whose page read
    "Closed" among the live ones, ahead of a draft still to be sent."""
    draft = services.vacancy_create(
        organisation=brightwave, by=employer_a, **vacancy_fields(title="Still A Draft")
    )
    expired = services.vacancy_create(
        organisation=brightwave, by=moderator, **vacancy_fields(title="Closed At Midnight")
    )
    withdrawn = services.vacancy_withdraw(
        vacancy=services.vacancy_create(
            organisation=brightwave, by=moderator, **vacancy_fields(title="Withdrawn Later")
        ),
        by=employer_a,
    )
    Vacancy.objects.filter(pk=expired.pk).update(closing_date=in_days(-1))
    expired.refresh_from_db()
    assert expired.status == Status.APPROVED and expired.has_closed  # the job has not run
    assert list(selectors.vacancies_of_employer(employer_a)) == [draft, withdrawn, expired]


# Withdrawing -----------------------------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "submitted", "live"])
def test_an_employer_withdraws_at_any_stage_before_the_end(request, employer_a, state, persona):
    vacancy = request.getfixturevalue(state)
    withdrawn = services.vacancy_withdraw(vacancy=vacancy, by=employer_a)
    assert withdrawn.status == Status.WITHDRAWN
    assert "Junior Tester" not in seen_by(persona("student"))
    for attempt in (
        lambda: services.vacancy_withdraw(vacancy=withdrawn, by=employer_a),
        lambda: services.vacancy_update(vacancy=withdrawn, by=employer_a, title="Back"),
        lambda: services.vacancy_submit(vacancy=withdrawn, by=employer_a),
    ):
        with pytest.raises(ValidationError):
            attempt()


def test_withdrawing_a_rejected_vacancy_and_a_live_one_with_a_waiting_edit(
    submitted, employer_a, moderator
):
    services.vacancy_reject(vacancy=submitted, by=moderator, reason="No")
    assert services.vacancy_withdraw(vacancy=submitted, by=employer_a).status == Status.WITHDRAWN
    other = services.vacancy_create(
        organisation=submitted.organisation, by=moderator, **vacancy_fields(title="Other")
    )
    services.vacancy_update(vacancy=other, by=employer_a, title="Other, renamed")
    withdrawn = services.vacancy_withdraw(vacancy=other, by=employer_a)
    assert withdrawn.pending_changes is None and not withdrawn.has_pending_edit


def _decision_emails() -> list[list]:
    from django_tasks_db.models import DBTaskResult

    return [
        task.args_kwargs["args"]
        for task in DBTaskResult.objects.filter(task_path__endswith="send_vacancy_decision_email")
    ]


def test_staff_withdrawing_a_live_vacancy_give_a_reason_the_organisation_is_emailed(
    live, moderator, employer_a, django_capture_on_commit_callbacks
):
    """Staff took a live advert down and the employer heard nothing, unlike a moderation
    decision: the history showed it, but nobody looks there for an advert they think live."""
    with pytest.raises(ValidationError) as refused:
        services.vacancy_withdraw(vacancy=live, by=moderator, reason="  ")
    assert refused.value.message_dict == {"reason": ["Give a reason: the employer is told it."]}
    live.refresh_from_db()
    assert live.status == Status.APPROVED
    reason = "The role is filled, the organisation told us by phone."
    with django_capture_on_commit_callbacks(execute=True):
        services.vacancy_withdraw(vacancy=live, by=moderator, reason=reason)
    assert live.__class__.objects.get(pk=live.pk).status == Status.WITHDRAWN
    assert [args for args in _decision_emails() if args[1] == "withdrawn"] == [
        [live.pk, "withdrawn", reason]
    ]
    [latest, *_] = selectors.vacancy_story(live, viewer=employer_a)
    assert latest.title == "Vacancy withdrawn" and latest.text == f"Reason: {reason}"


def test_an_employer_withdrawing_their_own_vacancy_is_not_emailed(
    live, employer_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.vacancy_withdraw(vacancy=live, by=employer_a)
    assert [args for args in _decision_emails() if args[1] == "withdrawn"] == []


def test_another_organisation_cannot_touch_the_vacancy(draft, employer_b):
    for attempt in (
        lambda: services.vacancy_update(vacancy=draft, by=employer_b, title="Mine now"),
        lambda: services.vacancy_submit(vacancy=draft, by=employer_b),
        lambda: services.vacancy_withdraw(vacancy=draft, by=employer_b),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    draft.refresh_from_db()
    assert draft.title == "Junior Tester" and draft.status == Status.DRAFT


# Closing ---------------------------------------------------------------------------


def test_the_daily_closing_closes_only_approved_vacancies_past_their_date(
    live, employer_a, moderator, brightwave
):
    services.vacancy_update(vacancy=live, by=employer_a, salary="£30,000 a year")
    draft = services.vacancy_create(
        organisation=brightwave, by=employer_a, **vacancy_fields(title="Still A Draft")
    )
    submitted = services.vacancy_create(
        organisation=brightwave, by=employer_a, **vacancy_fields(title="Still Waiting")
    )
    services.vacancy_submit(vacancy=submitted, by=employer_a)
    closing = live.closing_date
    services.vacancies_close_expired(today=closing)
    live.refresh_from_db()
    assert live.status == Status.APPROVED  # open all through its closing date
    day_after = closing + datetime.timedelta(days=1)
    assert services.vacancies_close_expired(today=day_after) >= 1
    live.refresh_from_db()
    assert live.status == Status.CLOSED
    assert live.pending_changes is None  # a waiting edit closes with it
    assert Vacancy.objects.get(pk=draft.pk).status == Status.DRAFT
    assert Vacancy.objects.get(pk=submitted.pk).status == Status.SUBMITTED
    entry = AuditEntry.objects.get(action="vacancies.vacancy.closed", object_id=str(live.pk))
    assert entry.actor is None
    assert entry.data["dropped_edit"] == {"salary": "£30,000 a year"}
    assert services.vacancies_close_expired(today=day_after) == 0  # nothing twice
    with pytest.raises(ValidationError):
        services.vacancy_update(vacancy=live, by=moderator, title="Reopen")


def test_students_stop_seeing_a_vacancy_the_day_after_it_closes_even_before_the_job(live, persona):
    import time_machine

    student = persona("student")
    with time_machine.travel(
        timezone.make_aware(datetime.datetime.combine(live.closing_date, datetime.time(23)))
    ):
        assert "Junior Tester" in seen_by(student)
    with time_machine.travel(
        timezone.make_aware(
            datetime.datetime.combine(
                live.closing_date + datetime.timedelta(days=1), datetime.time(0, 5)
            )
        )
    ):
        assert "Junior Tester" not in seen_by(student)
        assert services.vacancies_close_expired() >= 1
    live.refresh_from_db()
    assert live.status == Status.CLOSED


# An organisation still waiting for approval ----------------------------------------


def test_a_pending_organisation_can_draft_but_students_see_nothing_until_it_is_active(
    cast, persona, moderator
):
    student = persona("student")
    newcomer = organisation_services.organisation_create(
        by=None,
        name="Fledgling Widgets",
        status=Organisation.Status.PENDING,
        confirm_duplicates=True,
    )
    registrant = MembershipFactory(
        organisation=newcomer, status=EmployerMembership.Status.PENDING
    ).user
    vacancy = services.vacancy_create(
        organisation=newcomer, by=registrant, **vacancy_fields(title="Widget Apprentice")
    )
    services.vacancy_submit(vacancy=vacancy, by=registrant)
    services.vacancy_approve(vacancy=vacancy, by=moderator)
    assert "Widget Apprentice" not in seen_by(student)
    assert Vacancy.objects.get(pk=vacancy.pk).stage[0].startswith("Approved: students see it")
    organisation_services.organisation_update(
        organisation=newcomer, by=moderator, status=Organisation.Status.ACTIVE
    )
    assert "Widget Apprentice" in seen_by(student)


def test_a_join_request_to_an_active_organisation_gives_no_rights(brightwave):
    asking = MembershipFactory(
        organisation=brightwave, status=EmployerMembership.Status.PENDING
    ).user
    with pytest.raises(PermissionDenied):
        services.vacancy_create(organisation=brightwave, by=asking, **vacancy_fields())


# What students see -----------------------------------------------------------------


def test_students_see_only_approved_open_vacancies_of_active_organisations(cast, persona):
    active = VacancyFactory(title="Open And Approved")
    VacancyFactory(title="Still A Draft", status=Status.DRAFT)
    VacancyFactory(title="Waiting", status=Status.SUBMITTED)
    VacancyFactory(title="Turned Down", status=Status.REJECTED)
    VacancyFactory(title="Taken Down", status=Status.WITHDRAWN)
    VacancyFactory(title="All Over", status=Status.CLOSED)
    VacancyFactory(title="Date Passed", closing_date=in_days(-1))
    VacancyFactory(title="Pending Organisation", organisation__status=Organisation.Status.PENDING)
    VacancyFactory(title="Archived Organisation", organisation__status=Organisation.Status.ARCHIVED)
    VacancyFactory(title="Closes Today", closing_date=in_days(0))
    titles = seen_by(persona("student"))
    assert "Open And Approved" in titles and "Closes Today" in titles
    for hidden in (
        "Still A Draft",
        "Waiting",
        "Turned Down",
        "Taken Down",
        "All Over",
        "Date Passed",
        "Pending Organisation",
        "Archived Organisation",
    ):
        assert hidden not in titles
    assert selectors.is_visible_to(persona("student"), active)
    assert seen_by(persona("employer@demo-employer.com")) == []


def test_own_faculty_first_then_by_closing_date_and_others_targeting_hidden(cast, persona):
    units, programmes = cast["units"], cast["programmes"]
    everyone_soon = VacancyFactory(title="For Everyone, Soon", closing_date=in_days(1))
    school = VacancyFactory(title="For Mech School", closing_date=in_days(20))
    school.target_units.set([units["mech"]])
    faculty = VacancyFactory(title="For EPS Faculty", closing_date=in_days(10))
    faculty.target_units.set([units["eps"]])
    programme = VacancyFactory(title="For MEng", closing_date=in_days(15))
    programme.target_programmes.set([programmes["meng-mech"]])
    elsewhere = VacancyFactory(title="For Computing", closing_date=in_days(2))
    elsewhere.target_units.set([units["computing"]])
    department = VacancyFactory(title="For A Department Below", closing_date=in_days(2))
    department.target_units.set([units["mech-design"]])

    mine = [
        (v.title, v.for_you)
        for v in selectors.vacancies_for(persona("student"))
        if v.title.startswith("For ")
    ]
    assert mine == [
        ("For EPS Faculty", True),
        ("For MEng", True),
        ("For Mech School", True),
        ("For Everyone, Soon", False),
    ]
    computing_student = [v.title for v in selectors.vacancies_for(persona("student2"))]
    assert "For Computing" in computing_student and "For Mech School" not in computing_student
    # Staff see everything, by closing date.
    assert {"For Computing", "For A Department Below"} <= set(seen_by(persona("viewer")))
    assert everyone_soon.pk


def test_search_by_text_type_location_programme_and_closing_soon(cast, persona):
    programmes = cast["programmes"]
    a = VacancyFactory(
        title="Bridge Designer",
        description="Steel structures",
        type=Vacancy.Type.PLACEMENT,
        location="York",
        closing_date=in_days(3),
    )
    a.target_programmes.set([programmes["meng-mech"]])
    b = VacancyFactory(
        title="Copywriter",
        description="Words for bridges",
        type=Vacancy.Type.PART_TIME,
        location="",
        remote=True,
        closing_date=in_days(30),
    )
    b.target_units.set([cast["units"]["eps"]])
    c = VacancyFactory(title="Analyst", organisation__name="Bridgewater Data")
    base = selectors.vacancies_for(persona("viewer"))

    def titles(**filters) -> set[str]:
        found = set(selectors.search(base, **filters).values_list("title", flat=True))
        return found & {"Bridge Designer", "Copywriter", "Analyst"}

    assert titles(text="bridge") == {"Bridge Designer", "Copywriter", "Analyst"}
    assert titles(text="steel bridge") == {"Bridge Designer"}
    assert titles(type=Vacancy.Type.PART_TIME) == {"Copywriter"}
    assert titles(location="york") == {"Bridge Designer"}
    assert titles(location="Remote") == {"Copywriter"}
    assert titles(remote=True) == {"Copywriter"}
    # Aimed at MEng Mechanical Engineering: by programme, or by its school's faculty.
    assert titles(programme=programmes["meng-mech"]) == {"Bridge Designer", "Copywriter"}
    assert titles(programme=programmes["ba-history"]) == set()
    assert titles(closing_soon=True) == {"Bridge Designer"}
    assert c.pk


# Elsewhere -------------------------------------------------------------------------


def test_merging_organisations_moves_their_vacancies(live, persona):
    other = organisation_services.organisation_create(
        by=persona("operator"), name="Brightwave Digital Limited", confirm_duplicates=True
    )
    moved = VacancyFactory(organisation=other, title="Moves Across")
    organisation_services.organisation_merge(
        survivor=live.organisation, other=other, keep={}, by=persona("manager")
    )
    moved.refresh_from_db()
    assert moved.organisation == live.organisation


@pytest.mark.usefixtures("demo")  # about the demo data itself: every state is there to see
def test_the_demo_employer_has_a_vacancy_in_every_state(cast, brightwave):
    vacancies = Vacancy.objects.filter(organisation=brightwave)
    states = set(vacancies.values_list("status", flat=True))
    assert states == set(Status.values)
    assert vacancies.filter(status=Status.APPROVED, pending_since__isnull=False).exists()
    assert vacancies.exclude(rejection_reason="").filter(status=Status.REJECTED).exists()
    assert Vacancy.objects.filter(status=Status.APPROVED, posted_by_staff=True).count() >= 8


@pytest.mark.usefixtures("demo")  # about the demo data itself: its student has vacancies
def test_the_demo_student_sees_own_faculty_vacancies_first(cast, persona):
    first = list(selectors.vacancies_for(persona("student"))[:4])
    assert all(v.for_you for v in first)
    assert "Graduate Mechanical Engineer" in [v.title for v in first]


def test_the_timeline_shows_vacancies_and_decisions_to_staff_and_the_employer(
    submitted, moderator, employer_a, persona
):
    services.vacancy_reject(vacancy=submitted, by=moderator, reason="Add the salary band.")
    staff_view = selectors.vacancy_timeline_source(
        submitted.organisation, viewer=persona("viewer"), limit=50
    )
    [rejection] = [e for e in staff_view if e.title == "Vacancy not approved: Junior Tester"]
    assert rejection.text == "Reason: Add the salary band."
    assert rejection.actor == "Tom Bennett"
    assert rejection.url == f"/vacancies/{submitted.pk}/"
    employer_view = selectors.vacancy_timeline_source(
        submitted.organisation, viewer=employer_a, limit=50
    )
    [rejection] = [e for e in employer_view if e.title == "Vacancy not approved: Junior Tester"]
    assert rejection.actor == "University careers staff"
    assert [e.when for e in employer_view] == sorted((e.when for e in employer_view), reverse=True)
