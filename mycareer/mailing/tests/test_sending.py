"""Sending through a real SMTP server, unsubscribe, retries and the sending chain."""

import datetime
import logging
import time

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from mycareer.audit.models import AuditEntry
from mycareer.core.mail import careers_centre_address
from mycareer.mailing.models import Campaign, OutboxMessage
from mycareer.mailing.unsubscribe import make_token
from mycareer.organisations.models import EmailOptOut, KeptOptOut


@pytest.mark.django_db(transaction=True)
def test_messages_arrive_with_merge_fields_both_parts_and_unsubscribe_headers(
    tagged, make_campaign, send_now, smtp_server, run_worker, settings
):
    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_RATE": 0}
    campaign = make_campaign(
        body="Dear {{ first_name }},\n\nCome to our fair, {{ organisation }}!\n\n"
        "<script>x()</script>"
    )
    send_now(campaign)
    run_worker()
    messages = [m for m in smtp_server.wait_for(6) if m["X-MyCareer-Campaign"] == str(campaign.pk)]
    assert len(messages) == 6
    by_to = {m["To"]: m for m in messages}
    message = by_to["p0@aurora.example.com"]
    assert message["Subject"] == "Fair for Aurora Optics"
    assert message["Reply-To"] == campaign.sender.email  # answers reach whoever wrote it
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Dear Person0," in text and "Come to our fair, Aurora Optics!" in text
    assert "<p>Dear Person0,</p>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html  # shown as typed, never run
    # The footer says who sent it, why this contact receives it and how to reach the
    # Careers Centre: it gave only the unsubscribe link and the organisation's name.
    footer = " ".join(text.split("-" * 40)[-1].split())
    sender, unit = campaign.sender, campaign.unit
    address = careers_centre_address()
    assert footer.startswith(
        f"Sent by {sender} ({unit}) through the university's Careers Centre. You receive it "
        "as a contact of Aurora Optics, an organisation the university works with. Reply to "
        f"this email to reach {sender}. To reach the Careers Centre, write to {address}."
    )
    assert f"Sent by {sender} ({unit})" in html and f'<a href="mailto:{address}">' in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/email/unsubscribe/" in message["List-Unsubscribe"]
    assert "mailto:" in message["List-Unsubscribe"]
    row = OutboxMessage.objects.get(campaign=campaign, email="p0@aurora.example.com")
    assert message["Message-ID"] == row.message_id
    assert row.status == OutboxMessage.Status.SENT and row.sent_at
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_a_hard_bounce_marks_the_address(
    tagged, make_campaign, send_now, smtp_server, run_worker, settings
):
    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_RATE": 0}
    smtp_server.refuse = {"p1@aurora.example.com": "550 5.1.1 No such mailbox"}
    campaign = make_campaign()
    send_now(campaign)
    run_worker()
    row = OutboxMessage.objects.get(campaign=campaign, email="p1@aurora.example.com")
    assert row.status == OutboxMessage.Status.FAILED
    assert row.error.startswith("550")
    assert row.contact.email_bounced_at is not None
    assert OutboxMessage.objects.filter(campaign=campaign, status="sent").count() == 5


@pytest.mark.django_db
def test_unsubscribe_get_changes_nothing_and_post_opts_out(client, tagged):
    contact = tagged[0].contacts.first()
    url = reverse("mailing:unsubscribe", args=[make_token(contact.pk, "events")])
    page = client.get(url)
    assert page.status_code == 200
    assert not EmailOptOut.objects.filter(contact=contact).exists()
    done = client.post(url)
    assert (done.status_code, done["Location"]) == (303, f"{url}?done=1")
    opt_out = EmailOptOut.objects.get(contact=contact)
    assert (opt_out.purpose, opt_out.method) == ("events", "link")
    assert "will no longer receive event promotion" in client.get(done["Location"]).text


@pytest.mark.django_db
def test_unsubscribed_by_mistake_the_person_takes_it_back_on_the_same_page(client, tagged):
    """The page said "there is nothing more to do": a press by mistake was for good."""
    contact = tagged[0].contacts.first()
    token = make_token(contact.pk, "events", address=contact.email)
    url = reverse("mailing:unsubscribe", args=[token])
    done = client.post(url, follow=True)
    assert 'name="undo"' in done.text and "Receive event promotion again" in done.text
    undone = client.post(url, {"undo": "yes"}, follow=True)
    assert "will receive event promotion from the university's careers service again" in undone.text
    assert not EmailOptOut.objects.filter(contact=contact).exists()
    assert AuditEntry.objects.filter(action="organisations.contact.opted_in").count() == 1
    # Pressed twice, or back and pressed again: still in, recorded once.
    twice = client.post(url, {"undo": "yes"}, follow=True)
    assert "will receive event promotion from the university's careers service again" in twice.text
    assert AuditEntry.objects.filter(action="organisations.contact.opted_in").count() == 1
    # And out again from the same page.
    again = client.post(url, follow=True)
    assert "will no longer receive event promotion" in again.text
    assert EmailOptOut.objects.filter(contact=contact, purpose="events").exists()


@pytest.mark.django_db
def test_a_press_in_a_browser_leads_to_a_page_that_a_reload_does_not_press_again(
    client, tagged, caplog
):
    """The press answered with a page: Back to it and reload sent the POST again. A press
    now leads to a page that only shows what holds, however often it is loaded."""
    contact = tagged[0].contacts.first()
    url = reverse("mailing:unsubscribe", args=[make_token(contact.pk, "events")])
    pressed = client.post(url)
    assert (pressed.status_code, pressed["Location"]) == (303, f"{url}?done=1")
    EmailOptOut.objects.filter(contact=contact).delete()  # taken back another way meanwhile
    for _reload in range(2):
        shown = client.get(pressed["Location"])
        assert shown.status_code == 200
        assert not EmailOptOut.objects.filter(contact=contact).exists()
    assert AuditEntry.objects.filter(action="organisations.contact.opted_out").count() == 1

    # A link whose record went: its address is kept out once, and logged once.
    gone = make_token(contact.pk, "events", address="gone@aurora.example.com")
    url = reverse("mailing:unsubscribe", args=[gone])
    with caplog.at_level(logging.INFO):
        pressed = client.post(url)
        assert (pressed.status_code, pressed["Location"]) == (303, f"{url}?done=1")
        for _reload in range(2):
            shown = client.get(pressed["Location"])
            assert "will no longer receive event promotion" in shown.text
    assert KeptOptOut.objects.filter(purpose="events").count() == 1
    assert caplog.text.count("event=mailing.unsubscribed") == 1


@pytest.mark.django_db
@pytest.mark.parametrize("record", ["here", "gone"])
def test_a_mail_programs_one_click_unsubscribe_is_answered_with_the_page(client, tagged, record):
    """RFC 8058: a mail program POSTs `List-Unsubscribe=One-Click` and follows no redirect."""
    contact = tagged[0].contacts.first()
    address = contact.email if record == "here" else "gone@aurora.example.com"
    url = reverse("mailing:unsubscribe", args=[make_token(contact.pk, "events", address=address)])
    answer = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert "will no longer receive event promotion" in answer.text
    if record == "here":
        assert EmailOptOut.objects.filter(contact=contact, purpose="events").count() == 1
    else:
        assert KeptOptOut.objects.filter(purpose="events").count() == 1
        assert not EmailOptOut.objects.exists()


@pytest.mark.django_db
def test_back_to_the_page_of_an_unsubscribe_after_taking_it_back_does_not_unsubscribe_again(
    client, tagged
):
    """Found in a walk: unsubscribe, take it back, Back to the first page and reload."""
    contact = tagged[0].contacts.first()
    token = make_token(contact.pk, "events", address=contact.email)
    url = reverse("mailing:unsubscribe", args=[token])
    first = client.post(url)["Location"]
    assert 'name="undo"' in client.get(first).text
    undone = client.post(first, {"undo": "yes"})
    assert undone.status_code == 303
    assert not EmailOptOut.objects.filter(contact=contact).exists()
    back = client.get(first)
    assert back.status_code == 200
    assert "You will receive event promotion again" in back.text
    assert not EmailOptOut.objects.filter(contact=contact).exists()
    assert AuditEntry.objects.filter(action="organisations.contact.opted_out").count() == 1


@pytest.mark.django_db
def test_a_link_takes_back_only_the_opt_out_it_made(client, tagged, persona):
    """Whoever holds a forwarded email may press its link: it must not undo what the
    person said another way (to staff, of all bulk email, through another record), nor
    a successor's choice through an old link that did not name its address."""
    from mycareer.organisations import services as org_services
    from mycareer.organisations.models import Contact

    contact = tagged[0].contacts.first()
    token = make_token(contact.pk, "events", address=contact.email)
    url = reverse("mailing:unsubscribe", args=[token])

    def offered_and_undone(path=url) -> tuple[bool, bool]:
        offered = 'name="undo"' in client.get(path).text
        client.post(path, {"undo": "yes"})
        return offered, not EmailOptOut.objects.filter(contact__email=contact.email).exists()

    # Out of all bulk email, or of this kind on staff's record: not the link's to undo.
    for purpose in ("all", "events"):
        org_services.contact_opt_out(contact=contact, purpose=purpose, method="staff", by=None)
        assert offered_and_undone() == (False, False)
        EmailOptOut.objects.filter(contact=contact).delete()
    # The same address on another record, opted out there: still out.
    other = org_services.contact_create(
        organisation=tagged[1], by=persona("operator"), full_name="Same Person", email=contact.email
    )
    client.post(url)  # this record's own press, by its link
    org_services.contact_opt_out(contact=other, purpose="events", method="staff", by=None)
    assert offered_and_undone() == (False, False)
    EmailOptOut.objects.filter(contact=other).delete()
    # An old link that named no address, after the record went to someone else.
    Contact.objects.filter(pk=contact.pk).update(email="successor@aurora.example.com")
    contact.refresh_from_db()
    old = reverse("mailing:unsubscribe", args=[make_token(contact.pk, "events")])
    org_services.contact_opt_out(contact=contact, purpose="events", method="link", by=None)
    assert offered_and_undone(old) == (False, False)


@pytest.mark.django_db
def test_an_unsubscribe_link_opened_again_says_since_when_instead_of_asking_again(client, tagged):
    contact = tagged[0].contacts.first()
    url = reverse("mailing:unsubscribe", args=[make_token(contact.pk, "events")])
    with time_machine.travel(datetime.datetime(2026, 11, 3, 9, tzinfo=datetime.UTC)):
        client.post(url)
    for again in (client.get(url), client.post(url, follow=True)):  # back later; pressed twice
        assert again.status_code == 200
        assert "Stop receiving" not in again.text
        assert "unsubscribed from event promotion since 3 November 2026" in again.text
    assert EmailOptOut.objects.filter(contact=contact).count() == 1


@pytest.mark.django_db
def test_an_unsubscribe_link_of_an_address_already_out_through_another_record_says_so(
    client, persona, tagged
):
    from mycareer.organisations import services as org_services

    first = tagged[0].contacts.order_by("email").first()
    second = org_services.contact_create(
        organisation=tagged[1], by=persona("operator"), full_name="Same", email=first.email
    )
    with time_machine.travel(datetime.datetime(2026, 11, 3, 9, tzinfo=datetime.UTC)):
        client.post(reverse("mailing:unsubscribe", args=[make_token(first.pk, "events")]))
    page = client.get(reverse("mailing:unsubscribe", args=[make_token(second.pk, "events")]))
    assert "Stop receiving" not in page.text
    assert "unsubscribed from event promotion since 3 November 2026" in page.text


@pytest.mark.django_db
def test_an_unsubscribe_link_of_a_contact_out_of_all_bulk_email_says_so(client, tagged):
    contact = tagged[0].contacts.first()
    EmailOptOut.objects.create(contact=contact, purpose="all", method="staff")
    url = reverse("mailing:unsubscribe", args=[make_token(contact.pk, "vacancies")])
    page = client.get(url)
    assert "unsubscribed from all bulk email since" in page.text
    assert "sends no calls for vacancies to this address" in page.text
    client.post(url)
    assert list(EmailOptOut.objects.filter(contact=contact).values_list("purpose", flat=True)) == [
        "all"
    ]


@pytest.mark.django_db(transaction=True)
def test_the_unsubscribe_link_of_a_sent_email_works_after_its_record_is_gone(
    client, persona, tagged, filters, make_campaign, send_now, smtp_server, run_worker, settings
):
    """The link an email carried named a record: once the record was deleted it answered
    "This unsubscribe link is not valid", and once its address changed it would have
    unsubscribed whoever the record was about now."""
    from mycareer.mailing.recipients import contacts_for, recipient_list
    from mycareer.organisations import services as org_services
    from mycareer.organisations.search import OrganisationQuery

    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_RATE": 0}
    send_now(make_campaign())
    run_worker()
    links = {}
    for message in smtp_server.wait_for(6):
        header = message["List-Unsubscribe"]
        links[message["To"]] = header[header.index("/email/") : header.index(">")]
    mailer, aurora = persona("mailer"), tagged[0]
    gone, moved = aurora.contacts.order_by("email")
    org_services.contact_delete(contact=gone, by=mailer)
    org_services.contact_update(contact=moved, by=mailer, email="successor@aurora.example.com")

    for address in ("p0@aurora.example.com", "p1@aurora.example.com"):
        page = client.get(links[address])
        assert page.status_code == 200
        assert "The address this email was sent to will no longer receive" in page.text
        done = client.post(links[address], follow=True)
        assert "will no longer receive event promotion" in done.text
        assert "since" in client.get(links[address]).text  # back later: already done
    assert not EmailOptOut.objects.filter(contact=moved).exists()  # the successor's record

    # Both addresses stay out when they come back; the successor still gets email.
    org_services.contact_create(
        organisation=aurora, by=mailer, full_name="Back Again", email="p0@aurora.example.com"
    )
    org_services.contact_create(
        organisation=tagged[1], by=mailer, full_name="Moved On", email="p1@aurora.example.com"
    )
    result = recipient_list(
        contacts_for(OrganisationQuery.from_filters(filters)), sender=mailer, purpose="events"
    )
    included = {c.email for c in result.included}
    assert "successor@aurora.example.com" in included
    assert not {"p0@aurora.example.com", "p1@aurora.example.com"} & included


@pytest.mark.django_db
def test_a_forged_unsubscribe_token_is_refused(client, tagged):
    contact = tagged[0].contacts.first()
    token = make_token(contact.pk, "events")
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.post(reverse("mailing:unsubscribe", args=[forged])).status_code == 400
    assert not EmailOptOut.objects.filter(contact=contact).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("untrained", 403),
        ("viewer", 403),
        ("operator", 403),
        ("student", 403),
        ("employer@demo-employer.com", 403),
        ("mailer", 200),
        ("admin", 200),
    ],
)
def test_the_send_pages_are_refused_to_everyone_but_trained_senders(client, persona, name, status):
    client.force_login(persona(name))
    assert client.get(reverse("mailing:campaign_create")).status_code == status
    assert client.get(reverse("mailing:campaigns")).status_code == status


@pytest.mark.django_db
def test_refusal_says_why(client, persona):
    client.force_login(persona("operator"))
    body = client.get(reverse("mailing:campaign_create")).content.decode()
    assert "to send bulk email to employer contacts you need the Bulk mailer level" in body


@pytest.mark.django_db(transaction=True)
def test_the_cross_promotion_block_arrives_in_both_parts(
    tagged, filters, make_campaign, send_now, smtp_server, run_worker, settings, persona
):
    from mycareer.events.tests.factories import at, far_monday, make_event
    from mycareer.mailing.crosspromotion import suggested_event_ids, upcoming_events

    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_RATE": 0}
    event = make_event(
        by=persona("manager"),
        title="Engineering and technology careers fair",
        starts_at=at(far_monday(4), 10),
        organisations=[tagged[0]],
        open_to_employers=True,
        publish=True,
    )
    campaign = make_campaign(promoted_events=[event.pk])
    assert event.pk in suggested_event_ids(campaign, upcoming_events())
    send_now(campaign)
    run_worker()
    message = next(
        m for m in smtp_server.wait_for(6) if m["X-MyCareer-Campaign"] == str(campaign.pk)
    )
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Coming up at the university" in text and event.title in text
    assert event.title in html and event.get_public_url() in html and event.get_public_url() in text


@pytest.mark.django_db(transaction=True)
def test_a_name_with_a_line_break_fails_its_own_message_and_the_rest_go(
    tagged, make_campaign, send_now, smtp_server, run_worker, settings
):
    """A bad header fails one row with the reason; it never stalls the campaign."""
    from mycareer.organisations.models import Contact

    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_RATE": 0}
    broken = tagged[0].contacts.order_by("email").first()
    # Names are cleaned on the way in now; a row from before that (or written by hand)
    # may still hold a line break, and must not stall a campaign.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Contact._meta.db_table} SET full_name = %s WHERE id = %s",
            ["Line\nBreak", broken.pk],
        )
    assert Contact.objects.get(pk=broken.pk).full_name == "Line\nBreak"
    campaign = make_campaign(subject="For {{ full_name }}")
    send_now(campaign)
    run_worker()
    row = OutboxMessage.objects.get(campaign=campaign, contact=broken)
    assert row.status == OutboxMessage.Status.FAILED
    assert "Header values can't contain newlines" in row.error
    assert OutboxMessage.objects.filter(campaign=campaign, status="sent").count() == 5
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert len([m for m in smtp_server.messages() if m["X-MyCareer-Campaign"]]) == 5


@pytest.mark.django_db(transaction=True)
def test_a_deferred_message_is_retried_later_not_in_a_tight_loop(
    tagged, make_campaign, send_now, smtp_server, run_worker, settings
):
    from django_tasks_db.models import DBTaskResult

    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_RATE": 0, "OUTBOX_RETRY_SECONDS": 600}
    smtp_server.refuse = {"p0@aurora.example.com": "451 4.7.1 Try again later"}
    campaign = make_campaign()
    send_now(campaign)
    run_worker()
    row = OutboxMessage.objects.get(campaign=campaign, email="p0@aurora.example.com")
    assert (row.status, row.attempts) == (OutboxMessage.Status.PENDING, 1)
    assert row.error.startswith("451")
    assert row.next_attempt_at > timezone.now() + datetime.timedelta(seconds=500)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING
    # The chain's next link waits for the retry instead of running again at once.
    link = DBTaskResult.objects.get(pk=campaign.sending_task_id)
    assert link.status == "READY" and link.run_after >= row.next_attempt_at
    links = DBTaskResult.objects.filter(task_path__endswith="send_campaign").count()
    assert links == 2
    # When the time comes the message goes.
    smtp_server.refuse = {}
    with time_machine.travel(row.next_attempt_at + datetime.timedelta(seconds=1)):
        run_worker()
    row.refresh_from_db()
    assert row.status == OutboxMessage.Status.SENT
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_a_refused_recipient_does_not_drop_the_connection(
    tagged, make_campaign, send_now, smtp_server, run_worker, settings
):
    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_RATE": 0}
    smtp_server.refuse = {
        "p0@aurora.example.com": "550 5.1.1 No such mailbox",
        "p0@birchwood.example.com": "550 5.1.1 No such mailbox",
    }
    run_worker()  # the demo story's own notification emails first
    smtp_server.sessions = 0
    campaign = make_campaign()
    send_now(campaign)
    run_worker()
    assert OutboxMessage.objects.filter(campaign=campaign, status="sent").count() == 4
    assert smtp_server.sessions == 1


@pytest.mark.django_db
def test_the_watchdog_leaves_a_waiting_or_living_chain_alone(tagged, make_campaign, send_now):
    from django_tasks_db.models import DBTaskResult

    from mycareer.mailing.jobs import campaign_watchdog

    campaign = make_campaign()
    send_now(campaign)
    campaign.refresh_from_db()
    first_link = campaign.sending_task_id
    assert first_link  # queueing started the chain
    assert campaign_watchdog.call() == []  # its link is waiting to run
    # A worker took the link and is sending (a fresh heartbeat).
    DBTaskResult.objects.filter(pk=first_link).update(status="RUNNING", started_at=timezone.now())
    Campaign.objects.filter(pk=campaign.pk).update(heartbeat_at=timezone.now())
    assert campaign_watchdog.call() == []
    campaign.refresh_from_db()
    assert campaign.sending_task_id == first_link


@pytest.mark.django_db
def test_the_watchdog_restarts_a_chain_whose_worker_died(tagged, make_campaign, send_now):
    from django_tasks_db.models import DBTaskResult

    from mycareer.mailing.jobs import campaign_watchdog
    from mycareer.mailing.sending import lease

    campaign = make_campaign()
    send_now(campaign)
    campaign.refresh_from_db()
    dead = campaign.sending_task_id
    long_ago = timezone.now() - lease() - datetime.timedelta(seconds=5)
    DBTaskResult.objects.filter(pk=dead).update(status="RUNNING", started_at=long_ago)
    Campaign.objects.filter(pk=campaign.pk).update(heartbeat_at=long_ago)
    # Rows the dead worker had claimed, their claim run out.
    held = campaign.messages.order_by("pk")[:2]
    OutboxMessage.objects.filter(pk__in=[m.pk for m in held]).update(
        status="sending", claim_token="dead", claim_expires_at=long_ago
    )
    assert campaign_watchdog.call() == [campaign.pk]
    campaign.refresh_from_db()
    assert campaign.sending_task_id != dead
    assert not campaign.messages.filter(status="sending").exists()


def test_the_watchdog_leaves_a_chain_that_handed_on_while_it_looked(
    tagged, make_campaign, send_now
):
    """The watchdog read the campaign, then the link finished after enqueueing the next:
    the finished link looks dead, but the chain is alive and is not restarted."""
    from django_tasks_db.models import DBTaskResult

    from mycareer.mailing.tasks import chain_alive, send_campaign, start_sending

    campaign = make_campaign()
    send_now(campaign)
    campaign.refresh_from_db()
    seen = Campaign.objects.get(pk=campaign.pk)  # as the watchdog read it
    handed_on = send_campaign.enqueue(campaign.pk)
    Campaign.objects.filter(pk=campaign.pk).update(sending_task_id=str(handed_on.id))
    DBTaskResult.objects.filter(pk=seen.sending_task_id).update(status="SUCCESSFUL")
    assert not chain_alive(seen)
    assert start_sending(campaign.pk, replacing=seen.sending_task_id) is None
    campaign.refresh_from_db()
    assert campaign.sending_task_id == str(handed_on.id)


@pytest.mark.django_db(transaction=True)
def test_the_watchdog_run_by_the_worker_logs_its_outcome_and_each_restart(
    tagged, make_campaign, send_now, smtp_server, run_worker, caplog, settings
):
    import logging
    import shlex

    from django_tasks_db.models import DBTaskResult

    from mycareer.mailing.jobs import campaign_watchdog
    from mycareer.mailing.sending import lease

    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_RATE": 0}
    run_worker()  # the demo story's own notification emails first
    campaign = make_campaign()
    send_now(campaign)
    campaign.refresh_from_db()
    long_ago = timezone.now() - lease() - datetime.timedelta(seconds=5)
    DBTaskResult.objects.filter(pk=campaign.sending_task_id).update(
        status="RUNNING", started_at=long_ago
    )
    Campaign.objects.filter(pk=campaign.pk).update(heartbeat_at=long_ago)
    campaign_watchdog.enqueue()
    with caplog.at_level(logging.INFO):
        run_worker()
    messages = [r.getMessage() for r in caplog.records]
    assert f"event=mailing.chain.restarted campaign={campaign.pk}" in messages
    (finished,) = [
        dict(part.split("=", 1) for part in shlex.split(m))
        for m in messages
        if m.startswith("event=task.finished task=mycareer.mailing.jobs.campaign_watchdog ")
    ]
    assert finished["outcome"] == "succeeded" and finished["result_count"] == "1"
    assert int(finished["duration_ms"]) >= 0 and finished["started"]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT  # the new chain finished the job


@pytest.mark.django_db
def test_a_superseded_link_sends_nothing(tagged, make_campaign, send_now):
    from django_tasks import TaskContext

    from mycareer.mailing.tasks import send_campaign, start_sending

    campaign = make_campaign()
    send_now(campaign)
    campaign.refresh_from_db()
    old = send_campaign.get_result(campaign.sending_task_id)
    start_sending(campaign.pk)  # a second chain takes over
    assert send_campaign.call(TaskContext(task_result=old), campaign.pk) == {"superseded": True}
    assert not campaign.messages.exclude(status="pending").exists()


@pytest.mark.django_db
def test_a_claim_is_kept_only_by_its_holder(tagged, make_campaign, send_now):
    from mycareer.mailing import sending

    campaign = make_campaign()
    send_now(campaign)
    rows = sending._claim(campaign.pk, 3, "mine")
    assert [r.claim_token for r in rows] == ["mine"] * 3
    # Another worker found the claim expired and took one row back.
    OutboxMessage.objects.filter(pk=rows[0].pk).update(
        status="pending", claim_token="", claim_expires_at=None
    )
    Campaign.objects.filter(pk=campaign.pk).update(status="sending")  # as the worker's run does
    later = timezone.now() + datetime.timedelta(seconds=10)
    with time_machine.travel(later, tick=False):
        sending._renew("mine")
    claims = dict(
        OutboxMessage.objects.filter(campaign=campaign).values_list("pk", "claim_expires_at")
    )
    assert claims[rows[0].pk] is None
    assert claims[rows[1].pk] == claims[rows[2].pk] == later + sending.lease()
    assert [sending._now_held(row, "mine") is not None for row in rows] == [False, True, True]
    assert not sending._mark_sent(rows[0], "mine")
    assert sending._mark_sent(rows[1], "mine")
    rows[0].refresh_from_db()
    assert rows[0].status == OutboxMessage.Status.PENDING


@pytest.mark.django_db
def test_old_task_results_and_scheduler_rows_are_pruned():
    from django_tasks_db.models import DBTaskResult

    from mycareer.core.maintenance import prune_finished_work
    from mycareer.core.models import ScheduledRun
    from mycareer.mailing.jobs import campaign_watchdog

    now = timezone.now()
    old = now - datetime.timedelta(days=8)
    ScheduledRun.objects.create(job="campaign-watchdog@0001", day=old.date(), enqueued_at=old)
    ScheduledRun.objects.create(job="campaign-watchdog@0002", day=now.date(), enqueued_at=now)
    finished = campaign_watchdog.enqueue()
    waiting = campaign_watchdog.enqueue()
    DBTaskResult.objects.filter(pk=finished.id).update(status="SUCCESSFUL", finished_at=old)
    pruned = prune_finished_work(now=now)
    assert pruned == {"scheduled runs": 1, "task results": 1}
    assert ScheduledRun.objects.filter(job="campaign-watchdog@0002").exists()
    assert DBTaskResult.objects.filter(pk=waiting.id).exists()


@pytest.mark.django_db
def test_cancelling_stops_the_batch_at_its_next_message(
    tagged, make_campaign, send_now, smtp_server, monkeypatch, caplog
):
    """The worker holds all six rows in one batch; the sender cancels once the first has
    gone. Nothing more goes, the cancel says five were not sent, and the five rows the
    worker held are dropped."""
    from mycareer.mailing import sending, services

    campaign = make_campaign()
    send_now(campaign)
    marked = sending._mark_sent
    said = []

    def mark_then_cancel(row, token):
        done = marked(row, token)
        if not said:
            said.append(services.campaign_cancel(campaign=campaign, by=campaign.sender))
        return done

    monkeypatch.setattr(sending, "_mark_sent", mark_then_cancel)
    totals = sending.send_campaign_batch(campaign.pk, time_budget=30, rate=0)
    assert totals["sent"] == 1
    assert said == [5]
    assert len(smtp_server.wait_for(1)) == 1
    assert sorted(campaign.messages.values_list("status", flat=True)) == [
        *["cancelled"] * 5,
        "sent",
    ]
    assert f"event=mailing.outbox.dropped_on_cancel campaign={campaign.pk} dropped=5" in caplog.text
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CANCELLED
    # The five the worker held and dropped are counted as not sent, the one it sent as sent.
    assert (campaign.not_sent, campaign.cancelled_by) == (5, campaign.sender)
    words = sending.cancellation_in_words(campaign, sending.campaign_progress(campaign))
    assert words.endswith(f"by {campaign.sender}: 1 sent before cancelling, 5 not sent.")


@pytest.mark.django_db
def test_who_opted_out_or_went_after_the_campaign_was_queued_is_not_sent_it(
    client, tagged, make_campaign, send_now, smtp_server, persona, caplog
):
    """A campaign can send for hours after it is queued (retries, a mail server that is
    down). The recipients were checked when it was queued, and it went to a person who
    had opted out since, to a deleted record and to an archived organisation."""
    from mycareer.mailing import sending
    from mycareer.mailing import services as mailing_services
    from mycareer.organisations import services as org_services
    from mycareer.organisations.models import Contact

    campaign = make_campaign()
    send_now(campaign)
    contact = {c.email: c for c in Contact.objects.filter(organisation__in=tagged)}
    aurora, birchwood, cobalt = (
        f"@{name}.example.com" for name in ("aurora", "birchwood", "cobalt")
    )
    mailing_services.unsubscribe(contact=contact[f"p0{aurora}"], purpose="events")
    org_services.contact_delete(contact=contact[f"p1{birchwood}"], by=persona("manager"))
    org_services.organisation_archive(organisation=tagged[2], by=persona("manager"))  # Cobalt
    Contact.objects.filter(pk=contact[f"p0{birchwood}"].pk).update(email_bounced_at=timezone.now())
    # Another kind of email left is not this one's: p1 at Aurora still gets it.
    mailing_services.unsubscribe(contact=contact[f"p1{aurora}"], purpose="vacancies")

    with caplog.at_level("INFO", logger="mycareer.mailing.sending"):
        totals = sending.send_campaign_batch(campaign.pk, time_budget=30, rate=0)
    assert (totals["sent"], totals["stopped"]) == (1, 5)
    assert [m["To"] for m in smtp_server.wait_for(1)] == [f"p1{aurora}"]
    why = dict(campaign.messages.filter(status="stopped").values_list("email", "error"))
    assert why == {
        f"p0{aurora}": "they opted out of this kind of email after it was queued",
        f"p1{birchwood}": "their record was deleted or erased after the email was queued",
        f"p0{birchwood}": "their address bounced an email after this one was queued",
        f"p0{cobalt}": "their organisation stopped being active after it was queued",
        f"p1{cobalt}": "their organisation stopped being active after it was queued",
    }
    lines = [r.getMessage() for r in caplog.records if "mailing.outbox.stopped" in r.getMessage()]
    assert len(lines) == 5 and not any("example.com" in line for line in lines)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    progress = sending.campaign_progress(campaign)
    assert (progress["sent"], progress["stopped"], progress["left"]) == (1, 5, 0)
    assert progress["percent"] == 100
    # The sender reads it on the campaign's page.
    client.force_login(campaign.sender)
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert '<span data-field="stopped">5</span> stopped, of 6.' in page
    assert f"p0{aurora}: they opted out of this kind of email after it was queued" in page


@pytest.mark.django_db
def test_the_same_address_on_another_record_bounced_or_protected_since_is_stopped(
    tagged, make_campaign, send_now, smtp_server, persona, cast
):
    """The queueing counts every record of an address (a group's second record); the
    check as it went counted only the row's own, and emailed a key contact of Tom's."""
    from mycareer.mailing import sending
    from mycareer.organisations import keyaccounts
    from mycareer.organisations import services as org_services
    from mycareer.organisations.models import Contact

    campaign = make_campaign()
    send_now(campaign)
    operator = persona("operator")
    elsewhere = org_services.organisation_create(
        by=operator, name="Other Co", confirm_duplicates=True
    )
    bounced, protected = "p0@aurora.example.com", "p1@aurora.example.com"
    for email in (bounced, protected):
        org_services.contact_create(
            organisation=elsewhere, by=operator, full_name="Same Person", email=email
        )
    Contact.objects.filter(organisation=elsewhere, email=bounced).update(
        email_bounced_at=timezone.now()
    )
    account = keyaccounts.key_account_create(
        organisation=elsewhere, operator=operator, unit=cast["units"]["mech"], by=persona("admin")
    )
    keyaccounts.key_contact_mark(
        account=account,
        contact=Contact.objects.get(organisation=elsewhere, email=protected),
        guidance="",
        by=operator,
    )
    totals = sending.send_campaign_batch(campaign.pk, time_budget=30, rate=0)
    assert (totals["sent"], totals["stopped"]) == (4, 2)
    why = dict(campaign.messages.filter(status="stopped").values_list("email", "error"))
    assert why[bounced] == "their address bounced an email after this one was queued"
    assert why[protected].startswith("excluded: the same address is a key contact of Tom Bennett")


@pytest.mark.django_db
def test_an_opt_out_or_an_erasure_while_the_batch_goes_is_honoured(
    tagged, make_campaign, send_now, smtp_server, monkeypatch, settings
):
    """The check ran once for a batch of up to 25, which with pauses and timeouts can take
    minutes: an opt-out, or an erasure, made meanwhile was not honoured for the rest."""
    from mycareer.mailing import sending
    from mycareer.mailing import services as mailing_services
    from mycareer.organisations.models import Contact

    settings.MYCAREER = {**settings.MYCAREER, "OUTBOX_LEASE_SECONDS": 1}  # a beat each 1/6 s
    campaign = make_campaign()
    send_now(campaign)
    first, second, third, *_ = campaign.messages.order_by("pk")
    deliver = sending.deliver

    def then_they_leave(message, **kwargs):
        deliver(message, **kwargs)
        if message.to == [first.email]:
            contact = Contact.objects.get(pk=second.contact_id)
            mailing_services.unsubscribe(contact=contact, purpose="events")
            OutboxMessage.objects.filter(pk=third.pk).update(email="erased-1@erased.invalid")
            time.sleep(0.3)  # the next beat reads the opt-out again

    monkeypatch.setattr(sending, "deliver", then_they_leave)
    sending.send_campaign_batch(campaign.pk, time_budget=30, rate=0)
    states = dict(campaign.messages.values_list("pk", "status"))
    assert (states[first.pk], states[second.pk], states[third.pk]) == (
        "sent",
        "stopped",
        "stopped",
    )
    assert OutboxMessage.objects.get(pk=third.pk).error == sending.GONE


@pytest.mark.django_db
def test_a_campaign_whose_every_message_was_stopped_does_not_read_as_sent(
    client, tagged, make_campaign, send_now, smtp_server
):
    from mycareer.mailing import sending
    from mycareer.organisations.models import Contact

    campaign = make_campaign()
    send_now(campaign)
    for contact in Contact.objects.filter(organisation__in=tagged):
        EmailOptOut.objects.create(contact=contact, purpose="all", method="staff")
    totals = sending.send_campaign_batch(campaign.pk, time_budget=30, rate=0)
    assert (totals["sent"], totals["stopped"]) == (0, 6)
    client.force_login(campaign.sender)
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert "Sent: nothing went, every message was stopped or failed (see below)" in page


@pytest.mark.django_db
def test_a_key_contact_marked_after_the_campaign_was_queued_waits_for_their_owner(
    tagged, make_campaign, send_now, smtp_server, persona, cast
):
    """Made a key contact while the campaign waited to go: left out unless the owner
    agreed to the sender's request, as when the recipients were first chosen."""
    from mycareer.mailing import sending
    from mycareer.organisations import keyaccounts

    tom = persona("operator")
    campaign = make_campaign()
    send_now(campaign)
    account = keyaccounts.key_account_create(
        organisation=tagged[1], operator=tom, unit=cast["units"]["mech"], by=persona("admin")
    )
    protected, agreed = tagged[1].contacts.order_by("email")
    for contact in (protected, agreed):
        keyaccounts.key_contact_mark(account=account, contact=contact, guidance="", by=tom)
    [request] = keyaccounts.liaison_request_create(
        requester=campaign.sender, contact=agreed, reason="Fair", proposed_engagement="Email"
    )
    keyaccounts.liaison_request_decide(request=request, approve=True, by=tom)

    totals = sending.send_campaign_batch(campaign.pk, time_budget=30, rate=0)
    assert (totals["sent"], totals["stopped"]) == (5, 1)
    assert protected.email not in {m["To"] for m in smtp_server.wait_for(5)}
    row = campaign.messages.get(status="stopped")
    assert (row.email, row.error) == (
        protected.email,
        "excluded: key contact of Tom Bennett, no liaison agreement when it was to be sent",
    )


@pytest.mark.django_db
def test_a_cancelled_campaign_says_when_who_and_what_went_and_what_did_not(
    persona, tagged, make_campaign, send_now
):
    """Cancelling drops the messages not yet sent: the page read "0 sent … of 0"."""
    from mycareer.mailing import sending, services

    campaign = make_campaign()
    send_now(campaign)
    first, second, third = campaign.messages.order_by("pk")[:3]
    OutboxMessage.objects.filter(pk__in=[first.pk, second.pk]).update(
        status=OutboxMessage.Status.SENT
    )
    OutboxMessage.objects.filter(pk=third.pk).update(status=OutboxMessage.Status.FAILED)
    admin = persona("admin")
    with time_machine.travel(datetime.datetime(2027, 3, 3, 9, 30, tzinfo=datetime.UTC)):
        assert services.campaign_cancel(campaign=campaign, by=admin) == 3
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert (campaign.not_sent, campaign.cancelled_by) == (3, admin)
    progress = sending.campaign_progress(campaign)
    assert sending.cancellation_in_words(campaign, progress) == (
        f"Cancelled on 3 March 2027 by {admin}: 2 sent before cancelling, 1 failed, 3 not sent."
    )
    # Not cancelled, a campaign has no such words.
    assert sending.cancellation_in_words(make_campaign(), progress) == ""


@pytest.mark.django_db
def test_a_campaign_cancelled_while_it_waited_for_approval_says_nothing_was_sent(
    persona, tagged, make_campaign, settings
):
    """No message is made until a second sender approves: cancelled before that, the page
    read "0 sent before cancelling, 0 not sent", as if it had been meant for nobody."""
    from mycareer.mailing import sending, services

    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_NEEDS_APPROVAL": True}
    campaign = make_campaign()
    services.campaign_send(campaign=campaign, by=campaign.sender, confirmed=6)
    with time_machine.travel(datetime.datetime(2027, 3, 3, 9, 30, tzinfo=datetime.UTC)):
        assert services.campaign_cancel(campaign=campaign, by=campaign.sender) == 0
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert sending.cancellation_in_words(campaign, sending.campaign_progress(campaign)) == (
        f"Cancelled on 3 March 2027 by {campaign.sender} while it waited for approval: "
        "nothing was sent."
    )


@pytest.mark.django_db
def test_a_campaign_cancelled_before_the_figures_were_kept_takes_them_from_the_audit_trail(
    persona, tagged, make_campaign, send_now
):
    import importlib

    from django.apps import apps

    from mycareer.mailing import sending, services

    backfill = importlib.import_module(
        "mycareer.mailing.migrations.0006_campaign_cancellations_from_the_audit_trail"
    ).from_audit_trail
    recorded, unrecorded = make_campaign(), make_campaign(subject="Other")
    for campaign in (recorded, unrecorded):
        send_now(campaign)
        services.campaign_cancel(campaign=campaign, by=campaign.sender)
    Campaign.objects.update(not_sent=None, cancelled_by=None)
    from mycareer.audit.models import AuditEntry

    AuditEntry.objects.filter(object_id=str(unrecorded.pk)).delete()
    backfill(apps, None)
    recorded.refresh_from_db()
    unrecorded.refresh_from_db()
    assert (recorded.not_sent, recorded.cancelled_by) == (6, recorded.sender)
    assert (unrecorded.not_sent, unrecorded.cancelled_by) == (None, None)
    words = sending.cancellation_in_words(unrecorded, sending.campaign_progress(unrecorded))
    assert words.endswith(": 0 sent before cancelling; how many were not sent was not kept.")


@pytest.mark.django_db
def test_cancelling_drops_the_rows_of_a_worker_that_died(tagged, make_campaign, send_now):
    """Claimed by a worker whose claim ran out: no worker will drop them, so the cancel does."""
    from mycareer.mailing import sending, services

    campaign = make_campaign()
    send_now(campaign)
    sending._claim(campaign.pk, 2, "dead")
    OutboxMessage.objects.filter(claim_token="dead").update(
        claim_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert services.campaign_cancel(campaign=campaign, by=campaign.sender) == 6
    # Kept, as not sent because it was cancelled, so the page can say to whom.
    assert set(campaign.messages.values_list("status", "claim_token")) == {("cancelled", "")}


@pytest.mark.django_db
def test_a_message_is_sent_as_it_was_built_and_checked(tagged, make_campaign, send_now):
    """Built once: what the checks in `build_message` saw is what goes on the wire."""
    from mycareer.mailing import sending

    campaign = make_campaign()
    send_now(campaign)
    (row,) = sending._claim(campaign.pk, 1, "mine")
    message = sending.build_message(row, campaign, [], None)
    assert message.message() is message.message()
    assert message.message()["Message-ID"] == row.message_id


@pytest.mark.django_db
def test_a_message_that_fails_for_now_after_the_cancel_is_dropped_not_put_back_to_wait(
    tagged, make_campaign, send_now
):
    """A 4xx for a message the worker held when the campaign was cancelled: waiting again,
    it would never be swept and would count against the frequency limit for ever."""
    import smtplib

    from mycareer.mailing import recipients, sending, services

    campaign = make_campaign()
    send_now(campaign)
    row, *_ = sending._claim(campaign.pk, 6, "alive")
    assert services.campaign_cancel(campaign=campaign, by=campaign.sender) == 6
    refused = smtplib.SMTPRecipientsRefused({row.email: (451, b"4.3.0 Try again later")})
    sending._record_failure(row, "alive", refused, permanent=False)
    row.refresh_from_db()
    assert (row.status, row.next_attempt_at) == (OutboxMessage.Status.CANCELLED, None)
    sending._release("alive", campaign.pk)
    assert set(campaign.messages.values_list("status", flat=True)) == {"cancelled"}
    campaign.refresh_from_db()
    assert campaign.not_sent == 6
    assert recipients.recent_counts({row.email}, now=timezone.now()) == {}


@pytest.mark.django_db
def test_rows_held_by_a_worker_that_died_after_the_cancel_are_dropped_by_the_watchdog(
    tagged, make_campaign, send_now
):
    from mycareer.mailing import recipients, sending, services
    from mycareer.mailing.jobs import campaign_watchdog

    campaign = make_campaign()
    send_now(campaign)
    rows = sending._claim(campaign.pk, 2, "dies")
    services.campaign_cancel(campaign=campaign, by=campaign.sender)
    emails = {row.email for row in rows}
    # Left as they were, they count against the limit: only a campaign still going has any.
    assert recipients.recent_counts(emails, now=timezone.now()) == {}
    OutboxMessage.objects.filter(claim_token="dies").update(
        claim_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    campaign_watchdog.call()
    assert set(campaign.messages.values_list("status", "claim_token")) == {("cancelled", "")}
    campaign.refresh_from_db()
    assert campaign.not_sent == 6


@pytest.mark.django_db
def test_rows_a_cancelled_campaign_left_waiting_do_not_count_against_the_limit(
    tagged, make_campaign, send_now
):
    from mycareer.mailing import recipients, services

    campaign = make_campaign()
    send_now(campaign)
    row = campaign.messages.first()
    assert recipients.recent_counts({row.email}, now=timezone.now()) == {row.email: 1}
    services.campaign_cancel(campaign=campaign, by=campaign.sender)
    # Left waiting by an older release, before waiting rows were swept on cancel.
    campaign.messages.update(status=OutboxMessage.Status.PENDING)
    assert recipients.recent_counts({row.email}, now=timezone.now()) == {}


@pytest.mark.django_db
def test_replies_go_to_the_careers_centre_once_the_sender_has_left(tagged, make_campaign, send_now):
    """Queued (or retried) after its sender's login was closed, a campaign still asked
    replies to go to their address, which nobody reads."""
    from email import message_from_bytes
    from email.policy import default

    from django.core.mail import get_connection

    from mycareer.mailing.sending import build_message

    campaign = make_campaign()
    send_now(campaign)
    row = OutboxMessage.objects.filter(campaign=campaign).first()
    backend = get_connection("django.core.mail.backends.locmem.EmailBackend")
    built = build_message(row, campaign, [], backend).message()
    assert built["Reply-To"] == campaign.sender.email
    sender = campaign.sender
    sender.is_active = False
    sender.save(update_fields=["is_active"])
    campaign.refresh_from_db()
    built = build_message(row, campaign, [], backend).message()
    assert built["Reply-To"] == careers_centre_address()
    parsed = message_from_bytes(built.as_bytes(), policy=default)
    text = " ".join(parsed.get_body(preferencelist=("plain",)).get_content().split())
    assert f"To reach the Careers Centre, write to {careers_centre_address()}" in text
    assert "Reply to this email" not in text
