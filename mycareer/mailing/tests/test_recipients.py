"""Who receives a bulk email and who is left out, with the reason for each; and the rules
that keep the recipients what the sender chose."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.formats import date_format

from mycareer.audit.models import AuditEntry
from mycareer.mailing import services
from mycareer.mailing.models import Campaign, LeftOut, OutboxMessage
from mycareer.mailing.recipients import Why, contacts_for, recipient_list
from mycareer.organisations import keyaccounts
from mycareer.organisations import services as org_services
from mycareer.organisations.models import Contact, Organisation, OrganisationScore
from mycareer.organisations.search import OrganisationQuery

pytestmark = pytest.mark.django_db


def reasons(result):
    return {e.contact.email: e.reason for e in result.excluded}


def contacts(filters):
    return contacts_for(OrganisationQuery.from_filters(filters))


def test_the_search_selects_the_contacts_of_its_organisations(tagged, filters):
    emails = sorted(c.email for c in contacts(filters))
    assert len(emails) == 6
    assert all(e.endswith(".example.com") for e in emails)


def test_every_exclusion_reason(persona, cast, tagged, filters, pending):
    mailer = persona("mailer")
    aurora, birchwood, _ = tagged
    a0, a1 = aurora.contacts.order_by("email")
    b0, b1 = birchwood.contacts.order_by("email")
    org_services.contact_opt_out(contact=a0, purpose="events", method="staff", by=mailer)
    Contact.objects.filter(pk=a1.pk).update(email_bounced_at=timezone.now())
    org_services.contact_update(contact=b0, by=mailer, email="")
    result = recipient_list(contacts(filters), sender=mailer, purpose="events")
    got = reasons(result)
    assert got["p0@aurora.example.com"] == "opted out: event promotion"
    assert got["p1@aurora.example.com"].startswith("bounced before: on ")
    assert got[""] == "no email address"
    assert got["p0@cobalt.example.com"] == (
        "not a contact of an active organisation: Cobalt Systems is pending approval"
    )
    assert [c.email for c in result.included] == ["p1@birchwood.example.com"]
    assert result.reasons["opted out"] == 1 and result.reasons["organisation not active"] == 2
    # Opting out of one purpose leaves the others.
    newsletter = recipient_list(contacts(filters), sender=mailer, purpose="newsletters")
    assert "p0@aurora.example.com" not in reasons(newsletter)


def test_contacts_of_an_archived_organisation_are_listed_as_left_out_not_dropped_unsaid(
    persona, tagged, make_campaign, client
):
    """Archiving one of the organisations a draft's search chose took its contacts off the
    campaign's page without a word: the count fell and no reason said why. They are listed
    as left out, with their organisation's status, as a pending one's are."""
    campaign = make_campaign()
    org_services.organisation_archive(organisation=tagged[2], by=persona("manager"))
    result = services.campaign_recipients(campaign)
    assert len(result.included) == 4
    got = {e.contact.email: (e.kind, e.reason) for e in result.excluded}
    assert got == {
        f"p{n}@cobalt.example.com": (
            Why.INACTIVE,
            "not a contact of an active organisation: Cobalt Systems is archived",
        )
        for n in range(2)
    }
    client.force_login(persona("mailer"))
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert '<strong data-count="excluded">2</strong> left out' in page
    assert "<li>2 with their organisation not active</li>" in page
    assert "Cobalt Systems is archived" in page


def test_an_erased_person_is_left_out_as_erased_not_as_lacking_an_address(persona, tagged, filters):
    """An erased contact was listed as "no email address", which a sender may set out to
    mend; the list says the person asked to be erased."""
    from mycareer.audit.personal_data import subject_from_ids
    from mycareer.audit.services import personal_data_erase

    mailer = persona("mailer")
    leaving = tagged[0].contacts.order_by("email").first()
    personal_data_erase(subject=subject_from_ids([], [leaving.pk]), by=persona("admin"))
    result = recipient_list(contacts(filters), sender=mailer, purpose="events")
    (exclusion,) = [e for e in result.excluded if e.contact.pk == leaving.pk]
    assert exclusion.kind == Why.ERASED
    assert exclusion.reason.startswith("erased at their request on ")
    assert ("erased at their request", 1) in result.reason_counts


def test_the_day_of_an_erasure_or_bounce_is_the_local_one(persona, tagged, filters):
    """Given in UTC, an erasure at 00:30 on 1 July in London read "30 June"."""
    erased, bounced = tagged[0].contacts.order_by("email")[:2]
    late = datetime.datetime(2027, 6, 30, 23, 30, tzinfo=datetime.UTC)
    Contact.objects.filter(pk=erased.pk).update(erased_at=late)
    Contact.objects.filter(pk=bounced.pk).update(email_bounced_at=late)
    result = recipient_list(contacts(filters), sender=persona("mailer"), purpose="events")
    why = {e.contact.pk: e.reason for e in result.excluded}
    assert why[erased.pk] == "erased at their request on 1 July 2027"
    assert why[bounced.pk] == "bounced before: on 1 July 2027"


def test_opting_out_of_all_bulk_email_excludes_every_purpose(persona, tagged, filters):
    contact = tagged[0].contacts.first()
    org_services.contact_opt_out(contact=contact, purpose="all", method="link", by=None)
    for purpose in ("events", "newsletters", "vacancies", "other"):
        result = recipient_list(contacts(filters), sender=persona("mailer"), purpose=purpose)
        assert reasons(result)[contact.email] == "opted out: all bulk email"


def test_withdrawn_agreement_stops_every_bulk_email(persona, tagged, filters):
    """Unticking "Agreed to receive email" recorded the change and nothing else: the
    person went on receiving every kind of bulk email."""
    operator, mailer = persona("operator"), persona("mailer")
    contact = tagged[0].contacts.order_by("email").first()
    org_services.contact_update(contact=contact, by=operator, email_consent=True)
    org_services.contact_update(contact=contact, by=operator, job_title="Head of talent")
    assert contact.email in [
        c.email for c in recipient_list(contacts(filters), sender=mailer, purpose="events").included
    ]
    org_services.contact_update(contact=contact, by=operator, email_consent=False)
    for purpose in ("events", "newsletters", "vacancies", "other"):
        result = recipient_list(contacts(filters), sender=mailer, purpose=purpose)
        assert reasons(result)[contact.email] == "opted out: all bulk email"
    assert list(contact.opt_outs.values_list("purpose", "method", "recorded_by")) == [
        ("all", "staff", operator.pk)
    ]
    # Given again, they receive it again: the two never say different things.
    org_services.contact_update(contact=contact, by=operator, email_consent=True)
    assert contact.email in [
        c.email for c in recipient_list(contacts(filters), sender=mailer, purpose="events").included
    ]


def test_an_opt_out_is_the_addresss_whichever_record_it_came_through(persona, tagged, filters):
    """Someone who is a contact of two organisations left bulk email through one record's
    link; the other record, with the same address, was still sent to."""
    mailer = persona("mailer")
    aurora, birchwood, _ = tagged
    leaving = aurora.contacts.order_by("email").first()
    other = org_services.contact_create(
        organisation=birchwood, by=mailer, full_name="Same Person", email=leaving.email.upper()
    )
    org_services.contact_opt_out(contact=leaving, purpose="events", method="link", by=None)
    result = recipient_list(contacts(filters), sender=mailer, purpose="events")
    assert other not in result.included
    assert {e.contact.pk: e.reason for e in result.excluded}[other.pk] == (
        "opted out: event promotion"
    )
    # Back in through the other record: the address takes that kind again.
    org_services.contact_opt_in(contact=other, purpose="events", by=None)
    result = recipient_list(contacts(filters), sender=mailer, purpose="events")
    assert leaving in result.included


@pytest.mark.parametrize(
    "how", ["contact deleted", "organisation deleted", "person erased", "address changed"]
)
def test_an_opt_out_outlives_its_record_and_keeps_the_address_out_when_it_returns(
    persona, tagged, filters, how
):
    from mycareer.audit.personal_data import subject_from_ids
    from mycareer.audit.services import personal_data_erase
    from mycareer.organisations.models import KeptOptOut

    mailer, admin = persona("mailer"), persona("admin")
    aurora, birchwood, _ = tagged
    leaving = aurora.contacts.order_by("email").first()
    address = leaving.email
    org_services.contact_opt_out(contact=leaving, purpose="all", method="link", by=None)
    if how == "contact deleted":
        org_services.contact_delete(contact=leaving, by=mailer)
    elif how == "organisation deleted":
        org_services.organisation_delete(organisation=aurora, by=admin)
    elif how == "person erased":
        personal_data_erase(subject=subject_from_ids([], [leaving.pk]), by=admin)
    else:  # the record is someone else's now
        org_services.contact_update(
            contact=leaving, by=mailer, email="successor@aurora.example.com"
        )
    assert address not in {c.email for c in Contact.objects.all()}
    assert address not in str(list(KeptOptOut.objects.values_list("address_digest", flat=True)))
    # The address comes back, on a new record (a spreadsheet, a fair's list).
    back = org_services.contact_create(
        organisation=birchwood, by=mailer, full_name="Returning Person", email=address
    )
    for purpose in ("events", "vacancies"):
        result = recipient_list(contacts(filters), sender=mailer, purpose=purpose)
        assert {e.contact.pk: e.reason for e in result.excluded}[back.pk] == (
            "opted out: all bulk email"
        )


def test_a_campaign_names_its_kind_so_no_opt_out_is_got_round(persona, make_campaign):
    """ "All bulk email" as a campaign's kind reached a contact out of calls for vacancies."""
    with pytest.raises(ValidationError) as refused:
        make_campaign(purpose="all")
    assert "Choose the kind of email it is" in str(refused.value)
    campaign = make_campaign(purpose="vacancies")
    with pytest.raises(ValidationError):
        services.campaign_update(campaign=campaign, by=persona("mailer"), purpose="all")
    campaign.refresh_from_db()
    assert campaign.purpose == "vacancies"


def test_a_campaign_stored_for_every_kind_keeps_every_opt_out(persona, tagged, filters):
    """A campaign of every kind stored before each had to name one leaves out anyone who
    opted out of any kind: its email is also of theirs."""
    aurora = tagged[0].contacts.order_by("email").first()
    org_services.contact_opt_out(contact=aurora, purpose="vacancies", method="link", by=None)
    result = recipient_list(contacts(filters), sender=persona("mailer"), purpose="all")
    assert reasons(result) == {aurora.email: "opted out: calls for vacancies"}
    assert len(result.included) == 5


def _outbox(cast, admin, contact, **fields):
    # A message still on its way belongs to a campaign still sending.
    going = fields.get("status") in ("pending", "sending")
    campaign = Campaign.objects.create(
        sender=admin,
        unit=cast["units"]["careers"],
        subject="Earlier",
        body="x",
        status="sending" if going else "sent",
    )
    return OutboxMessage.objects.create(
        campaign=campaign, contact=contact, email=contact.email, **fields
    )


def test_frequency_limit_counts_email_from_every_unit(persona, cast, tagged, filters):
    mailer, admin = persona("mailer"), persona("admin")
    contact = tagged[0].contacts.first()
    now = timezone.now()
    for days in (3, 10):
        _outbox(cast, admin, contact, status="sent", sent_at=now - datetime.timedelta(days=days))
    result = recipient_list(contacts(filters), sender=mailer, purpose="events")
    assert reasons(result)[contact.email] == (
        "emailed too often: 2 bulk emails in the last 14 days or on their way"
    )
    later = recipient_list(
        contacts(filters), sender=mailer, purpose="events", now=now + datetime.timedelta(days=5)
    )
    assert contact.email not in reasons(later)  # the older one has dropped out of the window


def test_a_frequency_limit_of_0_leaves_everyone_out_with_a_reason(
    persona, cast, tagged, filters, settings
):
    """With BULK_EMAIL_LIMIT=0 every contact was over the limit, and the reason looked
    up a count the never-emailed ones did not have: the campaign page failed."""
    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_LIMIT": 0}
    mailer, admin = persona("mailer"), persona("admin")
    contact = tagged[0].contacts.first()
    _outbox(cast, admin, contact, status="sent", sent_at=timezone.now())
    result = recipient_list(contacts(filters), sender=mailer, purpose="events")
    assert result.included == []
    said = reasons(result)
    assert said[contact.email].startswith("emailed too often: 1 bulk email in the last")
    others = {email: why for email, why in said.items() if email != contact.email}
    assert others and set(others.values()) == {"the limit allows no bulk email in 14 days"}


@pytest.mark.parametrize("status", ["pending", "sending"])
def test_frequency_limit_counts_messages_still_on_their_way(persona, cast, tagged, filters, status):
    """Two campaigns queued at the same time must not each include everyone."""
    mailer, admin = persona("mailer"), persona("admin")
    contact = tagged[0].contacts.first()
    _outbox(cast, admin, contact, status="sent", sent_at=timezone.now())
    _outbox(cast, admin, contact, status=status)
    result = recipient_list(contacts(filters), sender=mailer, purpose="events")
    assert reasons(result)[contact.email].startswith("emailed too often: 2 bulk emails")


def test_failed_messages_do_not_count_towards_the_limit(persona, cast, tagged, filters):
    mailer, admin = persona("mailer"), persona("admin")
    contact = tagged[0].contacts.first()
    for _ in range(2):
        _outbox(cast, admin, contact, status="failed")
    result = recipient_list(contacts(filters), sender=mailer, purpose="events")
    assert contact.email not in reasons(result)


def test_key_contacts_are_left_out_without_liaison(persona, cast, tagged, filters):
    tom, mailer = persona("operator"), persona("mailer")
    org = tagged[1]
    contact = org.contacts.order_by("email").first()
    account = keyaccounts.key_account_create(
        organisation=org, operator=tom, unit=cast["units"]["mech"], by=persona("admin")
    )
    keyaccounts.key_contact_mark(account=account, contact=contact, guidance="", by=tom)
    result = recipient_list(contacts(filters), sender=mailer, purpose="events")
    assert (
        reasons(result)[contact.email]
        == "excluded: key contact of Tom Bennett, no liaison agreement"
    )
    assert next(e for e in result.excluded if e.contact == contact).kind == Why.KEY_CONTACT
    [request] = keyaccounts.liaison_request_create(
        requester=mailer, contact=contact, reason="Fair", proposed_engagement="Bulk email"
    )
    keyaccounts.liaison_request_decide(request=request, approve=True, by=tom)
    result = recipient_list(contacts(filters), sender=mailer, purpose="events")
    assert contact.email not in reasons(result)


def test_an_administrators_bulk_email_leaves_key_contacts_out_until_the_owner_agrees(
    persona, cast, tagged, filters, northbridge
):
    """Administrators may contact a key contact themselves, but administering MyCareer is
    not the owner's agreement: their campaign reached Tom's key contacts without it."""
    tom, admin = persona("operator"), persona("admin")
    org = tagged[1]
    contact = org.contacts.order_by("email").first()
    david = northbridge.contacts.get(full_name="David Okoro")
    for organisation, person in ((org, contact), (northbridge, david)):
        account = keyaccounts.key_account_create(
            organisation=organisation, operator=tom, unit=cast["units"]["mech"], by=admin
        )
        keyaccounts.key_contact_mark(account=account, contact=person, guidance="", by=tom)
    elsewhere = org_services.contact_create(
        organisation=tagged[2], by=tom, full_name="David Okoro", email=david.email
    )
    result = recipient_list(contacts(filters), sender=admin, purpose="events")
    left = {e.contact.pk: e for e in result.excluded}
    assert left[contact.pk].reason == "excluded: key contact of Tom Bennett, no liaison agreement"
    assert left[elsewhere.pk].kind == Why.KEY_CONTACT
    # The administrator may still note a contact they make themselves.
    assert keyaccounts.contact_blockers(contact=contact, user=admin) == []
    [request] = keyaccounts.liaison_request_create(
        requester=admin, contact=contact, reason="Fair", proposed_engagement="Bulk email"
    )
    keyaccounts.liaison_request_decide(request=request, approve=True, by=tom)
    result = recipient_list(contacts(filters), sender=admin, purpose="events")
    assert contact in result.included
    assert elsewhere not in result.included


def test_a_key_contact_is_protected_at_their_address_on_any_record(
    persona, cast, tagged, filters, northbridge
):
    """Tom's key contact at Northbridge is also a contact of Birchwood, by the same address:
    a campaign to Birchwood reached him there without Tom's agreement."""
    tom, mailer = persona("operator"), persona("mailer")
    david = northbridge.contacts.get(full_name="David Okoro")
    account = keyaccounts.key_account_create(
        organisation=northbridge, operator=tom, unit=cast["units"]["mech"], by=persona("admin")
    )
    keyaccounts.key_contact_mark(account=account, contact=david, guidance="", by=tom)
    elsewhere = org_services.contact_create(
        organisation=tagged[1], by=tom, full_name="David Okoro", email=david.email.upper()
    )
    result = recipient_list(contacts(filters), sender=mailer, purpose="events")
    left = {e.contact.pk: e for e in result.excluded}
    assert elsewhere not in result.included
    assert left[elsewhere.pk].reason == (
        "excluded: the same address is a key contact of Tom Bennett at Northbridge "
        "Engineering Ltd, no liaison agreement"
    )
    assert left[elsewhere.pk].kind == Why.KEY_CONTACT
    # Tom's own campaign, and the mailer's once Tom agrees, reach him once.
    assert elsewhere in recipient_list(contacts(filters), sender=tom, purpose="events").included
    [request] = keyaccounts.liaison_request_create(
        requester=mailer, contact=david, reason="Fair", proposed_engagement="Bulk email"
    )
    keyaccounts.liaison_request_decide(request=request, approve=True, by=tom)
    assert elsewhere in recipient_list(contacts(filters), sender=mailer, purpose="events").included


def test_an_address_that_bounced_is_left_out_on_every_record(persona, tagged, filters):
    aurora, birchwood, _ = tagged
    bounced = aurora.contacts.order_by("email").first()
    Contact.objects.filter(pk=bounced.pk).update(
        email_bounced_at=timezone.make_aware(datetime.datetime(2026, 10, 2, 9))
    )
    other = org_services.contact_create(
        organisation=birchwood, by=persona("operator"), full_name="Same", email=bounced.email
    )
    result = recipient_list(contacts(filters), sender=persona("mailer"), purpose="events")
    left = {e.contact.pk: e for e in result.excluded}
    assert left[other.pk].reason == "bounced before: on 2 October 2026"
    assert left[other.pk].kind == Why.BOUNCED


def test_a_shared_address_is_sent_once(persona, tagged, filters):
    org_services.contact_create(
        organisation=tagged[1],
        by=persona("operator"),
        full_name="Same Person",
        email="p0@aurora.example.com",
    )
    result = recipient_list(contacts(filters), sender=persona("mailer"), purpose="events")
    assert [c.email for c in result.included].count("p0@aurora.example.com") == 1
    assert any(r.startswith("duplicate address: sent once") for r in reasons(result).values())


@pytest.mark.parametrize("name", ["untrained", "viewer", "operator", "manager", "student"])
def test_only_designated_trained_senders_may_create_campaigns(persona, cast, filters, name):
    with pytest.raises(PermissionDenied):
        services.campaign_create(
            sender=persona(name),
            unit=cast["units"]["careers"],
            purpose="events",
            subject="Hello",
            body="Hi",
            recipient_filters=filters,
        )


# Choosing recipients: never silently everyone --------------------------------------


def test_an_unknown_filter_is_refused_not_ignored(persona, cast):
    with pytest.raises(ValidationError) as refused:
        services.campaign_create(
            sender=persona("mailer"),
            unit=cast["units"]["lubs"],
            purpose="events",
            subject="S",
            body="B",
            recipient_filters={"q": "Northbridge"},
        )
    assert "“q”" in " ".join(refused.value.messages)
    assert not Campaign.objects.filter(subject="S").exists()


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({}, "Choose who receives it: a search with at least one filter."),
        (None, "Choose who receives it: a search with at least one filter."),
        ({"text": ""}, "Choose who receives it: a search with at least one filter."),
        # An order is not a filter of recipients: on its own it would choose everyone.
        ({"sort": "name"}, "The search has a filter it does not know: “sort”."),
    ],
)
def test_an_empty_search_chooses_nobody_and_is_refused(persona, cast, filters, message):
    with pytest.raises(ValidationError) as refused:
        services.campaign_create(
            sender=persona("mailer"),
            unit=cast["units"]["lubs"],
            purpose="events",
            subject="S",
            body="B",
            recipient_filters=filters,
        )
    assert refused.value.messages == [message]


def test_an_invalid_filter_value_is_refused(persona, cast):
    with pytest.raises(ValidationError):
        services.checked_recipients(
            filters={"sectors": [987654321]}, everyone=False, by=persona("mailer")
        )


@pytest.mark.usefixtures("tagged", "pending")
def test_every_employer_contact_is_an_administrators_explicit_choice(persona, cast):
    with pytest.raises(PermissionDenied):
        services.checked_recipients(filters=None, everyone=True, by=persona("mailer"))
    with pytest.raises(ValidationError):
        services.checked_recipients(filters={"text": "Bank"}, everyone=True, by=persona("admin"))
    campaign = services.campaign_create(
        sender=persona("admin"),
        unit=cast["units"]["careers"],
        purpose="other",
        subject="Changes to our data protection terms",
        body="Dear {{ first_name }}",
        recipients_everyone=True,
    )
    included = services.campaign_recipients(campaign).included
    active = Contact.objects.filter(organisation__status=Organisation.Status.ACTIVE).exclude(
        email=""
    )
    assert 0 < len(included) <= active.count()
    assert services.recipients_in_words(campaign) == "Every employer contact"


def test_filters_are_stored_as_the_search_reads_them(persona, cast, make_campaign):
    campaign = make_campaign(
        recipient_filters={"tags_any": ["placements", "Graduate recruiter"], "text": "  north "}
    )
    assert campaign.recipient_filters == {
        "text": "north",
        "tags_any": ["placements", "Graduate recruiter"],
    }
    assert services.recipients_in_words(campaign) == (
        "Organisations matching “north”, tagged placements or Graduate recruiter"
    )


def test_editing_the_words_never_touches_the_recipients(persona, tagged, make_campaign):
    campaign = make_campaign()
    before = [c.pk for c in services.campaign_recipients(campaign).included]
    services.campaign_update(campaign=campaign, by=persona("mailer"), body="New words")
    campaign.refresh_from_db()
    assert campaign.body == "New words"
    assert [c.pk for c in services.campaign_recipients(campaign).included] == before
    with pytest.raises(TypeError):
        services.campaign_update(campaign=campaign, by=persona("mailer"), recipient_filters={})


def test_a_draft_saved_unchanged_writes_and_records_nothing(persona, tagged, make_campaign):
    campaign = make_campaign()
    stored = Campaign.objects.values().get(pk=campaign.pk)
    same = {name: getattr(campaign, name) for name in services.CONTENT_FIELDS}
    result = services.campaign_update(campaign=campaign, by=persona("mailer"), **same)
    assert result == services.CampaignSaved(changed=[], counts=None)
    assert Campaign.objects.values().get(pk=campaign.pk) == stored
    assert not AuditEntry.objects.filter(action="mailing.campaign.changed").exists()
    result = services.campaign_update(
        campaign=campaign, by=persona("mailer"), **{**same, "subject": "Spring fair"}
    )
    assert result == services.CampaignSaved(changed=["subject"], counts=None)
    entry = AuditEntry.objects.get(action="mailing.campaign.changed")
    assert entry.data == {"fields": ["subject"]}


def test_changing_the_recipients_reports_the_number_before_and_after(
    persona, tagged, make_campaign
):
    campaign = make_campaign()
    result = services.campaign_recipients_change(
        campaign=campaign,
        by=persona("mailer"),
        recipient_filters={"tags_all": ["Mailing test"], "text": "Aurora"},
    )
    assert result == services.RecipientsSaved(before=6, after=2, changed=True)
    entry = AuditEntry.objects.filter(action="mailing.campaign.recipients_changed").latest("pk")
    assert entry.data["before"]["count"] == 6 and entry.data["after"]["count"] == 2
    assert "Aurora" in entry.data["after"]["recipients"]


def test_the_same_recipients_chosen_again_write_and_record_nothing(
    persona, tagged, filters, make_campaign
):
    campaign = make_campaign()
    stored = Campaign.objects.values().get(pk=campaign.pk)
    result = services.campaign_recipients_change(
        campaign=campaign, by=persona("mailer"), recipient_filters=filters
    )
    assert result == services.RecipientsSaved(before=6, after=6, changed=False)
    assert Campaign.objects.values().get(pk=campaign.pk) == stored
    assert not AuditEntry.objects.filter(action="mailing.campaign.recipients_changed").exists()


def test_the_same_recipients_chosen_again_are_checked_as_a_new_choice(
    persona, tagged, make_campaign
):
    """A choice only administrators may make is refused to a mailer even when it is the
    one the draft has (an administrator chose it)."""
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(recipient_filters={}, recipients_everyone=True)
    campaign.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.campaign_recipients_change(
            campaign=campaign, by=persona("mailer"), recipient_filters={}, recipients_everyone=True
        )


def test_a_stored_search_that_is_no_longer_valid_reaches_nobody(persona, tagged, make_campaign):
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(recipient_filters={"q": "Aurora"})
    campaign.refresh_from_db()
    with pytest.raises(ValidationError):
        services.campaign_recipients(campaign)
    with pytest.raises(ValidationError):
        services.campaign_send(campaign=campaign, by=persona("mailer"), confirmed=6)
    assert not campaign.messages.exists()


def test_a_draft_whose_link_no_recipient_could_open_is_not_sent(persona, tagged, make_campaign):
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(body="Book at [the fair](/events/12/)")
    campaign.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.campaign_send(campaign=campaign, by=persona("mailer"), confirmed=6)
    assert "“/events/12/”" in refused.value.message_dict["body"][0]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and not campaign.messages.exists()


# Leaving people out ------------------------------------------------------------------


def test_the_sender_leaves_a_named_contact_out_and_puts_them_back(persona, tagged, make_campaign):
    mailer = persona("mailer")
    campaign = make_campaign()
    contact = tagged[0].contacts.order_by("email").first()
    with pytest.raises(ValidationError):
        services.campaign_leave_out(campaign=campaign, contact=contact, reason="  ", by=mailer)
    services.campaign_leave_out(
        campaign=campaign, contact=contact, reason="Spoke to her yesterday", by=mailer
    )
    result = services.campaign_recipients(campaign)
    assert contact not in result.included and len(result.included) == 5
    assert reasons(result)[contact.email] == "left out by the sender: Spoke to her yesterday"
    services.campaign_put_back(campaign=campaign, contact=contact, by=mailer)
    assert not LeftOut.objects.filter(campaign=campaign).exists()
    assert len(services.campaign_recipients(campaign).included) == 6


def test_only_a_contact_the_campaign_reaches_can_be_left_out(
    persona, tagged, make_campaign, northbridge
):
    """Any contact's id was taken, and an entry written for someone it never reached."""
    stranger = northbridge.contacts.first()
    with pytest.raises(ValidationError, match="is not among this campaign's recipients"):
        services.campaign_leave_out(
            campaign=make_campaign(), contact=stranger, reason="Just in case", by=persona("mailer")
        )
    assert not LeftOut.objects.exists()


# Sending: confirmed with the number -------------------------------------------------


def test_sending_needs_the_number_of_recipients_as_it_is_now(persona, tagged, make_campaign):
    mailer = persona("mailer")
    campaign = make_campaign()
    with pytest.raises(services.RecipientsChanged) as changed:
        services.campaign_send(campaign=campaign, by=mailer, confirmed=5)
    assert changed.value.now == 6
    assert "it is now 6 (you confirmed 5)" in changed.value.messages[0]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and not campaign.messages.exists()
    services.campaign_send(campaign=campaign, by=mailer, confirmed=6)
    assert campaign.messages.count() == 6


def test_as_many_other_people_are_not_the_recipients_confirmed(persona, tagged, make_campaign):
    """The send compares who, not only how many: one left out and one added in another tab
    keeps the number the sender typed."""
    mailer = persona("mailer")
    campaign = make_campaign()
    shown = services.campaign_recipients(campaign).fingerprint
    leaving = tagged[0].contacts.order_by("email").first()
    services.campaign_leave_out(campaign=campaign, contact=leaving, reason="Moved on", by=mailer)
    org_services.contact_create(
        organisation=tagged[1], by=persona("operator"), full_name="New Comer", email="n@b.test"
    )
    with pytest.raises(services.RecipientsChanged) as changed:
        services.campaign_send(campaign=campaign, by=mailer, confirmed=6, fingerprint=shown)
    assert "still 6, but not the same people" in changed.value.messages[0]
    assert not campaign.messages.exists()
    now = services.campaign_recipients(campaign).fingerprint
    assert now != shown
    services.campaign_send(campaign=campaign, by=mailer, confirmed=6, fingerprint=now)
    sent = set(campaign.messages.values_list("email", flat=True))
    assert "n@b.test" in sent and leaving.email not in sent and len(sent) == 6


@pytest.mark.parametrize(
    "filters",
    [{"include_archived": True}, {"tags_none": ["No organisation has this tag"]}],
    ids=["archived-too", "none-of-an-unknown-tag"],
)
@pytest.mark.usefixtures("tagged")
def test_a_search_that_narrows_nothing_is_not_a_choice_of_every_contact(persona, filters):
    """Filters that leave out no active organisation are "every employer contact" by
    another name, which only an administrator chooses, and only as itself."""
    for who in ("mailer", "admin"):
        with pytest.raises(ValidationError) as refused:
            services.checked_recipients(filters=filters, everyone=False, by=persona(who))
        assert refused.value.code == "every_organisation"
        assert "selects every active organisation" in refused.value.messages[0]
    assert services.checked_recipients(filters=None, everyone=True, by=persona("admin")) == {}


def test_a_search_that_comes_to_narrow_nothing_is_refused_at_the_send(
    persona, tagged, make_campaign, northbridge
):
    campaign = make_campaign(recipient_filters={"tags_none": ["Mailing test"]})
    count = len(services.campaign_recipients(campaign).included)
    assert count > 0
    # The only organisations it left out are archived: it now reaches every active one.
    Organisation.objects.filter(pk__in=[o.pk for o in tagged]).update(
        status=Organisation.Status.ARCHIVED
    )
    with pytest.raises(ValidationError) as refused:
        services.campaign_send(campaign=campaign, by=persona("mailer"), confirmed=count)
    assert refused.value.code == "every_organisation"
    assert not campaign.messages.exists()


def test_a_campaign_with_nobody_left_is_refused(persona, tagged, make_campaign):
    campaign = make_campaign(recipient_filters={"text": "No organisation has this name"})
    with pytest.raises(ValidationError) as refused:
        services.campaign_send(campaign=campaign, by=persona("mailer"), confirmed=0)
    assert "Nobody would receive" in refused.value.messages[0]


def test_only_the_sender_changes_sends_or_cancels_a_draft(persona, tagged, make_campaign):
    campaign = make_campaign()
    other = persona("admin")
    for attempt in (
        lambda: services.campaign_update(campaign=campaign, by=other, body="Hijacked"),
        lambda: services.campaign_recipients_change(
            campaign=campaign, by=other, recipient_filters={"text": "a"}
        ),
        lambda: services.campaign_send(campaign=campaign, by=other, confirmed=6),
        lambda: services.campaign_send_test(campaign=campaign, by=other),
        lambda: services.campaign_leave_out(
            campaign=campaign, contact=tagged[0].contacts.first(), reason="x", by=other
        ),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    campaign.refresh_from_db()
    assert campaign.body != "Hijacked" and campaign.status == Campaign.Status.DRAFT


def test_an_administrator_may_cancel_anyones_campaign_and_it_is_recorded(
    persona, tagged, make_campaign, send_now
):
    campaign = make_campaign()
    send_now(campaign)
    dropped = services.campaign_cancel(campaign=campaign, by=persona("admin"))
    assert dropped == 6
    entry = AuditEntry.objects.filter(action="mailing.campaign.cancelled").latest("pk")
    assert entry.data == {"dropped": 6, "as_administrator": True}


def test_a_draft_is_not_cancelled(persona, tagged, make_campaign):
    """Nothing is being sent: "cancelled while it waited for approval" would be untrue."""
    campaign = make_campaign()
    with pytest.raises(ValidationError, match="is a draft: nothing is being sent"):
        services.campaign_cancel(campaign=campaign, by=campaign.sender)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_a_second_sender_may_not_cancel_anothers_campaign(
    persona, cast, tagged, make_campaign, send_now
):
    from mycareer.accounts import services as account_services
    from mycareer.accounts.models import AccessLevel, TrainingCourse

    campaign = make_campaign()
    send_now(campaign)
    other = persona("operator")
    account_services.access_grant(user=other, level=AccessLevel.BULK_MAILER, by=cast["admin"])
    account_services.training_completion_record(
        user=other,
        course=TrainingCourse.objects.get(code=TrainingCourse.BULK_EMAIL),
        completed_on=timezone.localdate(),
        by=cast["admin"],
    )
    other = type(other).objects.get(pk=other.pk)  # access is cached per object
    with pytest.raises(PermissionDenied) as refused:
        services.campaign_cancel(campaign=campaign, by=other)
    assert "Grace Okafor" in str(refused.value)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.QUEUED


def test_second_sender_approval_when_the_site_asks(persona, tagged, make_campaign, settings):
    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_NEEDS_APPROVAL": True}
    mailer, admin = persona("mailer"), persona("admin")
    campaign = make_campaign()
    services.campaign_send(campaign=campaign, by=mailer, confirmed=6)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.AWAITING_APPROVAL
    assert not campaign.messages.exists()
    with pytest.raises(ValidationError):
        services.campaign_approve(campaign=campaign, by=mailer, confirmed=6)
    with pytest.raises(services.RecipientsChanged):
        services.campaign_approve(campaign=campaign, by=admin, confirmed=7)
    services.campaign_approve(campaign=campaign, by=admin, confirmed=6)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.QUEUED
    assert campaign.messages.count() == 6


def test_a_campaign_submitted_before_the_checks_is_checked_on_approval(
    persona, tagged, make_campaign, settings
):
    """Submitted before its subject was checked, a campaign went out with
    "{{ last_name }}" in every subject line once a second sender approved it."""
    from mycareer.mailing.content import merge_field_problems

    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_NEEDS_APPROVAL": True}
    mailer, admin = persona("mailer"), persona("admin")
    campaign = make_campaign()
    services.campaign_send(campaign=campaign, by=mailer, confirmed=6)
    subject, body = "News for {{ last_name }}", "Dear {{ first_name,\n\nCome."
    Campaign.objects.filter(pk=campaign.pk).update(subject=subject, body=body)
    with pytest.raises(ValidationError) as refused:
        services.campaign_approve(campaign=campaign, by=admin, confirmed=6)
    said = refused.value.message_dict
    assert said["subject"] == merge_field_problems(subject)
    assert said["body"] == merge_field_problems(body)
    assert said["__all__"] == [
        f"Ask {mailer} to take the campaign back to draft and correct it: only they can change it."
    ]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.AWAITING_APPROVAL
    assert campaign.approved_by is None and not campaign.messages.exists()


@pytest.mark.django_db(transaction=True)
def test_two_campaigns_queued_at_once_cannot_both_include_someone_at_the_limit(
    persona, cast, tagged, make_campaign, settings
):
    """The frequency limit counts queued messages, and queueing holds the outbox lock."""
    from mycareer.core.tests.concurrency import at_once

    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_LIMIT": 1}
    mailer = persona("mailer")
    first, second = make_campaign(subject="First"), make_campaign(subject="Second")
    confirmed = [len(services.campaign_recipients(c).included) for c in (first, second)]
    assert confirmed == [6, 6]
    results, _ = at_once(
        [
            lambda c=c, n=n: services.campaign_send(campaign=c, by=mailer, confirmed=n)
            for c, n in zip((first, second), confirmed, strict=True)
        ]
    )
    queued = [r for r in results if isinstance(r, Campaign)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert (len(queued), len(refused)) == (1, 1), results
    # Counted again under the lock, the second finds all six on their way already.
    assert "Nobody would receive" in refused[0].messages[0]
    per_address = list(
        OutboxMessage.objects.filter(campaign__in=[first, second]).values_list("email", flat=True)
    )
    assert len(per_address) == len(set(per_address)) == 6


def test_the_reasons_left_out_read_in_words_that_agree_with_their_numbers():
    """The campaign page said "2 key contact without a liaison agreement"."""
    from mycareer.mailing.recipients import Exclusion, RecipientList

    def left_out(*kinds):
        excluded = [Exclusion(contact=None, reason="", kind=kind) for kind in kinds]
        return RecipientList(excluded=excluded).reason_counts

    assert left_out(Why.KEY_CONTACT, Why.KEY_CONTACT, Why.OPTED_OUT) == [
        ("key contacts without a liaison agreement", 2),
        ("opted out", 1),
    ]
    assert left_out(Why.KEY_CONTACT) == [("key contact without a liaison agreement", 1)]
    assert left_out(Why.INACTIVE, Why.INACTIVE, Why.NO_EMAIL, Why.NO_EMAIL) == [
        ("with their organisation not active", 2),
        ("with no email address", 2),
    ]


@pytest.fixture
def scored_and_engaged(tagged):
    """Two of the tagged organisations with a score and an engagement; the others none."""
    for org, score in zip(tagged[:2], (5, 100), strict=True):
        OrganisationScore.objects.create(organisation=org, score=score)
    Organisation.objects.filter(pk__in=[org.pk for org in tagged[:2]]).update(
        last_engaged_on=datetime.date(2024, 3, 1)
    )
    return tagged[:2]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (
            {"score_min": 0},
            "“Engagement score at least 0” chooses every scored organisation: give a higher "
            "score, or leave it out.",
        ),
        (
            {"score_max": 100},
            "“Engagement score at most 100” chooses every scored organisation: give a lower "
            "score, or leave it out.",
        ),
        (
            {"engaged_after": "1900-01-01"},
            "“Last engagement on or after 1 January 1900” chooses every organisation with an "
            "engagement: give a later day than 1 January 2000, or leave it out.",
        ),
        (
            {"engaged_after": "2000-01-01"},
            "“Last engagement on or after 1 January 2000” chooses every organisation with an "
            "engagement: give a later day than 1 January 2000, or leave it out.",
        ),
    ],
    ids=["score-at-least-0", "score-at-most-100", "engaged-after-1900", "engaged-after-2000"],
)
def test_a_filter_whose_value_narrows_nothing_is_refused_by_name(
    persona, scored_and_engaged, filters, message
):
    """It leaves out only organisations with no score or engagement yet: not every
    organisation, so it passed as a narrowing search, yet its value chose nobody out."""
    chosen = OrganisationQuery.from_filters(filters)
    assert 0 < contacts_for(chosen).count() < Contact.objects.count()
    for who in ("mailer", "admin"):
        with pytest.raises(ValidationError) as refused:
            services.checked_recipients(filters=filters, everyone=False, by=persona(who))
        assert refused.value.messages == [message]
        assert refused.value.error_list[0].code == "narrows_nothing"


def test_an_engagement_on_or_before_today_is_refused_and_each_such_filter_named(
    persona, scored_and_engaged
):
    today = timezone.localdate()
    filters = {"tags_all": ["Mailing test"], "score_min": 0, "engaged_before": today.isoformat()}
    with pytest.raises(ValidationError) as refused:
        services.checked_recipients(filters=filters, everyone=False, by=persona("mailer"))
    day = date_format(today, "j F Y")
    assert refused.value.messages == [
        "“Engagement score at least 0” chooses every scored organisation: give a higher "
        "score, or leave it out.",
        f"“Last engagement on or before {day}” chooses every organisation with an "
        f"engagement: give a day before today ({day}), or leave it out.",
    ]


@pytest.mark.parametrize(
    "filters",
    [{"score_min": 1}, {"score_max": 99}, {"engaged_after": "2000-01-02"}],
)
def test_a_score_or_engagement_that_can_narrow_is_taken(persona, scored_and_engaged, filters):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    for extra in ({}, {"engaged_before": yesterday.isoformat()}):
        assert services.checked_recipients(
            filters=filters | extra, everyone=False, by=persona("mailer")
        ) == (filters | extra)


def test_a_stored_search_whose_value_narrows_nothing_is_refused_at_the_send(
    persona, scored_and_engaged, make_campaign
):
    """Drafts saved before the rule: the send checks again."""
    campaign = make_campaign(recipient_filters={"score_min": 1})
    Campaign.objects.filter(pk=campaign.pk).update(recipient_filters={"score_min": 0})
    campaign.refresh_from_db()
    count = len(services.campaign_recipients(campaign).included)
    with pytest.raises(ValidationError) as refused:
        services.campaign_send(campaign=campaign, by=persona("mailer"), confirmed=count)
    assert "chooses every scored organisation" in refused.value.messages[0]
    assert not campaign.messages.exists()


def test_a_draft_nobody_would_receive_yet_is_previewed_and_tested_as_a_contact_it_finds(
    settings, persona, make_campaign, mailoutbox
):
    """Every contact over the recent-email limit: the preview said only "Nobody would
    receive this campaign yet" and the test copy was refused, so the sender could not
    check their words until the limit let them send."""
    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_LIMIT": 1}
    mailer = persona("mailer")
    first = make_campaign(subject="First")
    services.campaign_send(campaign=first, by=mailer, confirmed=6)
    draft = make_campaign(body="Dear {{ first_name }}, at {{ organisation }}")
    assert not services.campaign_recipients(draft).included
    preview = services.preview_contacts(draft)
    assert len(preview.contacts) == 6
    assert preview.nobody_why == (
        "Nobody would receive this campaign yet: of the 6 contacts it finds, "
        "6 emailed too often recently."
    )
    services.campaign_send_test(campaign=draft, by=mailer)
    [copy] = mailoutbox
    assert copy.to == [mailer.email]
    assert copy.body.startswith(f"Dear {preview.contacts[0].full_name.split()[0]}, at ")
    # Nobody else is emailed: no message of the draft, the first campaign's six only.
    assert not draft.messages.exists()
    assert OutboxMessage.objects.count() == 6


def test_a_draft_whose_search_finds_nobody_is_previewed_with_placeholder_values(
    persona, make_campaign, mailoutbox
):
    draft = make_campaign(recipient_filters={"text": "No organisation has this name"})
    preview = services.preview_contacts(draft)
    [sample] = preview.contacts
    assert sample.pk == 0 and sample.full_name == services.SAMPLE_NAME
    assert preview.nobody_why.startswith(
        "Nobody would receive this campaign yet: its search finds no contacts. "
        "The merge fields are filled with placeholder values"
    )
    services.campaign_send_test(campaign=draft, by=persona("mailer"))
    [copy] = mailoutbox
    assert copy.subject == "[TEST] Fair for Sample Organisation"
    assert copy.body.startswith("Dear Sample,")
