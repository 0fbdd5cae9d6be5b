"""The bulk email pages as a sender uses them: from a search to a confirmed send."""

import datetime
import re
from urllib.parse import urlencode

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from mycareer.audit.models import AuditEntry
from mycareer.core.tests.html_forms import as_post, form_fields
from mycareer.mailing import services
from mycareer.mailing.chart import ChartQuery, chart_data
from mycareer.mailing.models import Campaign, LeftOut, OutboxMessage
from mycareer.organisations import services as org_services
from mycareer.organisations.models import Contact, Organisation

pytestmark = pytest.mark.django_db

CREATE = reverse("mailing:campaign_create")


def page(response) -> str:
    return response.content.decode()


def test_writing_starts_by_choosing_recipients_never_everyone(client, persona):
    client.force_login(persona("mailer"))
    body = page(client.get(CREATE))
    assert "First choose who receives it" in body
    assert 'name="subject"' not in body  # no campaign without recipients
    assert "Every employer contact" not in body  # administrators only


def test_from_a_search_to_a_draft(client, persona, cast, tagged):
    mailer = persona("mailer")
    org_services.contact_opt_out(
        contact=tagged[0].contacts.first(), purpose="events", method="staff", by=mailer
    )
    client.force_login(mailer)
    search = client.get(reverse("organisations:search"), {"tags_all": "Mailing test"})
    link = re.search(r'href="(/email/new/\?[^"]+)">Email these', page(search)).group(1)
    form_page = client.get(link.replace("&amp;", "&"))
    body = page(form_page)
    assert "Organisations tagged Mailing test" in body
    assert '<strong data-count="included">5</strong> contacts will receive it' in body
    data = as_post(form_fields(body, containing="subject"))
    data.update(subject=["Spring fair"], body=["Dear {{ first_name }}"])
    response = client.post(CREATE, data)
    assert response.status_code == 302
    campaign = Campaign.objects.get(subject="Spring fair")
    assert campaign.recipient_filters == {"tags_all": ["Mailing test"]}
    detail = page(client.get(campaign.get_absolute_url()))
    assert "Opted out: event promotion" in detail
    preview = page(client.get(reverse("mailing:campaign_preview", args=[campaign.pk])))
    assert "Dear Person" in preview


def _unit_menu(body: str) -> str:
    return re.search(r'<select name="unit".*?</select>', body, re.S).group(0)


def test_a_sender_in_one_unit_sends_from_it_and_one_in_several_chooses(
    client, persona, cast, tagged
):
    """The menu offered a blank "---------" beside the one unit a sender works in; one in
    several found the first of them chosen for them."""
    from mycareer.accounts.models import StaffMembership

    mailer = persona("mailer")
    client.force_login(mailer)
    form_page = {"tags_all": "Mailing test"}
    lubs = cast["units"]["lubs"]
    menu = _unit_menu(page(client.get(CREATE, form_page)))
    assert 'value=""' not in menu and "---------" not in menu
    assert re.findall(r'<option value="(\d+)"( selected)?>', menu) == [(str(lubs.pk), " selected")]

    StaffMembership.objects.create(user=mailer, unit=cast["units"]["mech"])
    body = page(client.get(CREATE, form_page))
    menu = _unit_menu(body)
    assert '<option value="" selected>---------</option>' in menu
    assert " selected" not in menu.replace('value="" selected', "")
    data = as_post(form_fields(body, containing="subject"))
    data.update(subject=["Spring fair"], body=["Dear {{ first_name }}"])
    refused = client.post(CREATE, data)
    assert refused.status_code == 200 and not Campaign.objects.filter(subject="Spring fair")
    assert 'value="Spring fair"' in page(refused)
    assert "Choose the unit it is sent from." in page(refused)


def test_an_unknown_filter_is_refused_on_the_page(client, persona):
    client.force_login(persona("mailer"))
    body = page(client.get(CREATE, {"q": "Northbridge"}))
    assert "The search has a filter it does not know: “q”." in body
    assert 'name="subject"' not in body
    response = client.post(CREATE, {"subject": "S", "purpose": "events", "body": "B"})
    assert response.status_code == 200  # no recipients chosen: the form says so
    assert "Choose who receives it" in page(response)
    assert not Campaign.objects.filter(subject="S").exists()


def test_a_search_that_went_while_the_form_was_open_is_refused_keeping_the_words(
    client, persona, tagged
):
    """The sector the search chose was removed before "Save the draft": a server error,
    and the subject and message typed were lost."""
    from mycareer.organisations.models import Sector

    sector = Sector.objects.create(name="Short-lived sector", slug="short-lived")
    tagged[0].sector = sector
    tagged[0].save(update_fields=["sector"])
    client.force_login(persona("mailer"))
    body = page(client.get(CREATE, {"sectors": sector.pk}))
    data = as_post(form_fields(body, containing="subject"))
    data.update(subject=["Spring fair"], body=["Dear {{ first_name }}"])
    Organisation.objects.filter(sector=sector).update(sector=None)
    sector.delete()
    response = client.post(CREATE, data)
    assert response.status_code == 200
    shown = page(response)
    assert "the “Sector” it chose is not in MyCareer" in shown
    assert "Choose the recipients again" in shown
    assert 'value="Spring fair"' in shown
    assert not Campaign.objects.filter(subject="Spring fair").exists()


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_tick_box_neither_yes_nor_no_is_refused_not_taken_for_everyone_archived(
    client, persona, tagged, value
):
    """`include_archived=maybe` widened the recipients to archived organisations."""
    client.force_login(persona("mailer"))
    body = page(client.get(CREATE, {"tags_all": "Mailing test", "include_archived": value}))
    assert f"“{value}” is not a yes or a no" in body
    assert 'name="subject"' not in body


@pytest.mark.parametrize("value", ["0", "no", "off"])
def test_a_tick_box_that_says_no_chooses_no_archived_organisation(client, persona, tagged, value):
    from mycareer.mailing.views import _parse_search
    from mycareer.organisations.search import OrganisationSearchForm

    form = OrganisationSearchForm({"tags_all": "Mailing test", "include_archived": value})
    assert form.is_valid() and form.cleaned_data["include_archived"] is False
    request = RequestFactory().get(CREATE, {"tags_all": "Mailing test", "include_archived": value})
    request.user = persona("mailer")
    chosen, _, errors = _parse_search(request)
    assert errors == [] and not chosen.get("include_archived")


def test_a_bad_campaign_form_keeps_what_was_typed(client, persona, tagged):
    client.force_login(persona("mailer"))
    body = page(client.get(CREATE, {"tags_all": "Mailing test"}))
    data = as_post(form_fields(body, containing="subject"))
    data.update(subject=[""], body=["Keep this body"])
    response = client.post(CREATE, data)
    assert response.status_code == 200
    assert "Keep this body" in page(response)
    assert "Mailing test" in page(response)  # the recipients are still chosen


def test_the_form_offers_each_kind_of_email_but_not_all_of_them(client, persona, tagged):
    client.force_login(persona("mailer"))
    body = page(client.get(CREATE, {"tags_all": "Mailing test"}))
    assert 'value="vacancies"' in body and 'value="all"' not in body
    data = as_post(form_fields(body, containing="subject"))
    data.update(subject=["Every kind"], body=["Words kept"], purpose=["all"])
    response = client.post(CREATE, data)
    assert response.status_code == 200
    assert "Select a valid choice" in page(response) and "Words kept" in page(response)
    assert not Campaign.objects.filter(subject="Every kind").exists()


@pytest.mark.usefixtures("northbridge")
def test_the_edit_form_round_trips_and_never_widens_the_recipients(
    client, persona, cast, make_campaign
):
    """The walkthrough's one-recipient draft that became 109 after an edit of its body."""
    mailer = persona("mailer")
    northbridge = {"text": "Northbridge"}
    campaign = make_campaign(recipient_filters=northbridge, promoted_events=[])
    before = [c.pk for c in services.campaign_recipients(campaign).included]
    assert 0 < len(before) < 5
    client.force_login(mailer)
    edit = reverse("mailing:campaign_edit", args=[campaign.pk])
    saved = Campaign.objects.values().get(pk=campaign.pk)
    data = as_post(form_fields(page(client.get(edit)), containing="subject"))
    assert "recipient_filters" not in data and "recipient_query" not in data
    assert client.post(edit, data).status_code == 302
    assert Campaign.objects.values().get(pk=campaign.pk) == saved  # unchanged, field for field
    data["body"] = ["New words only"]
    client.post(edit, data)
    campaign.refresh_from_db()
    assert campaign.body == "New words only"
    assert campaign.recipient_filters == northbridge
    assert [c.pk for c in services.campaign_recipients(campaign).included] == before


def test_a_draft_saved_unchanged_from_a_browser_says_nothing_was_changed(
    client, persona, make_campaign
):
    """Its body has line breaks, which a browser sends as "\\r\\n": the same words, so
    nothing is written or recorded, and the recipients are the same people."""
    campaign = make_campaign()
    assert "\n\n" in campaign.body
    recipients = [c.pk for c in services.campaign_recipients(campaign).included]
    stored = Campaign.objects.values().get(pk=campaign.pk)
    client.force_login(persona("mailer"))
    edit = reverse("mailing:campaign_edit", args=[campaign.pk])
    shown = page(client.get(edit))
    data = as_post(form_fields(shown, containing="subject", line_breaks="\r\n"))
    assert "\r\n\r\n" in data["body"][0]

    response = client.post(edit, data, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Nothing was changed."]
    assert Campaign.objects.values().get(pk=campaign.pk) == stored
    assert not AuditEntry.objects.filter(action="mailing.campaign.changed").exists()
    assert [c.pk for c in services.campaign_recipients(campaign).included] == recipients

    data["body"] = [data["body"][0] + "\r\n\r\nSee you there."]
    response = client.post(edit, data, follow=True)
    said = [str(m) for m in response.context["messages"]]
    assert said == ["The draft is saved. Its recipients are as they were."]
    campaign.refresh_from_db()
    assert campaign.body == stored["body"] + "\n\nSee you there."
    assert AuditEntry.objects.get(action="mailing.campaign.changed").data == {"fields": ["body"]}
    assert [c.pk for c in services.campaign_recipients(campaign).included] == recipients


def test_a_refused_edit_keeps_what_was_typed_under_the_saved_subject(
    client, persona, make_campaign
):
    """The heading and the page's title showed the subject typed, which was not saved."""
    campaign = make_campaign()
    client.force_login(persona("mailer"))
    edit = reverse("mailing:campaign_edit", args=[campaign.pk])
    data = as_post(form_fields(page(client.get(edit)), containing="subject"))
    data.update(subject=["Spring fair, typed"], body=[""])
    refused = client.post(edit, data)
    assert refused.status_code == 200
    shown = page(refused)
    heading = re.search(r"<h1>(.*?)</h1>", shown, re.S).group(1)
    title = re.search(r"<title>(.*?)</title>", shown, re.S).group(1)
    assert "Fair for {{ organisation }}" in heading and "Fair for {{ organisation }}" in title
    assert "typed" not in heading and "typed" not in title
    assert 'value="Spring fair, typed"' in shown  # what was typed is kept in the form
    campaign.refresh_from_db()
    assert campaign.subject == "Fair for {{ organisation }}"


def test_changing_the_kind_of_email_says_how_the_recipients_changed(
    client, persona, tagged, make_campaign
):
    """The page said "its recipients are as they were" after a change of kind had left
    out everyone who opted out of the new kind."""
    opted = tagged[0].contacts.order_by("email").first()
    org_services.contact_opt_out(contact=opted, purpose="vacancies", method="link", by=None)
    campaign = make_campaign(purpose="events")
    client.force_login(persona("mailer"))
    edit = reverse("mailing:campaign_edit", args=[campaign.pk])
    data = as_post(form_fields(page(client.get(edit)), containing="subject"))
    assert "who opted out of this kind" in page(client.get(edit))
    data["purpose"] = ["vacancies"]
    done = page(client.post(edit, data, follow=True))
    assert "People who opted out of its new kind are left out: 6 recipients before, 5 now." in (
        done
    )
    campaign.refresh_from_db()
    assert opted not in services.campaign_recipients(campaign).included
    entry = AuditEntry.objects.filter(action="mailing.campaign.changed").latest("at")
    assert entry.data == {"fields": ["purpose"], "recipients": {"before": 6, "after": 5}}
    data = as_post(form_fields(page(client.get(edit)), containing="subject"))
    data["body"] = ["Other words"]
    assert "Its recipients are as they were." in page(client.post(edit, data, follow=True))


def test_a_subject_with_a_merge_field_not_typed_whole_is_refused_and_kept_on_the_form(
    client, persona, make_campaign
):
    with pytest.raises(ValidationError) as refused:
        make_campaign(subject="Our fair, {{ organisation")
    assert "not a whole merge field" in refused.value.message_dict["subject"][0]
    campaign = make_campaign()
    client.force_login(persona("mailer"))
    edit = reverse("mailing:campaign_edit", args=[campaign.pk])
    data = as_post(form_fields(page(client.get(edit)), containing="subject"))
    data["subject"] = ["Our fair, {{ last_name }}"]
    shown = page(client.post(edit, data))
    assert "Unknown merge field {{ last_name }}" in shown
    assert 'value="Our fair, {{ last_name }}"' in shown
    campaign.refresh_from_db()
    assert campaign.subject == "Fair for {{ organisation }}"


def test_a_draft_that_reaches_nobody_is_not_offered_for_sending(client, persona, make_campaign):
    """The send page asked to type 0 to send an email to nobody."""
    campaign = make_campaign(recipient_filters={"text": "No organisation has this name"})
    client.force_login(persona("mailer"))
    detail = page(client.get(campaign.get_absolute_url()))
    assert reverse("mailing:campaign_send", args=[campaign.pk]) not in detail
    done = client.get(reverse("mailing:campaign_send", args=[campaign.pk]), follow=True)
    assert done.redirect_chain[-1][0] == campaign.get_absolute_url()
    assert "Nobody would receive this campaign now" in page(done)


def test_an_unchanged_save_keeps_promoted_events_beyond_the_offered_weeks(
    client, persona, make_campaign, shared_events
):
    """The form offers the next twelve weeks; an event the draft chose further ahead must
    stay chosen, and one that can no longer be promoted is named, not dropped unseen."""
    from mycareer.events import services as event_services
    from mycareer.events.tests.factories import at, far_monday, make_event

    far = make_event(
        by=persona("manager"),
        title="Summer internships showcase",
        starts_at=at(far_monday(30), 10),
        open_to_employers=True,
        publish=True,
    )
    cancelled = shared_events[1]
    campaign = make_campaign(promoted_events=[shared_events[0].pk, far.pk, cancelled.pk])
    event_services.event_cancel(event=cancelled, by=persona("manager"), reason="Room lost")
    client.force_login(persona("mailer"))
    edit = reverse("mailing:campaign_edit", args=[campaign.pk])
    shown = page(client.get(edit))
    assert f"{cancelled.title}, " in shown and "(cancelled)" in shown
    data = as_post(form_fields(shown, containing="subject"))
    assert client.post(edit, data).status_code == 302
    campaign.refresh_from_db()
    assert sorted(campaign.promoted_events) == sorted([shared_events[0].pk, far.pk])


def test_a_promoted_event_cancelled_since_is_named_where_the_draft_is_checked_and_sent(
    client, persona, make_campaign, shared_events
):
    """Only the edit form said a chosen event had been cancelled: the draft's page and the
    send page listed the events left, and the message may still invite people to it."""
    from mycareer.events import services as event_services

    kept, cancelled = shared_events[0], shared_events[1]
    campaign = make_campaign(promoted_events=[kept.pk, cancelled.pk])
    event_services.event_cancel(event=cancelled, by=persona("manager"), reason="Room lost")
    client.force_login(persona("mailer"))
    said = "1 event this draft chose can no longer be promoted, so it is not in the email:"
    for url in (
        campaign.get_absolute_url(),
        reverse("mailing:campaign_send", args=[campaign.pk]),
    ):
        shown = page(client.get(url))
        assert said in shown and f"{cancelled.title}, " in shown and "(cancelled)" in shown
    services.campaign_send(campaign=campaign, by=campaign.sender, confirmed=6)
    assert said not in page(client.get(campaign.get_absolute_url()))


def test_events_promoted_from_another_tab_stay_promoted_as_numbers(
    client, persona, make_campaign, shared_events
):
    """A page opened before the promoted events were chosen elsewhere, saved with a new
    body, keeps those events (as the numbers a campaign holds) and its own body."""
    from mycareer.mailing import services

    campaign = make_campaign(promoted_events=[])
    mailer = persona("mailer")
    client.force_login(mailer)
    edit = reverse("mailing:campaign_edit", args=[campaign.pk])
    data = as_post(form_fields(page(client.get(edit)), containing="subject"))
    services.campaign_update(campaign=campaign, by=mailer, promoted_events=[shared_events[0].pk])
    assert client.post(edit, {**data, "body": ["A new body."]}).status_code == 302
    campaign.refresh_from_db()
    assert campaign.promoted_events == [shared_events[0].pk]
    assert campaign.body == "A new body."
    assert "can no longer be promoted" not in page(client.get(campaign.get_absolute_url()))


def test_only_the_sender_opens_the_edit_pages(client, persona, make_campaign):
    campaign = make_campaign()
    client.force_login(persona("admin"))
    for name in ("mailing:campaign_edit", "mailing:campaign_recipients", "mailing:campaign_send"):
        assert client.get(reverse(name, args=[campaign.pk])).status_code == 403
    assert client.get(campaign.get_absolute_url()).status_code == 200


def test_changing_the_recipients_shows_the_number_before_and_after(client, persona, make_campaign):
    campaign = make_campaign()
    client.force_login(persona("mailer"))
    url = reverse("mailing:campaign_recipients", args=[campaign.pk])
    start = page(client.get(url))
    assert 'value="Mailing test"' in start  # the search as it is now, to change
    proposed = page(client.get(url, {"preview": "1", "tags_all": "Mailing test", "text": "Aurora"}))
    assert "From <strong>6</strong> to <strong>2</strong> recipients." in proposed
    data = as_post(form_fields(proposed, containing="recipient_filters"))
    response = client.post(url, data, follow=True)
    assert "Recipients changed: 6 before, 2 now." in page(response)
    campaign.refresh_from_db()
    assert campaign.recipient_filters == {"text": "Aurora", "tags_all": ["Mailing test"]}


def test_sending_is_confirmed_with_the_number(client, persona, make_campaign, tagged):
    campaign = make_campaign()
    client.force_login(persona("mailer"))
    url = reverse("mailing:campaign_send", args=[campaign.pk])
    confirm = page(client.get(url))
    assert "It goes to 6 recipients" in confirm and "Fair for {{ organisation }}" in confirm
    data = as_post(form_fields(confirm, containing="confirmed"))
    response = client.post(url, {**data, "confirmed": "60"})
    assert "Type the number shown: 6. You typed 60." in page(response)
    for typed in ("12345678901234567890", "-6"):
        response = client.post(url, {**data, "confirmed": typed})
        assert f"Type the number shown: 6. You typed {typed}." in page(response)
    assert not campaign.messages.exists()
    # Someone is added before the sender confirms: the count is checked again.
    org_services.contact_create(
        organisation=tagged[0], by=persona("operator"), full_name="Late Comer", email="l@a.test"
    )
    response = client.post(url, {**data, "confirmed": "6"}, follow=True)
    assert "it is now 7 (you confirmed 6)" in page(response)
    assert not campaign.messages.exists()
    again = as_post(form_fields(page(response), containing="confirmed"))
    response = client.post(url, {**again, "confirmed": "7"}, follow=True)
    assert "on its way to 7 recipients" in page(response)
    assert campaign.messages.count() == 7


def test_the_send_page_reloaded_after_sending_says_it_went_and_nothing_more(
    client, persona, make_campaign
):
    """Reloading the send page, or pressing Send on it from history, said only "This
    campaign is not waiting for that": the sender could not tell whether it had gone."""
    campaign = make_campaign()
    client.force_login(persona("mailer"))
    url = reverse("mailing:campaign_send", args=[campaign.pk])
    services.campaign_send(campaign=campaign, by=persona("mailer"), confirmed=6)
    for request in (client.get, client.post):
        response = request(url, follow=True)
        assert response.redirect_chain == [(campaign.get_absolute_url(), 302)]
        assert "already on its way: nothing more was sent" in page(response)
    assert campaign.messages.count() == 6
    services.campaign_cancel(campaign=campaign, by=persona("mailer"))
    shown = page(client.get(url, follow=True))
    assert "This campaign was cancelled: it cannot be sent." in shown
    approve = reverse("mailing:campaign_approve", args=[make_campaign().pk])
    shown = page(client.get(approve, follow=True))
    assert "not waiting for approval: its sender has not sent it" in shown


def test_the_second_of_two_tabs_sending_at_once_lands_on_the_campaign_not_a_send_button(
    client, persona, make_campaign, tagged, monkeypatch
):
    """Both tabs found a draft; the first sent it while the second was on its way. The
    second was shown the send page again, "It goes to 6 recipients" and its button."""
    campaign = make_campaign()
    client.force_login(persona("mailer"))
    url = reverse("mailing:campaign_send", args=[campaign.pk])
    data = as_post(form_fields(page(client.get(url)), containing="confirmed"))
    send = services.campaign_send

    def the_other_tab_first(**kwargs):
        send(**kwargs)  # the first tab's press, a moment earlier
        return send(**kwargs)

    monkeypatch.setattr(services, "campaign_send", the_other_tab_first)
    response = client.post(url, {**data, "confirmed": "6"})
    assert response.status_code == 302 and response.url == campaign.get_absolute_url()
    shown = page(client.get(response.url))
    assert "This campaign has already been sent or queued." in shown
    assert campaign.messages.count() == 6


def test_a_send_page_of_other_people_of_the_same_number_sends_nothing(
    client, persona, make_campaign, tagged
):
    campaign = make_campaign()
    client.force_login(persona("mailer"))
    url = reverse("mailing:campaign_send", args=[campaign.pk])
    data = as_post(form_fields(page(client.get(url)), containing="confirmed"))
    assert data["fingerprint"] != [""]
    # In another tab: one left out, one added; still 6.
    services.campaign_leave_out(
        campaign=campaign,
        contact=tagged[0].contacts.order_by("email").first(),
        reason="Moved on",
        by=persona("mailer"),
    )
    org_services.contact_create(
        organisation=tagged[1], by=persona("operator"), full_name="New Comer", email="n@b.test"
    )
    response = client.post(url, {**data, "confirmed": "6"}, follow=True)
    assert "still 6, but not the same people" in page(response)
    assert not campaign.messages.exists()
    # A page without the hidden fields (out of date) is shown again, nothing sent.
    response = client.post(url, {"confirmed": "6"}, follow=True)
    assert "That page was out of date" in page(response)
    assert not campaign.messages.exists()
    again = as_post(form_fields(page(response), containing="confirmed"))
    response = client.post(url, {**again, "confirmed": "6"}, follow=True)
    assert "on its way to 6 recipients" in page(response)
    assert campaign.messages.filter(email="n@b.test").exists()


def test_the_sender_leaves_someone_out_from_the_list(client, persona, make_campaign, tagged):
    campaign = make_campaign()
    contact = tagged[0].contacts.order_by("email").first()
    client.force_login(persona("mailer"))
    client.post(
        campaign.get_absolute_url(),
        {"do": "leave_out", "contact": contact.pk, "reason": "On leave until March"},
    )
    assert LeftOut.objects.get(campaign=campaign).reason == "On leave until March"
    detail = page(client.get(campaign.get_absolute_url()))
    assert "Left out by the sender: On leave until March" in detail
    assert "Put back" in detail
    client.post(campaign.get_absolute_url(), {"do": "put_back", "contact": contact.pk})
    assert not LeftOut.objects.filter(campaign=campaign).exists()


def test_a_key_contact_left_out_has_an_ask_to_contact_link(client, persona, cast, make_campaign):
    from mycareer.organisations import keyaccounts

    campaign = make_campaign()
    contact = Contact.objects.filter(organisation__name="Aurora Optics").order_by("pk").first()
    account = keyaccounts.key_account_create(
        organisation=contact.organisation,
        operator=persona("operator"),
        unit=cast["units"]["mech"],
        by=persona("admin"),
    )
    keyaccounts.key_contact_mark(account=account, contact=contact, guidance="", by=account.operator)
    client.force_login(persona("mailer"))
    detail = page(client.get(campaign.get_absolute_url()))
    ask = reverse(
        "organisations:liaison_request_create", args=[contact.organisation_id, contact.pk]
    )
    link = f"{ask}?next={campaign.get_absolute_url()}"
    assert f'href="{link}"' in detail
    # Having asked, the sender is back on the campaign, not on the contact's page.
    form = page(client.get(link))
    assert f'href="{campaign.get_absolute_url()}">Cancel' in form
    data = {"reason": "Spring fair", "proposed_engagement": "One invitation"}
    response = client.post(link, data)
    assert response.status_code == 302
    assert response["Location"] == campaign.get_absolute_url()
    # Asked and not yet answered, the list says so, where it offered to ask again (and the
    # page it led to refused only once the request was typed again).
    request = contact.key_links.get().liaison_requests.get()
    detail = page(client.get(campaign.get_absolute_url()))
    assert f'href="{link}"' not in detail
    assert (
        f'<a href="{reverse("organisations:liaison_request", args=[request.pk])}">'
        f"Asked Tom Bennett on {request.created_at:%-d %b %Y}: waiting for an answer"
    ) in detail
    again = page(client.get(link))
    assert "You asked Tom Bennett on" in again and 'name="reason"' not in again


def test_another_senders_draft_offers_no_liaison_of_ones_own(client, persona, cast, make_campaign):
    """On a colleague's draft, the left-out list offered "Ask to contact" and showed the
    reader's own request as waiting, as if it could change who that draft reaches: who
    is left out is worked out for its sender."""
    from mycareer.organisations import keyaccounts

    campaign = make_campaign(sender=persona("admin"), unit=cast["units"]["careers"])
    contact = Contact.objects.filter(organisation__name="Aurora Optics").order_by("pk").first()
    account = keyaccounts.key_account_create(
        organisation=contact.organisation,
        operator=persona("operator"),
        unit=cast["units"]["mech"],
        by=persona("admin"),
    )
    keyaccounts.key_contact_mark(account=account, contact=contact, guidance="", by=account.operator)
    keyaccounts.liaison_request_create(
        requester=persona("mailer"), contact=contact, reason="Fair", proposed_engagement="One"
    )
    client.force_login(persona("mailer"))
    detail = page(client.get(campaign.get_absolute_url()))
    assert "key contact of Tom Bennett" in detail
    assert "Ask to contact" not in detail
    assert "waiting for an answer" not in detail


def test_the_left_out_key_contacts_cost_the_same_queries_however_many(
    client, persona, cast, make_campaign
):
    """Each key contact left out was looked up on its own: its blockers and its requests
    still waiting, two or three queries a contact."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mycareer.organisations import keyaccounts

    campaign = make_campaign()
    contacts = list(Contact.objects.filter(organisation__name="Aurora Optics").order_by("pk"))
    account = keyaccounts.key_account_create(
        organisation=contacts[0].organisation,
        operator=persona("operator"),
        unit=cast["units"]["mech"],
        by=persona("admin"),
    )
    client.force_login(persona("mailer"))

    def queries_with(marked: int) -> int:
        for contact in contacts[:marked]:
            if not contact.key_links.exists():
                keyaccounts.key_contact_mark(
                    account=account, contact=contact, guidance="", by=account.operator
                )
        page(client.get(campaign.get_absolute_url()))  # the session settles
        with CaptureQueriesContext(connection) as captured:
            shown = page(client.get(campaign.get_absolute_url()))
        assert shown.count("Ask to contact") >= marked
        return len(captured.captured_queries)

    assert len(contacts) == 2
    assert queries_with(1) == queries_with(2)


def test_the_preview_frame_shows_the_email_sandboxed(client, persona, make_campaign):
    campaign = make_campaign(body="**Dear** {{ first_name }}")
    client.force_login(persona("mailer"))
    preview = page(client.get(reverse("mailing:campaign_preview", args=[campaign.pk])))
    src = re.search(r'<iframe[^>]* sandbox src="([^"]+)"', preview).group(1)
    frame = client.get(src.replace("&amp;", "&"))
    assert frame.status_code == 200
    assert "<strong>Dear</strong> Person" in page(frame)
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    assert frame["Content-Security-Policy"].startswith("sandbox;")
    assert "script-src" not in frame["Content-Security-Policy"]


def test_every_link_in_a_campaign_opens_for_its_reader_without_an_account(
    client, persona, make_campaign, tagged, shared_events
):
    from mycareer.mailing.content import render_for
    from mycareer.mailing.crosspromotion import events_for
    from mycareer.mailing.unsubscribe import unsubscribe_url

    shared = shared_events[:2]
    campaign = make_campaign(promoted_events=[event.pk for event in shared])
    contact = services.campaign_recipients(campaign).included[0]
    content = render_for(
        campaign,
        contact,
        events=events_for(campaign),
        unsubscribe_url=unsubscribe_url(contact.pk, campaign.purpose),
    )
    from django.conf import settings

    links = set(re.findall(r'href="([^"]+)"', content["html"]))
    links |= set(re.findall(r"https?://\S+", content["text"]))
    ours = {link for link in links if link.startswith(settings.SITE_URL)}
    assert len(ours) >= 3  # two events and the unsubscribe link
    client.logout()
    for link in ours:
        response = client.get(link.removeprefix(settings.SITE_URL))
        assert response.status_code == 200, link
    event = shared[0]
    assert event.title in page(client.get(event.get_public_url()))


def test_the_unsubscribe_link_in_a_test_copy_or_preview_unsubscribes_nobody(
    client, persona, make_campaign, mailoutbox
):
    """A sender opens every link of their test copy: its unsubscribe link is the real
    recipient's, so pressing it there must not opt that employer contact out."""
    from django.conf import settings

    from mycareer.organisations.models import EmailOptOut

    campaign = make_campaign()
    contact = services.campaign_recipients(campaign).included[0]
    client.force_login(persona("mailer"))
    client.post(reverse("mailing:campaign", args=[campaign.pk]), {"do": "test"})
    [copy] = mailoutbox
    preview = page(client.get(reverse("mailing:campaign_preview", args=[campaign.pk])))
    for text in (copy.body, preview):
        link = re.search(r"(https?://\S+/email/unsubscribe/[^/\s]+/)", text).group(1)
        url = link.removeprefix(settings.SITE_URL)
        shown = page(client.get(url))
        assert "test copy" in shown and contact.full_name in shown
        assert ">Unsubscribe</button>" not in shown
        client.post(url)
        assert not EmailOptOut.objects.filter(contact=contact).exists()


def test_only_events_open_to_employers_or_the_public_are_offered(
    client, persona, tagged, shared_events
):
    client.force_login(persona("mailer"))
    body = page(client.get(CREATE, {"tags_all": "Mailing test"}))
    shared, students_only = shared_events[0], shared_events[-1]
    assert f'value="{shared.pk}"' in body
    assert f'value="{students_only.pk}"' not in body


def test_cancelling_says_how_many_messages_will_not_go(client, persona, make_campaign, send_now):
    campaign = make_campaign()
    send_now(campaign)
    client.force_login(persona("mailer"))
    url = reverse("mailing:campaign_cancel", args=[campaign.pk])
    assert "<strong>6</strong> messages not yet sent will be dropped" in page(client.get(url))
    response = client.post(url, follow=True)
    assert "Cancelled; 6 messages not sent." in page(response)
    # The campaign's page says what happened, where it read "0 sent, 0 left, 0 failed, of 0".
    shown = page(client.get(campaign.get_absolute_url()))
    today = timezone.localdate()
    assert (
        f"Cancelled on {today.day} {today:%B %Y} by {campaign.sender}: "
        "0 sent before cancelling, 6 not sent."
    ) in shown
    assert "of 0" not in shown
    # Pressed again (a double click, a page left open): it says so, not "finished".
    again = page(client.post(url, follow=True))
    assert "This campaign is already cancelled." in again
    assert "has finished" not in again


def test_a_campaign_waiting_for_approval_is_on_the_other_senders_home_page(
    client, persona, make_campaign, settings
):
    """Its sender was told "another designated sender must approve it", and no other
    sender was told anything: it waited unseen until someone opened the campaign list."""
    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_NEEDS_APPROVAL": True}
    campaign = make_campaign()
    services.campaign_send(campaign=campaign, by=campaign.sender, confirmed=6)
    client.force_login(persona("admin"))
    home = page(client.get("/"))
    assert "Bulk email to approve" in home
    assert "1 campaign waits for a second designated sender's approval" in home
    assert f'<a href="{campaign.get_absolute_url()}">Fair for {{{{ organisation }}}}</a>' in home
    for who in ("mailer", "viewer", "operator"):  # its own sender; no bulk email
        client.force_login(persona(who))
        assert "Bulk email to approve" not in page(client.get("/"))
    services.campaign_approve(campaign=campaign, by=persona("admin"), confirmed=6)
    client.force_login(persona("admin"))
    assert "Bulk email to approve" not in page(client.get("/"))


def test_the_sender_is_refused_the_approve_page_before_typing_the_number(
    client, persona, make_campaign, settings
):
    """The sender's own campaign opened its approve page, took the typed number and only
    then said another sender must approve it."""
    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_NEEDS_APPROVAL": True}
    campaign = make_campaign()
    services.campaign_send(campaign=campaign, by=campaign.sender, confirmed=6)
    client.force_login(campaign.sender)
    approve = reverse("mailing:campaign_approve", args=[campaign.pk])
    response = client.get(approve, follow=True)
    assert response.redirect_chain == [(campaign.get_absolute_url(), 302)]
    assert "Another designated sender must approve your campaign." in page(response)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.AWAITING_APPROVAL


def test_the_approver_is_shown_what_the_sender_must_correct_before_it_goes(
    client, persona, make_campaign, settings
):
    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_NEEDS_APPROVAL": True}
    campaign = make_campaign()
    services.campaign_send(campaign=campaign, by=campaign.sender, confirmed=6)
    Campaign.objects.filter(pk=campaign.pk).update(subject="News for {{ last_name }}")
    client.force_login(persona("admin"))
    approve = reverse("mailing:campaign_approve", args=[campaign.pk])
    data = as_post(form_fields(page(client.get(approve)), containing="confirmed"))
    said = page(client.post(approve, {**data, "confirmed": "6"}))
    assert "Unknown merge field {{ last_name }}" in said
    assert f"Ask {campaign.sender} to take the campaign back to draft and correct it" in said
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.AWAITING_APPROVAL


def test_cancelling_while_waiting_for_approval_says_nothing_was_sent(
    client, persona, make_campaign, settings
):
    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_NEEDS_APPROVAL": True}
    campaign = make_campaign()
    services.campaign_send(campaign=campaign, by=campaign.sender, confirmed=6)
    client.force_login(persona("mailer"))
    waiting = page(client.get(campaign.get_absolute_url()))
    assert "of 0" not in waiting  # no progress before anything is queued
    url = reverse("mailing:campaign_cancel", args=[campaign.pk])
    shown = page(client.post(url, follow=True))
    assert "Cancelled while it waited for approval: nothing was sent." in shown
    assert "while it waited for approval: nothing was sent." in shown.split("</h1>", 1)[1]
    assert "0 messages not sent" not in shown and "0 not sent" not in shown


@pytest.mark.django_db
def test_the_chart_tells_two_organisations_of_one_name_apart(client, persona):
    """Suggestions number namesakes ("Acme Ltd (no. 42)"); the chart reads that back, and
    opened from one of them it shows the number, so showing it again keeps the same one."""
    from mycareer.organisations.tests.factories import make_organisation

    first = make_organisation("Quarry Hill Partners", by=persona("operator"))
    second = make_organisation("Quarry Hill Partners", by=persona("operator"))
    client.force_login(persona("viewer"))
    chart = reverse("mailing:chart")
    bare = page(client.get(chart, {"organisation_name": "Quarry Hill Partners"}))
    assert "Several organisations match “Quarry Hill Partners”" in bare
    numbered = f"Quarry Hill Partners (no. {second.pk})"
    shown = page(client.get(chart, {"organisation_name": numbered}))
    assert "Bulk emails received by employers at Quarry Hill Partners" in shown
    assert f"organisation={second.pk}" in shown and f"organisation={first.pk}" not in shown
    assert f'value="Quarry Hill Partners (no. {first.pk})"' in page(
        client.get(chart, {"organisation": first.pk})
    )
    wrong = page(client.get(chart, {"organisation_name": f"Leeds Dock Ltd (no. {first.pk})"}))
    assert f"No organisation is called “Leeds Dock Ltd” with number {first.pk}" in wrong


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
    body = page(client.get(reverse("mailing:chart"), {"organisation": tagged[0].pk}))
    assert "School of Mechanical Engineering" in body
    assert 'value="Aurora Optics"' in body  # the picker shows the organisation by name
    by_name = page(client.get(reverse("mailing:chart"), {"organisation_name": "aurora"}))
    assert "Bulk emails received by employers at Aurora Optics" in by_name
    png = client.get(reverse("mailing:chart_png"), {"organisation": tagged[0].pk})
    assert png["Content-Type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    download = client.get(reverse("mailing:chart_csv"), {"organisation": tagged[0].pk})
    assert download.content.decode("utf-8-sig").splitlines()[0] == (
        "period,School of Mechanical Engineering,total"
    )
    # The file says whose figures it holds: opened later, it is not the whole university's.
    assert download["Content-Disposition"] == (
        'attachment; filename="mycareer-email-chart-aurora-optics-by-month-12-months.csv"'
    )
    every = client.get(reverse("mailing:chart_csv"), {"period": "week", "months": "6"})
    assert 'filename="mycareer-email-chart-by-week-6-months.csv"' in every["Content-Disposition"]
    client.force_login(persona("student"))
    assert client.get(reverse("mailing:chart")).status_code == 403


def test_a_facultys_chart_counts_the_emails_of_its_schools(client, persona, cast, tagged):
    """As on the trends page and in the search: the faculty's own figures showed none of the
    emails its schools sent, so it looked as if the faculty had emailed nobody."""
    for unit, hours in (("mech", 1), ("eps", 2), ("careers", 3)):
        campaign = Campaign.objects.create(
            sender=persona("admin"), unit=cast["units"][unit], subject="x", body="x", status="sent"
        )
        OutboxMessage.objects.create(
            campaign=campaign,
            contact=tagged[0].contacts.first(),
            email=f"{unit}@example.com",
            status="sent",
            sent_at=timezone.now() - datetime.timedelta(hours=hours),
            organisation_id_at_send=tagged[0].pk,
        )
    data = chart_data(ChartQuery(unit=cast["units"]["eps"].pk))
    assert data.series == {
        "Faculty of Engineering and Physical Sciences": [0] * 11 + [1],
        "School of Mechanical Engineering": [0] * 11 + [1],
    }
    school = chart_data(ChartQuery(unit=cast["units"]["mech"].pk))
    assert school.series == {"School of Mechanical Engineering": [0] * 11 + [1]}
    client.force_login(persona("viewer"))
    body = page(client.get(reverse("mailing:chart")))
    assert "A faculty or school includes the units under it." in body


@pytest.mark.parametrize(
    "asked",
    [
        {"organisation_name": "Kirkstal Robotix"},  # a typing slip: no such organisation
        {"organisation": "Aurora Optics"},  # a name where the address wants a number
        {"unit": "mech"},  # a unit's code where the form wants its number
        {"organisations": "1"},  # a filter the chart does not know
        {"organisation": "999999"},  # an organisation since deleted, or an old bookmark
    ],
)
def test_a_chart_with_a_wrong_filter_shows_no_figures(
    client, persona, cast, tagged, asked, settings
):
    """The error showed above every organisation's figures, under the same title, and its
    CSV and picture were every organisation's too: read as the figures asked for."""
    campaign = Campaign.objects.create(
        sender=persona("admin"), unit=cast["units"]["mech"], subject="x", body="x", status="sent"
    )
    OutboxMessage.objects.create(
        campaign=campaign,
        contact=tagged[0].contacts.first(),
        email="chart@example.com",
        status="sent",
        sent_at=timezone.now() - datetime.timedelta(hours=1),
        organisation_id_at_send=tagged[0].pk,
    )
    client.force_login(persona("viewer"))
    response = client.get(reverse("mailing:chart"), asked)
    assert response.status_code == 400
    body = page(response)
    assert "Please correct what is shown below" in body
    assert '<th scope="col">School of Mechanical Engineering</th>' not in body
    assert reverse("mailing:chart_csv") not in body and reverse("mailing:chart_png") not in body
    for figures in ("mailing:chart_csv", "mailing:chart_png"):
        refused = client.get(reverse(figures), asked)
        assert refused.status_code == 400
        assert refused["Content-Type"] == "text/plain; charset=utf-8"
        said = refused.content.decode()
        assert "School of Mechanical Engineering" not in said
        # Plainly, with the way back: the chart's page with these filters shows what is wrong.
        again = f"{settings.SITE_URL}{reverse('mailing:chart')}?{urlencode(asked)}"
        assert said.startswith("MyCareer cannot make these figures: ")
        assert said.endswith(f" Open {again} to see what to change.")


def test_the_chart_opens_on_the_range_its_form_shows(client, persona):
    client.force_login(persona("viewer"))
    body = page(client.get(reverse("mailing:chart")))
    assert '<option value="12" selected>12 months</option>' in body
    assert '<option value="month" selected>Month</option>' in body
    rows = re.findall(r'<tr><th scope="row">', body)
    assert len(rows) == 12
    assert "month by month" in body


def test_only_one_navigation_item_is_current(client, persona):
    client.force_login(persona("mailer"))
    body = page(client.get(reverse("mailing:chart")))
    assert body.count('aria-current="page"') == 1
    assert re.search(r'href="/email/chart/" aria-current="page"', body)


@pytest.mark.usefixtures("northbridge")
def test_organisation_suggestions(client, persona):
    client.force_login(persona("viewer"))
    found = client.get(reverse("organisations:suggestions"), {"q": "north"}).json()
    assert found["organisations"][0]["name"] == "Northbridge Engineering Ltd"
    client.force_login(persona("student"))
    assert client.get(reverse("organisations:suggestions"), {"q": "north"}).status_code == 403


@pytest.mark.usefixtures("demo")  # about the demo data itself: its chart has a story
def test_demo_campaigns_give_the_chart_a_story(cast):
    data = chart_data(ChartQuery())
    assert sum(data.totals) > 100
    assert len([t for t in data.totals if t]) >= 8


@pytest.mark.usefixtures("demo")  # about the demo data itself: a draft to open
def test_the_demo_has_a_draft_with_recipients_chosen_and_someone_left_out(cast):
    draft = Campaign.objects.get(status="draft", sender__email="mailer@demo.ac.uk")
    summary = services.campaign_recipients(draft)
    assert summary.included and LeftOut.objects.filter(campaign=draft).exists()


def test_sent_emails_appear_on_the_organisation_timeline(client, persona, cast, tagged):
    org = tagged[0]
    campaign = Campaign.objects.create(
        sender=persona("mailer"),
        unit=cast["units"]["lubs"],
        subject="Spring fair: book your stand",
        body="x",
        status="sent",
    )
    OutboxMessage.objects.create(
        campaign=campaign,
        contact=org.contacts.first(),
        email="p0@aurora.example.com",
        status="sent",
        sent_at=timezone.now() - datetime.timedelta(days=2),
        organisation_id_at_send=org.pk,
    )
    client.force_login(persona("viewer"))
    body = page(client.get(org.get_absolute_url()))
    assert "Email" in body and campaign.subject in body


def test_the_campaign_page_keeps_its_queries_bounded(
    client, persona, make_campaign, django_assert_max_num_queries
):
    campaign = make_campaign()
    client.force_login(persona("mailer"))
    with django_assert_max_num_queries(30):
        assert client.get(campaign.get_absolute_url()).status_code == 200


def test_a_score_that_narrows_nothing_is_refused_on_the_page_and_kept(client, persona, tagged):
    from mycareer.organisations.models import OrganisationScore

    OrganisationScore.objects.create(organisation=tagged[0], score=40)
    client.force_login(persona("mailer"))
    body = page(client.get(CREATE, {"tags_all": "Mailing test", "score_min": "0"}))
    assert (
        "“Engagement score at least 0” chooses every scored organisation: give a higher "
        "score, or leave it out."
    ) in body
    assert 'name="subject"' not in body  # no campaign for it
    fields = as_post(form_fields(body, containing="score_min"))
    assert fields["score_min"] == ["0"] and fields["tags_all"] == ["Mailing test"]


def _sent_with_outcomes(make_campaign, send_now) -> Campaign:
    """A campaign of the six `tagged` contacts: one sent, one failed, one stopped, one
    to a person erased since, two still waiting."""
    campaign = make_campaign()
    send_now(campaign)
    sent, failed, stopped, erased, *_waiting = campaign.messages.order_by("pk")
    OutboxMessage.objects.filter(pk=sent.pk).update(status="sent", sent_at=timezone.now())
    OutboxMessage.objects.filter(pk=failed.pk).update(
        status="failed", error="550 5.1.1 mailbox unavailable"
    )
    OutboxMessage.objects.filter(pk=stopped.pk).update(
        status="stopped", error="they opted out after the email was queued"
    )
    # As erasure leaves them: the record kept, its name and the address gone.
    Contact.objects.filter(pk=erased.contact_id).update(
        erased_at=timezone.now(), full_name="Erased person"
    )
    OutboxMessage.objects.filter(pk=erased.pk).update(
        status="sent", sent_at=timezone.now(), email=f"erased-{erased.pk}@erased.invalid"
    )
    return campaign


def test_a_sent_campaign_says_who_it_went_to_and_what_happened(
    client, persona, make_campaign, send_now
):
    """A sent campaign showed counts, failures and stopped messages: nobody could see
    who had received it."""
    campaign = _sent_with_outcomes(make_campaign, send_now)
    sent, failed, stopped, erased, waiting, _ = campaign.messages.select_related(
        "contact__organisation"
    ).order_by("pk")
    client.force_login(persona("mailer"))
    shown = page(client.get(campaign.get_absolute_url()))
    assert "Who it was for, and what happened" in shown
    organisation, contact = sent.contact.organisation, sent.contact
    # The name leads to the person (WCAG 2.4.4), the organisation to the organisation.
    person = reverse("organisations:contact", args=[organisation.pk, contact.pk])
    assert f'<a href="{person}">{contact.full_name}</a>' in shown
    assert f'<a href="{organisation.get_absolute_url()}">{organisation}</a>' in shown
    assert sent.email in shown
    assert "Failed: 550 5.1.1 mailbox unavailable" in shown
    assert "Stopped: they opted out after the email was queued" in shown
    assert waiting.email in shown and "Not sent yet" in shown
    # Erased: neither name nor address.
    assert "Erased at their request" in shown
    assert "Erased person" not in shown and "erased.invalid" not in shown
    assert "Download these 6 people (CSV)" in shown

    narrowed = page(client.get(campaign.get_absolute_url(), {"outcome": "failed"}))
    assert failed.email in narrowed.split("Who it was for")[1]
    assert sent.email not in narrowed and waiting.email not in narrowed
    assert "Download this 1 person (CSV)" in narrowed
    refused = client.get(campaign.get_absolute_url(), {"outcome": "everything"}, follow=True)
    assert "“everything” is not an outcome: choose one from the list." in page(refused)
    csv = reverse("mailing:campaign_sent_to_csv", args=[campaign.pk])
    refused = client.get(csv, {"outcome": "everything"}, follow=True)
    assert "“everything” is not an outcome: choose one from the list." in page(refused)
    # Chosen, with nobody in it: still in the menu, with its 0, and nothing to download.
    none = page(client.get(campaign.get_absolute_url(), {"outcome": "cancelled"}))
    assert '<option value="cancelled" selected>Not sent: cancelled (0)</option>' in none
    assert "Download" not in none and "Nobody had that outcome." in none


def test_addresses_the_retention_schedule_removed_do_not_read_as_people_erased(
    client, persona, make_campaign, send_now
):
    """Two years on, the schedule removes the addresses of a campaign: every recipient
    then read "Erased at their request", though none had asked for anything."""
    from mycareer.mailing.privacy import forget_outbox_addresses

    campaign = make_campaign()
    send_now(campaign)
    campaign.messages.update(status="sent", sent_at=timezone.now())
    first = campaign.messages.select_related("contact").order_by("pk").first()
    failed = campaign.messages.select_related("contact").order_by("pk").last()
    OutboxMessage.objects.filter(pk=failed.pk).update(status="failed", error="550 No such user")
    forget_outbox_addresses(campaign.messages.all())
    client.force_login(persona("mailer"))

    shown = page(client.get(campaign.get_absolute_url()))
    csv = client.get(reverse("mailing:campaign_sent_to_csv", args=[campaign.pk]))
    download = b"".join(csv.streaming_content if csv.streaming else [csv.content]).decode()

    for text in (shown, download):
        assert "Erased at their request" not in text and "erased.invalid" not in text
        assert first.contact.full_name in text
        assert "address removed" in text
    # The failure's answer went with the address: said so, not "Not delivered: ."
    assert (
        f"{failed.contact.full_name} (address removed): not delivered; the mail server's "
        "answer was removed with the address" in shown
    )
    assert "Not delivered: ." not in shown


def test_a_campaign_cancelled_part_way_names_who_it_was_not_sent_to(
    client, persona, make_campaign, send_now
):
    """Cancelling deleted the messages not yet sent: who they were to was lost."""
    campaign = make_campaign()
    send_now(campaign)
    first = campaign.messages.order_by("pk").first()
    OutboxMessage.objects.filter(pk=first.pk).update(status="sent", sent_at=timezone.now())
    assert services.campaign_cancel(campaign=campaign, by=campaign.sender) == 5
    client.force_login(persona("mailer"))
    shown = page(client.get(campaign.get_absolute_url(), {"outcome": "cancelled"}))
    assert shown.count("Not sent: cancelled") >= 5
    assert "5 recipients shown" in shown
    # The figures the page and the cancellation words give are as before.
    assert "1 sent before cancelling, 5 not sent" in shown


def test_the_recipients_download_is_the_list_and_is_audited(
    client, persona, make_campaign, send_now
):
    campaign = _sent_with_outcomes(make_campaign, send_now)
    mailer = persona("mailer")
    client.force_login(mailer)
    response = client.get(reverse("mailing:campaign_sent_to_csv", args=[campaign.pk]))
    assert response["Content-Disposition"].endswith(f'"campaign-{campaign.pk}-recipients.csv"')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "Name,Organisation,Email,What happened,Why,Sent at"
    assert len(lines) == 7
    assert any("Failed,550 5.1.1 mailbox unavailable" in line for line in lines)
    assert any(line.startswith("Erased at their request,") and ",," in line for line in lines)
    assert "erased.invalid" not in text and "Erased person" not in text
    entry = AuditEntry.objects.get(action="mailing.recipients.exported")
    assert (entry.actor, entry.object_id, entry.data) == (mailer, str(campaign.pk), {"rows": 6})

    failed = client.get(
        reverse("mailing:campaign_sent_to_csv", args=[campaign.pk]), {"outcome": "failed"}
    )
    assert len(b"".join(failed.streaming_content).decode("utf-8-sig").splitlines()) == 2
    assert AuditEntry.objects.filter(action="mailing.recipients.exported").count() == 2


def test_only_senders_see_or_download_who_a_campaign_went_to(
    client, persona, make_campaign, send_now
):
    campaign = _sent_with_outcomes(make_campaign, send_now)
    client.force_login(persona("operator"))
    url = reverse("mailing:campaign_sent_to_csv", args=[campaign.pk])
    assert client.get(url).status_code == 403
    assert client.get(campaign.get_absolute_url()).status_code == 403
    assert not AuditEntry.objects.filter(action="mailing.recipients.exported").exists()


def test_a_draft_has_nobody_to_download(client, persona, make_campaign):
    campaign = make_campaign()
    client.force_login(persona("mailer"))
    url = reverse("mailing:campaign_sent_to_csv", args=[campaign.pk])
    response = client.get(url, follow=True)
    assert "has not been sent" in page(response)
    assert not AuditEntry.objects.filter(action="mailing.recipients.exported").exists()


def test_who_a_campaign_went_to_costs_the_same_queries_however_many(
    client, persona, make_campaign, send_now, tagged, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small = _sent_with_outcomes(make_campaign, send_now)
    client.force_login(persona("mailer"))
    page(client.get(small.get_absolute_url()))  # the session settles
    with CaptureQueriesContext(connection) as captured:
        page(client.get(small.get_absolute_url()))
    queries = len(captured.captured_queries)

    big = make_campaign(subject="Many")
    send_now(big)
    contacts = Contact.objects.bulk_create(
        Contact(organisation=tagged[n % 3], full_name=f"Extra {n}", email=f"extra{n}@x.example")
        for n in range(120)
    )
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            campaign=big,
            contact=contact,
            organisation_id_at_send=contact.organisation_id,
            email=contact.email,
            status="sent",
            sent_at=timezone.now(),
        )
        for contact in contacts
    )
    with django_assert_max_num_queries(queries):
        shown = page(client.get(big.get_absolute_url()))
    assert f"Download these {big.messages.count()} people (CSV)" in shown
    assert big.messages.count() > 120
    assert "Next page" in shown


def test_the_campaign_list_says_when_each_went_and_to_how_many(
    client, persona, make_campaign, send_now, django_assert_max_num_queries
):
    """The list showed only when each draft was created, never when it was sent nor
    to how many."""
    draft = make_campaign(subject="Still a draft")
    went = make_campaign(subject="Gone out")
    with time_machine.travel(datetime.datetime(2027, 3, 3, 9, 30, tzinfo=datetime.UTC)):
        send_now(went)
    failed = went.messages.order_by("pk").first()
    went.messages.exclude(pk=failed.pk).update(status="sent", sent_at=timezone.now())
    OutboxMessage.objects.filter(pk=failed.pk).update(status="failed", error="550 no such user")
    for n in range(5):
        make_campaign(subject=f"Another {n}")
    client.force_login(persona("mailer"))
    page(client.get(reverse("mailing:campaigns")))  # the session settles
    with django_assert_max_num_queries(5):
        shown = page(client.get(reverse("mailing:campaigns")))
    row = shown.split("Gone out")[1].split("</tr>")[0]
    assert "3 Mar 2027, 09:30" in row
    assert ">5 of 6<" in row
    draft_row = shown.split(draft.subject)[1].split("</tr>")[0]
    assert "Not sent" in draft_row
    # Newest first, as it says.
    assert shown.index("Another 4") < shown.index("Gone out") < shown.index("Still a draft")


def test_a_failed_message_names_the_contact_and_leads_to_correcting_the_address(
    client, persona, make_campaign, send_now
):
    """The Failed list gave only the address and the server's words: the sender had to
    search for whose address it was to correct it."""
    campaign = _sent_with_outcomes(make_campaign, send_now)
    failed = campaign.messages.select_related("contact").get(status="failed")
    contact = failed.contact
    # As sending does when the server refuses the recipient with a 5xx.
    Contact.objects.filter(pk=contact.pk).update(email_bounced_at=timezone.now())
    client.force_login(persona("mailer"))
    shown = page(client.get(campaign.get_absolute_url()))
    listed = shown.split("<h2>Failed</h2>")[1].split("</ul>")[0]
    edit = reverse("organisations:contact_edit", args=[contact.organisation_id, contact.pk])
    assert (
        f"{contact.full_name}, {failed.email}: 550 5.1.1 mailbox unavailable. The mail server"
        " refused this address, so later bulk email leaves it out." in listed
    )
    assert f'<a href="{edit}">Correct the address' in listed
    assert client.get(edit).status_code == 200


def test_a_failure_that_is_not_the_address_says_so_and_offers_no_correction(
    client, persona, make_campaign, send_now
):
    """Every failure read "the mail server refused these addresses" with a link to correct
    the address: a message refused as spam, a network error or a message that could not
    be built leave the address as it was, and a later campaign tries it again."""
    campaign = _sent_with_outcomes(make_campaign, send_now)
    failed = campaign.messages.select_related("contact").get(status="failed")
    OutboxMessage.objects.filter(pk=failed.pk).update(error="554 5.7.1 rejected as spam.")
    client.force_login(persona("mailer"))
    listed = page(client.get(campaign.get_absolute_url())).split("<h2>Failed</h2>")[1]
    listed = listed.split("</ul>")[0]
    assert (
        f"{failed.contact.full_name}, {failed.email}: Not delivered: 554 5.7.1 rejected as spam."
        " The address was not marked as bad; a later campaign tries it again." in listed
    )
    assert "Correct the address" not in listed and "refused" not in listed


def test_only_who_may_change_contacts_is_offered_to_correct_a_refused_address(
    make_campaign, send_now
):
    from types import SimpleNamespace

    from mycareer.mailing import views

    campaign = _sent_with_outcomes(make_campaign, send_now)
    failed = campaign.messages.get(status="failed")
    Contact.objects.filter(pk=failed.contact_id).update(email_bounced_at=timezone.now())
    asked = []

    def has_perm(perm, obj=None):
        asked.append(perm)
        return False

    (row,) = views._failures(SimpleNamespace(has_perm=has_perm), campaign)
    assert (row["refused"], row["may_correct"]) == (True, False)
    assert asked == ["organisations.change_contact"]


def test_a_stored_search_whose_sector_went_says_so_in_words_everywhere(
    client, persona, tagged, make_campaign
):
    """A draft whose sector was removed read "Sector: Select a valid choice. 16 is not
    one of the available choices.": words of the search form, not of the sender."""
    from mycareer.organisations.models import Sector

    sector = Sector.objects.create(name="Short-lived sector", slug="short-lived")
    tagged[0].sector = sector
    tagged[0].save(update_fields=["sector"])
    campaign = make_campaign(recipient_filters={"sectors": [sector.pk]})
    removed = sector.pk
    Organisation.objects.filter(sector=sector).update(sector=None)
    sector.delete()
    gone = "the “Sector” it chose was removed since"
    client.force_login(persona("mailer"))
    pages = [
        page(client.get(campaign.get_absolute_url())),
        page(client.get(reverse("mailing:campaign_send", args=[campaign.pk]), follow=True)),
        page(client.get(reverse("mailing:campaign_preview", args=[campaign.pk]), follow=True)),
        page(client.get(reverse("mailing:campaign_edit", args=[campaign.pk]))),
        page(client.get(CREATE, {"sectors": removed})),
    ]
    for shown in pages:
        assert "Select a valid choice" not in shown and "available choices" not in shown
    for shown in pages[:4]:  # the campaign's own search, read before
        assert gone in shown
    # A value in a link may never have been in MyCareer: nothing says it was removed.
    assert "the “Sector” it chose is not in MyCareer. Choose again." in pages[4]
    assert "removed since" not in pages[4]
    assert "Choose the recipients again" in pages[0]
    assert services.recipients_in_words(campaign) == f"A search that no longer works: {gone}"


def test_a_value_typed_into_a_link_from_a_fixed_list_is_not_said_to_be_removed(client, persona):
    client.force_login(persona("mailer"))
    shown = page(client.get(CREATE, {"sizes": "gigantic"}))
    assert (
        "This search does not work: the “Size” it chose is not in MyCareer. Choose again." in shown
    )
    assert "removed since" not in shown


def test_a_draft_whose_stored_search_has_a_filter_removed_since_says_to_choose_again(
    client, persona, make_campaign
):
    """It said only "The search has a filter it does not know: “sort”.", the words for
    a link, and not what to do."""
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(recipient_filters={"sort": "name"})
    client.force_login(persona("mailer"))
    shown = page(client.get(campaign.get_absolute_url()))
    assert (
        "The search that chooses the recipients no longer works: its filter “sort” was"
        " removed since. Choose the recipients again." in shown
    )


def test_a_sent_campaign_whose_sector_went_says_so_as_a_fact_not_a_fault(
    tagged, make_campaign, send_now
):
    from mycareer.organisations.models import Sector

    sector = Sector.objects.create(name="Short-lived sector", slug="short-lived")
    tagged[0].sector = sector
    tagged[0].save(update_fields=["sector"])
    campaign = make_campaign(recipient_filters={"sectors": [sector.pk]})
    send_now(campaign)
    Organisation.objects.filter(sector=sector).update(sector=None)
    sector.delete()
    campaign.refresh_from_db()
    assert (
        services.recipients_in_words(campaign)
        == "A search by a sector since removed; who it went to is listed below."
    )


def test_the_campaign_list_counts_whom_a_cancelled_campaign_was_for_not_its_kept_rows_as_sent(
    client, persona, make_campaign, send_now
):
    """Cancelled after one went: the five dropped are kept as "not sent", and counted once;
    cancelled before they were kept: their rows were deleted and `not_sent` counts them."""
    kept, deleted = make_campaign(subject="Kept rows"), make_campaign(subject="Deleted rows")
    for campaign in (kept, deleted):
        send_now(campaign)
        first = campaign.messages.order_by("pk").first()
        OutboxMessage.objects.filter(pk=first.pk).update(status="sent", sent_at=timezone.now())
        services.campaign_cancel(campaign=campaign, by=campaign.sender)
    deleted.messages.filter(status="cancelled").delete()
    client.force_login(persona("mailer"))
    shown = page(client.get(reverse("mailing:campaigns")))
    for subject in ("Kept rows", "Deleted rows"):
        assert ">1 of 6<" in shown.split(subject)[1].split("</tr>")[0]


def test_the_campaign_list_gives_no_sending_time_for_a_campaign_that_sent_nothing(
    client, persona, make_campaign, send_now
):
    """Cancelled before any message went, the list read "Sent 6 Dec 2026, 21:25" beside
    "0 of 6"; queued and not started, it gave the same time as if it had gone."""
    waiting, cancelled = make_campaign(subject="Waiting"), make_campaign(subject="Stopped")
    for campaign in (waiting, cancelled):
        send_now(campaign)
    services.campaign_cancel(campaign=cancelled, by=cancelled.sender)
    client.force_login(persona("mailer"))
    shown = page(client.get(reverse("mailing:campaigns")))
    row = {subject: shown.split(subject)[1].split("</tr>")[0] for subject in ("Waiting", "Stopped")}
    assert '<td data-label="Sent">Nothing sent: cancelled</td>' in row["Stopped"]
    assert '<td data-label="Sent">Queued ' in row["Waiting"]


def test_a_campaign_cancelled_before_its_rows_were_kept_says_how_many_are_not_listed(
    client, persona, make_campaign, send_now
):
    """Cancelling once deleted the rows not sent: the list showed the one that went as
    if it were everyone, or said no messages were made when six were."""
    part, none = make_campaign(subject="Part"), make_campaign(subject="None")
    for campaign in (part, none):
        send_now(campaign)
    first = part.messages.order_by("pk").first()
    OutboxMessage.objects.filter(pk=first.pk).update(status="sent", sent_at=timezone.now())
    for campaign in (part, none):
        services.campaign_cancel(campaign=campaign, by=campaign.sender)
        campaign.messages.filter(status="cancelled").delete()
    client.force_login(persona("mailer"))
    said = "not sent because the campaign was cancelled; they were dropped before MyCareer kept"
    shown = page(client.get(part.get_absolute_url()))
    assert f"5 more were {said}" in shown
    assert f"5 more were {said}" in page(
        client.get(part.get_absolute_url(), {"outcome": "cancelled"})
    )
    assert said not in page(client.get(part.get_absolute_url(), {"outcome": "sent"}))
    shown = page(client.get(none.get_absolute_url()))
    assert f"6 more were {said}" in shown
    assert "No messages were made" not in shown


def test_an_erased_person_stopped_before_sending_is_named_as_everywhere_else(
    client, persona, make_campaign, send_now
):
    """The Stopped list printed the placeholder address erasure leaves."""
    campaign = make_campaign()
    send_now(campaign)
    stopped = campaign.messages.order_by("pk").first()
    Contact.objects.filter(pk=stopped.contact_id).update(
        erased_at=timezone.now(), full_name="Erased person"
    )
    OutboxMessage.objects.filter(pk=stopped.pk).update(
        status="stopped",
        email=f"erased-{stopped.pk}@erased.invalid",
        error="their record was deleted or erased after the email was queued",
    )
    client.force_login(persona("mailer"))
    listed = page(client.get(campaign.get_absolute_url())).split("<h2>Stopped</h2>")[1]
    listed = listed.split("</ul>")[0]
    assert "Erased at their request: their record was deleted or erased" in listed
    assert "erased.invalid" not in listed


def test_a_draft_nobody_would_receive_yet_is_previewed_and_says_why(
    client, settings, persona, make_campaign, mailoutbox
):
    """The preview of a draft whose contacts were all emailed too often read only "Nobody
    would receive this campaign yet", and "Send me a test" was refused."""
    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_LIMIT": 1}
    mailer = persona("mailer")
    services.campaign_send(campaign=make_campaign(subject="First"), by=mailer, confirmed=6)
    draft = make_campaign(body="**Dear** {{ first_name }}")
    client.force_login(mailer)
    preview = page(client.get(reverse("mailing:campaign_preview", args=[draft.pk])))
    assert "Nobody would receive this campaign yet: of the 6 contacts it finds, 6 emailed" in (
        preview
    )
    assert "nobody else is emailed" in preview and "Dear Person" in preview
    src = re.search(r'<iframe[^>]* sandbox src="([^"]+)"', preview).group(1)
    assert "<strong>Dear</strong> Person" in page(client.get(src.replace("&amp;", "&")))
    tested = client.post(draft.get_absolute_url(), {"do": "test"}, follow=True)
    assert f"A test copy was sent to {mailer.email}." in page(tested)
    assert [m.to for m in mailoutbox] == [[mailer.email]]
    # Its unsubscribe link does not say the contact receives an email they would not.
    from django.conf import settings as conf

    link = re.search(r"(https?://\S+/email/unsubscribe/[^/\s]+/)", mailoutbox[0].body).group(1)
    shown = page(client.get(link.removeprefix(conf.SITE_URL)))
    assert "changes nothing" in shown and " would receive, this link" in shown
    assert " receives, this link" not in shown


def test_a_draft_whose_search_finds_nobody_is_previewed_with_placeholders(
    client, persona, make_campaign
):
    from django.conf import settings

    draft = make_campaign(
        recipient_filters={"text": "No organisation has this name"}, body="Dear {{ first_name }}"
    )
    client.force_login(persona("mailer"))
    preview = page(client.get(reverse("mailing:campaign_preview", args=[draft.pk])))
    assert "its search finds no contacts" in preview and "Dear Sample" in preview
    src = re.search(r'<iframe[^>]* sandbox src="([^"]+)"', preview).group(1)
    assert "Dear Sample" in page(client.get(src.replace("&amp;", "&")))
    # Its unsubscribe link opens, and says it changes nothing.
    link = re.search(r"(https?://\S+/email/unsubscribe/[^/\s]+/)", preview).group(1)
    shown = client.get(link.removeprefix(settings.SITE_URL))
    assert shown.status_code == 200 and "changes nothing" in page(shown)


def test_a_tag_nobody_was_ever_given_is_refused_when_choosing_recipients(client, persona, tagged):
    """ "Mailing tset" found nobody, or in "none of these" left nobody out, unremarked."""
    client.force_login(persona("mailer"))
    body = page(client.get(CREATE, {"tags_all": "Mailing test", "tags_none": "Mailing tset"}))
    assert (
        "Has none of these tags: No organisation has ever been tagged “Mailing tset”: check "
        "the spelling, or leave it out."
    ) in body
    assert 'name="subject"' not in body
