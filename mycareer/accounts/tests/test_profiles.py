"""Staff shape their profiles: what colleagues see, which emails come and when, their home page."""

import html
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from mycareer.accounts import notifications
from mycareer.accounts.models import NotificationMode, PendingNotification, User
from mycareer.audit.models import AuditEntry
from mycareer.core.mail import mark_sent
from mycareer.core.models import SentEmail
from mycareer.organisations.models import LiaisonRequest, Organisation

pytestmark = pytest.mark.django_db

PROFILE = "/me/profile/"
ABOUT = "Best by phone on Tuesday mornings. I look after mechanical engineering placements."


def photo(name: str = "me.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 80), "#8a4b00").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def text(response) -> str:
    return html.unescape(response.content.decode())


def form(user: User, **changes) -> dict:
    """The profile form as the page shows it, with some fields changed."""
    receive = [
        k.code
        for k in notifications.notification_kinds(optional_only=True)
        if k.code not in user.notifications_off
    ]
    data = {
        "job_title": user.job_title,
        "phone": user.phone,
        "about": user.about,
        "notification_mode": user.notification_mode,
        "receive": receive,
    }
    return {**data, **changes}


@pytest.fixture
def tom(client, persona):
    user = persona("operator")
    client.force_login(user)
    return user


@pytest.mark.usefixtures("key_accounts")
def test_staff_say_how_to_reach_them_and_colleagues_see_it_beside_their_key_accounts(
    client, tom, persona
):
    response = client.post(
        PROFILE,
        form(tom, phone="0113 343 0001", about=ABOUT, photo=photo()),
    )
    assert response.status_code == 302
    tom.refresh_from_db()
    assert tom.photo.name.startswith("people/") and "me" not in tom.photo.name
    client.force_login(persona("mailer"))
    northbridge = Organisation.objects.get(name="Northbridge Engineering Ltd")
    page = text(client.get(northbridge.get_absolute_url()))
    key_accounts = page.split('id="key-accounts"')[1].split("</section>")[0]
    assert ABOUT in key_accounts and "0113 343 0001" in key_accounts
    assert f'src="{tom.photo.url}"' in key_accounts


@pytest.mark.usefixtures("key_accounts")
def test_the_liaison_pages_show_both_people(client, tom, persona):
    grace = persona("mailer")
    grace.about = "I run the Business School's employer masterclasses."
    grace.save()
    tom.about = ABOUT
    tom.save()
    liaison = LiaisonRequest.objects.get(requester=grace)
    page = text(client.get(reverse("organisations:liaison_request", args=[liaison.pk])))
    assert "I run the Business School's employer masterclasses." in page
    assert ABOUT in page
    # The colleague asking sees how to reach the owner before they ask.
    client.force_login(persona("expiring"))
    contact = liaison.key_contact.contact
    page = text(
        client.get(
            reverse(
                "organisations:liaison_request_create", args=[contact.organisation_id, contact.pk]
            )
        )
    )
    assert ABOUT in page


@pytest.mark.usefixtures("key_accounts")
def test_without_a_photo_colleagues_see_initials(client, tom, persona):
    client.force_login(persona("mailer"))
    northbridge = Organisation.objects.get(name="Northbridge Engineering Ltd")
    page = client.get(northbridge.get_absolute_url()).content.decode()
    assert '<span class="avatar avatar--initials avatar--48" aria-hidden="true">TB</span>' in page


def test_a_bad_photo_is_refused_and_nothing_typed_is_lost(client, tom):
    fake = SimpleUploadedFile("me.png", b"not an image at all", content_type="image/png")
    before = tom.about
    response = client.post(PROFILE, form(tom, about=ABOUT, photo=fake))
    assert response.status_code == 200
    page = text(response)
    assert "Upload a valid image. The file you uploaded was either not an image" in page
    assert ABOUT in page
    tom.refresh_from_db()
    assert tom.about == before and not tom.photo


def test_a_refused_save_shows_colleagues_card_as_saved_not_as_typed(client, tom):
    saved_phone = tom.phone
    response = client.post(
        PROFILE, form(tom, job_title="Head of Placements", phone="call me", photo=photo())
    )
    assert response.status_code == 200
    card = response.context["person"]
    assert (card.job_title, card.phone, card.photo.name) == (tom.job_title, saved_phone, "")
    assert "call me" in text(response)  # still in the form, nothing typed is lost


def test_removing_the_photo_deletes_the_file(client, tom):
    client.post(PROFILE, form(tom, photo=photo()))
    tom.refresh_from_db()
    storage, name = tom.photo.storage, tom.photo.name
    assert storage.exists(name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda func, **kw: func())
        client.post(PROFILE, {**form(tom), "photo-clear": "on"})
    tom.refresh_from_db()
    assert not tom.photo
    assert not storage.exists(name)


def test_changes_are_audited_by_field_name_only(client, tom):
    client.post(PROFILE, form(tom, about=ABOUT))
    entry = AuditEntry.objects.filter(action="accounts.profile.changed").latest("at")
    assert entry.data == {"fields": ["about"]}
    assert ABOUT not in str(entry.data)


def test_the_audit_trail_names_changed_profile_fields_as_the_profile_page_does(
    client, tom, persona
):
    client.post(PROFILE, form(tom, job_title="Placement Officer", notification_mode="digest"))
    client.force_login(persona("admin"))
    body = client.get(reverse("audit:list")).content.decode()
    assert "job title, when to email me" in body
    assert "job_title" not in body and "notification_mode" not in body


@pytest.mark.parametrize("name", ["student", "employer@demo-employer.com"])
def test_students_and_employers_have_no_staff_profile(client, persona, name):
    client.force_login(persona(name))
    assert client.get(PROFILE).status_code == 403


def test_the_header_links_staff_to_their_profile(client, tom):
    assert f'href="{PROFILE}"' in client.get("/").content.decode()


# Which emails, and when --------------------------------------------------------------


def liaison_request_email(owner_name: str = "operator"):
    """Send the pending liaison request's email to its owner, as the worker would."""
    from mycareer.organisations.tasks import send_liaison_request_email

    liaison = LiaisonRequest.objects.get(status="pending")
    return send_liaison_request_email.call(liaison.pk)


@pytest.mark.usefixtures("key_accounts")
def test_by_default_notifications_come_at_once_with_a_way_to_change_them(tom, mailoutbox):
    assert liaison_request_email() == 1
    [message] = mailoutbox
    assert message.to == [tom.email]
    assert "asks to contact" in message.subject
    assert "/me/profile/" in message.body


@pytest.mark.usefixtures("key_accounts")
def test_a_notification_switched_off_is_not_sent(client, tom, mailoutbox):
    off = "organisations.liaison_request"
    receive = [c for c in form(tom)["receive"] if c != off]
    client.post(PROFILE, form(tom, receive=receive))
    tom.refresh_from_db()
    assert tom.notifications_off == [off]
    assert liaison_request_email() == 0
    assert mailoutbox == []


@pytest.mark.usefixtures("key_accounts")
def test_the_daily_digest_gathers_notifications_into_one_email(client, tom, mailoutbox, persona):
    from mycareer.accounts.tasks import send_notification_digests
    from mycareer.organisations.tasks import send_liaison_decision_email

    client.post(PROFILE, form(tom, notification_mode=NotificationMode.DIGEST))
    tom.refresh_from_db()
    assert tom.notification_mode == NotificationMode.DIGEST
    liaison_request_email()
    # Tom's own request, answered, tells him too.
    from mycareer.organisations import keyaccounts

    helen_contact = Organisation.objects.get(name="Stratos Aerospace Systems").key_accounts.get()
    contact = helen_contact.key_contacts.first().contact
    [request] = keyaccounts.liaison_request_create(
        requester=tom, contact=contact, reason="Placements", proposed_engagement="A call"
    )
    keyaccounts.liaison_request_decide(
        request=request, approve=True, by=persona("manager"), comment="Fine"
    )
    send_liaison_decision_email.call(request.pk)
    assert mailoutbox == []
    assert PendingNotification.objects.filter(user=tom, sent_at__isnull=True).count() == 2
    assert send_notification_digests.call() == 1
    [digest] = mailoutbox
    assert digest.to == [tom.email]
    assert digest.subject == "[MyCareer] Your daily digest: 2 updates"
    assert "asks to contact" in digest.body and "agreed" in digest.body
    # Nothing is kept once sent: the items named the key contact and the colleague.
    assert not PendingNotification.objects.exists()
    assert send_notification_digests.call() == 0  # nothing twice


@pytest.mark.usefixtures("key_accounts")
def test_a_kind_switched_off_after_it_was_queued_is_left_out_of_the_digest(client, tom, mailoutbox):
    from mycareer.accounts.tasks import send_notification_digests

    client.post(PROFILE, form(tom, notification_mode=NotificationMode.DIGEST))
    tom.refresh_from_db()
    liaison_request_email()
    assert PendingNotification.objects.filter(user=tom).count() == 1
    off = "organisations.liaison_request"
    receive = [c for c in form(tom)["receive"] if c != off]
    client.post(PROFILE, form(tom, receive=receive))
    assert send_notification_digests.call() == 0
    assert mailoutbox == []
    assert not PendingNotification.objects.exists()


@pytest.mark.usefixtures("key_accounts")
def test_leaving_the_digest_sends_what_waited_for_it_now(
    client, tom, mailoutbox, django_capture_on_commit_callbacks
):
    """Not the next morning, in a digest that says they chose one."""
    from django_tasks_db.models import DBTaskResult

    from mycareer.accounts.tasks import send_notification_digests, send_waiting_notifications

    client.post(PROFILE, form(tom, notification_mode=NotificationMode.DIGEST))
    tom.refresh_from_db()
    liaison_request_email()
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        client.post(PROFILE, form(tom, notification_mode=NotificationMode.IMMEDIATE))
    [queued] = DBTaskResult.objects.filter(task_path__endswith="send_waiting_notifications")
    assert queued.args_kwargs["args"] == [tom.pk]
    assert send_waiting_notifications.call(tom.pk) == 1
    [email] = mailoutbox
    assert email.to == [tom.email] and "asks to contact" in email.body
    assert "These waited for your daily digest. You now have such emails as they happen" in (
        email.body
    )
    assert "because you chose a daily digest" not in email.body
    assert not PendingNotification.objects.exists()
    assert send_notification_digests.call() == 0


def test_reminders_that_ones_own_training_runs_out_cannot_be_switched_off(persona, mailoutbox):
    import datetime

    from django.utils import timezone

    from mycareer.accounts.models import TrainingRecord
    from mycareer.accounts.tasks import TRAINING_EXPIRY, send_training_expiry_reminders

    rachel = persona("expiring")
    rachel.notifications_off = [TRAINING_EXPIRY]
    rachel.save()
    TrainingRecord.objects.filter(user=rachel).update(
        expires_on=timezone.localdate() + datetime.timedelta(days=10), reminder_sent_at=None
    )
    send_training_expiry_reminders.call()
    assert [m.to for m in mailoutbox] == [[rachel.email]]
    ends = timezone.localdate() + datetime.timedelta(days=10)
    # Valid on its last day: "expires on" that day read as if it were not.
    assert mailoutbox[0].subject == (
        f"[MyCareer] Your Operator training is valid until the end of {ends:%A %-d %B %Y}"
    )
    assert f"is valid until the end of {ends:%A %-d %B %Y}." in mailoutbox[0].body
    assert "expires on" not in mailoutbox[0].body
    # Its footer does not offer a choice the profile then refuses.
    assert "MyCareer always sends this email" in mailoutbox[0].body
    assert "You can choose which of these emails" not in mailoutbox[0].body


def test_a_reminder_to_someone_booked_on_a_refresher_says_so(persona, mailoutbox, cast):
    """It asked them to book one, when they had."""
    import datetime

    from django.utils import timezone

    from mycareer.accounts import services
    from mycareer.accounts.models import TrainingCourse, TrainingRecord, TrainingSession
    from mycareer.accounts.tasks import send_training_expiry_reminders

    rachel = persona("expiring")
    TrainingRecord.objects.filter(user=rachel).update(
        expires_on=timezone.localdate() + datetime.timedelta(days=10), reminder_sent_at=None
    )
    course = TrainingCourse.objects.get(code=TrainingCourse.OPERATOR)
    session = TrainingSession.objects.create(
        course=course,
        starts_at=timezone.now() + datetime.timedelta(days=5),
        ends_at=timezone.now() + datetime.timedelta(days=5, hours=2),
        capacity=10,
    )
    services.training_book(session=session, user=rachel, by=rachel, notify=False)
    send_training_expiry_reminders.call()
    body = mailoutbox[0].body
    assert "You are booked on the one on" in body and "attend it to keep your access" in body
    assert session.get_absolute_url() in body
    assert "You can book one here" not in body
    assert "comes after your training has run out" not in body
    # A refresher after the expiry leaves a gap, and the email says so.
    session.starts_at += datetime.timedelta(days=30)
    session.ends_at += datetime.timedelta(days=30)
    session.save()
    TrainingRecord.objects.filter(user=rachel, status="completed").update(reminder_sent_at=None)
    send_training_expiry_reminders.call()
    assert "It comes after your training has run out" in mailoutbox[1].body


def test_a_bulk_email_training_reminder_says_only_sending_stops(persona, mailoutbox, cast):
    """It said MyCareer would stop the person creating and editing records as well, which
    only operator training lapsing does (the home page said so rightly)."""
    import datetime

    from django.utils import timezone

    from mycareer.accounts.models import TrainingCourse, TrainingRecord
    from mycareer.accounts.tasks import send_training_expiry_reminders

    mailer = persona("mailer")
    today = timezone.localdate()
    records = TrainingRecord.objects.filter(user=mailer, status="completed")
    records.update(expires_on=today + datetime.timedelta(days=365), reminder_sent_at=None)
    records.filter(course__code=TrainingCourse.BULK_EMAIL).update(
        expires_on=today + datetime.timedelta(days=10)
    )
    TrainingRecord.objects.exclude(user=mailer).update(reminder_sent_at=timezone.now())
    send_training_expiry_reminders.call()
    [email] = mailoutbox
    body = " ".join(email.body.split())
    assert "MyCareer will stop you sending bulk email until you attend a refresher" in body
    assert "creating and editing records" not in body


# The home page, in one's own order ---------------------------------------------------


def panel_headings(response) -> list[str]:
    import re

    return re.findall(r'<h2 id="panel-[^"]+">([^<]+)</h2>', text(response))


def test_staff_put_their_home_page_panels_in_the_order_they_choose(client, tom):
    before = panel_headings(client.get("/"))
    assert before.index("Your follow-ups") > 0
    while panel_headings(client.get("/"))[0] != "Your follow-ups":
        response = client.post(PROFILE, {"move": "organisations/panels/follow_ups.html:up"})
        assert response.status_code == 302
        # Back at the panel moved (a list item that takes the focus), not the top.
        assert response["Location"].endswith("#order-organisationspanelsfollow_upshtml")
        assert 'id="order-organisationspanelsfollow_upshtml" tabindex="-1"' in text(
            client.get(response["Location"])
        )
    after = panel_headings(client.get("/"))
    assert after[0] == "Your follow-ups"
    assert sorted(after) == sorted(before)
    client.post(PROFILE, {"move": "organisations/panels/follow_ups.html:down"})
    assert panel_headings(client.get("/"))[1] == "Your follow-ups"


def test_moving_a_panel_that_is_not_shown_explains_rather_than_failing(client, tom):
    response = client.post(PROFILE, {"move": "vacancies/panels/student.html:up"}, follow=True)
    assert response.status_code == 200
    assert "That panel is not on your home page." in text(response)


@pytest.mark.usefixtures("key_accounts")
def test_erasing_a_member_of_staff_removes_their_profile_and_waiting_emails(client, tom, persona):
    from mycareer.audit.personal_data import subject_from_ids
    from mycareer.audit.services import personal_data_erase

    client.post(PROFILE, form(tom, about=ABOUT, photo=photo(), notification_mode="digest"))
    tom.refresh_from_db()
    storage, name = tom.photo.storage, tom.photo.name
    liaison_request_email()
    assert PendingNotification.objects.filter(user=tom).exists()
    # Which lists reached him: one marker says who he is, an older one only his address.
    mark_sent("usergroup.announcement:1", [tom.email], user_id=tom.pk)
    mark_sent("usergroup.announcement:2", [tom.email])
    # Tom holds key accounts: hand them over first, as the review asks.
    from mycareer.organisations.models import KeyAccount

    KeyAccount.objects.filter(operator=tom).update(operator=persona("manager"))
    personal_data_erase(subject=subject_from_ids([tom.pk], []), by=persona("admin"))
    tom.refresh_from_db()
    assert (tom.about, tom.photo.name, tom.phone) == ("", "", "")
    assert not storage.exists(name)
    assert not PendingNotification.objects.filter(user=tom).exists()
    assert not SentEmail.objects.filter(batch__startswith="usergroup.announcement:").exists()


def test_a_retried_email_task_does_not_queue_a_digest_item_twice(tom):
    from mycareer.accounts.notifications import notify

    tom.notification_mode = NotificationMode.DIGEST
    tom.save()
    for _ in range(2):  # the first try, and the retry after the mail server failed
        notify(
            user=tom,
            kind="organisations.liaison_request",
            subject="Grace asks to contact David",
            template="accounts/email/digest.txt",
            context={"user": tom, "items": []},
            once="organisations.liaison_request:1",
        )
    assert PendingNotification.objects.filter(user=tom).count() == 1


def test_the_people_a_list_reached_are_found_whatever_their_address_is_now(tom, persona):
    """Recorded by who they are; an older marker, with only an address, by that address."""
    grace, helen = persona("mailer"), persona("manager")
    notify_once = "organisations.liaison_request:7"
    notifications.notify(
        user=tom,
        kind="organisations.liaison_request",
        subject="Grace asks to contact David",
        template="accounts/email/digest.txt",
        context={"user": tom, "items": []},
        once=notify_once,
    )
    mark_sent(notify_once, [grace.email.upper()])
    User.objects.filter(pk=tom.pk).update(email="tom.new@demo.ac.uk")
    assert notifications.people_reached(notify_once) == sorted(
        [tom, grace], key=lambda u: u.full_name
    )
    assert helen not in notifications.people_reached(notify_once)
    assert notifications.people_reached("organisations.liaison_request:8") == []


def test_a_staff_photo_is_served_to_staff_only(client, tom, persona):
    client.post(PROFILE, form(tom, photo=photo()))
    tom.refresh_from_db()
    assert client.get(tom.photo.url).status_code == 200
    client.force_login(persona("student"))
    assert client.get(tom.photo.url).status_code == 403
    client.logout()
    assert client.get(tom.photo.url).status_code == 302  # to log in


# Saving the profile unchanged -------------------------------------------------------------


def _profile_as_sent(client) -> dict:
    from mycareer.core.tests.html_forms import as_post, form_fields

    return as_post(form_fields(client.get(PROFILE).content.decode(), containing="job_title"))


def _said(response) -> list[str]:
    from django.contrib.messages import get_messages

    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_profile_saved_unchanged_says_nothing_changed(client, tom):
    # Written before they were kept in order: the same kinds, so no change.
    kinds = sorted(k.code for k in notifications.notification_kinds(optional_only=True))
    User.objects.filter(pk=tom.pk).update(about=ABOUT, notifications_off=kinds[:2][::-1])
    data = _profile_as_sent(client)
    response = client.post(PROFILE, data)
    assert response.status_code == 302
    assert _said(response) == ["Nothing was changed."]
    assert not AuditEntry.objects.filter(action="accounts.profile.changed").exists()


def test_the_profile_with_one_change_says_saved(client, tom):
    response = client.post(PROFILE, {**_profile_as_sent(client), "job_title": "Placements lead"})
    assert response.status_code == 302
    assert _said(response) == ["Your profile is saved."]
    entry = AuditEntry.objects.get(action="accounts.profile.changed")
    assert entry.data == {"fields": ["job_title"]}


def test_the_profile_s_about_from_a_browser_unchanged_is_no_change(client, tom):
    """A browser sends the text box's line breaks as "\\r\\n"; stored text has "\\n"."""
    from mycareer.core.tests.html_forms import as_post, form_fields

    User.objects.filter(pk=tom.pk).update(about="Best by phone.\n\nNot on Fridays.")
    page = client.get(PROFILE).content.decode()
    data = as_post(form_fields(page, containing="job_title", line_breaks="\r\n"))
    assert data["about"] == ["Best by phone.\r\n\r\nNot on Fridays."]
    response = client.post(PROFILE, data)
    assert _said(response) == ["Nothing was changed."]
    assert not AuditEntry.objects.filter(action="accounts.profile.changed").exists()

    client.get(PROFILE)  # the message is read
    response = client.post(PROFILE, {**data, "about": ["Best by phone.\r\n\r\nNot on Mondays."]})
    assert _said(response) == ["Your profile is saved."]
    tom.refresh_from_db()
    assert tom.about == "Best by phone.\n\nNot on Mondays."


def access_panel(response) -> str:
    import re

    pattern = r'<section aria-labelledby="panel-access">(.*?)</section>'
    [panel] = re.findall(pattern, text(response), re.S)
    return " ".join(re.sub(r"<[^>]+>", "", panel).split())


def test_the_access_panel_warns_when_operator_training_runs_out_within_the_reminder_window(
    client, persona, settings, cast
):
    """It said "valid until" to the last day, with nothing on what to do: the reminder
    email alone told them, once."""
    import datetime

    from django.utils import timezone

    from mycareer.accounts import services
    from mycareer.accounts.models import TrainingCourse, TrainingRecord, TrainingSession

    settings.MYCAREER = {**settings.MYCAREER, "TRAINING_REMINDER_DAYS": 30}
    rachel = persona("expiring")
    client.force_login(rachel)
    today = timezone.localdate()
    records = TrainingRecord.objects.filter(user=rachel, status="completed")

    later = today + datetime.timedelta(days=31)  # just outside the window
    records.update(expires_on=later)
    panel = access_panel(client.get("/"))
    assert f"Operator training valid until the end of {later:%A %-d %B %Y}." in panel
    assert "training is valid" not in panel and "Book a training session" not in panel

    ends = today + datetime.timedelta(days=30)  # its last day
    records.update(expires_on=ends)
    response = client.get("/")
    panel = access_panel(response)
    assert (
        f"Your operator training is valid for 30 more days, until the end of {ends:%A %-d %B %Y}. "
        "After that you "
        "cannot create or edit records until you attend a refresher session. "
        "Book a training session."
    ) in panel
    assert f'href="{reverse("accounts:training_sessions")}"' in text(response)
    assert "valid until" not in panel

    records.update(expires_on=today)
    assert (
        f"Your operator training is valid until the end of today, {today:%A %-d %B %Y}. "
    ) in access_panel(client.get("/"))

    # Booked on a refresher: told so, not asked to book.
    records.update(expires_on=ends)
    course = TrainingCourse.objects.get(code=TrainingCourse.OPERATOR)
    starts = timezone.now() + datetime.timedelta(days=5)
    session = TrainingSession.objects.create(
        course=course, starts_at=starts, ends_at=starts + datetime.timedelta(hours=2), capacity=9
    )
    services.training_book(session=session, user=rachel, by=rachel, notify=False)
    response = client.get("/")
    panel = access_panel(response)
    assert "You are booked on the one on" in panel and "attend it to keep your access" in panel
    assert "Book a training session" not in panel and "comes after" not in panel
    assert session.get_absolute_url() in text(response)


def test_the_access_panel_warns_a_bulk_mailer_when_bulk_email_training_runs_out_soon(
    client, persona, settings, cast
):
    """Bulk email training runs out on its own day; the panel warned of operator training
    only, so a bulk mailer learnt of it when a send was refused."""
    import datetime

    from django.utils import timezone

    from mycareer.accounts.models import TrainingCourse, TrainingRecord

    settings.MYCAREER = {**settings.MYCAREER, "TRAINING_REMINDER_DAYS": 30}
    mailer = persona("mailer")
    client.force_login(mailer)
    today = timezone.localdate()
    bulk = TrainingRecord.objects.filter(
        user=mailer, status="completed", course__code=TrainingCourse.BULK_EMAIL
    )
    assert bulk.exists()
    bulk.update(expires_on=today + datetime.timedelta(days=31))
    assert "bulk email training is valid" not in access_panel(client.get("/"))

    ends = today + datetime.timedelta(days=1)
    bulk.update(expires_on=ends)
    panel = access_panel(client.get("/"))
    assert (
        f"Your bulk email training is valid until the end of tomorrow, {ends:%A %-d %B %Y}. "
        "After that you "
        "cannot send bulk email until you attend a refresher session. "
        "Book a bulk email training session."
    ) in panel
    # An operator is not told about a training they do not need.
    operator = persona("operator")
    TrainingRecord.objects.filter(user=operator).update(expires_on=ends)
    client.force_login(operator)
    assert "bulk email training" not in access_panel(client.get("/"))
