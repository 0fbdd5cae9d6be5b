"""Emailing an announcement to staff names how many it reaches and waits for a yes."""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from mycareer.accounts.models import NotificationMode, PendingNotification, User
from mycareer.usergroup import selectors, services, tasks
from mycareer.usergroup.models import Announcement

pytestmark = pytest.mark.usefixtures("representatives")

NOTE = {"kind": "policy", "title": "New data protection guidance", "body": "Read it\nsoon."}


def publish_url():
    return reverse("usergroup:announcement_create")


def staff_count_text(n: int) -> str:
    return f"{n} member of staff" if n == 1 else f"{n} members of staff"


@pytest.fixture
def some_staff_differ(persona):
    """One person switched announcements off, one left, one reads a daily digest."""
    off, gone, digest = persona("viewer"), persona("untrained"), persona("admin")
    User.objects.filter(pk=off.pk).update(notifications_off=[tasks.ANNOUNCEMENT])
    User.objects.filter(pk=gone.pk).update(is_active=False)
    User.objects.filter(pk=digest.pk).update(notification_mode=NotificationMode.DIGEST)
    return {"off": off, "gone": gone, "digest": digest}


# The number -----------------------------------------------------------------------------


def test_the_number_confirmed_is_the_number_the_worker_emails(
    persona, some_staff_differ, mailoutbox, django_capture_on_commit_callbacks
):
    recipients = selectors.announcement_recipients()
    staff = User.objects.filter(kind=User.Kind.STAFF)
    assert 0 < len(recipients) < staff.count()  # not simply "every member of staff"
    assert some_staff_differ["off"] not in recipients
    assert some_staff_differ["gone"] not in recipients
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        announcement = services.announcement_publish(
            by=persona("manager"), **NOTE, email=True, confirmed=len(recipients)
        )
    assert len(callbacks) == 1
    sent_now = tasks.email_announcement.call(announcement.pk)
    digested = PendingNotification.objects.filter(subject__contains=NOTE["title"])
    emailed = {m.to[0] for m in mailoutbox} | set(digested.values_list("user__email", flat=True))
    assert sent_now == len(mailoutbox)
    assert emailed == {person.email for person in recipients}
    assert len(emailed) == len(recipients)


def test_emailing_it_is_refused_with_a_number_out_of_date(
    persona, django_capture_on_commit_callbacks
):
    count = len(selectors.announcement_recipients())
    for confirmed in (count + 1, count - 1, 0):
        with (
            django_capture_on_commit_callbacks(execute=False) as callbacks,
            pytest.raises(services.StaffCountChanged) as refused,
        ):
            services.announcement_publish(
                by=persona("manager"), **NOTE, email=True, confirmed=confirmed
            )
        assert str(count) in refused.value.messages[0]
        assert callbacks == []
    assert not Announcement.objects.exists()
    # Only on home pages: nobody is emailed, so there is no number to confirm.
    services.announcement_publish(by=persona("manager"), **NOTE)
    assert Announcement.objects.get().emailed_at is None


def test_emailing_it_is_refused_without_the_number_the_person_was_shown(
    persona, django_capture_on_commit_callbacks
):
    """Every way in (a page, a command, the admin) must say how many it expects: none
    emails all staff unasked."""
    count = len(selectors.announcement_recipients())
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(ValidationError) as refused,
    ):
        services.announcement_publish(by=persona("manager"), **NOTE, email=True)
    assert refused.value.messages == [
        f"Confirm that it goes by email to {staff_count_text(count)}."
    ]
    assert refused.value.code == "staff_count_changed"
    assert callbacks == []
    assert not Announcement.objects.exists()


def test_publishing_logs_one_line_with_the_number(persona, caplog):
    count = len(selectors.announcement_recipients())
    with caplog.at_level("INFO", logger="mycareer.usergroup.services"):
        services.announcement_publish(by=persona("manager"), **NOTE, email=True, confirmed=count)
    [line] = [
        r.getMessage()
        for r in caplog.records
        if r.getMessage().startswith("event=usergroup.announcement.published ")
    ]
    assert f"emailed_to={count}" in line
    assert NOTE["title"] not in line  # ids and numbers, never what it says


# The page -------------------------------------------------------------------------------


def test_the_email_is_off_until_ticked_and_its_label_names_the_number(client, persona):
    client.force_login(persona("manager"))
    page = client.get(publish_url()).content.decode()
    count = len(selectors.announcement_recipients())
    assert f"Also email it to {staff_count_text(count)}" in page
    [checkbox] = [line for line in page.splitlines() if 'name="email"' in line]
    assert "checked" not in checkbox


def test_ticking_the_email_asks_for_a_yes_with_the_number_and_keeps_the_text(
    client, persona, django_capture_on_commit_callbacks
):
    client.force_login(persona("manager"))
    count = len(selectors.announcement_recipients())
    response = client.post(publish_url(), {**NOTE, "email": "on"})
    page = response.content.decode()
    assert response.status_code == 200 and not Announcement.objects.exists()
    assert f"It goes by email to {staff_count_text(count)}" in page
    assert f"Yes, email it to {staff_count_text(count)}" in page
    assert "<p>Read it<br>soon.</p>" in page  # the preview, as staff will read it
    assert f'name="expected" value="{count}"' in page

    # Pressing publish without the tick publishes nothing and keeps every word.
    response = client.post(publish_url(), {**NOTE, "email": "on", "step": "publish"})
    page = response.content.decode()
    assert response.status_code == 200 and not Announcement.objects.exists()
    assert "Tick the box to email it to" in page
    assert 'value="New data protection guidance"' in page

    # Changing it goes back to the form, still filled in and still to be emailed.
    page = client.post(publish_url(), {**NOTE, "email": "on", "step": "edit"}).content.decode()
    assert 'value="New data protection guidance"' in page and "Read it\nsoon." in page
    [checkbox] = [line for line in page.splitlines() if 'name="email"' in line]
    assert "checked" in checkbox
    assert not Announcement.objects.exists()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            publish_url(),
            {**NOTE, "email": "on", "step": "publish", "expected": count, "confirm_email": "on"},
        )
    assert response.status_code == 302
    assert Announcement.objects.get().title == NOTE["title"]
    assert len(callbacks) == 1  # the email, after commit
    [message] = get_messages(response.wsgi_request)
    assert f"by email to {staff_count_text(count)}" in str(message)


def test_a_number_out_of_date_is_asked_again(client, persona):
    client.force_login(persona("manager"))
    count = len(selectors.announcement_recipients())
    response = client.post(
        publish_url(),
        {**NOTE, "email": "on", "step": "publish", "expected": count + 5, "confirm_email": "on"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and not Announcement.objects.exists()
    assert f"It would now go by email to {staff_count_text(count)}" in page
    assert f'name="expected" value="{count}"' in page
    assert 'value="New data protection guidance"' in page


def test_a_page_that_sent_no_number_is_asked_again(client, persona):
    client.force_login(persona("manager"))
    count = len(selectors.announcement_recipients())
    for expected in ("", "lots", "99999999999999999999999999"):
        response = client.post(
            publish_url(),
            {**NOTE, "email": "on", "step": "publish", "expected": expected, "confirm_email": "on"},
        )
        assert response.status_code == 200 and not Announcement.objects.exists()
        assert f"Confirm that it goes by email to {staff_count_text(count)}" in (
            response.content.decode()
        )


def test_without_the_email_it_is_published_at_once(client, persona):
    client.force_login(persona("manager"))
    response = client.post(publish_url(), NOTE)
    assert response.status_code == 302
    assert Announcement.objects.get().emailed_at is None


def test_only_those_who_may_publish_reach_the_confirmation(client, persona):
    client.force_login(persona("operator"))
    response = client.post(
        publish_url(),
        {**NOTE, "email": "on", "step": "publish", "expected": 1, "confirm_email": "on"},
    )
    assert response.status_code == 403 and not Announcement.objects.exists()
