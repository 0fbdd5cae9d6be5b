"""The Super User Group hears of faults for its faculties, and reporters hear what was decided."""

import pytest

from mycareer.usergroup import services, tasks
from mycareer.usergroup.models import Feedback


def log_fault(by, title="Search forgets my tags"):
    return services.feedback_log(
        by=by, kind=Feedback.Kind.FAULT, title=title, description="They vanish after saving."
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("representatives")
def test_the_faculty_representative_is_emailed_when_a_fault_is_logged(
    persona, mailoutbox, django_capture_on_commit_callbacks
):
    tom = persona("operator")  # Mechanical Engineering, in the Faculty of Engineering
    with django_capture_on_commit_callbacks() as callbacks:
        fault = log_fault(tom)
    assert len(callbacks) == 1  # the email goes after commit, through the worker
    assert tasks.email_feedback_logged.call(fault.pk) == 1
    [message] = mailoutbox
    assert message.to == [persona("manager").email]  # Helen, the faculty's representative
    assert message.subject == "[MyCareer] Fault logged: Search forgets my tags"
    assert message.reply_to == [tom.email]
    assert f"/group/feedback/{fault.pk}/" in message.body


@pytest.mark.django_db
@pytest.mark.usefixtures("representatives")
def test_with_no_representative_for_the_faculty_every_representative_hears(persona, mailoutbox):
    # The Careers Centre is not in a faculty: no request may wait unseen.
    fault = log_fault(persona("admin"), title="Export button missing")
    assert fault.faculty.kind != "faculty"
    tasks.email_feedback_logged.call(fault.pk)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        persona(name).email for name in ("manager", "mailer", "expiring")
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("representatives")
def test_the_reporter_hears_when_it_is_triaged_and_when_it_is_closed(persona, mailoutbox):
    fault = log_fault(persona("operator"))
    helen = persona("manager")
    services.feedback_triage(
        feedback=fault, status="accepted", by=helen, comment="Reproduced; fix next week."
    )
    tasks.email_feedback_triaged.call(fault.pk, helen.pk)
    services.feedback_triage(feedback=fault, status="done", by=helen, comment="Fixed.")
    tasks.email_feedback_triaged.call(fault.pk, helen.pk)
    accepted, done = mailoutbox
    assert accepted.to == done.to == [persona("operator").email]
    assert accepted.subject == "[MyCareer] Your fault: Accepted"
    assert "Reproduced; fix next week." in accepted.body
    assert done.subject == "[MyCareer] Your fault: Done" and "Fixed." in done.body


@pytest.mark.django_db
@pytest.mark.usefixtures("representatives")
def test_nobody_is_emailed_about_their_own_doing(
    persona, mailoutbox, django_capture_on_commit_callbacks
):
    helen = persona("manager")  # the representative logs and triages her own request
    fault = log_fault(helen)
    assert tasks.email_feedback_logged.call(fault.pk) == 0
    with django_capture_on_commit_callbacks() as callbacks:
        services.feedback_triage(feedback=fault, status="declined", by=helen)
    assert len(callbacks) == 1
    assert tasks.email_feedback_triaged.call(fault.pk, helen.pk) == 0
    # Changing nothing tells nobody.
    with django_capture_on_commit_callbacks() as callbacks:
        services.feedback_triage(feedback=fault, status="declined", by=persona("admin"))
    assert callbacks == []
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("representatives")
def test_the_worker_delivers_both_over_smtp(persona, cast, smtp_server, run_worker):
    fault = log_fault(persona("operator"), title="Calendar colours")
    run_worker()
    services.feedback_triage(feedback=fault, status="accepted", by=persona("manager"))
    run_worker()
    subjects = {(m["To"], m["Subject"]) for m in smtp_server.wait_for(2)}
    assert ("manager@demo.ac.uk", "[MyCareer] Fault logged: Calendar colours") in subjects
    assert ("operator@demo.ac.uk", "[MyCareer] Your fault: Accepted") in subjects
