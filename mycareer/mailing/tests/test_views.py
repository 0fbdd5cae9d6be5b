import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from mycareer.mailing import services
from mycareer.mailing.chart import ChartQuery, chart_data
from mycareer.mailing.models import Campaign, OutboxMessage

pytestmark = pytest.mark.django_db


def test_a_sender_writes_a_campaign_from_a_search_and_sees_who_is_left_out(
    client, persona, cast, tagged, query
):
    from mycareer.organisations import services as org_services

    mailer = persona("mailer")
    org_services.contact_opt_out(
        contact=tagged[0].contacts.first(), purpose="events", method="staff", by=mailer
    )
    client.force_login(mailer)
    form = client.get(reverse("mailing:campaign_create"), {"query": query}).content.decode()
    assert "Mailing+test" in form or "Mailing test" in form
    response = client.post(
        reverse("mailing:campaign_create"),
        {
            "subject": "Spring fair",
            "purpose": "events",
            "unit": cast["units"]["lubs"].pk,
            "body": "Dear {{ first_name }}",
            "recipient_query": query,
        },
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get(subject="Spring fair")
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert "5 will receive it; 1 left out" in page
    assert "Opted out: event promotion" in page
    preview = client.get(reverse("mailing:campaign_preview", args=[campaign.pk])).content.decode()
    assert "Dear Person" in preview


def test_a_bad_campaign_form_keeps_what_was_typed(client, persona):
    client.force_login(persona("mailer"))
    response = client.post(
        reverse("mailing:campaign_create"), {"subject": "", "body": "Keep this body"}
    )
    assert response.status_code == 200
    assert "Keep this body" in response.content.decode()


def test_test_send_goes_to_the_sender(client, persona, cast, tagged, query, mailoutbox):
    mailer = persona("mailer")
    campaign = services.campaign_create(
        sender=mailer,
        unit=cast["units"]["lubs"],
        purpose="events",
        subject="Hi {{ organisation }}",
        body="Hello",
        recipient_query=query,
    )
    client.force_login(mailer)
    client.post(campaign.get_absolute_url(), {"do": "test"})
    assert [m.to for m in mailoutbox] == [["mailer@demo.ac.uk"]]
    assert mailoutbox[0].subject.startswith("[TEST] Hi ")


def test_second_sender_approval_when_the_site_asks(persona, cast, tagged, query, settings):
    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_NEEDS_APPROVAL": True}
    mailer, admin = persona("mailer"), persona("admin")
    campaign = services.campaign_create(
        sender=mailer,
        unit=cast["units"]["lubs"],
        purpose="events",
        subject="S",
        body="B",
        recipient_query=query,
    )
    services.campaign_send(campaign=campaign, by=mailer)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.AWAITING_APPROVAL
    assert not campaign.messages.exists()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.campaign_approve(campaign=campaign, by=mailer)
    services.campaign_approve(campaign=campaign, by=admin)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.QUEUED
    assert campaign.messages.count() == 6


def test_chart_counts_emails_per_month_and_unit(client, persona, cast, tagged):
    admin = persona("admin")
    contact = tagged[0].contacts.first()
    campaign = Campaign.objects.create(
        sender=admin, unit=cast["units"]["mech"], subject="x", body="x", status="sent"
    )
    OutboxMessage.objects.create(
        campaign=campaign,
        contact=contact,
        email="chart@example.com",
        status="sent",
        sent_at=timezone.now() - datetime.timedelta(hours=1),
        organisation_id_at_send=tagged[0].pk,
    )
    data = chart_data(ChartQuery(organisation=tagged[0].pk))
    assert data.series == {"School of Mechanical Engineering": [0] * 11 + [1]}
    client.force_login(persona("viewer"))
    page = client.get(reverse("mailing:chart"), {"organisation": tagged[0].pk})
    assert page.status_code == 200 and "School of Mechanical Engineering" in page.content.decode()
    png = client.get(reverse("mailing:chart_png"), {"organisation": tagged[0].pk})
    assert png["Content-Type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    csv = b"".join(
        client.get(reverse("mailing:chart_csv"), {"organisation": tagged[0].pk}).streaming_content
    )
    assert csv.decode().splitlines()[0] == "period,School of Mechanical Engineering,total"
    client.force_login(persona("student"))
    assert client.get(reverse("mailing:chart")).status_code == 403


def test_demo_campaigns_give_the_chart_a_story(cast):
    data = chart_data(ChartQuery())
    assert sum(data.totals) > 100
    assert len([t for t in data.totals if t]) >= 8


def test_sent_emails_appear_on_the_organisation_timeline(client, persona, cast):
    from mycareer.organisations.models import Organisation

    message = OutboxMessage.objects.filter(status="sent").select_related("campaign").first()
    org = Organisation.objects.get(pk=message.organisation_id_at_send)
    client.force_login(persona("viewer"))
    body = client.get(org.get_absolute_url()).content.decode()
    assert "Email" in body and message.campaign.subject in body
